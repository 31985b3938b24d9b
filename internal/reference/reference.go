// Package reference is an independent, deliberately plain float64 GPT-2 forward pass written
// straight from the GPT-2 equations. It exists only to check the GoMLX model (package gpt2) and
// the ActAdd machinery in tests: it shares no code with them and uses no GoMLX.
//
// The model is the pre-norm GPT-2 block:
//
//	x = wte[token] + wpe[position]
//	for each block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
//	logits = ln_f(x) · wteᵀ                  (tied output head)
//
// with LayerNorm over the last axis (biased variance, eps from the config), Conv1D layers
// y = x·W + b with W stored [in, out] (the Hugging Face layout), c_attn's output split into q, k, v
// in that order, heads of width n_embd/n_head, scores scaled by 1/sqrt(head_dim), a causal mask,
// softmax, and gelu_new(x) = 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))).
//
// The config fields of Hugging Face's GPT2Config that change this arithmetic are followed as
// HF's modeling_gpt2.py does: n_inner (the MLP's width, 4·n_embd when unset),
// activation_function (the MLP's activation, as HF's ACT2FN defines each name),
// scale_attn_weights=false (scores not divided by sqrt(head_dim)) and
// scale_attn_by_inverse_layer_idx (block l's scores further divided by l+1).
//
// Activations are reported at the TransformerLens hook points (see [Model.Forward]). Weights are
// held as float64, so a GPT-2-small sized model takes about 1 GB; it is meant for tiny models.
package reference

import (
	"fmt"
	"math"
	"slices"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/lm/hookpoint"
)

// Hook point names (TransformerLens, package hookpoint: names only, no computation is shared).
const (
	HookEmbed         = hookpoint.Embed
	HookPosEmbed      = hookpoint.PosEmbed
	HookLnFinalNormed = hookpoint.LnFinal
)

// block holds the weights of one transformer block, flattened row-major.
type block struct {
	ln1W, ln1B    []float64 // [d]
	attnW, attnB  []float64 // [d, 3d], [3d]
	attnProjW     []float64 // [d, d]
	attnProjB     []float64 // [d]
	ln2W, ln2B    []float64 // [d]
	fcW, fcB      []float64 // [d, inner], [inner]; inner is n_inner or 4d
	mlpProjW      []float64 // [inner, d]
	mlpProjB      []float64 // [d]
	hookResidPre  string
	hookAttnOut   string
	hookResidMid  string
	hookMLPOut    string
	hookResidPost string
}

// Model is a GPT-2 with float64 weights. It is immutable after New and safe for concurrent use.
type Model struct {
	cfg        checkpoint.Config
	wte, wpe   []float64 // [vocab, d], [n_positions, d]
	lnfW, lnfB []float64 // [d]
	blocks     []block
}

