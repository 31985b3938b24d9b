package llama_test

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/llama"
)

// gemmaVariants cover Gemma 2 (alternating sliding layers from layer 0, attention and final
// soft-caps) and Gemma 3 (q/k norms, a 2-of-3 sliding pattern, a local RoPE base and a scaled
// global one), with grouped queries, heads·head_dim ≠ hidden_size, query_pre_attn_scalar ≠
// head_dim, a window of 3 keys shorter than every sequence tested, and each dtype (the
// embedding scale is rounded to it).
func gemmaVariants() []variant {
	base := llama.Config{VocabSize: 61, HiddenSize: 24, IntermediateSize: 40, NumHiddenLayers: 4,
		NumAttentionHeads: 4, NumKeyValueHeads: 2, HeadDim: 8, MaxPositionEmbeddings: 64,
		RMSNormEps: 1e-6, RopeTheta: 10000, TieWordEmbeddings: true, SlidingWindow: 3,
		BosTokenID: []int{2}, EosTokenID: []int{1}, HiddenAct: "gelu_pytorch_tanh"}
	gemma2 := func(f func(c *llama.Config)) llama.Config {
		c := base
		c.ModelType = "gemma2"
		c.Gemma = &llama.GemmaConfig{QueryPreAttnScalar: 12, AttnLogitSoftcapping: 4, FinalLogitSoftcapping: 15,
			LayerTypes: []string{llama.SlidingAttention, llama.FullAttention, llama.SlidingAttention, llama.FullAttention}}
		if f != nil {
			f(&c)
		}
		return c
	}
	gemma3 := func(f func(c *llama.Config)) llama.Config {
		c := base
		c.ModelType, c.NumKeyValueHeads, c.RopeTheta = "gemma3_text", 1, 1e6
		c.RopeScaling = &llama.RopeScaling{Type: "linear", Factor: 8}
		c.Gemma = &llama.GemmaConfig{QueryPreAttnScalar: 12, RopeLocalBaseFreq: 10000,
			LayerTypes: []string{llama.SlidingAttention, llama.SlidingAttention, llama.FullAttention, llama.SlidingAttention}}
		if f != nil {
			f(&c)
		}
		return c
	}
	return []variant{
		{"gemma2-bf16-sharded", gemma2(nil), "BF16", 2},
		{"gemma2-f32-bias-untied", gemma2(func(c *llama.Config) { c.AttentionBias, c.TieWordEmbeddings = true, false }), "F32", 0},
		{"gemma3-f32", gemma3(nil), "F32", 0},
		{"gemma3-f16-capped-mha", gemma3(func(c *llama.Config) {
			c.NumKeyValueHeads, c.RopeScaling, c.Gemma.FinalLogitSoftcapping = 4, nil, 15
		}), "F16", 0},
	}
}

func TestGemmaLogitsAndResidPreMatchReference(t *testing.T) {
	for _, v := range gemmaVariants() {
		t.Run(v.name, func(t *testing.T) {
			m, ref := load(t, v)
			// 9 tokens > the window of 3.
			checkForward(t, m, ref, v.cfg, 9, llama.HookEmbed, llama.AttnOut(1), llama.MLPOut(2), llama.ResidMid(0), llama.ResidPost(3), llama.HookLnFinal)
		})
	}
}

func TestGemmaSteeredLogitsMatchReference(t *testing.T) {
	for _, v := range gemmaVariants() {
		t.Run(v.name, func(t *testing.T) {
			m, ref := load(t, v)
			checkSteered(t, m, ref, v.cfg, 7, 5) // Gemma's stream is √d_model times larger than the embeddings
		})
	}
}

// TestGemmaCachedGreedyMatchesReference decodes two rows greedily with Prefill and Step,
// steered at the prompts' front positions, past the sliding window (5 + 7 tokens, window 3),
// and compares tokens and every step's logits with the reference.
func TestGemmaCachedGreedyMatchesReference(t *testing.T) {
	for i, v := range gemmaVariants() {
		t.Run(v.name, func(t *testing.T) {
			m, ref := load(t, v)
			m.PackBlocks = i%2 == 1
			checkCachedGreedy(t, m, ref, v.cfg, 7)
		})
	}
}

