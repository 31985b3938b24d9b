package llama

import (
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/nn"
)

// KVCache holds, for every block, the attention keys (after RoPE) and values of the positions
// processed so far, each [batch·kv_heads, capacity, head_dim]: one entry per key/value head,
// shared by the Groups() query heads that read it. Slots past the current position hold zeros
// and are masked out. As in package gpt2, a step adds its keys and values into the slot of its
// position with ScatterSum; donated to the step program, the cache is updated in place.
type KVCache struct {
	Keys, Values []*Node
}

// maskedOut is the additive attention mask of positions that may not be attended to: large
// enough that exp underflows to exactly 0, finite so that no NaN arises.
const maskedOut = -1e30

// Forward builds the model on tokens [batch, seq] (int32) at absolute positions [batch, seq]
// (int32, used by RoPE), calling hook at every hook point, and returns the final RMSNorm's
// output [batch, seq, d_model] (Logits turns it into logits). Attention is causal by index in
// the row (and limited to the sliding window where the config has one); rows padded on the
// right are fine.
func (w *Weights) Forward(tokens, positions *Node, hook Hook) *Node {
	mask := w.prefixMask(tokens.Graph(), tokens.Shape().Dimensions[1])
	return w.run(tokens, positions, hook, func(_ int, q, k, v *Node) *Node {
		return attend(q, k, v, mask)
	})
}

// Prefill is Forward for the first chunk of a generation: it also returns a cache with room for
// capacity positions, holding the keys and values of the seq processed ones at [0, seq).
func (w *Weights) Prefill(tokens, positions *Node, hook Hook, capacity int) (*Node, *KVCache) {
	cache := &KVCache{}
	seq := tokens.Shape().Dimensions[1]
	mask := w.prefixMask(tokens.Graph(), seq)
	h := w.run(tokens, positions, hook, func(_ int, q, k, v *Node) *Node {
		cache.Keys = append(cache.Keys, GrowRight(k, 1, capacity-seq, 0))
		cache.Values = append(cache.Values, GrowRight(v, 1, capacity-seq, 0))
		return attend(q, k, v, mask)
	})
	return h, cache
}

// Step runs one new token per row (tokens [batch, 1], int32) at position pos (a scalar int32
// node, the same for every row), attending to cache positions [0, pos] (the last
// sliding_window of them where the config has a window). It returns the hidden state
// [batch, 1, d_model] and the updated cache. The slot at pos must still be empty (zero).
func (w *Weights) Step(tokens, pos *Node, cache *KVCache, hook Hook) (*Node, *KVCache) {
	g := tokens.Graph()
	batch, nKV := tokens.Shape().Dimensions[0], w.Config.NumKeyValueHeads
	capacity := cache.Keys[0].Shape().Dimensions[1]
	slot := Iota(g, shapes.Make(dtypes.Int32, 1, 1, capacity), 2)
	visible := LessOrEqual(slot, pos)
	if win := w.Config.SlidingWindow; win > 0 {
		visible = LogicalAnd(visible, GreaterThan(slot, SubScalar(pos, int32(win))))
	}
	mask := Where(visible, Zeros(g, shapes.Make(dtypes.Float32, 1, 1, capacity)), Const(g, float32(maskedOut)))
	positions := BroadcastToDims(Reshape(pos, 1, 1), batch, 1)
	bh := Iota(g, shapes.Make(dtypes.Int32, batch*nKV, 1), 0)
	idx := Concatenate([]*Node{bh, BroadcastToDims(Reshape(pos, 1, 1), batch*nKV, 1)}, -1)
	next := &KVCache{}
	h := w.run(tokens, positions, hook, func(l int, q, k, v *Node) *Node {
		kc := ScatterSum(cache.Keys[l], idx, Squeeze(k, 1), true, true)
		vc := ScatterSum(cache.Values[l], idx, Squeeze(v, 1), true, true)
		next.Keys = append(next.Keys, kc)
		next.Values = append(next.Values, vc)
		return attend(q, kc, vc, mask)
	})
	return h, next
}

