package checkpoint

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// TinyName is the model name of the offline stand-in (see TinyConfig).
const TinyName = "tiny"

// TinyDescription must accompany the name "tiny" wherever results of that model are shown.
const TinyDescription = "tiny (random-weight stand-in, not GPT-2)"

// TinySeed is the seed Locate uses to generate the tiny model.
const TinySeed = 1

// TinyConfig is the config of the offline stand-in model "tiny": GPT-2's vocabulary (so the
// real GPT-2 tokenizer works) and context, with 4 layers of width 64 and 4 heads. Its weights
// are RANDOM (RandomTensors): it is not GPT-2 and knows nothing about language.
func TinyConfig() Config {
	return Config{
		ModelType: "gpt2", Architectures: []string{"GPT2LMHeadModel"},
		NLayer: 4, NHead: 4, NEmbd: 64, NPositions: 1024, NCtx: 1024, VocabSize: 50257,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new", BosTokenID: 50256, EosTokenID: 50256,
	}
}

// withDefaults fills the fields a GPT-2 config.json always has.
func (c Config) withDefaults() Config {
	if c.ModelType == "" {
		c.ModelType = "gpt2"
	}
	if len(c.Architectures) == 0 {
		c.Architectures = []string{"GPT2LMHeadModel"}
	}
	if c.NCtx == 0 {
		c.NCtx = c.NPositions
	}
	if c.ActivationFunction == "" {
		c.ActivationFunction = "gelu_new"
	}
	if c.BosTokenID == 0 && c.EosTokenID == 0 && c.VocabSize > 0 {
		c.BosTokenID = min(50256, c.VocabSize-1)
		c.EosTokenID = c.BosTokenID
	}
	return c
}

// hfConfigJSON renders c as the config.json of a Hugging Face GPT2LMHeadModel, plus extra.
func hfConfigJSON(c Config, extra map[string]any) ([]byte, error) {
	c = c.withDefaults()
	m := map[string]any{
		"activation_function":    c.ActivationFunction,
		"architectures":          c.Architectures,
		"attn_pdrop":             0.1,
		"bos_token_id":           c.BosTokenID,
		"embd_pdrop":             0.1,
		"eos_token_id":           c.EosTokenID,
		"initializer_range":      0.02,
		"layer_norm_epsilon":     c.LayerNormEpsilon,
		"model_type":             c.ModelType,
		"n_ctx":                  c.NCtx,
		"n_embd":                 c.NEmbd,
		"n_head":                 c.NHead,
		"n_inner":                nil,
		"n_layer":                c.NLayer,
		"n_positions":            c.NPositions,
		"resid_pdrop":            0.1,
		"scale_attn_weights":     true,
		"summary_activation":     nil,
		"summary_first_dropout":  0.1,
		"summary_proj_to_labels": true,
		"summary_type":           "cls_index",
		"summary_use_proj":       true,
		"use_cache":              true,
		"vocab_size":             c.VocabSize,
	}
	// The fields that change the arithmetic, written only when they differ from GPT-2's.
	if c.NInner != 0 {
		m["n_inner"] = c.NInner
	}
	if c.ScaleAttnWeights != nil {
		m["scale_attn_weights"] = *c.ScaleAttnWeights
	}
	if c.ScaleAttnByInverseLayerIdx {
		m["scale_attn_by_inverse_layer_idx"] = true
	}
	if c.AddCrossAttention {
		m["add_cross_attention"] = true
	}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("checkpoint: encoding config.json: %w", err)
	}
	return append(b, '\n'), nil
}

// Write stores a GPT-2 checkpoint in dir in the exact Hugging Face layout: config.json (HF's
// GPT-2 fields) and model.safetensors (F32, HF names without prefix, sorted, metadata
// {"format": "pt"}). tensors must hold exactly the tensors of ExpectedShapes(cfg). Each file is
// written atomically (temporary file + rename); dir is created if needed.
func Write(dir string, cfg Config, tensors map[string]Tensor) error {
	return writeCheckpoint(dir, cfg, tensors, nil, "")
}

func writeCheckpoint(dir string, cfg Config, tensors map[string]Tensor, extra map[string]any, readme string) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := checkTensors(cfg, tensors); err != nil {
		return err
	}
	conf, err := hfConfigJSON(cfg, extra)
	if err != nil {
		return err
	}
	if err := writeSafetensors(filepath.Join(dir, WeightsFile), tensors, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	if readme != "" {
		if err := writeAtomic(filepath.Join(dir, "README.md"), func(w io.Writer) error {
			_, err := io.WriteString(w, readme)
			return err
		}); err != nil {
			return err
		}
	}
	// config.json last: Locate treats a folder with config.json as complete.
	return writeAtomic(filepath.Join(dir, ConfigFile), func(w io.Writer) error {
		_, err := w.Write(conf)
		return err
	})
}