// Gemma configs shaped as the hub's (fields and values as Gemma2Config and Gemma3TextConfig
// save them).
var gemmaHubConfigs = map[string]string{
	"google/gemma-2-2b":    `{"architectures": ["Gemma2ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "attn_logit_softcapping": 50.0, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1, "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 2304, "initializer_range": 0.02, "intermediate_size": 9216, "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 8, "num_hidden_layers": 26, "num_key_value_heads": 4, "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096, "torch_dtype": "float32", "transformers_version": "4.42.4", "use_cache": true, "vocab_size": 256000}`,
	"google/gemma-3-1b-pt": `{"architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "attn_logit_softcapping": null, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1, "final_logit_softcapping": null, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 1152, "initializer_range": 0.02, "intermediate_size": 6912, "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4, "num_hidden_layers": 26, "num_key_value_heads": 1, "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000, "rope_scaling": null, "rope_theta": 1000000, "sliding_window": 512, "sliding_window_pattern": 6, "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0", "use_cache": true, "vocab_size": 262144}`,
	"google/gemma-3-270m":  `{"_sliding_window_pattern": 6, "architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "attn_logit_softcapping": null, "bos_token_id": 2, "eos_token_id": 1, "final_logit_softcapping": null, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 640, "initializer_range": 0.02, "intermediate_size": 2048, "layer_types": ["sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "full_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "full_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "full_attention"], "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4, "num_hidden_layers": 18, "num_key_value_heads": 1, "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000.0, "rope_scaling": null, "rope_theta": 1000000.0, "sliding_window": 512, "torch_dtype": "bfloat16", "transformers_version": "4.55.0.dev0", "use_bidirectional_attention": false, "use_cache": true, "vocab_size": 262144}`,
}

