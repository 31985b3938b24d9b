package gpt2

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/layers/attention"
	"github.com/gomlx/gomlx/ml/nn"
)

// KVCache holds, for every block, the attention keys and values of the positions processed so
// far, each [batch, capacity, heads, head_dim]. Slots past the current position hold zeros and
// are masked out.
//
// The cache is updated with Where(position == pos, new, cache) instead of DynamicUpdateSlice,
// because GoMLX's pure-Go backend (compute v0.1.2) has no dynamic slicing.
type KVCache struct {
	Keys, Values []*Node
}

// Forward builds the model on tokens [batch, seq] (int32) at absolute positions [batch, seq]
// (int32), calling hook at every hook point, and returns the final LayerNorm's output
// [batch, seq, d_model] (Logits turns it into logits). Attention is causal; rows padded on the
// right are fine, since no real position attends to a later one.
func (w *Weights) Forward(tokens, positions *Node, hook Hook) *Node {
	return w.run(tokens, positions, hook, func(_ int, q, k, v *Node) *Node {
		out, _ := attention.Core(q, k, v, attention.LayoutBSHD, attention.CoreOptions{UseCausalMask: true})
		return out
	})
}

// Prefill is Forward for the first chunk of a generation: it also returns a cache with room for
// capacity positions, holding the keys and values of the seq processed ones at [0, seq).
func (w *Weights) Prefill(tokens, positions *Node, hook Hook, capacity int) (*Node, *KVCache) {
	cache := &KVCache{}
	seq := tokens.Shape().Dimensions[1]
	h := w.run(tokens, positions, hook, func(_ int, q, k, v *Node) *Node {
		out, _ := attention.Core(q, k, v, attention.LayoutBSHD, attention.CoreOptions{UseCausalMask: true})
		cache.Keys = append(cache.Keys, GrowRight(k, 1, capacity-seq, 0))
		cache.Values = append(cache.Values, GrowRight(v, 1, capacity-seq, 0))
		return out
	})
	return h, cache
}

// Step runs one new token per row (tokens [batch, 1], int32) at position pos (a scalar int32
// node, the same for every row), attending to cache positions [0, pos]. It returns the hidden
// state [batch, 1, d_model] and the updated cache. The hook sees one position per row.
func (w *Weights) Step(tokens, pos *Node, cache *KVCache, hook Hook) (*Node, *KVCache) {
	g := tokens.Graph()
	batch := tokens.Shape().Dimensions[0]
	capacity := cache.Keys[0].Shape().Dimensions[1]
	slot := Iota(g, shapes.Make(dtypes.Int32, 1, capacity, 1, 1), 1)
	isPos := Equal(slot, pos)                                     // [1, capacity, 1, 1]
	visible := Reshape(LessOrEqual(slot, pos), 1, 1, 1, capacity) // [1, q=1, 1, kv]
	positions := BroadcastToDims(Reshape(pos, 1, 1), batch, 1)    // [batch, 1]
	next := &KVCache{}
	h := w.run(tokens, positions, hook, func(l int, q, k, v *Node) *Node {
		full := cache.Keys[l].Shape().Dimensions
		isPosB := BroadcastToDims(isPos, full...)
		kc := Where(isPosB, BroadcastToDims(k, full...), cache.Keys[l])
		vc := Where(isPosB, BroadcastToDims(v, full...), cache.Values[l])
		next.Keys = append(next.Keys, kc)
		next.Values = append(next.Values, vc)
		out, _ := attention.Core(q, kc, vc, attention.LayoutBSHD, attention.CoreOptions{AttentionMask: visible})
		return out
	})
	return h, next
}

// Logits applies the LM head (tied to the token embedding) to hidden states [..., d_model].
func (w *Weights) Logits(hidden *Node) *Node {
	return nn.Dense(hidden, w.WTE, nil, compute.DenseLayoutOutputsInput)
}

// attendFn computes block l's attention output [batch, seq, heads, head_dim] from its queries,
// keys and values, each [batch, seq, heads, head_dim].
type attendFn func(l int, q, k, v *Node) *Node

// run is the GPT-2 forward pass; attend decides how keys and values are cached and masked.
func (w *Weights) run(tokens, positions *Node, hook Hook, attend attendFn) *Node {
	cfg := w.Config
	d, nHead := cfg.NEmbd, cfg.NHead
	batch, seq := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]

	embed := hook.at(HookEmbed, Gather(w.WTE, ExpandAxes(tokens, -1)))
	posEmbed := hook.at(HookPosEmbed, Gather(w.WPE, ExpandAxes(positions, -1)))
	x := Add(embed, posEmbed)
	for l, b := range w.Blocks {
		x = hook.at(ResidPre(l), x)

		// Attention: x += c_proj(attn(ln_1(x))).
		qkv := nn.Dense(w.layerNorm(x, b.Ln1Gain, b.Ln1Bias), b.AttnW, b.AttnB, compute.DenseLayoutInputOutputs)
		split := func(i int) *Node {
			return Reshape(SliceAxis(qkv, -1, AxisRange(i*d, (i+1)*d)), batch, seq, nHead, d/nHead)
		}
		heads := attend(l, split(0), split(1), split(2))
		attnOut := nn.Dense(Reshape(heads, batch, seq, d), b.AttnProjW, b.AttnProjB, compute.DenseLayoutInputOutputs)
		attnOut = hook.at(AttnOut(l), attnOut)
		x = hook.at(ResidMid(l), Add(x, attnOut))

		// MLP: x += c_proj(gelu_new(c_fc(ln_2(x)))).
		hidden := nn.Dense(w.layerNorm(x, b.Ln2Gain, b.Ln2Bias), b.FcW, b.FcB, compute.DenseLayoutInputOutputs)
		mlpOut := nn.Dense(geluNew(hidden), b.ProjW, b.ProjB, compute.DenseLayoutInputOutputs)
		mlpOut = hook.at(MLPOut(l), mlpOut)
		x = hook.at(ResidPost(l), Add(x, mlpOut))
	}
	return hook.at(HookLnFinal, w.layerNorm(x, w.LnFGain, w.LnFB))
}

func (w *Weights) layerNorm(x, gain, bias *Node) *Node {
	return nn.LayerNorm(x, []int{x.Rank() - 1}, w.Config.LayerNormEpsilon, gain, bias, nil)
}

// geluNew is GPT-2's "gelu_new", 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as one fused
// backend op where the backend has it (the unfused graph is about half of a forward pass's time
// on the go backend).
func geluNew(x *Node) *Node {
	out, _ := InternalFusedOpCaller(
		func() *Node { return BackendFusedGelu(x, false) },
		func() *Node { return activation.GeluApproximate(x) },
		true)
	return out
}
