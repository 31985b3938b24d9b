package gpt2

import (
	"github.com/actadd-go/actadd/lm/lmrun"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/nn"
)

// KVCache holds, for every block, the attention keys and values of the positions processed so
// far, each [batch·heads, capacity, head_dim]. Slots past the current position hold zeros and
// are masked out. (Batch and heads are merged into one axis because the go backend normalizes
// every matmul operand to rank 3 and would otherwise copy the whole cache at each step.)
//
// A step adds its keys and values into the slot of its position, zero until then, with
// ScatterSum, which every backend implements. When the cache tensors are donated to the step
// program (actadd does), the go backend updates them in place: a step writes one slot, not the
// whole cache.
type KVCache = lmrun.KVCache

// maskedOut is the additive attention mask of positions that may not be attended to: large
// enough that exp underflows to exactly 0, finite so that no NaN arises.
const maskedOut = -1e30

// Forward builds the model on tokens [batch, seq] (int32) at absolute positions [batch, seq]
// (int32), calling hook at every hook point, and returns the final LayerNorm's output
// [batch, seq, d_model] (Logits turns it into logits). Attention is causal; rows padded on the
// right are fine, since no real position attends to a later one.
func (w *Weights) Forward(tokens, positions *Node, hook Hook) *Node {
	mask := causalMask(tokens.Graph(), tokens.Shape().Dimensions[1])
	return w.run(tokens, positions, hook, func(l int, q, k, v *Node) *Node {
		return attend(q, k, v, mask, w.Config.AttnScale(l))
	})
}

// Prefill is Forward for the first chunk of a generation: it also returns a cache with room for
// capacity positions, holding the keys and values of the seq processed ones at [0, seq).
func (w *Weights) Prefill(tokens, positions *Node, hook Hook, capacity int) (*Node, *KVCache) {
	cache := &KVCache{}
	seq := tokens.Shape().Dimensions[1]
	mask := causalMask(tokens.Graph(), seq)
	h := w.run(tokens, positions, hook, func(l int, q, k, v *Node) *Node {
		cache.Keys = append(cache.Keys, GrowRight(k, 1, capacity-seq, 0))
		cache.Values = append(cache.Values, GrowRight(v, 1, capacity-seq, 0))
		return attend(q, k, v, mask, w.Config.AttnScale(l))
	})
	return h, cache
}

// Step runs one new token per row (tokens [batch, 1], int32) at position pos (a scalar int32
// node, the same for every row), attending to cache positions [0, pos]. It returns the hidden
// state [batch, 1, d_model] and the updated cache. The slot at pos must still be empty (zero).
// The hook sees one position per row.
func (w *Weights) Step(tokens, pos *Node, cache *KVCache, hook Hook) (*Node, *KVCache) {
	g := tokens.Graph()
	batch, nHead := tokens.Shape().Dimensions[0], w.Config.NHead
	capacity := cache.Keys[0].Shape().Dimensions[1]
	slot := Iota(g, shapes.Make(dtypes.Int32, 1, 1, capacity), 2)
	mask := Where(LessOrEqual(slot, pos), ZerosLike(ConvertDType(slot, dtypes.Float32)), Const(g, float32(maskedOut)))
	positions := BroadcastToDims(Reshape(pos, 1, 1), batch, 1) // [batch, 1]
	// Scatter indices (b·heads+h, pos) for every batch row and head: [batch·heads, 2].
	bh := Iota(g, shapes.Make(dtypes.Int32, batch*nHead, 1), 0)
	idx := Concatenate([]*Node{bh, BroadcastToDims(Reshape(pos, 1, 1), batch*nHead, 1)}, -1)
	next := &KVCache{}
	h := w.run(tokens, positions, hook, func(l int, q, k, v *Node) *Node {
		// k, v: [batch·heads, 1, head_dim] → updates [batch·heads, head_dim].
		kc := ScatterSum(cache.Keys[l], idx, Squeeze(k, 1), true, true)
		vc := ScatterSum(cache.Values[l], idx, Squeeze(v, 1), true, true)
		next.Keys = append(next.Keys, kc)
		next.Values = append(next.Values, vc)
		return attend(q, kc, vc, mask, w.Config.AttnScale(l))
	})
	return h, next
}

// Logits applies the LM head (tied to the token embedding) to hidden states [..., d_model].
func (w *Weights) Logits(hidden *Node) *Node {
	return nn.Dense(hidden, w.LMHead, nil, compute.DenseLayoutInputOutputs)
}

// LogitsByToken is Logits for the rows of hidden [batch, d_model], computed as wte · hiddenᵀ and
// returned transposed, [vocab, batch]: the same values, but the token embedding is the matmul's
// left operand. When it is a constant (gpt2.Model.NewPackedProgram), the go backend packs it
// once and runs a step's 50257-wide head faster than with the transposed copy on the right.
func (w *Weights) LogitsByToken(hidden *Node) *Node {
	return Einsum("vd,bd->vb", w.WTE, hidden)
}

