package llama

import (
	"fmt"
	"slices"
)

// The weight table: every tensor of a Hugging Face checkpoint of each family, by name, with its
// shape. nn.Linear weights are stored [out, in]. This is the one place the names are written.

// WeightShapes returns the name and shape of every weight a checkpoint with config c holds.
func WeightShapes(c Config) map[string][]int {
	d, v, f := c.HiddenSize, c.VocabSize, c.IntermediateSize
	q, kv := c.NumAttentionHeads*c.HeadDim, c.NumKeyValueHeads*c.HeadDim
	out := map[string][]int{
		"model.embed_tokens.weight": {v, d},
		"model.norm.weight":         {d},
	}
	if !c.TieWordEmbeddings {
		out["lm_head.weight"] = []int{v, d}
	}
	for l := range c.NumHiddenLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		out[p+"input_layernorm.weight"] = []int{d}
		out[p+"post_attention_layernorm.weight"] = []int{d}
		out[p+"self_attn.q_proj.weight"] = []int{q, d}
		out[p+"self_attn.k_proj.weight"] = []int{kv, d}
		out[p+"self_attn.v_proj.weight"] = []int{kv, d}
		out[p+"self_attn.o_proj.weight"] = []int{d, q}
		if c.QKVBias() {
			out[p+"self_attn.q_proj.bias"] = []int{q}
			out[p+"self_attn.k_proj.bias"] = []int{kv}
			out[p+"self_attn.v_proj.bias"] = []int{kv}
		}
		if c.OBias() {
			out[p+"self_attn.o_proj.bias"] = []int{d}
		}
		if c.QKNorm() {
			out[p+"self_attn.q_norm.weight"] = []int{c.HeadDim}
			out[p+"self_attn.k_norm.weight"] = []int{c.HeadDim}
		}
		out[p+"mlp.gate_proj.weight"] = []int{f, d}
		out[p+"mlp.up_proj.weight"] = []int{f, d}
		out[p+"mlp.down_proj.weight"] = []int{d, f}
		if c.MLPBias {
			out[p+"mlp.gate_proj.bias"] = []int{f}
			out[p+"mlp.up_proj.bias"] = []int{f}
			out[p+"mlp.down_proj.bias"] = []int{d}
		}
	}
	addGemmaShapes(out, c)
	return out
}

// WeightNames lists WeightShapes's names, sorted.
func WeightNames(c Config) []string {
	shapes := WeightShapes(c)
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ParamCount is the number of weight values of a checkpoint with config c.
func (c Config) ParamCount() int64 {
	var n int64
	for _, s := range WeightShapes(c) {
		p := int64(1)
		for _, d := range s {
			p *= int64(d)
		}
		n += p
	}
	return n
}

// layerPrefix is the name prefix of block l's weights.
func layerPrefix(l int) string { return fmt.Sprintf("model.layers.%d.", l) }
