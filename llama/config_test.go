package llama_test

import (
	"strings"
	"testing"

	"github.com/actadd-go/actadd/llama"
)

// Config files shaped as the hub's for these models (fields and values as their config
// classes save them).
var hubConfigs = map[string]string{
	"HuggingFaceTB/SmolLM2-135M": `{"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "silu", "hidden_size": 576, "initializer_range": 0.041666666666666664, "intermediate_size": 1536, "is_llama_config": true, "max_position_embeddings": 8192, "model_type": "llama", "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_interleaved": false, "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.40.1", "use_cache": true, "vocab_size": 49152}`,
	"Qwen/Qwen2.5-0.5B":          `{"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.40.1", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}`,
	"meta-llama/Llama-3.1-8B":    `{"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.43.0.dev0", "use_cache": true, "vocab_size": 128256}`,
	"Qwen/Qwen3-0.6B":            `{"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3", "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}`,
	"mistralai/Mistral-7B-v0.1":  `{"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0", "use_cache": true, "vocab_size": 32000}`,
	"meta-llama/Llama-2-7b-hf":   `{"_name_or_path": "meta-llama/Llama-2-7b-hf", "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008, "max_position_embeddings": 4096, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32, "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.31.0.dev0", "use_cache": true, "vocab_size": 32000}`,
}

// Parameter counts as the model cards and safetensors metadata report them.
var hubParams = map[string]int64{
	"HuggingFaceTB/SmolLM2-135M": 134515008,
	"Qwen/Qwen2.5-0.5B":          494032768,
	"meta-llama/Llama-3.1-8B":    8030261248,
	"mistralai/Mistral-7B-v0.1":  7241732096,
	"meta-llama/Llama-2-7b-hf":   6738415616,
}

func TestParseHubConfigs(t *testing.T) {
	for name, js := range hubConfigs {
		c, err := llama.ParseConfig([]byte(js))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if want, ok := hubParams[name]; ok && c.ParamCount() != want {
			t.Errorf("%s: %d parameters, want %d", name, c.ParamCount(), want)
		}
	}
	c, _ := llama.ParseConfig([]byte(hubConfigs["Qwen/Qwen3-0.6B"]))
	if c.HeadDim != 128 || c.HiddenSize/c.NumAttentionHeads == 128 || !c.QKNorm() || c.QKVBias() || c.SlidingWindow != 0 {
		t.Errorf("Qwen3-0.6B: %+v", c)
	}
	c, _ = llama.ParseConfig([]byte(hubConfigs["Qwen/Qwen2.5-0.5B"]))
	if !c.QKVBias() || c.OBias() || c.SlidingWindow != 0 || !c.TieWordEmbeddings || c.Groups() != 7 {
		t.Errorf("Qwen2.5-0.5B: %+v", c)
	}
	c, _ = llama.ParseConfig([]byte(hubConfigs["mistralai/Mistral-7B-v0.1"]))
	if c.SlidingWindow != 4096 || c.QKVBias() || c.HeadDim != 128 {
		t.Errorf("Mistral-7B-v0.1: %+v", c)
	}
	c, _ = llama.ParseConfig([]byte(hubConfigs["meta-llama/Llama-3.1-8B"]))
	if s := c.RopeScaling; s == nil || s.Type != "llama3" || s.Factor != 8 || s.OriginalMaxPositionEmbeddings != 8192 {
		t.Errorf("Llama-3.1-8B rope scaling: %+v", s)
	}
}

// TestRopeParameters reads transformers v5's rope_parameters like v4's rope_theta and
// rope_scaling.
func TestRopeParameters(t *testing.T) {
	v4 := hubConfigs["meta-llama/Llama-3.1-8B"]
	v5 := strings.Replace(strings.Replace(v4, `"rope_theta": 500000.0, `, "", 1), `"rope_scaling": {`, `"rope_parameters": {"rope_theta": 500000.0, `, 1)
	if v5 == v4 || strings.Contains(v5, "rope_scaling") {
		t.Fatal("test config not rewritten")
	}
	a, err1 := llama.ParseConfig([]byte(v4))
	b, err2 := llama.ParseConfig([]byte(v5))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a.RopeTheta != b.RopeTheta || *a.RopeScaling != *b.RopeScaling {
		t.Errorf("v4 %v %+v, v5 %v %+v", a.RopeTheta, a.RopeScaling, b.RopeTheta, b.RopeScaling)
	}
	q := strings.Replace(hubConfigs["Qwen/Qwen3-0.6B"], `"rope_scaling": null, "rope_theta": 1000000,`, `"rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},`, 1)
	if c, err := llama.ParseConfig([]byte(q)); err != nil || c.RopeTheta != 1e6 || c.RopeScaling != nil {
		t.Errorf("Qwen3 with rope_parameters: %+v, %v", c, err)
	}
}