func checkTensors(cfg Config, tensors map[string]Tensor) error {
	expected := ExpectedShapes(cfg)
	var extra []string
	for name := range tensors {
		if _, ok := expected[name]; !ok {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("checkpoint: Write got unexpected tensors %s: it writes exactly the GPT-2 tensors of ExpectedShapes (HF names without \"transformer.\")",
			strings.Join(extra, ", "))
	}
	for _, name := range sortedKeys(expected) {
		want := expected[name]
		t, ok := tensors[name]
		if !ok {
			return fmt.Errorf("checkpoint: Write: tensor %s is missing (want shape %v)", name, want)
		}
		if !slices.Equal(t.Shape, want) {
			return fmt.Errorf("checkpoint: Write: tensor %s has shape %v, expected %v", name, t.Shape, want)
		}
		if n, _ := numElements(want); int64(len(t.Data)) != n {
			return fmt.Errorf("checkpoint: Write: tensor %s has %d values, its shape %v needs %d", name, len(t.Data), want, n)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// generatorVersion changes whenever RandomTensors would produce other values; it is part of
// the tiny model's cache key.
const generatorVersion = "pcg-irwinhall4-v1"

// RandomTensors returns a deterministic random GPT-2 of config cfg in HF layout: matrices and
// embeddings ~N(0, 0.02) as HF initializes them (residual projections c_proj scaled by
// 1/√(2·n_layer)), LayerNorm gains 1+N(0, 0.05), and all biases N(0, 0.02) — nonzero so that
// tests exercise them. It returns nil for an invalid config.
//
// Each tensor has its own PCG stream seeded by (seed, name), and the normal deviates are an
// Irwin–Hall sum of four uniforms scaled to unit variance: only exactly rounded arithmetic,
// so the weights are bit-identical on every platform and Go version.
func RandomTensors(cfg Config, seed int64) map[string]Tensor {
	if cfg.Validate() != nil {
		return nil
	}
	out := map[string]Tensor{}
	projStd := 0.02 / math.Sqrt(2*float64(cfg.NLayer))
	for name, shape := range ExpectedShapes(cfg) {
		n, _ := numElements(shape)
		h := fnv.New64a()
		h.Write([]byte(name))
		r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
		mean, std := 0.0, 0.02
		switch {
		case strings.HasSuffix(name, "ln_1.weight"), strings.HasSuffix(name, "ln_2.weight"), name == "ln_f.weight":
			mean, std = 1, 0.05
		case strings.HasSuffix(name, "c_proj.weight"):
			std = projStd
		}
		data := make([]float32, n)
		for i := range data {
			// float64(...) forbids fusing into an FMA, which would round differently on some CPUs.
			data[i] = float32(mean + float64(std*normal(r)))
		}
		out[name] = Tensor{Shape: slices.Clone(shape), Data: data}
	}
	return out
}

// normal returns an approximately standard normal deviate: (U1+U2+U3+U4-2)·√3 with 32-bit
// uniforms, all exact in float64.
func normal(r *rand.Rand) float64 {
	a, b := r.Uint64(), r.Uint64()
	const inv32 = 1.0 / (1 << 32)
	s := float64(a>>32) + float64(a&0xffffffff) + float64(b>>32) + float64(b&0xffffffff)
	return (s*inv32 - 2) * math.Sqrt(3)
}

// WriteTiny writes RandomTensors(cfg, seed) to dir with Write's layout, plus a README.md, and
// marks config.json (_name_or_path, actadd_description) so the folder can never pass for GPT-2.
// The tokenizer is the standard GPT-2 BPE; no tokenizer files are written.
func WriteTiny(dir string, cfg Config, seed int64) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	desc := TinyDescription
	if cfg.NLayer != TinyConfig().NLayer || cfg.NEmbd != TinyConfig().NEmbd || cfg.NHead != TinyConfig().NHead || cfg.VocabSize != TinyConfig().VocabSize {
		desc = fmt.Sprintf("random-weight GPT-2-shaped model (n_layer=%d n_embd=%d n_head=%d vocab_size=%d), not GPT-2",
			cfg.NLayer, cfg.NEmbd, cfg.NHead, cfg.VocabSize)
	}
	extra := map[string]any{
		"_name_or_path":      TinyName,
		"actadd_description": desc,
		"actadd_seed":        seed,
		"actadd_generator":   generatorVersion,
		"actadd_tokenizer":   "standard GPT-2 BPE (r50k_base); no tokenizer files included",
	}
	readme := fmt.Sprintf(`# %s

This folder holds a RANDOM-WEIGHT model in the exact Hugging Face GPT-2 layout (config.json,
model.safetensors). It is NOT GPT-2: its weights were generated by
github.com/actadd-go/actadd/checkpoint.WriteTiny (seed %d, generator %s) so that code and
tests run offline. Its outputs carry no meaning about language.

Config: n_layer=%d n_embd=%d n_head=%d n_positions=%d vocab_size=%d layer_norm_epsilon=%g.

Tokenizer: the standard GPT-2 BPE (r50k_base, 50257 tokens, <|endoftext|> = 50256); no
vocab.json / merges.txt are included — use the built-in GPT-2 tokenizer.
`, desc, seed, generatorVersion, cfg.NLayer, cfg.NEmbd, cfg.NHead, cfg.NPositions, cfg.VocabSize, cfg.LayerNormEpsilon)
	return writeCheckpoint(dir, cfg, RandomTensors(cfg, seed), extra, readme)
}
