package llama

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/dtypes/float16"
)

// Gemma 2 (model_type gemma2) and Gemma 3 text (gemma3_text) are the same model as the Llama
// family with more switches, all read from config.json here (see the package documentation,
// "Gemma").

// Layer types of Gemma's layer_types.
const (
	SlidingAttention = "sliding_attention"
	FullAttention    = "full_attention"
)

// GemmaConfig holds the switches of Gemma 2 and Gemma 3 beyond the Llama family's Config.
type GemmaConfig struct {
	// QueryPreAttnScalar sets the attention scale to QueryPreAttnScalar^-0.5 (not head_dim^-0.5).
	QueryPreAttnScalar float64
	// AttnLogitSoftcapping > 0 caps attention scores as cap·tanh(s/cap), after scaling and
	// before the mask (Gemma 2; Gemma 3's attention ignores it). 0: none.
	AttnLogitSoftcapping float64
	// FinalLogitSoftcapping > 0 caps the logits as cap·tanh(z/cap). 0: none.
	FinalLogitSoftcapping float64
	// LayerTypes says for every layer whether it is SlidingAttention (its window is
	// Config.SlidingWindow) or FullAttention.
	LayerTypes []string
	// RopeLocalBaseFreq is Gemma 3's RoPE base of sliding layers, never scaled; global layers
	// use Config.RopeTheta and Config.RopeScaling. 0 (Gemma 2): every layer uses RopeTheta.
	RopeLocalBaseFreq float64
}

// gemmaHarmless are Gemma config fields that do not change inference arithmetic.
var gemmaHarmless = map[string]bool{
	"cache_implementation": true, "final_logit_softcapping": true, "attn_logit_softcapping": true,
	"query_pre_attn_scalar": true, "sliding_window_pattern": true, "_sliding_window_pattern": true,
	"rope_local_base_freq": true, "hidden_activation": true, "hidden_act": true,
	"use_bidirectional_attention": true, "layer_types": true, "sliding_window": true,
}

