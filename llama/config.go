package llama

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Families are the config.json model_type values this package loads.
var Families = []string{"llama", "mistral", "qwen2", "qwen3", "gemma2", "gemma3_text"}

// Config is what the forward pass needs of a Hugging Face config.json (LlamaConfig,
// MistralConfig, Qwen2Config, Qwen3Config), with the family's defaults filled in.
type Config struct {
	ModelType             string // llama, mistral, qwen2 or qwen3
	Architectures         []string
	VocabSize             int
	HiddenSize            int // d_model
	IntermediateSize      int // the MLP's width
	NumHiddenLayers       int
	NumAttentionHeads     int
	NumKeyValueHeads      int // < NumAttentionHeads for grouped-query attention
	HeadDim               int // explicit in config.json, else HiddenSize / NumAttentionHeads
	MaxPositionEmbeddings int
	RMSNormEps            float64
	RopeTheta             float64
	RopeScaling           *RopeScaling // nil: plain RoPE
	TieWordEmbeddings     bool         // the LM head is embed_tokens (no lm_head.weight)
	AttentionBias         bool         // llama: q, k, v and o biases; qwen3: the same
	MLPBias               bool         // llama: gate, up and down biases
	SlidingWindow         int          // attention window in keys (the token itself included); 0 = none
	BosTokenID            []int        // as config.json says; none when null
	EosTokenID            []int
	HiddenAct             string // silu, the only one implemented
	// TorchDType is the dtype the weights were saved in (torch_dtype, or dtype in
	// transformers v5), e.g. "bfloat16"; computation is float32 whatever it says.
	TorchDType string
	// Gemma holds the Gemma 2 / Gemma 3 switches (gemma.go); nil for the other families.
	Gemma *GemmaConfig
}

// RopeScaling is config.json's rope_scaling (or rope_parameters) for the types implemented.
type RopeScaling struct {
	Type string // "linear" or "llama3"
	// Factor divides the frequencies (linear: all; llama3: the low ones).
	Factor float64
	// Llama 3 only: the wavelength bands (see ropeInvFreq).
	LowFreqFactor, HighFreqFactor float64
	OriginalMaxPositionEmbeddings int
}

// QKVBias reports whether q_proj, k_proj and v_proj have biases.
func (c Config) QKVBias() bool { return c.ModelType == "qwen2" || c.AttentionBias }

// OBias reports whether o_proj has a bias (Qwen2's has none even though its q, k, v do).
func (c Config) OBias() bool { return c.ModelType != "qwen2" && c.AttentionBias }

// QKNorm reports whether queries and keys pass a per-head RMSNorm before RoPE (Qwen3).
func (c Config) QKNorm() bool { return c.ModelType == "qwen3" || c.ModelType == "gemma3_text" }

// Groups is the number of query heads sharing one key/value head.
func (c Config) Groups() int { return c.NumAttentionHeads / c.NumKeyValueHeads }

// harmless are config.json fields that do not change the forward pass's arithmetic in
// inference: training settings, generation defaults, bookkeeping.
var harmless = map[string]bool{
	"_name_or_path": true, "architectures": true, "model_type": true, "transformers_version": true,
	"initializer_range": true, "use_cache": true,
	"attention_dropout": true, "hidden_dropout": true, "pad_token_id": true, "bos_token_id": true,
	"eos_token_id": true, "pretraining_tp": true, "is_llama_config": true, "tokenizer_class": true,
	"id2label": true, "label2id": true, "return_dict": true, "output_hidden_states": true,
	"output_attentions": true, "torchscript": true, "use_bfloat16": true, "is_decoder": true,
	"is_encoder_decoder": true, "add_cross_attention": true, "tie_encoder_decoder": true,
	"problem_type": true, "task_specific_params": true, "max_length": true, "min_length": true,
	"do_sample": true, "temperature": true, "top_k": true, "top_p": true, "num_beams": true,
	"repetition_penalty": true, "chunk_size_feed_forward": true, "pruned_heads": true,
	"prefix": true, "finetuning_task": true, "cross_attention_hidden_size": true,
	"decoder_start_token_id": true, "sep_token_id": true, "num_labels": true,
	"max_window_layers":   true, // only read when use_sliding_window is set (refused)
	"max_sequence_length": true, // early Llama configs; Hugging Face ignores it
}

