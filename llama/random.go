package llama

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/actadd-go/actadd/checkpoint"
)

// RandomTensors returns seeded random weights in the checkpoint layout of cfg (WeightShapes):
// projections with standard deviation 1/√in, embeddings 1, norm weights around 1, biases 0.1.
// The same config and seed give the same weights on every machine.
func RandomTensors(cfg Config, seed uint64) map[string]checkpoint.Tensor {
	names, shapes := WeightNames(cfg), WeightShapes(cfg)
	tensors := make([]checkpoint.Tensor, len(names))
	// Each tensor has its own stream (seed, index), so drawing them in parallel changes nothing.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			tensors[i] = randomTensor(name, shapes[name], seed, uint64(i))
		}()
	}
	wg.Wait()
	out := make(map[string]checkpoint.Tensor, len(names))
	for i, name := range names {
		out[name] = tensors[i]
	}
	return out
}

// randomTensor draws one tensor of RandomTensors from the stream (seed, index).
func randomTensor(name string, shape []int, seed, index uint64) checkpoint.Tensor {
	r := rand.New(rand.NewPCG(seed, index))
	data := make([]float32, product(shape))
	std, mean := 0.0, 0.0
	switch {
	case filepath.Ext(name) == ".bias":
		std = 0.1
	case len(shape) == 1: // RMSNorm weights
		std, mean = 0.1, 1
	case name == "model.embed_tokens.weight" || name == "lm_head.weight":
		std = 1
	default:
		std = 1 / math.Sqrt(float64(shape[1]))
	}
	for j := range data {
		data[j] = float32(mean + std*r.NormFloat64())
	}
	return checkpoint.Tensor{Shape: slices.Clone(shape), Data: data}
}

// RandomOptions say how WriteRandom stores a checkpoint.
type RandomOptions struct {
	Seed uint64
	// DType of the stored tensors: "F32" (the default), "F16" or "BF16".
	DType string
	// Shards > 1 splits the tensors over that many files listed in model.safetensors.index.json,
	// as Hugging Face saves large models; otherwise one model.safetensors.
	Shards int
	// Description, when set, is written into the safetensors metadata ("description"),
	// saying what the weights are.
	Description string
}

