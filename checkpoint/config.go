// Package checkpoint reads and writes GPT-2 checkpoints in the exact Hugging Face layout:
// a config.json and a model.safetensors holding HF tensor names with Conv1D [in, out] weights.
//
// It knows nothing about GoMLX: tensors are plain float32 slices with a shape, so the same
// files serve the GoMLX model (package gpt2), the float64 test reference, and the tiny
// checkpoint writer that tests and the offline `tiny` stand-in model use.
//
// Read/Load decode model.safetensors (or a sharded index) with every tensor checked against
// WeightTable, GPT-2's one table of weights; Write/WriteTiny produce the same layout. Finding a
// checkpoint by name is package loader's. "tiny" is a random-weight stand-in, NOT GPT-2: label
// its results with TinyDescription.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Config mirrors the fields of a GPT-2 config.json that the model needs.
//
// Every field of Hugging Face's GPT2Config that changes the arithmetic is either implemented as
// HF's GPT2LMHeadModel computes it (n_inner, activation_function, scale_attn_weights,
// scale_attn_by_inverse_layer_idx, layer_norm_epsilon) or refused by name when ReadConfig reads
// it (see checkFields). The others change nothing at inference in float32: dropout
// probabilities, initializer_range, summary_* (GPT2DoubleHeadsModel's head), use_cache, n_ctx,
// reorder_and_upcast_attn (the same scaled scores, upcast only under mixed precision), and
// add_cross_attention (HF skips cross-attention without encoder states; Read skips its weights).
type Config struct {
	ModelType          string   `json:"model_type,omitempty"`
	Architectures      []string `json:"architectures,omitempty"`
	NLayer             int      `json:"n_layer"`
	NHead              int      `json:"n_head"`
	NEmbd              int      `json:"n_embd"`
	NPositions         int      `json:"n_positions"`
	NCtx               int      `json:"n_ctx,omitempty"`
	VocabSize          int      `json:"vocab_size"`
	LayerNormEpsilon   float64  `json:"layer_norm_epsilon"`
	ActivationFunction string   `json:"activation_function"`
	BosTokenID         int      `json:"bos_token_id"`
	EosTokenID         int      `json:"eos_token_id"`
	// NInner is the width of the MLP's hidden layer (HF n_inner); 0 (null in config.json) means
	// 4·n_embd, as in every published GPT-2.
	NInner int `json:"n_inner,omitempty"`
	// ScaleAttnWeights false makes attention use unscaled scores q·k instead of q·k/√head_dim
	// (HF scale_attn_weights); nil means true, as in every published GPT-2.
	ScaleAttnWeights *bool `json:"scale_attn_weights,omitempty"`
	// ScaleAttnByInverseLayerIdx further divides the attention scores of block l (from 0) by
	// l+1 (HF scale_attn_by_inverse_layer_idx).
	ScaleAttnByInverseLayerIdx bool `json:"scale_attn_by_inverse_layer_idx,omitempty"`
	// AddCrossAttention marks the decoder of an encoder-decoder model (HF add_cross_attention):
	// its cross-attention weights are not used, as HF does not use them without encoder states.
	AddCrossAttention bool `json:"add_cross_attention,omitempty"`
	// ActaddDescription is set in checkpoints written by WriteTiny: a random-weight model, which
	// loaders use as its name so it never passes for GPT-2.
	ActaddDescription string `json:"actadd_description,omitempty"`
}

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.NEmbd / c.NHead }

// Inner is the width of the MLP's hidden layer: NInner, or 4·n_embd when it is 0.
func (c Config) Inner() int {
	if c.NInner > 0 {
		return c.NInner
	}
	return 4 * c.NEmbd
}

// AttnScale is the factor by which block layer (from 0) multiplies its attention scores q·k
// before the softmax: 1/√head_dim unless ScaleAttnWeights is false, divided by layer+1 when
// ScaleAttnByInverseLayerIdx is set (as in HF's GPT2Attention).
func (c Config) AttnScale(layer int) float64 {
	scale := 1.0
	if c.ScaleAttnWeights == nil || *c.ScaleAttnWeights {
		scale /= math.Sqrt(float64(c.HeadDim()))
	}
	if c.ScaleAttnByInverseLayerIdx {
		scale /= float64(layer + 1)
	}
	return scale
}

// Activations lists the values of activation_function that the model implements, with the
// function each names in Hugging Face's ACT2FN: gelu_new, gelu_pytorch_tanh and gelu_fast are
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); gelu is x·Φ(x) (exact, with erf); relu;
// silu and swish are x·sigmoid(x); tanh; quick_gelu is x·sigmoid(1.702·x).
var Activations = []string{"gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu", "relu", "silu", "swish", "tanh", "quick_gelu"}

// Validate reports a config that cannot describe a GPT-2. It does not bound the sizes: a
// config is only as big as the weights it comes with (Read checks ParamCount against them).
func (c Config) Validate() error {
	switch {
	case c.NLayer <= 0 || c.NHead <= 0 || c.NEmbd <= 0 || c.NPositions <= 0 || c.VocabSize <= 0:
		return fmt.Errorf("checkpoint: config has non-positive sizes (n_layer=%d n_head=%d n_embd=%d n_positions=%d vocab_size=%d)",
			c.NLayer, c.NHead, c.NEmbd, c.NPositions, c.VocabSize)
	case c.NEmbd%c.NHead != 0:
		return fmt.Errorf("checkpoint: n_embd=%d is not divisible by n_head=%d", c.NEmbd, c.NHead)
	case !(c.LayerNormEpsilon > 0 && c.LayerNormEpsilon < 1):
		return fmt.Errorf("checkpoint: layer_norm_epsilon=%g must be positive and below 1 (GPT-2 uses 1e-05)", c.LayerNormEpsilon)
	case c.ActivationFunction != "" && !slices.Contains(Activations, c.ActivationFunction):
		return fmt.Errorf("checkpoint: activation_function %q is not supported: use one of %s (GPT-2 uses \"gelu_new\")", c.ActivationFunction, strings.Join(Activations, ", "))
	case c.NInner < 0:
		return fmt.Errorf("checkpoint: n_inner=%d is negative: give the MLP's width, or null for 4·n_embd", c.NInner)
	}
	if _, ok := c.ParamCount(); !ok {
		return fmt.Errorf("checkpoint: config sizes n_layer=%d n_embd=%d n_positions=%d vocab_size=%d describe more parameters than a program can address: the config is damaged",
			c.NLayer, c.NEmbd, c.NPositions, c.VocabSize)
	}
	return nil
}

