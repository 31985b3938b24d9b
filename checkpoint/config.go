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
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// Config mirrors the fields of a GPT-2 config.json that the model needs.
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
	// ActaddDescription is set in checkpoints written by WriteTiny: a random-weight model, which
	// loaders use as its name so it never passes for GPT-2.
	ActaddDescription string `json:"actadd_description,omitempty"`
}

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.NEmbd / c.NHead }

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
	case c.ActivationFunction != "gelu_new" && c.ActivationFunction != "":
		return fmt.Errorf("checkpoint: activation_function %q is not supported (GPT-2 uses \"gelu_new\")", c.ActivationFunction)
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
	d := int64(c.NEmbd)
	// Per block: ln_1 and ln_2 (4d), c_attn (3d² + 3d), attn c_proj (d² + d), mlp c_fc
	// (4d² + 4d), mlp c_proj (4d² + d): 12d² + 13d.
	block := add(mul(12, mul(d, d)), mul(13, d))
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
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
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