func TestParseGemmaHubConfigs(t *testing.T) {
	parse := func(name string) llama.Config {
		t.Helper()
		c, err := llama.ParseConfig([]byte(gemmaHubConfigs[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return c
	}
	c := parse("google/gemma-2-2b")
	g := c.Gemma
	if g == nil || g.AttnLogitSoftcapping != 50 || g.FinalLogitSoftcapping != 30 || g.QueryPreAttnScalar != 256 ||
		c.HeadDim != 256 || !c.TieWordEmbeddings || c.QKNorm() || g.RopeLocalBaseFreq != 0 {
		t.Errorf("gemma-2-2b: %+v %+v", c, g)
	}
	// Layer 0 slides, then every other layer.
	for l := range c.NumHiddenLayers {
		if want := map[bool]int{true: 4096, false: 0}[l%2 == 0]; c.SlidingWindowAt(l) != want {
			t.Errorf("gemma-2-2b layer %d: window %d, want %d", l, c.SlidingWindowAt(l), want)
		}
	}
	// 2,614,341,888 parameters counted from the shapes: the model card's 2.6B (lm_head tied).
	if n := c.ParamCount(); n != 2614341888 {
		t.Errorf("gemma-2-2b: %d parameters", n)
	}
	if s := c.EmbedScale(); s != float32(math.Sqrt(2304)) || s != 48 {
		t.Errorf("gemma-2-2b (float32) embed scale %v", s)
	}

	c = parse("google/gemma-3-1b-pt")
	g = c.Gemma
	if g.AttnLogitSoftcapping != 0 || g.FinalLogitSoftcapping != 0 || !c.QKNorm() || g.RopeLocalBaseFreq != 10000 || c.RopeTheta != 1e6 {
		t.Errorf("gemma-3-1b-pt: %+v %+v", c, g)
	}
	var global []int
	for l := range c.NumHiddenLayers {
		if c.SlidingWindowAt(l) == 0 {
			global = append(global, l)
		} else if c.SlidingWindowAt(l) != 512 {
			t.Errorf("gemma-3-1b-pt layer %d: window %d", l, c.SlidingWindowAt(l))
		}
	}
	if !slices.Equal(global, []int{5, 11, 17, 23}) {
		t.Errorf("gemma-3-1b-pt global layers %v, want 5, 11, 17, 23", global)
	}
	// √1152 = 33.94 is 34 in bfloat16.
	if s := c.EmbedScale(); s != 34 {
		t.Errorf("gemma-3-1b-pt embed scale %v, want 34 (√1152 in bfloat16)", s)
	}
	// 999,885,952 parameters counted from the shapes: the model card's 1B.
	if n := c.ParamCount(); n != 999885952 {
		t.Errorf("gemma-3-1b-pt: %d parameters", n)
	}

	// Gemma3Attention never passes attn_logit_softcapping to its attention function.
	c, err := llama.ParseConfig([]byte(strings.Replace(gemmaHubConfigs["google/gemma-3-1b-pt"], `"attn_logit_softcapping": null`, `"attn_logit_softcapping": 50.0`, 1)))
	if err != nil || c.Gemma.AttnLogitSoftcapping != 0 {
		t.Errorf("gemma3_text with attn_logit_softcapping 50: %v, cap %v", err, c.Gemma)
	}

	c = parse("google/gemma-3-270m")
	if c.SlidingWindowAt(5) != 0 || c.SlidingWindowAt(6) != 512 || c.EmbedScale() != 25.25 {
		t.Errorf("gemma-3-270m: windows %d %d, embed scale %v", c.SlidingWindowAt(5), c.SlidingWindowAt(6), c.EmbedScale())
	}
	// √3584 → 59.75 in bfloat16 (gemma-2-9b's width).
	c.HiddenSize = 3584
	if s := c.EmbedScale(); s != 59.75 {
		t.Errorf("√3584 in bfloat16: %v, want 59.75", s)
	}
}

// TestGemmaRopeParameters reads transformers v5's per-layer-type rope_parameters.
func TestGemmaRopeParameters(t *testing.T) {
	js := strings.Replace(gemmaHubConfigs["google/gemma-3-270m"], `"rope_local_base_freq": 10000.0, "rope_scaling": null, "rope_theta": 1000000.0,`,
		`"rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 500000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 20000.0}},`, 1)
	c, err := llama.ParseConfig([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if c.RopeTheta != 5e5 || c.RopeScaling == nil || c.RopeScaling.Factor != 8 || c.Gemma.RopeLocalBaseFreq != 20000 {
		t.Errorf("rope_parameters read as theta %g, scaling %+v, local %g", c.RopeTheta, c.RopeScaling, c.Gemma.RopeLocalBaseFreq)
	}
}

func TestGemmaConfigRefusesByName(t *testing.T) {
	for field, js := range map[string]string{
		"use_bidirectional_attention": strings.Replace(gemmaHubConfigs["google/gemma-3-270m"], `"use_bidirectional_attention": false`, `"use_bidirectional_attention": true`, 1),
		"hidden_activation":           strings.Replace(gemmaHubConfigs["google/gemma-3-1b-pt"], `"hidden_activation": "gelu_pytorch_tanh"`, `"hidden_activation": "gelu"`, 1),
		"rope_scaling":                strings.Replace(gemmaHubConfigs["google/gemma-2-2b"], `"rope_theta": 10000.0`, `"rope_theta": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 2.0}`, 1),
		"final_logit_softcapping_x":   strings.Replace(gemmaHubConfigs["google/gemma-2-2b"], `"rope_theta"`, `"final_logit_softcapping_x": 1, "rope_theta"`, 1),
		"layer_types":                 strings.Replace(gemmaHubConfigs["google/gemma-3-270m"], `"full_attention"]`, `"chunked_attention"]`, 1),
		"gemma3_text":                 `{"model_type": "gemma3", "text_config": {"model_type": "gemma3_text"}}`,
	} {
		_, err := llama.ParseConfig([]byte(js))
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: want a refusal naming it, got %v", field, err)
		}
	}
}

// TestGemmaWeightTable checks Gemma's tensor names: four norms per block (Gemma's
// post_attention_layernorm is on the attention output), q/k norms for Gemma 3 only, lm_head only
// when untied.
func TestGemmaWeightTable(t *testing.T) {
	for _, v := range gemmaVariants()[1:3] {
		shapes := llama.WeightShapes(v.cfg)
		for _, n := range []string{"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"} {
			if s := shapes["model.layers.3."+n+".weight"]; !slices.Equal(s, []int{v.cfg.HiddenSize}) {
				t.Errorf("%s: %s has shape %v", v.name, n, s)
			}
		}
		_, qNorm := shapes["model.layers.0.self_attn.q_norm.weight"]
		_, head := shapes["lm_head.weight"]
		if qNorm != (v.cfg.ModelType == "gemma3_text") || head == v.cfg.TieWordEmbeddings {
			t.Errorf("%s: q_norm %v, lm_head %v", v.name, qNorm, head)
		}
		if s := shapes["model.layers.0.self_attn.q_proj.weight"]; !slices.Equal(s, []int{32, 24}) {
			t.Errorf("%s: q_proj %v", v.name, s)
		}
	}
}

// TestGemmaConfigRoundTrip writes each variant's config.json as Gemma2Config /
// Gemma3TextConfig save it and reads it back unchanged.
func TestGemmaConfigRoundTrip(t *testing.T) {
	for _, v := range gemmaVariants() {
		js, err := llama.ConfigJSON(v.cfg, v.dtype)
		if err != nil {
			t.Fatal(err)
		}
		c, err := llama.ParseConfig(js)
		if err != nil {
			t.Fatalf("%s: %v\n%s", v.name, err, js)
		}
		want := v.cfg
		want.Architectures = c.Architectures
		want.TorchDType = c.TorchDType
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%s: read back as\n%+v %+v\nwant\n%+v %+v", v.name, c, c.Gemma, want, want.Gemma)
		}
	}
}

// Gemma 3's layers slide except every sliding_window_pattern-th; its embeddings are scaled by
// √hidden_size in the checkpoint's dtype.
func ExampleConfig_SlidingWindowAt() {
	cfg, err := llama.ParseConfig([]byte(gemmaHubConfigs["google/gemma-3-1b-pt"]))
	if err != nil {
		fmt.Println(err)
		return
	}
	var windows []int
	for l := range 7 {
		windows = append(windows, cfg.SlidingWindowAt(l))
	}
	fmt.Println(windows)
	fmt.Println(cfg.TorchDType, cfg.EmbedScale())
	// Output:
	// [512 512 512 512 512 0 512]
	// bfloat16 34
}