// ParamCount returns the number of values in the tensors of ExpectedShapes(c), and false when
// that number does not fit in an int64 (no checkpoint holds so many).
func (c Config) ParamCount() (int64, bool) {
	var overflow bool
	mul := func(a, b int64) int64 {
		if a < 0 || b < 0 || (a != 0 && b > math.MaxInt64/a) {
			overflow = true
			return 0
		}
		return a * b
	}
	add := func(a, b int64) int64 {
		if a < 0 || b < 0 || a > math.MaxInt64-b {
			overflow = true
			return 0
		}
		return a + b
	}
	d, inner := int64(c.NEmbd), int64(c.Inner())
	// Per block: ln_1 and ln_2 (4d), c_attn (3d² + 3d), attn c_proj (d² + d), mlp c_fc
	// (d·inner + inner), mlp c_proj (inner·d + d): 4d² + 2d·inner + inner + 9d.
	block := add(add(mul(4, mul(d, d)), mul(2, mul(d, inner))), add(inner, mul(9, d)))
	n := add(mul(int64(c.NLayer), block), add(mul(add(int64(c.VocabSize), int64(c.NPositions)), d), mul(2, d)))
	return n, !overflow
}

// maxConfigBytes bounds config.json: GPT-2's is under 1 KB.
const maxConfigBytes = 1 << 20

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (Config, error) {
	var c Config
	path := filepath.Join(dir, ConfigFile)
	raw, err := readBounded(path, maxConfigBytes)
	if err != nil {
		return c, fmt.Errorf("checkpoint: reading config: %w", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("checkpoint: parsing %s: %w; the file is damaged: delete it (in the Hugging Face cache, its snapshot link and blob) and download or write it again", path, err)
	}
	if c.ActivationFunction == "" {
		c.ActivationFunction = "gelu_new"
	}
	if c.ScaleAttnWeights != nil && *c.ScaleAttnWeights {
		c.ScaleAttnWeights = nil // the default, as every GPT-2 config.json writes it
	}
	if err := checkFields(raw); err != nil {
		return c, fmt.Errorf("%w (in %s)", err, path)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}

// checkFields refuses, by name, the fields of a config.json with which Hugging Face would
// compute something this implementation does not: another architecture, an LM head of its own,
// pruned attention heads.
func checkFields(raw []byte) error {
	var f struct {
		ModelType         *string          `json:"model_type"`
		TieWordEmbeddings *bool            `json:"tie_word_embeddings"`
		PrunedHeads       map[string][]int `json:"pruned_heads"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return fmt.Errorf("checkpoint: config field of an unexpected type: %w", err)
	}
	switch {
	case f.ModelType != nil && *f.ModelType != "gpt2":
		return fmt.Errorf("checkpoint: model_type %q is not GPT-2: only model_type \"gpt2\" checkpoints can be loaded", *f.ModelType)
	case f.TieWordEmbeddings != nil && !*f.TieWordEmbeddings:
		return errors.New("checkpoint: tie_word_embeddings=false is not supported: that model's LM head is a matrix of its own (lm_head.weight), while this implementation computes the logits with the token embedding wte, as GPT-2 does")
	case len(f.PrunedHeads) > 0:
		return fmt.Errorf("checkpoint: pruned_heads %v is not supported: this implementation needs every attention head of every block", f.PrunedHeads)
	}
	return nil
}

// readBounded reads a small file whole, refusing one larger than limit bytes before reading it.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s has %d bytes, more than the %d such a file can need: it is not the file it should be", path, fi.Size(), limit)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

// Tensor is a dense float32 tensor in row-major order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Sizes of the published GPT-2 checkpoints (layers / width / heads); all have a 1024-token
// context and a 50257-token vocabulary.
var knownSizes = map[string][3]int{
	"gpt2":        {12, 768, 12},
	"gpt2-medium": {24, 1024, 16},
	"gpt2-large":  {36, 1280, 20},
	"gpt2-xl":     {48, 1600, 25},
	"distilgpt2":  {6, 768, 12},
}

// KnownConfig returns the config of a published GPT-2 size (gpt2, gpt2-medium, gpt2-large,
// gpt2-xl, distilgpt2), e.g. to build random models of those shapes for benchmarks.
func KnownConfig(name string) (Config, bool) {
	s, ok := knownSizes[name]
	if !ok {
		return Config{}, false
	}
	return Config{
		ModelType: "gpt2", Architectures: []string{"GPT2LMHeadModel"},
		NLayer: s[0], NEmbd: s[1], NHead: s[2], NPositions: 1024, NCtx: 1024, VocabSize: 50257,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new", BosTokenID: 50256, EosTokenID: 50256,
	}, true
}

// ExpectedShapes is WeightTable as a map from name to shape.
func ExpectedShapes(c Config) map[string][]int {
	m := map[string][]int{}
	for _, w := range WeightTable(c) {
		m[w.Name] = w.Shape
	}
	return m
}