// parseGemmaConfig is ParseConfig for model_type gemma2 and gemma3_text, with the defaults of
// Gemma2Config and Gemma3TextConfig.
func parseGemmaConfig(raw map[string]json.RawMessage, typ string) (Config, error) {
	c := Config{ModelType: typ, Gemma: &GemmaConfig{}}
	g := c.Gemma
	r := &configReader{raw: raw}
	refuse, get := r.refuse, r.get
	get("architectures", &c.Architectures)
	if !get("dtype", &c.TorchDType) {
		get("torch_dtype", &c.TorchDType)
	}
	// Gemma2Config and Gemma3TextConfig defaults (gemma-2-2b's sizes for both).
	c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers = 256000, 2304, 9216, 26
	c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim = 8, 4, 256
	c.MaxPositionEmbeddings, c.RMSNormEps, c.RopeTheta = 8192, 1e-6, 10000
	c.TieWordEmbeddings, c.SlidingWindow = true, 4096
	c.HiddenAct = "gelu_pytorch_tanh"
	g.QueryPreAttnScalar = 256
	if typ == "gemma2" {
		g.FinalLogitSoftcapping, g.AttnLogitSoftcapping = 30, 50
	} else {
		c.VocabSize, c.MaxPositionEmbeddings, c.RopeTheta = 262208, 131072, 1e6
		g.RopeLocalBaseFreq = 10000
	}
	get("vocab_size", &c.VocabSize)
	get("hidden_size", &c.HiddenSize)
	get("intermediate_size", &c.IntermediateSize)
	get("num_hidden_layers", &c.NumHiddenLayers)
	get("num_attention_heads", &c.NumAttentionHeads)
	get("num_key_value_heads", &c.NumKeyValueHeads)
	get("head_dim", &c.HeadDim)
	get("max_position_embeddings", &c.MaxPositionEmbeddings)
	get("rms_norm_eps", &c.RMSNormEps)
	get("tie_word_embeddings", &c.TieWordEmbeddings)
	get("attention_bias", &c.AttentionBias)
	get("query_pre_attn_scalar", &g.QueryPreAttnScalar)
	// A null soft-cap switches it off; an absent one keeps the default.
	for key, dst := range map[string]*float64{"final_logit_softcapping": &g.FinalLogitSoftcapping, "attn_logit_softcapping": &g.AttnLogitSoftcapping} {
		if _, ok := raw[key]; ok {
			*dst = 0
			get(key, dst)
		}
	}
	if typ == "gemma3_text" {
		g.AttnLogitSoftcapping = 0 // Gemma3Attention does not pass it to the attention function
	}
	if msg, ok := raw["sliding_window"]; ok && string(msg) == "null" {
		c.SlidingWindow = 0
	}
	get("sliding_window", &c.SlidingWindow)
	// hidden_activation is what Gemma's MLP reads; Gemma 2/3 ignore hidden_act.
	get("hidden_activation", &c.HiddenAct)
	if c.HiddenAct != "gelu_pytorch_tanh" {
		refuse("hidden_activation %q: only gelu_pytorch_tanh is implemented", c.HiddenAct)
	}
	var bidirectional bool
	if get("use_bidirectional_attention", &bidirectional) && bidirectional {
		refuse("use_bidirectional_attention: true: only causal attention is implemented")
	}
	c.BosTokenID = tokenIDs(raw["bos_token_id"], "bos_token_id", refuse)
	c.EosTokenID = tokenIDs(raw["eos_token_id"], "eos_token_id", refuse)
	if _, ok := raw["bos_token_id"]; !ok {
		c.BosTokenID = []int{2}
	}
	if _, ok := raw["eos_token_id"]; !ok {
		c.EosTokenID = []int{1}
	}

	// Layer types: layer_types where given, else Gemma 2's alternation (layer 0 slides) or
	// Gemma 3's pattern (layer i is global when (i + 1) % sliding_window_pattern == 0).
	if !get("layer_types", &g.LayerTypes) {
		pattern := 6
		if !get("sliding_window_pattern", &pattern) {
			get("_sliding_window_pattern", &pattern)
		}
		if pattern <= 0 {
			refuse("sliding_window_pattern = %d must be positive", pattern)
			pattern = 1
		}
		for i := range max(c.NumHiddenLayers, 0) {
			slides := i%2 == 0
			if typ == "gemma3_text" {
				slides = (i+1)%pattern != 0
			}
			g.LayerTypes = append(g.LayerTypes, map[bool]string{true: SlidingAttention, false: FullAttention}[slides])
		}
	}

	// RoPE. Gemma 2: rope_theta for every layer. Gemma 3: rope_theta and rope_scaling for global
	// layers, rope_local_base_freq unscaled for sliding ones; transformers v5 writes both as
	// rope_parameters keyed by layer type.
	get("rope_theta", &c.RopeTheta)
	if typ == "gemma3_text" {
		get("rope_local_base_freq", &g.RopeLocalBaseFreq)
	}
	if msg, ok := raw["rope_scaling"]; ok && string(msg) != "null" {
		var p map[string]any
		if err := json.Unmarshal(msg, &p); err != nil {
			refuse("rope_scaling: %v", err)
		} else if typ == "gemma2" {
			refuse("rope_scaling: Gemma2 has no RoPE scaling in Hugging Face's code")
		} else if err := c.parseRope("rope_scaling", p); err != nil {
			refuse("%v", err)
		}
	}
	if msg, ok := raw["rope_parameters"]; ok && string(msg) != "null" {
		var p map[string]any
		if err := json.Unmarshal(msg, &p); err != nil {
			refuse("rope_parameters: %v", err)
		} else if _, perType := p[FullAttention]; perType || p[SlidingAttention] != nil {
			for k, v := range p {
				sub, _ := v.(map[string]any)
				switch {
				case sub == nil:
					refuse("rope_parameters.%s: want an object", k)
				case k == FullAttention:
					if err := c.parseRope("rope_parameters."+k, sub); err != nil {
						refuse("%v", err)
					}
				case k == SlidingAttention:
					local := Config{RopeTheta: g.RopeLocalBaseFreq}
					if err := local.parseRope("rope_parameters."+k, sub); err != nil {
						refuse("%v", err)
					} else if local.RopeScaling != nil {
						refuse("rope_parameters.%s: scaled RoPE on sliding layers is not implemented", k)
					}
					g.RopeLocalBaseFreq = local.RopeTheta
				default:
					refuse("rope_parameters.%s: not a layer type", k)
				}
			}
		} else if err := c.parseRope("rope_parameters", p); err != nil {
			refuse("%v", err)
		} else if typ == "gemma2" && c.RopeScaling != nil {
			refuse("rope_parameters: Gemma2 has no RoPE scaling in Hugging Face's code")
		}
	}
	if typ == "gemma2" {
		g.RopeLocalBaseFreq = 0
	}

	if err := r.finish(typ, gemmaHarmless, map[string]bool{
		"vocab_size": true, "hidden_size": true, "intermediate_size": true, "num_hidden_layers": true,
		"num_attention_heads": true, "num_key_value_heads": true, "head_dim": true,
		"max_position_embeddings": true, "rms_norm_eps": true, "tie_word_embeddings": true,
		"attention_bias": true, "rope_theta": true, "rope_scaling": true, "rope_parameters": true,
		"torch_dtype": true, "dtype": true,
	}); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// gemmaUnsupported explains the Gemma model types that are not loaded.
func gemmaUnsupported(typ string) error {
	if typ == "gemma3" {
		return fmt.Errorf("llama: model_type gemma3 is the multimodal Gemma 3 (Gemma3ForConditionalGeneration, a text_config inside): only text checkpoints (model_type gemma3_text, e.g. google/gemma-3-270m or google/gemma-3-1b-pt) are loaded")
	}
	return fmt.Errorf("llama: model_type gemma (the first Gemma) is not implemented: Gemma 2 (gemma2) and Gemma 3 text (gemma3_text) are")
}

// validateGemma is Validate's part for Gemma configs.
func (c Config) validateGemma() error {
	g := c.Gemma
	bad := func(format string, args ...any) error {
		return fmt.Errorf("llama: invalid %s config: "+format, append([]any{c.ModelType}, args...)...)
	}
	if c.ModelType != "gemma2" && c.ModelType != "gemma3_text" {
		return bad("Gemma switches on model_type %q", c.ModelType)
	}
	if c.HiddenAct != "gelu_pytorch_tanh" {
		return bad("hidden_activation %q: only gelu_pytorch_tanh is implemented", c.HiddenAct)
	}
	if c.MLPBias {
		return bad("mlp_bias: Gemma has no MLP biases")
	}
	if !(g.QueryPreAttnScalar > 0) || math.IsInf(g.QueryPreAttnScalar, 0) {
		return bad("query_pre_attn_scalar = %g must be positive", g.QueryPreAttnScalar)
	}
	if g.AttnLogitSoftcapping < 0 || g.FinalLogitSoftcapping < 0 {
		return bad("soft-caps must not be negative (0 switches them off)")
	}
	if c.ModelType == "gemma3_text" && g.AttnLogitSoftcapping != 0 {
		return bad("Gemma 3 does not soft-cap attention scores")
	}
	if len(g.LayerTypes) != c.NumHiddenLayers {
		return bad("layer_types has %d entries for %d layers", len(g.LayerTypes), c.NumHiddenLayers)
	}
	for i, t := range g.LayerTypes {
		if t != SlidingAttention && t != FullAttention {
			return bad("layer_types[%d] = %q: want %s or %s", i, t, SlidingAttention, FullAttention)
		}
	}
	if c.ModelType == "gemma3_text" && !(g.RopeLocalBaseFreq > 1) {
		return bad("rope_local_base_freq = %g must be above 1", g.RopeLocalBaseFreq)
	}
	if c.ModelType == "gemma2" && (g.RopeLocalBaseFreq != 0 || c.RopeScaling != nil) {
		return bad("Gemma 2 has one unscaled RoPE base")
	}
	return nil
}

// SlidingWindowAt is the attention window of layer l in keys (the token itself included), 0
// for full attention: Config.SlidingWindow on every layer for Mistral, on Gemma's
// sliding_attention layers only.
func (c Config) SlidingWindowAt(l int) int {
	if c.Gemma != nil && c.Gemma.LayerTypes[l] != SlidingAttention {
		return 0
	}
	return c.SlidingWindow
}

// ropeConfigAt is the config whose RoPE settings layer l uses: Gemma 3's sliding layers use
// rope_local_base_freq, unscaled.
func (c Config) ropeConfigAt(l int) Config {
	if c.Gemma != nil && c.Gemma.RopeLocalBaseFreq > 0 && c.Gemma.LayerTypes[l] == SlidingAttention {
		c.RopeTheta, c.RopeScaling = c.Gemma.RopeLocalBaseFreq, nil
	}
	return c
}

// attnScale multiplies the attention scores: head_dim^-0.5, or query_pre_attn_scalar^-0.5.
func (c Config) attnScale() float64 {
	if c.Gemma != nil {
		return 1 / math.Sqrt(c.Gemma.QueryPreAttnScalar)
	}
	return 1 / math.Sqrt(float64(c.HeadDim))
}

// attnSoftcap and logitSoftcap are the soft-caps (0: none).
func (c Config) attnSoftcap() float64 {
	if c.Gemma != nil {
		return c.Gemma.AttnLogitSoftcapping
	}
	return 0
}

func (c Config) logitSoftcap() float64 {
	if c.Gemma != nil {
		return c.Gemma.FinalLogitSoftcapping
	}
	return 0
}

// EmbedScale multiplies the token embeddings: 1, or Gemma's √hidden_size rounded to the dtype
// the checkpoint was saved in (torch_dtype), as Hugging Face rounds it to the dtype the model
// runs in (in bfloat16, √2304 = 48 and √3584 → 59.75). Hugging Face's Gemma 2 rounds √d from
// float64, Gemma 3 from float32; rounding through float32 gives the same value for every
// width d < 70000 in both half-precision dtypes.
func (c Config) EmbedScale() float32 {
	if c.Gemma == nil {
		return 1
	}
	s := math.Sqrt(float64(c.HiddenSize))
	switch c.TorchDType {
	case "bfloat16":
		return bfloat16.FromFloat64(s).Float32()
	case "float16":
		return float16.FromFloat32(float32(s)).Float32()
	}
	return float32(s)
}

// Extra graph inputs of Gemma's blocks: the norms on the attention and MLP outputs.
const (
	kAttnOutNorm = "attn_out_norm" // post_attention_layernorm [d]
	kMLPOutNorm  = "mlp_out_norm"  // post_feedforward_layernorm [d]
)

// normWeight is the factor an RMSNorm multiplies by: w, or Gemma's 1 + w (a new slice),
// computed in float32 as Hugging Face computes it.
func normWeight(c Config, w []float32) []float32 {
	if c.Gemma == nil {
		return w
	}
	out := make([]float32, len(w))
	for i, v := range w {
		out[i] = 1 + v
	}
	return out
}

// preMLPNorm is the checkpoint name of the RMSNorm before the MLP: Llama's
// post_attention_layernorm, Gemma's pre_feedforward_layernorm (Gemma's
// post_attention_layernorm normalizes the attention output).
func preMLPNorm(c Config) string {
	if c.Gemma != nil {
		return "pre_feedforward_layernorm.weight"
	}
	return "post_attention_layernorm.weight"
}

// addGemmaShapes adds Gemma's extra block norms to a weight table.
func addGemmaShapes(out map[string][]int, c Config) {
	if c.Gemma == nil {
		return
	}
	for l := range c.NumHiddenLayers {
		p := layerPrefix(l)
		out[p+"pre_feedforward_layernorm.weight"] = []int{c.HiddenSize}
		out[p+"post_feedforward_layernorm.weight"] = []int{c.HiddenSize}
	}
}

// gemmaConfigJSON renders cfg as Gemma2Config or Gemma3TextConfig (transformers 4.56) saves it.
func gemmaConfigJSON(cfg Config, torchDType string) ([]byte, error) {
	g := cfg.Gemma
	capOrNil := func(v float64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	m := map[string]any{
		"architectures":           cfg.Architectures,
		"attention_bias":          cfg.AttentionBias,
		"attention_dropout":       0.0,
		"attn_logit_softcapping":  capOrNil(g.AttnLogitSoftcapping),
		"bos_token_id":            tokenIDsJSON(cfg.BosTokenID),
		"cache_implementation":    "hybrid",
		"eos_token_id":            tokenIDsJSON(cfg.EosTokenID),
		"final_logit_softcapping": capOrNil(g.FinalLogitSoftcapping),
		"head_dim":                cfg.HeadDim,
		"hidden_activation":       cfg.HiddenAct,
		"hidden_size":             cfg.HiddenSize,
		"initializer_range":       0.02,
		"intermediate_size":       cfg.IntermediateSize,
		"layer_types":             g.LayerTypes,
		"max_position_embeddings": cfg.MaxPositionEmbeddings,
		"model_type":              cfg.ModelType,
		"num_attention_heads":     cfg.NumAttentionHeads,
		"num_hidden_layers":       cfg.NumHiddenLayers,
		"num_key_value_heads":     cfg.NumKeyValueHeads,
		"pad_token_id":            0,
		"query_pre_attn_scalar":   g.QueryPreAttnScalar,
		"rms_norm_eps":            cfg.RMSNormEps,
		"rope_theta":              cfg.RopeTheta,
		"sliding_window":          cfg.SlidingWindow,
		"tie_word_embeddings":     cfg.TieWordEmbeddings,
		"torch_dtype":             torchDType,
		"transformers_version":    "4.56.2",
		"use_cache":               true,
		"vocab_size":              cfg.VocabSize,
	}
	if len(cfg.Architectures) == 0 {
		m["architectures"] = []string{map[string]string{"gemma2": "Gemma2ForCausalLM", "gemma3_text": "Gemma3ForCausalLM"}[cfg.ModelType]}
	}
	if cfg.ModelType == "gemma3_text" {
		m["rope_local_base_freq"] = g.RopeLocalBaseFreq
		m["rope_scaling"] = nil
		m["use_bidirectional_attention"] = false
		// Gemma3TextConfig saves the pattern it derives layer_types from (6 unless all alike).
		m["_sliding_window_pattern"] = 6
		if s := cfg.RopeScaling; s != nil {
			m["rope_scaling"] = s.json()
		}
	} else if cfg.RopeScaling != nil {
		return nil, fmt.Errorf("llama: Gemma 2 has no RoPE scaling")
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("llama: %w", err)
	}
	return append(out, '\n'), nil
}