// Logits applies the LM head to hidden states [..., d_model].
func (w *Weights) Logits(hidden *Node) *Node {
	return nn.Dense(hidden, w.HeadT, nil, compute.DenseLayoutInputOutputs)
}

// LogitsByToken is Logits for the rows of hidden [batch, d_model], computed as head · hiddenᵀ
// and returned transposed, [vocab, batch] (see gpt2.Weights.LogitsByToken): the LM head is the
// matmul's left operand, which Model.NewPackedProgram builds in as a constant.
func (w *Weights) LogitsByToken(hidden *Node) *Node {
	return Einsum("vd,bd->vb", w.Head, hidden)
}

// prefixMask is the additive mask [1, groups·seq, seq] of a chunk starting at position 0, for
// queries laid out as attention receives them (row r is query r mod seq).
func (w *Weights) prefixMask(g *Graph, seq int) *Node {
	rows := w.Config.Groups() * seq
	row := ModScalar(Iota(g, shapes.Make(dtypes.Int32, 1, rows, seq), 1), int32(seq))
	col := Iota(g, shapes.Make(dtypes.Int32, 1, rows, seq), 2)
	visible := LessOrEqual(col, row)
	if win := w.Config.SlidingWindow; win > 0 {
		visible = LogicalAnd(visible, GreaterThan(col, SubScalar(row, int32(win))))
	}
	return Where(visible, Zeros(g, shapes.Make(dtypes.Float32, 1, rows, seq)), Const(g, float32(maskedOut)))
}

// attend is scaled dot-product attention with grouped queries: q [batch·kv_heads,
// groups·seq, head_dim] (the queries of the heads that share a key/value head, stacked), keys
// and values [batch·kv_heads, kv, head_dim], an additive mask broadcastable to
// [batch·kv_heads, groups·seq, kv]. Both matmuls are in the go backend's normalized layout and
// no key or value is repeated.
func attend(q, k, v, mask *Node) *Node {
	scale := 1 / math.Sqrt(float64(q.Shape().Dimensions[2]))
	scores := Add(MulScalar(Einsum("bqd,bkd->bqk", q, k), scale), mask)
	return Einsum("bqk,bkd->bqd", Softmax(scores, -1), v)
}

type attendFn func(l int, q, k, v *Node) *Node

// run is the forward pass; attend decides how keys and values are cached and masked.
func (w *Weights) run(tokens, positions *Node, hook Hook, attendFn attendFn) *Node {
	cfg := w.Config
	g := tokens.Graph()
	batch, seq := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	nH, nKV, hd, groups := cfg.NumAttentionHeads, cfg.NumKeyValueHeads, cfg.HeadDim, cfg.Groups()

	// RoPE angles [batch, seq, 1, head_dim/2], in float32 as Hugging Face computes them.
	invFreq := ropeInvFreq(cfg)
	inv32 := make([]float32, len(invFreq))
	for i, f := range invFreq {
		inv32[i] = float32(f)
	}
	angles := Mul(ExpandAxes(ConvertDType(positions, dtypes.Float32), -1), Reshape(Const(g, inv32), 1, 1, hd/2))
	angles = Reshape(angles, batch, seq, 1, hd/2)
	cos, sin := Cos(angles), Sin(angles)

	x := at(hook, HookEmbed, Gather(w.Embed, ExpandAxes(tokens, -1)))
	for l, b := range w.Blocks {
		x = at(hook, ResidPre(l), x)

		// Attention: x += o_proj(attn(rope(q), rope(k), v)) on input_layernorm(x).
		qkv := nn.Dense(w.rmsNorm(x, b.InputNorm), b.QKV, b.QKVBias, compute.DenseLayoutInputOutputs)
		q := Reshape(SliceAxis(qkv, -1, AxisRange(0, nH*hd)), batch, seq, nH, hd)
		k := Reshape(SliceAxis(qkv, -1, AxisRange(nH*hd, (nH+nKV)*hd)), batch, seq, nKV, hd)
		v := Reshape(SliceAxis(qkv, -1, AxisRangeToEnd((nH+nKV)*hd)), batch, seq, nKV, hd)
		if b.QNorm != nil {
			q = w.rmsNorm(q, b.QNorm)
			k = w.rmsNorm(k, b.KNorm)
		}
		q, k = rope(q, cos, sin), rope(k, cos, sin)
		// Query head h reads key/value head h / groups: [batch, seq, kv, groups, hd] →
		// [batch·kv, groups·seq, hd].
		q = Reshape(TransposeAllAxes(Reshape(q, batch, seq, nKV, groups, hd), 0, 2, 3, 1, 4), batch*nKV, groups*seq, hd)
		k = Reshape(TransposeAllAxes(k, 0, 2, 1, 3), batch*nKV, seq, hd)
		v = Reshape(TransposeAllAxes(v, 0, 2, 1, 3), batch*nKV, seq, hd)
		heads := attendFn(l, q, k, v)
		heads = Reshape(TransposeAllAxes(Reshape(heads, batch, nKV, groups, seq, hd), 0, 3, 1, 2, 4), batch, seq, nH*hd)
		attnOut := at(hook, AttnOut(l), nn.Dense(heads, b.O, b.OBias, compute.DenseLayoutInputOutputs))
		x = at(hook, ResidMid(l), Add(x, attnOut))

		// MLP: x += down_proj(silu(gate_proj(h)) · up_proj(h)), h = post_attention_layernorm(x).
		gated := nn.Dense(w.rmsNorm(x, b.PostNorm), b.GateUp, b.GateUpBias, compute.DenseLayoutInputOutputs, activation.TypeSwiGLU)
		mlpOut := at(hook, MLPOut(l), nn.Dense(gated, b.Down, b.DownBias, compute.DenseLayoutInputOutputs))
		x = at(hook, ResidPost(l), Add(x, mlpOut))
	}
	return at(hook, HookLnFinal, w.rmsNorm(x, w.Norm))
}