// New copies the weights (Hugging Face names as in [checkpoint.ExpectedShapes]; a "transformer."
// prefix is also accepted) into a float64 model. Every expected tensor must be present with its
// exact shape; extra tensors (attention-mask buffers, lm_head.weight) are ignored.
func New(cfg checkpoint.Config, weights map[string]checkpoint.Tensor) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	shapes := checkpoint.ExpectedShapes(cfg)
	get := func(name string) ([]float64, error) {
		t, ok := weights[name]
		if !ok {
			t, ok = weights["transformer."+name]
		}
		if !ok {
			return nil, fmt.Errorf("reference: missing tensor %q", name)
		}
		want := shapes[name]
		if !slices.Equal(t.Shape, want) {
			return nil, fmt.Errorf("reference: tensor %q has shape %v, want %v", name, t.Shape, want)
		}
		if n := product(want); len(t.Data) != n {
			return nil, fmt.Errorf("reference: tensor %q holds %d values, shape %v needs %d", name, len(t.Data), want, n)
		}
		out := make([]float64, len(t.Data))
		for i, v := range t.Data {
			out[i] = float64(v)
		}
		return out, nil
	}
	m := &Model{cfg: cfg, blocks: make([]block, cfg.NLayer)}
	var err error
	load := func(dst *[]float64, name string) {
		if err == nil {
			*dst, err = get(name)
		}
	}
	// checkpoint.WeightTable's order: wte, wpe, ln_f gain and bias, then each block's twelve.
	table := checkpoint.WeightTable(cfg)
	for i, dst := range []*[]float64{&m.wte, &m.wpe, &m.lnfW, &m.lnfB} {
		load(dst, table[i].Name)
	}
	next := 4
	for l := range m.blocks {
		b := &m.blocks[l]
		for _, dst := range []*[]float64{&b.ln1W, &b.ln1B, &b.attnW, &b.attnB, &b.attnProjW, &b.attnProjB,
			&b.ln2W, &b.ln2B, &b.fcW, &b.fcB, &b.mlpProjW, &b.mlpProjB} {
			load(dst, table[next].Name)
			next++
		}
		b.hookResidPre = hookpoint.ResidPre(l)
		b.hookAttnOut = hookpoint.AttnOut(l)
		b.hookResidMid = hookpoint.ResidMid(l)
		b.hookMLPOut = hookpoint.MLPOut(l)
		b.hookResidPost = hookpoint.ResidPost(l)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() checkpoint.Config { return m.cfg }

// validHook reports whether name is one of the model's hook points.
func (m *Model) validHook(name string) bool {
	_, _, err := hookpoint.Parse(name, m.cfg.NLayer)
	return err == nil
}

// Forward runs one sequence (no batch) of token ids at positions 0..len(tokens)-1.
//
// It returns the logits [T][vocab] and the activations at every hook point, each [T][d]:
// "hook_embed", "hook_pos_embed", and per block l "blocks.{l}.hook_resid_pre", "hook_attn_out",
// "hook_resid_mid", "hook_mlp_out", "hook_resid_post", and "ln_final.hook_normalized" (the
// scaled and shifted ln_f output that the logits are computed from). resid_pre of block 0 is
// hook_embed + hook_pos_embed, resid_pre of block l+1 is resid_post of block l,
// resid_mid = resid_pre + attn_out and resid_post = resid_mid + mlp_out.
//
// adds (may be nil) maps a hook name to a [T'][d] array, T' <= T, that is added to that hook's
// value at positions [0, T') before the value is used downstream; the reported hook value
// includes the addition. ActAdd at layer l is adds["blocks.{l}.hook_resid_pre"] = S.
// Unknown hook names, wrong widths and T' > T are errors.
func (m *Model) Forward(tokens []int, adds map[string][][]float64) (logits [][]float64, hooks map[string][][]float64, err error) {
	cfg := m.cfg
	d, T := cfg.NEmbd, len(tokens)
	if T == 0 {
		return nil, nil, fmt.Errorf("reference: empty token sequence")
	}
	if T > cfg.NPositions {
		return nil, nil, fmt.Errorf("reference: %d tokens exceed the context of %d positions", T, cfg.NPositions)
	}
	for i, tok := range tokens {
		if tok < 0 || tok >= cfg.VocabSize {
			return nil, nil, fmt.Errorf("reference: token %d at position %d is outside the vocabulary [0, %d)", tok, i, cfg.VocabSize)
		}
	}
	for name, a := range adds {
		if !m.validHook(name) {
			return nil, nil, fmt.Errorf("reference: add at unknown hook point %q", name)
		}
		if len(a) > T {
			return nil, nil, fmt.Errorf("reference: add at %q covers %d positions, the sequence has %d", name, len(a), T)
		}
		for i, row := range a {
			if len(row) != d {
				return nil, nil, fmt.Errorf("reference: add at %q position %d has width %d, want %d", name, i, len(row), d)
			}
		}
	}

	hooks = make(map[string][][]float64, 3+5*cfg.NLayer)
	// record applies any add registered at name to x (in place), stores a copy of x as the
	// hook's value, and returns x for further use.
	record := func(name string, x [][]float64) [][]float64 {
		for i, row := range adds[name] {
			for j, v := range row {
				x[i][j] += v
			}
		}
		hooks[name] = clone(x)
		return x
	}

	embed := newMatrix(T, d)
	pos := newMatrix(T, d)
	for t, tok := range tokens {
		copy(embed[t], m.wte[tok*d:(tok+1)*d])
		copy(pos[t], m.wpe[t*d:(t+1)*d])
	}
	embed = record(HookEmbed, embed)
	pos = record(HookPosEmbed, pos)
	x := newMatrix(T, d)
	for t := range x {
		for j := range x[t] {
			x[t][j] = embed[t][j] + pos[t][j]
		}
	}

	for l := range m.blocks {
		b := &m.blocks[l]
		x = record(b.hookResidPre, x)
		attnOut := record(b.hookAttnOut, m.attention(l, b, layerNorm(x, b.ln1W, b.ln1B, cfg.LayerNormEpsilon)))
		mid := record(b.hookResidMid, addMatrices(x, attnOut))
		mlpOut := record(b.hookMLPOut, mlp(b, cfg.ActivationFunction, layerNorm(mid, b.ln2W, b.ln2B, cfg.LayerNormEpsilon)))
		x = record(b.hookResidPost, addMatrices(mid, mlpOut))
	}
	final := record(HookLnFinalNormed, layerNorm(x, m.lnfW, m.lnfB, cfg.LayerNormEpsilon))

	logits = newMatrix(T, cfg.VocabSize)
	for t := range final {
		for v := range cfg.VocabSize {
			logits[t][v] = dot(final[t], m.wte[v*d:(v+1)*d])
		}
	}
	return logits, hooks, nil
}

// attention is GPT-2's causal multi-head self-attention on the normalized input h [T][d].
func (m *Model) attention(layer int, b *block, h [][]float64) [][]float64 {
	d, nHead := m.cfg.NEmbd, m.cfg.NHead
	hd := d / nHead
	T := len(h)
	qkv := conv1D(h, b.attnW, b.attnB, 3*d) // [T][3d]: q | k | v
	scale := 1 / math.Sqrt(float64(hd))
	if m.cfg.ScaleAttnWeights != nil && !*m.cfg.ScaleAttnWeights {
		scale = 1
	}
	if m.cfg.ScaleAttnByInverseLayerIdx {
		scale /= float64(layer + 1)
	}
	z := newMatrix(T, d) // heads concatenated back to [T][d]
	scores := make([]float64, T)
	for hh := range nHead {
		qOff, kOff, vOff := hh*hd, d+hh*hd, 2*d+hh*hd
		for i := range T {
			// Causal: position i attends to positions 0..i only.
			for j := 0; j <= i; j++ {
				scores[j] = dot(qkv[i][qOff:qOff+hd], qkv[j][kOff:kOff+hd]) * scale
			}
			p := softmax(scores[:i+1])
			for j, pj := range p {
				for c := range hd {
					z[i][qOff+c] += pj * qkv[j][vOff+c]
				}
			}
		}
	}
	return conv1D(z, b.attnProjW, b.attnProjB, d)
}

// mlp is GPT-2's feed-forward layer on the normalized input h [T][d].
func mlp(b *block, act string, h [][]float64) [][]float64 {
	d := len(b.mlpProjB)
	hidden := conv1D(h, b.fcW, b.fcB, len(b.fcB))
	for _, row := range hidden {
		for j, v := range row {
			row[j] = activate(act, v)
		}
	}
	return conv1D(hidden, b.mlpProjW, b.mlpProjB, d)
}

// conv1D computes x·W + b for x [T][in], W [in][out] (row-major, flat) and b [out].
func conv1D(x [][]float64, w, b []float64, out int) [][]float64 {
	y := newMatrix(len(x), out)
	for t, row := range x {
		yt := y[t]
		copy(yt, b)
		for i, xi := range row {
			wi := w[i*out : (i+1)*out]
			for j, wij := range wi {
				yt[j] += xi * wij
			}
		}
	}
	return y
}

// layerNorm normalizes each row of x to zero mean and unit (biased) variance, then scales by
// w and shifts by b. It returns a new matrix.
func layerNorm(x [][]float64, w, b []float64, eps float64) [][]float64 {
	y := newMatrix(len(x), len(w))
	for t, row := range x {
		n := float64(len(row))
		var mean float64
		for _, v := range row {
			mean += v
		}
		mean /= n
		var variance float64
		for _, v := range row {
			variance += (v - mean) * (v - mean)
		}
		variance /= n
		inv := 1 / math.Sqrt(variance+eps)
		for j, v := range row {
			y[t][j] = (v-mean)*inv*w[j] + b[j]
		}
	}
	return y
}

// softmax returns exp(s_i - max) / Σ exp(s_j - max) as a new slice.
func softmax(s []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = math.Max(mx, v)
	}
	p := make([]float64, len(s))
	var sum float64
	for i, v := range s {
		p[i] = math.Exp(v - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// geluNew is GPT-2's tanh approximation of GELU.
func geluNew(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

// activate is the MLP activation of a config's activation_function, as Hugging Face's ACT2FN
// defines each name (transformers/activations.py).
func activate(name string, x float64) float64 {
	switch name {
	case "gelu_new", "gelu_pytorch_tanh", "":
		return geluNew(x)
	case "gelu_fast": // FastGELUActivation: the same function, written x·0.7978845608·(1 + 0.044715·x²)
		return 0.5 * x * (1 + math.Tanh(x*0.7978845608*(1+0.044715*x*x)))
	case "gelu": // GELUActivation: exact, x·Φ(x)
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case "relu":
		return max(x, 0)
	case "silu", "swish":
		return x / (1 + math.Exp(-x))
	case "tanh":
		return math.Tanh(x)
	case "quick_gelu":
		return x / (1 + math.Exp(-1.702*x))
	}
	panic(fmt.Sprintf("reference: activation_function %q is not implemented", name))
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func newMatrix(rows, cols int) [][]float64 {
	backing := make([]float64, rows*cols)
	m := make([][]float64, rows)
	for i := range m {
		m[i] = backing[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return m
}

func clone(x [][]float64) [][]float64 {
	y := newMatrix(len(x), len(x[0]))
	for i, row := range x {
		copy(y[i], row)
	}
	return y
}

func addMatrices(a, b [][]float64) [][]float64 {
	y := newMatrix(len(a), len(a[0]))
	for i := range a {
		for j := range a[i] {
			y[i][j] = a[i][j] + b[i][j]
		}
	}
	return y
}

func product(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}
