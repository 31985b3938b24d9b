// Package gpt2 is GPT-2 (every size: gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2) as a
// GoMLX graph, with TransformerLens-named hook points on its residual stream (hooks.go).
//
// The model follows the GPT-2 equations (nanoGPT's model.py is the same computation): learned
// token and position embeddings, pre-norm blocks x += attn(ln_1(x)); x += mlp(ln_2(x)), causal
// multi-head attention scaled by 1/sqrt(head_dim), gelu_new (tanh GELU, fused), a final LayerNorm
// and an LM head tied to the token embedding. Everything is float32. The GPT2Config fields that
// change this arithmetic (n_inner, activation_function, scale_attn_weights,
// scale_attn_by_inverse_layer_idx) are honoured as Hugging Face does (checkpoint.Config).
//
// A Model holds the weights on a GoMLX backend. Programs are built from it with Weights.Forward
// (forward.go); run.go holds the ready-made ones (logits and captured activations).
package gpt2

import (
	"fmt"
	"slices"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/lm/lmrun"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Model is a GPT-2 whose weights live on a backend.
type Model struct {
	// Name says what the weights are: a Hugging Face model name ("gpt2-xl"), a local
	// checkpoint's path relative to the repository (or its folder's name), or
	// checkpoint.TinyDescription for the random stand-in. Figures and results print it.
	Name string
	// Revision pins the weights: the Hugging Face commit of a hub model, the tiny model's
	// folder name (tiny-<hash of its recipe>), or "sha256:<prefix>" of a local checkpoint's
	// files (checkpoint.ContentHash); "" for weights given to New.
	Revision string
	Config   checkpoint.Config

	lmrun.Store // the weights, in paramNames order then the transposed LM head

	names   []string
	byToken int // the index in params of the matrix Weights.LogitsByToken multiplies by

	runs lmrun.Runs // Run's programs, by captured points
}

// paramNames fixes the order in which weights are passed to every graph: checkpoint.WeightTable's.
func paramNames(cfg checkpoint.Config) []string {
	var names []string
	for _, w := range checkpoint.WeightTable(cfg) {
		names = append(names, w.Name)
	}
	return names
}

// New puts weights (HF names, as checkpoint.ExpectedShapes lists them) on backend. The weight
// slices are not copied when the backend can share them; do not modify them afterwards.
func New(backend compute.Backend, name string, cfg checkpoint.Config, weights map[string]checkpoint.Tensor) (*Model, error) {
	if backend == nil {
		return nil, fmt.Errorf("gpt2: nil backend (use backend.New())")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Bound the config by the weights given before anything is built from it.
	var given int64
	for _, t := range weights {
		given += int64(len(t.Data))
	}
	if n, _ := cfg.ParamCount(); n > given {
		return nil, fmt.Errorf("gpt2: the config (n_layer=%d n_embd=%d n_positions=%d vocab_size=%d) needs %d weight values, but the weights given hold %d: they do not belong together",
			cfg.NLayer, cfg.NEmbd, cfg.NPositions, cfg.VocabSize, n, given)
	}
	expected := checkpoint.ExpectedShapes(cfg)
	m := &Model{Name: name, Config: cfg, names: paramNames(cfg)}
	var params []*tensors.Tensor
	for _, n := range m.names {
		t, ok := weights[n]
		if !ok {
			return nil, fmt.Errorf("gpt2: weight %q is missing", n)
		}
		if !equalInts(t.Shape, expected[n]) || len(t.Data) != product(expected[n]) {
			return nil, fmt.Errorf("gpt2: weight %q has shape %v (%d values), want %v", n, t.Shape, len(t.Data), expected[n])
		}
		params = append(params, tensors.FromFlatDataAndDimensions(t.Data, t.Shape...))
	}
	// The LM head is tied to wte; a transposed copy [d, vocab] makes the logits projection a
	// plain [in, out] matmul, so that the go backend does not transpose the 50257 × d matrix on
	// every call. LogitsByToken multiplies by wte itself (m.byToken).
	m.byToken = slices.Index(m.names, checkpoint.WeightTokenEmbed)
	wte := weights[checkpoint.WeightTokenEmbed]
	params = append(params, tensors.FromFlatDataAndDimensions(transpose(wte.Data, cfg.VocabSize, cfg.NEmbd), cfg.NEmbd, cfg.VocabSize))
	lmrun.InitStore(&m.Store, backend, params)
	// Move the weights to the backend now (shared with Go memory where the backend allows), not
	// lazily on a first call that may come from several goroutines at once.
	for i, t := range m.Params() {
		if err := t.MaterializeOnDevice(backend, true, 0); err != nil {
			return nil, fmt.Errorf("gpt2: putting weight %d on the backend: %w", i, err)
		}
	}
	return m, nil
}

// transpose returns the [cols, rows] transpose of a row-major [rows, cols] matrix.
func transpose(a []float32, rows, cols int) []float32 {
	out := make([]float32, len(a))
	const tile = 64
	for r0 := 0; r0 < rows; r0 += tile {
		for c0 := 0; c0 < cols; c0 += tile {
			for r := r0; r < min(r0+tile, rows); r++ {
				for c := c0; c < min(c0+tile, cols); c++ {
					out[c*rows+r] = a[r*cols+c]
				}
			}
		}
	}
	return out
}

// usable returns an error once the model has been finalized.
func (m *Model) usable() error { return lmrun.Usable(&m.Store, "gpt2", m.Name) }

// Weights are a model's weights as nodes of one graph.
type Weights struct {
	Config        checkpoint.Config
	WTE, WPE      *Node // [vocab, d], [n_positions, d]
	LMHead        *Node // wte transposed, [d, vocab]
	LnFGain, LnFB *Node
	Blocks        []BlockWeights
}

// BlockWeights are one transformer block's weights (Conv1D weights are [in, out]).
type BlockWeights struct {
	Ln1Gain, Ln1Bias       *Node
	AttnW, AttnB           *Node // c_attn: [d, 3d] (q, k, v), [3d]
	AttnProjW, AttnProjB   *Node // c_proj: [d, d], [d]
	Ln2Gain, Ln2Bias       *Node
	FcW, FcB, ProjW, ProjB *Node // mlp.c_fc [d, 4d], [4d]; mlp.c_proj [4d, d], [d]
}

// Weights wraps the first NumParams() inputs of a graph (fed with Params()) as the model's
// weights. Call it once per graph being built: each call counts as one build in Builds().
func (m *Model) Weights(params []*Node) *Weights {
	lmrun.CountBuild(&m.Store)
	if len(params) != len(m.Params()) {
		panic(fmt.Sprintf("gpt2: Weights needs %d parameter nodes, got %d", len(m.Params()), len(params)))
	}
	w := &Weights{Config: m.Config, WTE: params[0], WPE: params[1], LnFGain: params[2], LnFB: params[3]}
	p := params[4:]
	w.LMHead = params[len(params)-1]
	for range m.Config.NLayer {
		// In checkpoint.WeightTable's order of a block's weights.
		w.Blocks = append(w.Blocks, BlockWeights{
			Ln1Gain: p[0], Ln1Bias: p[1], AttnW: p[2], AttnB: p[3], AttnProjW: p[4], AttnProjB: p[5],
			Ln2Gain: p[6], Ln2Bias: p[7], FcW: p[8], FcB: p[9], ProjW: p[10], ProjB: p[11],
		})
		p = p[checkpoint.BlockWeightCount:]
	}
	return w
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func product(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}
