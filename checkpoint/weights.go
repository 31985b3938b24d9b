package checkpoint

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Weight is one tensor of a GPT-2 checkpoint: its HF name (without any "transformer." prefix)
// and shape (Conv1D weights are [in, out]).
type Weight struct {
	Name  string
	Shape []int
}

// Top-level weights, in WeightTable's order.
const (
	WeightTokenEmbed = "wte.weight"
	WeightPosEmbed   = "wpe.weight"
	WeightLnFGain    = "ln_f.weight"
	WeightLnFBias    = "ln_f.bias"
)

// topWeights is the number of weights before the blocks' in WeightTable.
const topWeights = 4

// blockWeights are the suffixes of one block's weights (after "h.{l}."), in WeightTable's order.
var blockWeights = []string{
	"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
	"ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
}

// BlockWeightCount is the number of weights of one block in WeightTable.
const BlockWeightCount = 12

// WeightTable lists every tensor of a GPT-2 checkpoint of config c, in a fixed order: wte, wpe,
// ln_f's gain and bias, then for each block l the twelve weights of "h.{l}.": ln_1 gain and
// bias, attn.c_attn weight [d, 3d] and bias, attn.c_proj weight [d, d] and bias, ln_2 gain and
// bias, mlp.c_fc weight [d, 4d] and bias, mlp.c_proj weight [4d, d] and bias. It is the one table
// of GPT-2's weights: the model (package gpt2), the reader and writer here and the test
// reference all take names, shapes and order from it.
func WeightTable(c Config) []Weight {
	d := c.NEmbd
	out := []Weight{
		{WeightTokenEmbed, []int{c.VocabSize, d}},
		{WeightPosEmbed, []int{c.NPositions, d}},
		{WeightLnFGain, []int{d}},
		{WeightLnFBias, []int{d}},
	}
	inner := c.Inner() // n_inner, 4·n_embd by default
	shapes := [BlockWeightCount][]int{{d}, {d}, {d, 3 * d}, {3 * d}, {d, d}, {d}, {d}, {d}, {d, inner}, {inner}, {inner, d}, {d}}
	for l := range c.NLayer {
		p := "h." + strconv.Itoa(l) + "."
		for i, s := range blockWeights {
			out = append(out, Weight{p + s, shapes[i]})
		}
	}
	return out
}

// WeightFiles returns the safetensors files of the checkpoint in dir: model.safetensors, or the
// shards model.safetensors.index.json names. It is an error when there are none.
func WeightFiles(dir string) ([]string, error) { return weightFiles(dir) }

// TinyRecipe is what the tiny stand-in is made from (its config, seed and generator): a new
// recipe must not reuse a folder generated from another.
func TinyRecipe() []byte {
	cfg, _ := json.Marshal(TinyConfig())
	return fmt.Appendf(nil, "%s\x00%d\x00%s", cfg, TinySeed, generatorVersion)
}