// causalMask is the additive mask [1, seq, seq] letting position i attend to j ≤ i.
func causalMask(g *Graph, seq int) *Node {
	row := Iota(g, shapes.Make(dtypes.Int32, 1, seq, seq), 1)
	col := Iota(g, shapes.Make(dtypes.Int32, 1, seq, seq), 2)
	return Where(LessOrEqual(col, row), Zeros(g, shapes.Make(dtypes.Float32, 1, seq, seq)), Const(g, float32(maskedOut)))
}

// attend is dot-product attention on [batch·heads, seq, head_dim] queries and
// [batch·heads, kv, head_dim] keys and values, with scores scaled by scale (Config.AttnScale)
// and an additive mask broadcastable to [batch·heads, seq, kv]; it returns
// [batch·heads, seq, head_dim]. Both matmuls are already in the backend's normalized
// [batch, rows, contracted] layout (no transposes or copies), and the softmax is one fused op.
func attend(q, k, v, mask *Node, scale float64) *Node {
	scores := Add(MulScalar(Einsum("bqd,bkd->bqk", q, k), scale), mask)
	return Einsum("bqk,bkd->bqd", Softmax(scores, -1), v)
}

// attendFn computes block l's attention output [batch·heads, seq, head_dim] from its queries,
// keys and values, each [batch·heads, seq, head_dim].
type attendFn func(l int, q, k, v *Node) *Node

// run is the GPT-2 forward pass; attend decides how keys and values are cached and masked.
func (w *Weights) run(tokens, positions *Node, hook Hook, attendFn attendFn) *Node {
	cfg := w.Config
	d, nHead := cfg.NEmbd, cfg.NHead
	batch, seq := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]

	embed := hook.At(HookEmbed, Gather(w.WTE, ExpandAxes(tokens, -1)))
	posEmbed := hook.At(HookPosEmbed, Gather(w.WPE, ExpandAxes(positions, -1)))
	x := Add(embed, posEmbed)
	for l, b := range w.Blocks {
		x = hook.At(ResidPre(l), x)

		// Attention: x += c_proj(attn(ln_1(x))).
		qkv := nn.Dense(w.layerNorm(x, b.Ln1Gain, b.Ln1Bias), b.AttnW, b.AttnB, compute.DenseLayoutInputOutputs)
		// [batch, seq, 3·d] → q, k, v each [batch·heads, seq, head_dim].
		qkv = TransposeAllAxes(Reshape(qkv, batch, seq, 3, nHead, d/nHead), 2, 0, 3, 1, 4)
		split := func(i int) *Node { return Reshape(SliceAxis(qkv, 0, AxisElem(i)), batch*nHead, seq, d/nHead) }
		heads := attendFn(l, split(0), split(1), split(2))
		heads = Reshape(TransposeAllAxes(Reshape(heads, batch, nHead, seq, d/nHead), 0, 2, 1, 3), batch, seq, d)
		attnOut := nn.Dense(heads, b.AttnProjW, b.AttnProjB, compute.DenseLayoutInputOutputs)
		attnOut = hook.At(AttnOut(l), attnOut)
		x = hook.At(ResidMid(l), Add(x, attnOut))

		// MLP: x += c_proj(act(c_fc(ln_2(x)))), act gelu_new in GPT-2.
		hidden := nn.Dense(w.layerNorm(x, b.Ln2Gain, b.Ln2Bias), b.FcW, b.FcB, compute.DenseLayoutInputOutputs)
		mlpOut := nn.Dense(activate(cfg.ActivationFunction, hidden), b.ProjW, b.ProjB, compute.DenseLayoutInputOutputs)
		mlpOut = hook.At(MLPOut(l), mlpOut)
		x = hook.At(ResidPost(l), Add(x, mlpOut))
	}
	return hook.At(HookLnFinal, w.layerNorm(x, w.LnFGain, w.LnFB))
}

func (w *Weights) layerNorm(x, gain, bias *Node) *Node {
	return nn.LayerNorm(x, []int{x.Rank() - 1}, w.Config.LayerNormEpsilon, gain, bias, nil)
}

// activate applies the MLP activation named by a config's activation_function (one of
// checkpoint.Activations, as Hugging Face's ACT2FN defines it). GPT-2's "gelu_new",
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), is GoMLX's GeluApproximate, emitted as one fused
// backend op where the backend has one (SIMD on the go backend).
func activate(name string, x *Node) *Node {
	switch name {
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "":
		return activation.GeluApproximate(x)
	case "gelu":
		return activation.Gelu(x)
	case "relu":
		return activation.Relu(x)
	case "silu", "swish":
		return activation.Swish(x)
	case "tanh":
		return Tanh(x)
	case "quick_gelu":
		return Mul(x, Sigmoid(MulScalar(x, 1.702)))
	}
	// Config.Validate admits only checkpoint.Activations, all handled above.
	panic("gpt2: activation_function " + name + " is not implemented")
}