// rmsNorm is x / sqrt(mean(x²) + eps) · weight over the last axis.
func (w *Weights) rmsNorm(x, weight *Node) *Node {
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[len(dims)-1] = weight.Shape().Dimensions[0]
	return Mul(Mul(x, Rsqrt(AddScalar(ms, w.Config.RMSNormEps))), Reshape(weight, dims...))
}

// rope rotates x [batch, seq, heads, head_dim] by the angles whose cos and sin are
// [batch, seq, 1, head_dim/2], in Hugging Face's layout: dimension j pairs with j + head_dim/2.
func rope(x, cos, sin *Node) *Node {
	half := x.Shape().Dimensions[3] / 2
	x1 := SliceAxis(x, -1, AxisRangeFromStart(half))
	x2 := SliceAxis(x, -1, AxisRangeToEnd(half))
	return Concatenate([]*Node{Sub(Mul(x1, cos), Mul(x2, sin)), Add(Mul(x2, cos), Mul(x1, sin))}, -1)
}

// ropeInvFreq returns RoPE's inverse frequencies θ^(-2j/head_dim), j < head_dim/2, rescaled
// as rope_scaling says (Hugging Face's modeling_rope_utils: linear divides all by the factor;
// llama3 divides those of wavelength above original_max_position_embeddings / low_freq_factor,
// keeps those below original_max_position_embeddings / high_freq_factor and interpolates
// between).
func ropeInvFreq(c Config) []float64 {
	half := c.HeadDim / 2
	out := make([]float64, half)
	for j := range out {
		// float32 as Hugging Face computes them.
		out[j] = float64(float32(1 / math.Pow(c.RopeTheta, float64(float32(float64(2*j)/float64(c.HeadDim))))))
	}
	s := c.RopeScaling
	if s == nil {
		return out
	}
	switch s.Type {
	case "linear":
		for j := range out {
			out[j] /= s.Factor
		}
	case "llama3":
		orig := float64(s.OriginalMaxPositionEmbeddings)
		lowWave, highWave := orig/s.LowFreqFactor, orig/s.HighFreqFactor
		for j, f := range out {
			wave := 2 * math.Pi / f
			switch {
			case wave > lowWave:
				out[j] = f / s.Factor
			case wave < highWave:
			default:
				smooth := (orig/wave - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				out[j] = (1-smooth)*f/s.Factor + smooth*f
			}
		}
	}
	return out
}