func TestConfigRefusesByName(t *testing.T) {
	base := hubConfigs["HuggingFaceTB/SmolLM2-135M"]
	qwen := hubConfigs["Qwen/Qwen2.5-0.5B"]
	for _, c := range []struct{ js, field string }{
		{strings.Replace(base, `"rope_scaling": null`, `"rope_scaling": {"rope_type": "yarn", "factor": 4.0}`, 1), "yarn"},
		{strings.Replace(base, `"rope_scaling": null`, `"rope_scaling": {"type": "dynamic", "factor": 2.0}`, 1), "dynamic"},
		{strings.Replace(base, `"rope_interleaved": false`, `"rope_interleaved": true`, 1), "rope_interleaved"},
		{strings.Replace(base, `"hidden_act": "silu"`, `"hidden_act": "gelu"`, 1), "hidden_act"},
		{strings.Replace(base, `"use_cache": true`, `"use_cache": true, "quantization_config": {"quant_method": "gptq"}`, 1), "quantization_config"},
		{strings.Replace(base, `"use_cache": true`, `"use_cache": true, "some_new_switch": 1`, 1), "some_new_switch"},
		{strings.Replace(base, `"model_type": "llama"`, `"model_type": "gemma2"`, 1), "gemma2"},
		{strings.Replace(qwen, `"use_sliding_window": false`, `"use_sliding_window": true`, 1), "use_sliding_window"},
		{strings.Replace(qwen, `"use_cache": true`, `"use_cache": true, "mlp_bias": true`, 1), "mlp_bias"},
		{strings.Replace(base, `"use_cache": true`, `"use_cache": true, "layer_types": ["sliding_attention"]`, 1), "layer_types"},
		{strings.Replace(base, `"num_key_value_heads": 3`, `"num_key_value_heads": 4`, 1), "num_key_value_heads"},
	} {
		_, err := llama.ParseConfig([]byte(c.js))
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("want an error naming %s, got %v", c.field, err)
		}
	}
}

func TestCheckMemory(t *testing.T) {
	const gib = 1 << 30
	c, err := llama.ParseConfig([]byte(hubConfigs["meta-llama/Llama-3.1-8B"]))
	if err != nil {
		t.Fatal(err)
	}
	err = llama.CheckMemory("meta-llama/Llama-3.1-8B", c, 2*c.ParamCount(), 24*gib)
	if err == nil || !strings.Contains(err.Error(), "float32") || !strings.Contains(err.Error(), "Qwen/Qwen3-4B)") || !strings.Contains(err.Error(), "as stored") {
		t.Errorf("an 8B model in 24 GiB: %v", err)
	} else {
		t.Log(err)
	}
	err = llama.CheckMemory("meta-llama/Llama-3.1-8B", c, 0, 24*gib)
	if err == nil || !strings.Contains(err.Error(), "15.0 GiB as stored in bfloat16") {
		t.Errorf("an 8B model in 24 GiB, before download: %v", err)
	}
	q, _ := llama.ParseConfig([]byte(hubConfigs["Qwen/Qwen2.5-0.5B"]))
	if err := llama.CheckMemory("Qwen/Qwen2.5-0.5B", q, 0, 24*gib); err != nil {
		t.Errorf("Qwen2.5-0.5B in 24 GiB: %v", err)
	}
	if err := llama.CheckMemory("Qwen/Qwen2.5-0.5B", q, 0, 1*gib); err == nil {
		t.Errorf("Qwen2.5-0.5B (2 GB in float32) fits 1 GiB?")
	}
}