// ParseConfig reads a config.json. Fields that change the arithmetic and are not implemented
// (another model_type, a rope_scaling type other than linear or llama3, Qwen's
// use_sliding_window, quantization, ...) are refused by name; unknown fields are refused too,
// since the forward pass cannot know whether they matter.
func ParseConfig(data []byte) (Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, fmt.Errorf("llama: config.json is not a JSON object: %w", err)
	}
	var c Config
	r := &configReader{raw: raw}
	refuse, get := r.refuse, r.get
	get("model_type", &c.ModelType)
	switch c.ModelType {
	case "llama", "mistral", "qwen2", "qwen3":
	case "gemma2", "gemma3_text":
		return parseGemmaConfig(raw, c.ModelType)
	case "gemma", "gemma3":
		return c, gemmaUnsupported(c.ModelType)
	case "":
		return c, fmt.Errorf("llama: config.json has no model_type: this package loads %s", strings.Join(Families, ", "))
	default:
		return c, fmt.Errorf("llama: model_type %q is not one this package loads (%s)", c.ModelType, strings.Join(Families, ", "))
	}
	get("architectures", &c.Architectures)
	if !get("dtype", &c.TorchDType) {
		get("torch_dtype", &c.TorchDType)
	}

	// Defaults of the Hugging Face config classes.
	c.HiddenAct = "silu"
	c.RMSNormEps = 1e-6
	c.RopeTheta = 10000
	c.TieWordEmbeddings = false
	switch c.ModelType {
	case "llama":
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads = 32000, 4096, 11008, 32, 32
		c.MaxPositionEmbeddings = 2048
	case "mistral":
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads = 32000, 4096, 14336, 32, 32
		c.NumKeyValueHeads, c.MaxPositionEmbeddings, c.SlidingWindow = 8, 4096*32, 4096
	case "qwen2":
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads = 151936, 4096, 22016, 32, 32
		c.NumKeyValueHeads, c.MaxPositionEmbeddings = 32, 32768
	case "qwen3":
		c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads = 151936, 4096, 22016, 32, 32
		c.NumKeyValueHeads, c.MaxPositionEmbeddings, c.HeadDim = 32, 32768, 128
	}
	get("vocab_size", &c.VocabSize)
	get("hidden_size", &c.HiddenSize)
	get("intermediate_size", &c.IntermediateSize)
	get("num_hidden_layers", &c.NumHiddenLayers)
	get("num_attention_heads", &c.NumAttentionHeads)
	if !get("num_key_value_heads", &c.NumKeyValueHeads) && (c.ModelType == "llama" || c.NumKeyValueHeads == 0) {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	if !get("head_dim", &c.HeadDim) && c.ModelType != "qwen3" {
		c.HeadDim = 0
	}
	if c.HeadDim == 0 && c.NumAttentionHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	get("max_position_embeddings", &c.MaxPositionEmbeddings)
	get("rms_norm_eps", &c.RMSNormEps)
	get("tie_word_embeddings", &c.TieWordEmbeddings)
	get("hidden_act", &c.HiddenAct)
	if c.HiddenAct != "silu" {
		refuse("hidden_act %q: only silu is implemented", c.HiddenAct)
	}
	get("attention_bias", &c.AttentionBias)
	if c.AttentionBias && c.ModelType != "llama" && c.ModelType != "qwen3" {
		refuse("attention_bias: %s has no such setting in Hugging Face's code", c.ModelType)
	}
	get("mlp_bias", &c.MLPBias)
	if c.MLPBias && c.ModelType != "llama" {
		refuse("mlp_bias: %s has no such setting in Hugging Face's code", c.ModelType)
	}
	c.BosTokenID = tokenIDs(raw["bos_token_id"], "bos_token_id", refuse)
	c.EosTokenID = tokenIDs(raw["eos_token_id"], "eos_token_id", refuse)

	// Sliding windows: Mistral slides every layer when sliding_window is set; Qwen only with
	// use_sliding_window, which is not implemented.
	var window *int
	if msg, ok := raw["sliding_window"]; ok {
		if string(msg) == "null" {
			window = new(int)
		} else {
			window = new(int)
			if err := json.Unmarshal(msg, window); err != nil {
				refuse("sliding_window: %v", err)
			}
		}
	}
	switch c.ModelType {
	case "mistral":
		if window != nil {
			c.SlidingWindow = *window
		}
	case "qwen2", "qwen3":
		c.SlidingWindow = 0 // sliding_window is read only with use_sliding_window
		var use bool
		if get("use_sliding_window", &use) && use {
			refuse("use_sliding_window: true: Qwen's sliding-window layers are not implemented")
		}
	default:
		if window != nil && *window != 0 {
			refuse("sliding_window: %s has no sliding window in Hugging Face's code", c.ModelType)
		}
	}
	if msg, ok := raw["layer_types"]; ok && string(msg) != "null" {
		var types []string
		if err := json.Unmarshal(msg, &types); err != nil {
			refuse("layer_types: %v", err)
		}
		for i, t := range types {
			switch {
			case t == "full_attention" && c.SlidingWindow == 0:
			case t == "sliding_attention" && c.SlidingWindow > 0:
			default:
				refuse("layer_types[%d] = %q: only every layer alike (full_attention, or sliding_attention where sliding_window is set) is implemented", i, t)
			}
			if len(r.errs) > 0 {
				break
			}
		}
	}

	// RoPE: rope_theta and rope_scaling (transformers v4), or rope_parameters (v5).
	get("rope_theta", &c.RopeTheta)
	for _, key := range []string{"rope_scaling", "rope_parameters"} {
		msg, ok := raw[key]
		if !ok || string(msg) == "null" {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(msg, &p); err != nil {
			refuse("%s: %v", key, err)
			continue
		}
		if err := c.parseRope(key, p); err != nil {
			refuse("%v", err)
		}
	}
	var interleaved bool
	if get("rope_interleaved", &interleaved) && interleaved {
		refuse("rope_interleaved: true: only Hugging Face's rotate_half layout is implemented")
	}
	var mrope bool
	if get("use_mrope", &mrope) && mrope {
		refuse("use_mrope: true: multimodal RoPE is not implemented")
	}

	if err := r.finish(c.ModelType, map[string]bool{
		"vocab_size": true, "hidden_size": true, "intermediate_size": true, "num_hidden_layers": true,
		"num_attention_heads": true, "num_key_value_heads": true, "head_dim": true,
		"max_position_embeddings": true, "rms_norm_eps": true, "tie_word_embeddings": true,
		"hidden_act": true, "attention_bias": true, "mlp_bias": true, "sliding_window": true,
		"use_sliding_window": true, "layer_types": true, "rope_theta": true, "rope_scaling": true,
		"rope_parameters": true, "rope_interleaved": true, "use_mrope": true, "torch_dtype": true, "dtype": true,
	}); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// configReader reads the fields of a config.json object, collecting every refusal so that the
// error names them all.
type configReader struct {
	raw  map[string]json.RawMessage
	errs []string
}

// refuse records why the config is refused.
func (r *configReader) refuse(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// get unmarshals field key into dst and reports whether it was there (and not null); a value
// that does not unmarshal is refused.
func (r *configReader) get(key string, dst any) bool {
	msg, ok := r.raw[key]
	if !ok || string(msg) == "null" {
		return false
	}
	if err := json.Unmarshal(msg, dst); err != nil {
		r.refuse("%s: %v", key, err)
		return false
	}
	return true
}

// finish refuses every field that is neither harmless nor in one of the known sets, and returns
// the error naming all refusals (nil when there are none).
func (r *configReader) finish(modelType string, known ...map[string]bool) error {
	var unknown []string
	for k := range r.raw {
		if !harmless[k] && !slices.ContainsFunc(known, func(m map[string]bool) bool { return m[k] }) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		r.refuse("%s: not implemented (a field this loader does not know may change the model's arithmetic)", k)
	}
	if len(r.errs) > 0 {
		return fmt.Errorf("llama: config.json (%s) is refused: %s", modelType, strings.Join(r.errs, "; "))
	}
	return nil
}

// parseRope reads rope_scaling / rope_parameters.
func (c *Config) parseRope(key string, p map[string]any) error {
	typ, _ := p["rope_type"].(string)
	if typ == "" {
		typ, _ = p["type"].(string)
	}
	num := func(k string) (float64, bool) {
		v, ok := p[k].(float64)
		return v, ok
	}
	if theta, ok := num("rope_theta"); ok {
		c.RopeTheta = theta
	}
	known := map[string]bool{"rope_type": true, "type": true, "rope_theta": true}
	var s *RopeScaling
	switch typ {
	case "", "default":
	case "linear":
		f, ok := num("factor")
		if !ok || f <= 0 {
			return fmt.Errorf("%s: linear scaling needs a positive factor", key)
		}
		s = &RopeScaling{Type: typ, Factor: f}
		known["factor"] = true
	case "llama3":
		f, ok1 := num("factor")
		lo, ok2 := num("low_freq_factor")
		hi, ok3 := num("high_freq_factor")
		orig, ok4 := num("original_max_position_embeddings")
		if !ok1 || !ok2 || !ok3 || !ok4 || f <= 0 || lo <= 0 || hi <= lo || orig <= 0 {
			return fmt.Errorf("%s: llama3 scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0 (got %v)", key, p)
		}
		s = &RopeScaling{Type: typ, Factor: f, LowFreqFactor: lo, HighFreqFactor: hi, OriginalMaxPositionEmbeddings: int(orig)}
		for _, k := range []string{"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"} {
			known[k] = true
		}
	default:
		return fmt.Errorf("%s: rope type %q is not implemented (implemented: default, linear, llama3)", key, typ)
	}
	for k := range p {
		if !known[k] {
			return fmt.Errorf("%s.%s: not implemented for rope type %q", key, k, typ)
		}
	}
	if s != nil {
		if c.RopeScaling != nil && *c.RopeScaling != *s {
			return fmt.Errorf("%s disagrees with the rope scaling given before it", key)
		}
		c.RopeScaling = s
	}
	return nil
}

// tokenIDs reads a token id field that may be null, a number or a list of numbers.
func tokenIDs(msg json.RawMessage, key string, refuse func(string, ...any)) []int {
	if len(msg) == 0 || string(msg) == "null" {
		return nil
	}
	var one int
	if json.Unmarshal(msg, &one) == nil {
		return []int{one}
	}
	var many []int
	if err := json.Unmarshal(msg, &many); err != nil {
		refuse("%s: want a token id or a list of them: %v", key, err)
	}
	return many
}

// Validate checks that the sizes make a model.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("llama: invalid config: "+format, args...)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"num_key_value_heads", c.NumKeyValueHeads}, {"head_dim", c.HeadDim}, {"max_position_embeddings", c.MaxPositionEmbeddings}} {
		if f.v <= 0 {
			return bad("%s = %d must be positive", f.name, f.v)
		}
		if f.v > 1<<24 {
			return bad("%s = %d is implausibly large", f.name, f.v)
		}
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return bad("num_attention_heads = %d is not a multiple of num_key_value_heads = %d", c.NumAttentionHeads, c.NumKeyValueHeads)
	}
	if c.HeadDim%2 != 0 {
		return bad("head_dim = %d must be even for RoPE", c.HeadDim)
	}
	if !(c.RMSNormEps > 0) || !(c.RopeTheta > 1) || math.IsInf(c.RopeTheta, 0) {
		return bad("rms_norm_eps = %g must be positive and rope_theta = %g above 1", c.RMSNormEps, c.RopeTheta)
	}
	if c.SlidingWindow < 0 {
		return bad("sliding_window = %d must not be negative", c.SlidingWindow)
	}
	if c.Gemma != nil {
		return c.validateGemma()
	}
	if c.HiddenAct != "" && c.HiddenAct != "silu" {
		return bad("hidden_act %q: only silu is implemented", c.HiddenAct)
	}
	return nil
}

// ReadConfig reads and parses dir/config.json.
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	fi, err := os.Stat(path)
	if err != nil {
		return Config{}, fmt.Errorf("llama: %w", err)
	}
	if fi.Size() > 1<<20 {
		return Config{}, fmt.Errorf("llama: %s has %d bytes: not a config.json", path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("llama: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return c, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}