// WriteRandom writes a checkpoint folder of random weights (RandomTensors) in the exact
// Hugging Face layout of cfg's family: config.json with the fields its config class saves,
// tensors under their Hugging Face names, in one file or sharded.
func WriteRandom(dir string, cfg Config, opts RandomOptions) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	dtype := opts.DType
	if dtype == "" {
		dtype = "F32"
	}
	cj, err := ConfigJSON(cfg, dtype)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("llama: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cj, 0o644); err != nil {
		return fmt.Errorf("llama: %w", err)
	}
	tensors := RandomTensors(cfg, opts.Seed)
	meta := map[string]string{"format": "pt"}
	if opts.Description != "" {
		meta["description"] = opts.Description
	}
	if opts.Shards <= 1 {
		return checkpoint.WriteSafetensorsAs(filepath.Join(dir, checkpoint.WeightsFile), tensors, meta, dtype)
	}
	// Shards in name order, as even as whole tensors allow, named as transformers names them.
	names := WeightNames(cfg)
	var total int64
	for _, n := range names {
		total += int64(len(tensors[n].Data))
	}
	width := map[string]int64{"F32": 4, "F16": 2, "BF16": 2}[dtype]
	index := struct {
		Metadata  map[string]any    `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{map[string]any{"total_size": total * width}, map[string]string{}}
	per := (total + int64(opts.Shards) - 1) / int64(opts.Shards)
	shard, filled := 0, int64(0)
	parts := make([]map[string]checkpoint.Tensor, opts.Shards)
	for _, n := range names {
		if filled >= per && shard < opts.Shards-1 {
			shard, filled = shard+1, 0
		}
		if parts[shard] == nil {
			parts[shard] = map[string]checkpoint.Tensor{}
		}
		parts[shard][n] = tensors[n]
		filled += int64(len(tensors[n].Data))
	}
	for i, part := range parts {
		if part == nil {
			return fmt.Errorf("llama: %d tensors cannot fill %d shards: write fewer", len(names), opts.Shards)
		}
		file := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, opts.Shards)
		for n := range part {
			index.WeightMap[n] = file
		}
		if err := checkpoint.WriteSafetensorsAs(filepath.Join(dir, file), part, meta, dtype); err != nil {
			return err
		}
	}
	ij, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return fmt.Errorf("llama: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, checkpoint.WeightsIndexFile), append(ij, '\n'), 0o644)
}

// json is rope_scaling as transformers writes it in config.json.
func (s *RopeScaling) json() map[string]any {
	rs := map[string]any{"rope_type": s.Type, "factor": s.Factor}
	if s.Type == "llama3" {
		rs["low_freq_factor"] = s.LowFreqFactor
		rs["high_freq_factor"] = s.HighFreqFactor
		rs["original_max_position_embeddings"] = s.OriginalMaxPositionEmbeddings
	}
	return rs
}

// tokenIDsJSON writes bos_token_id or eos_token_id as transformers does: null, one id, or a
// list.
func tokenIDsJSON(v []int) any {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return v[0]
	}
	return v
}

// ConfigJSON renders cfg as the config.json that Hugging Face's config class of its family
// (LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config) saves, with torch_dtype naming the
// stored dtype.
func ConfigJSON(cfg Config, dtype string) ([]byte, error) {
	torchDType := map[string]string{"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]
	if torchDType == "" {
		return nil, fmt.Errorf("llama: dtype %q: use F32, F16 or BF16", dtype)
	}
	if cfg.Gemma != nil {
		return gemmaConfigJSON(cfg, torchDType)
	}
	m := map[string]any{
		"architectures":           cfg.Architectures,
		"attention_dropout":       0.0,
		"bos_token_id":            tokenIDsJSON(cfg.BosTokenID),
		"eos_token_id":            tokenIDsJSON(cfg.EosTokenID),
		"hidden_act":              "silu",
		"hidden_size":             cfg.HiddenSize,
		"initializer_range":       0.02,
		"intermediate_size":       cfg.IntermediateSize,
		"max_position_embeddings": cfg.MaxPositionEmbeddings,
		"model_type":              cfg.ModelType,
		"num_attention_heads":     cfg.NumAttentionHeads,
		"num_hidden_layers":       cfg.NumHiddenLayers,
		"num_key_value_heads":     cfg.NumKeyValueHeads,
		"rms_norm_eps":            cfg.RMSNormEps,
		"rope_theta":              cfg.RopeTheta,
		"rope_scaling":            nil,
		"tie_word_embeddings":     cfg.TieWordEmbeddings,
		"torch_dtype":             torchDType,
		"transformers_version":    "4.56.2",
		"use_cache":               true,
		"vocab_size":              cfg.VocabSize,
	}
	if s := cfg.RopeScaling; s != nil {
		m["rope_scaling"] = s.json()
	}
	if len(cfg.Architectures) == 0 {
		m["architectures"] = []string{map[string]string{"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM",
			"qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"}[cfg.ModelType]}
	}
	switch cfg.ModelType {
	case "llama":
		m["attention_bias"] = cfg.AttentionBias
		m["mlp_bias"] = cfg.MLPBias
		m["head_dim"] = cfg.HeadDim
		m["pretraining_tp"] = 1
	case "mistral":
		m["head_dim"] = cfg.HeadDim
		if cfg.SlidingWindow > 0 {
			m["sliding_window"] = cfg.SlidingWindow
		} else {
			m["sliding_window"] = nil
		}
	case "qwen2", "qwen3":
		if cfg.ModelType == "qwen3" {
			m["attention_bias"] = cfg.AttentionBias
			m["head_dim"] = cfg.HeadDim
		} else if cfg.HeadDim != cfg.HiddenSize/cfg.NumAttentionHeads {
			m["head_dim"] = cfg.HeadDim
		}
		m["use_sliding_window"] = false
		m["sliding_window"] = nil
		m["max_window_layers"] = cfg.NumHiddenLayers
		if cfg.SlidingWindow > 0 {
			return nil, fmt.Errorf("llama: %s with a sliding window is not implemented", cfg.ModelType)
		}
	default:
		return nil, fmt.Errorf("llama: model_type %q is not one of %v", cfg.ModelType, Families)
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("llama: %w", err)
	}
	return append(out, '\n'), nil
}
