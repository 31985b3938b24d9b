package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// readConfigWith writes smallConfig's config.json with the fields of change set (a nil value
// deletes the field) and reads it back.
func readConfigWith(t *testing.T, change map[string]any) (Config, error) {
	t.Helper()
	raw, err := hfConfigJSON(smallConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range change {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	if raw, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return ReadConfig(dir)
}

// Every field of Hugging Face's GPT2Config (and the PretrainedConfig fields GPT2LMHeadModel
// reads) is implemented, harmless at inference, or refused by name.
func TestConfigFields(t *testing.T) {
	base := smallConfig()
	f := false
	implemented := []struct {
		field string
		value any
		want  func(*Config)
	}{
		{"n_inner", 20, func(c *Config) { c.NInner = 20 }},
		{"n_inner", nil, func(*Config) {}},
		{"scale_attn_weights", false, func(c *Config) { c.ScaleAttnWeights = &f }},
		{"scale_attn_weights", true, func(*Config) {}},
		{"scale_attn_by_inverse_layer_idx", true, func(c *Config) { c.ScaleAttnByInverseLayerIdx = true }},
		{"layer_norm_epsilon", 0.01, func(c *Config) { c.LayerNormEpsilon = 0.01 }},
		{"activation_function", "relu", func(c *Config) { c.ActivationFunction = "relu" }},
		{"activation_function", "gelu", func(c *Config) { c.ActivationFunction = "gelu" }},
		{"add_cross_attention", true, func(c *Config) { c.AddCrossAttention = true }},
	}
	for _, c := range implemented {
		want := base
		c.want(&want)
		got, err := readConfigWith(t, map[string]any{c.field: c.value})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s=%v: read %+v, %v; want %+v", c.field, c.value, got, err, want)
		}
	}

	// Fields that change nothing at inference in float32 (dropout, initialization, the
	// double-heads model's summary head, caching, the legacy n_ctx, the upcast of mixed
	// precision) load as the same config.
	for field, value := range map[string]any{
		"resid_pdrop": 0.5, "embd_pdrop": 0.5, "attn_pdrop": 0.5, "initializer_range": 1.0,
		"summary_type": "mean", "summary_use_proj": false, "summary_activation": "tanh",
		"summary_proj_to_labels": false, "summary_first_dropout": 0.9, "use_cache": false,
		"n_ctx": 8, "reorder_and_upcast_attn": true, "tie_word_embeddings": true, "pruned_heads": map[string]any{},
		"torch_dtype": "float16", "transformers_version": "4.40.0", "_name_or_path": "x", "task_specific_params": map[string]any{"text-generation": map[string]any{"do_sample": true}},
	} {
		got, err := readConfigWith(t, map[string]any{field: value})
		want := base
		if field == "n_ctx" {
			want.NCtx = 8
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s=%v: read %+v, %v; want the config unchanged", field, value, got, err)
		}
	}

	// Fields with which Hugging Face computes something else are refused by name.
	for _, c := range []struct {
		change map[string]any
		want   []string
	}{
		{map[string]any{"activation_function": "mish"}, []string{`activation_function "mish" is not supported`, "gelu_new", "quick_gelu"}},
		{map[string]any{"n_inner": -4}, []string{"n_inner=-4"}},
		{map[string]any{"tie_word_embeddings": false}, []string{"tie_word_embeddings=false", "lm_head.weight"}},
		{map[string]any{"pruned_heads": map[string]any{"0": []int{1}}}, []string{"pruned_heads", "every attention head"}},
		{map[string]any{"model_type": "gpt_neo"}, []string{`model_type "gpt_neo"`}},
		{map[string]any{"scale_attn_weights": "no"}, []string{"parsing", ConfigFile}},
	} {
		_, err := readConfigWith(t, c.change)
		wantErr(t, err, c.want...)
	}
}

// The fields that change the arithmetic survive Write and ReadConfig, and n_inner sets the
// MLP's shapes and the parameter count.
func TestConfigFieldsRoundTrip(t *testing.T) {
	f := false
	cfg := smallConfig()
	cfg.NInner, cfg.ScaleAttnWeights, cfg.ScaleAttnByInverseLayerIdx, cfg.ActivationFunction = 12, &f, true, "quick_gelu"
	shapes := ExpectedShapes(cfg)
	if got := shapes["h.1.mlp.c_fc.weight"]; !reflect.DeepEqual(got, []int{8, 12}) {
		t.Errorf("c_fc shape %v with n_inner=12", got)
	}
	var n int64
	for _, s := range shapes {
		k := int64(1)
		for _, d := range s {
			k *= int64(d)
		}
		n += k
	}
	if got, _ := cfg.ParamCount(); got != n {
		t.Errorf("ParamCount %d, the shapes hold %d", got, n)
	}
	dir := t.TempDir()
	tensors := RandomTensors(cfg, 3)
	if err := Write(dir, cfg, tensors); err != nil {
		t.Fatal(err)
	}
	got, w, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("read back %+v, want %+v", got, cfg)
	}
	sameTensors(t, w, tensors)
	if cfg.AttnScale(0) != 1 || cfg.AttnScale(3) != 0.25 {
		t.Errorf("AttnScale without 1/√d, by inverse layer: %v, %v", cfg.AttnScale(0), cfg.AttnScale(3))
	}
	if c := smallConfig(); c.AttnScale(5) != 0.5 || c.Inner() != 32 {
		t.Errorf("GPT-2's AttnScale %v (head_dim 4), Inner %d", c.AttnScale(5), c.Inner())
	}
}

// With add_cross_attention, the cross-attention weights of every block are skipped.
func TestCrossAttentionWeightsSkipped(t *testing.T) {
	cfg := smallConfig()
	cfg.AddCrossAttention = true
	tensors := RandomTensors(cfg, 5)
	entries := rawFromTensors(tensors, "transformer.")
	d := cfg.NEmbd
	for _, extra := range []string{"h.0.crossattention.c_attn.weight", "h.1.crossattention.q_attn.weight", "h.1.ln_cross_attn.weight"} {
		entries = append(entries, rawTensor{"transformer." + extra, "F32", []int{d, d}, f32Bytes(make([]float32, d*d))})
	}
	dir := t.TempDir()
	writeRaw(t, filepath.Join(dir, WeightsFile), entries)
	got, err := Read(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, tensors)
	cfg.AddCrossAttention = false
	_, err = Read(dir, cfg)
	wantErr(t, err, "crossattention")
}
