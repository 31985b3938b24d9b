package llama

import (
	"fmt"
	"github.com/actadd-go/actadd/lm/lmrun"
	"math"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/nn"
)

// KVCache holds, for every block, the attention keys (after RoPE) and values of the positions
// processed so far, each [batch, capacity, kv_heads, head_dim]: one entry per key/value head,
// shared by the Groups() query heads that read it. Slots past the current position hold zeros
// and are masked out. As in package gpt2, a step adds its keys and values into the slot of its
// position with ScatterSum; donated to the step program, the cache is updated in place.
type KVCache = lmrun.KVCache

// maskedOut is the additive attention mask of positions that may not be attended to: large
// enough that exp underflows to exactly 0, finite so that no NaN arises.
const maskedOut = -1e30

// Forward builds the model on tokens [batch, seq] (int32) at absolute positions [batch, seq]
// (int32, used by RoPE), calling hook at every hook point, and returns the final RMSNorm's
// output [batch, seq, d_model] (Logits turns it into logits). Attention is causal by index in
// the row (and limited to the sliding window where the config has one); rows padded on the
// right are fine.
func (w *Weights) Forward(tokens, positions *Node, hook Hook) *Node {
	return w.run(tokens, positions, hook, func(l int, q, k, v *Node) *Node {
		return w.attention(l, q, k, v, nil)
	})
}

// Prefill is Forward for the first chunk of a generation: it also returns a cache with room for
// capacity positions, holding the keys and values of the seq processed ones at [0, seq).
func (w *Weights) Prefill(tokens, positions *Node, hook Hook, capacity int) (*Node, *KVCache) {
	cache := &KVCache{}
	seq := tokens.Shape().Dimensions[1]
	h := w.run(tokens, positions, hook, func(l int, q, k, v *Node) *Node {
		cache.Keys = append(cache.Keys, GrowRight(k, 1, capacity-seq, 0))
		cache.Values = append(cache.Values, GrowRight(v, 1, capacity-seq, 0))
		return w.attention(l, q, k, v, nil)
	})
	return h, cache
}

// Step runs one new token per row (tokens [batch, 1], int32) at position pos (a scalar int32
// node, the same for every row), attending to cache positions [0, pos] (the last
// sliding_window of them in the layers that have a window). It returns the hidden state
// [batch, 1, d_model] and the updated cache. The slot at pos must still be empty (zero).
func (w *Weights) Step(tokens, pos *Node, cache *KVCache, hook Hook) (*Node, *KVCache) {
	g := tokens.Graph()
	batch := tokens.Shape().Dimensions[0]
	capacity := cache.Keys[0].Shape().Dimensions[1]
	slot := Iota(g, shapes.Make(dtypes.Int32, 1, capacity), 1)
	masks := map[int]*Node{} // by window (0: none), built once per graph
	maskFor := func(win int) *Node {
		if m, ok := masks[win]; ok {
			return m
		}
		visible := LessOrEqual(slot, pos)
		if win > 0 {
			visible = LogicalAnd(visible, GreaterThan(slot, SubScalar(pos, int32(win))))
		}
		masks[win] = Where(visible, Zeros(g, shapes.Make(dtypes.Float32, 1, capacity)), Const(g, float32(maskedOut)))
		return masks[win]
	}
	positions := BroadcastToDims(Reshape(pos, 1, 1), batch, 1)
	// Scatter indices (row, pos) of every batch row: [batch, 2].
	rows := Iota(g, shapes.Make(dtypes.Int32, batch, 1), 0)
	idx := Concatenate([]*Node{rows, BroadcastToDims(Reshape(pos, 1, 1), batch, 1)}, -1)
	next := &KVCache{}
	h := w.run(tokens, positions, hook, func(l int, q, k, v *Node) *Node {
		// k, v: [batch, 1, kv_heads, head_dim] → updates [batch, kv_heads, head_dim].
		kc := ScatterSum(cache.Keys[l], idx, Squeeze(k, 1), true, true)
		vc := ScatterSum(cache.Values[l], idx, Squeeze(v, 1), true, true)
		next.Keys = append(next.Keys, kc)
		next.Values = append(next.Values, vc)
		return w.attention(l, q, kc, vc, maskFor(w.Config.SlidingWindowAt(l)))
	})
	return h, next
}

// Logits applies the LM head to hidden states [..., d_model] (and Gemma's final soft-cap).
func (w *Weights) Logits(hidden *Node) *Node {
	return w.softcapLogits(nn.Dense(hidden, w.HeadT, nil, compute.DenseLayoutInputOutputs))
}

// softcapLogits is cap·tanh(z/cap) where the config soft-caps the final logits.
func (w *Weights) softcapLogits(z *Node) *Node {
	if c := w.Config.logitSoftcap(); c > 0 {
		return MulScalar(Tanh(MulScalar(z, 1/c)), c)
	}
	return z
}

// LogitsByToken is Logits for the rows of hidden [batch, d_model], computed as head · hiddenᵀ
// and returned transposed, [vocab, batch] (see gpt2.Weights.LogitsByToken): the LM head is the
// matmul's left operand, which Model.NewPackedProgram builds in as a constant.
func (w *Weights) LogitsByToken(hidden *Node) *Node {
	return w.softcapLogits(Einsum("vd,bd->vb", w.Head, hidden))
}

// prefixMask is the additive mask [seq, seq] of a chunk starting at position 0: causal, and
// limited to the sliding window win (keys) when win > 0.
func (w *Weights) prefixMask(g *Graph, seq, win int) *Node {
	row := Iota(g, shapes.Make(dtypes.Int32, seq, seq), 0)
	col := Iota(g, shapes.Make(dtypes.Int32, seq, seq), 1)
	visible := LessOrEqual(col, row)
	if win > 0 {
		visible = LogicalAnd(visible, GreaterThan(col, SubScalar(row, int32(win))))
	}
	return Where(visible, Zeros(g, shapes.Make(dtypes.Float32, seq, seq)), Const(g, float32(maskedOut)))
}

// attention is scaled dot-product attention with grouped queries on q [batch, seq, heads,
// head_dim], keys and values [batch, kv, kv_heads, head_dim], returning [batch, seq,
// heads·head_dim]. mask is an additive mask [seq, kv], or nil for a chunk starting at position
// 0 (causal, and layer l's sliding window). It is the backend's fused attention where it has
// one (the go backend's runs every key/value head's group of queries in one pass, in this
// layout, with no transposes and no score tensor), and attendDecomposed elsewhere and where
// scores are soft-capped (Gemma 2), which the fused op cannot do.
func (w *Weights) attention(l int, q, k, v, mask *Node) *Node {
	batch, seq, heads, hd := q.Shape().Dimensions[0], q.Shape().Dimensions[1], q.Shape().Dimensions[2], q.Shape().Dimensions[3]
	win, scale, softcap := w.Config.SlidingWindowAt(l), w.Config.attnScale(), w.Config.attnSoftcap()
	causal := mask == nil && win == 0
	if mask == nil && !causal {
		mask = w.prefixMask(q.Graph(), seq, win)
	}
	decomposed := func() *Node {
		m := mask
		if m == nil {
			m = w.prefixMask(q.Graph(), seq, win)
		}
		return attendDecomposed(q, k, v, m, scale, softcap)
	}
	var out *Node
	if softcap > 0 {
		out = decomposed()
	} else {
		out, _ = InternalFusedOpCaller(func() *Node {
			o, _ := BackendFusedScaledDotProductAttention(q, k, v, compute.AttentionAxesLayoutBSHD,
				&compute.ScaledDotProductAttentionConfig{Causal: causal, Mask: maskValue(mask), Scale: scale})
			return o
		}, decomposed, false)
	}
	return Reshape(out, batch, seq, heads*hd)
}

// maskValue is the mask as the fused op takes it (nil for none).
func maskValue(mask *Node) compute.Value {
	if mask == nil {
		return nil
	}
	return InternalBackendOutputs(mask)[0]
}

// attendDecomposed is attention from matmuls and a softmax: the queries of the heads that
// share a key/value head are stacked ([batch·kv_heads, groups·seq, head_dim]) against their
// one key/value head, so that no key or value is repeated and both matmuls are in the go
// backend's normalized layout. Scores are scaled by scale and, when softcap > 0, capped as
// softcap·tanh(s/softcap) before the mask. Returns [batch, seq, heads, head_dim].
func attendDecomposed(q, k, v, mask *Node, scale, softcap float64) *Node {
	batch, seq, heads, hd := q.Shape().Dimensions[0], q.Shape().Dimensions[1], q.Shape().Dimensions[2], q.Shape().Dimensions[3]
	kvLen, nKV := k.Shape().Dimensions[1], k.Shape().Dimensions[2]
	groups := heads / nKV
	qg := Reshape(TransposeAllAxes(Reshape(q, batch, seq, nKV, groups, hd), 0, 2, 3, 1, 4), batch*nKV, groups*seq, hd)
	kg := Reshape(TransposeAllAxes(k, 0, 2, 1, 3), batch*nKV, kvLen, hd)
	vg := Reshape(TransposeAllAxes(v, 0, 2, 1, 3), batch*nKV, kvLen, hd)
	// The mask [seq, kv] for every query row of the stack: row r is query r mod seq.
	m := Reshape(BroadcastToDims(Reshape(mask, 1, seq, kvLen), groups, seq, kvLen), 1, groups*seq, kvLen)
	scores := MulScalar(Einsum("bqd,bkd->bqk", qg, kg), scale)
	if softcap > 0 {
		scores = MulScalar(Tanh(MulScalar(scores, 1/softcap)), softcap)
	}
	scores = Add(scores, m)
	out := Einsum("bqk,bkd->bqd", Softmax(scores, -1), vg)
	return TransposeAllAxes(Reshape(out, batch, nKV, groups, seq, hd), 0, 3, 1, 2, 4)
}

type attendFn func(l int, q, k, v *Node) *Node

// run is the forward pass; attend decides how keys and values are cached and masked.
func (w *Weights) run(tokens, positions *Node, hook Hook, attendFn attendFn) *Node {
	cfg := w.Config
	g := tokens.Graph()
	batch, seq := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	nH, nKV, hd := cfg.NumAttentionHeads, cfg.NumKeyValueHeads, cfg.HeadDim

	// RoPE angles [batch, seq, 1, head_dim/2], in float32 as Hugging Face computes them; one
	// set of tables per distinct base (Gemma 3's sliding layers have their own).
	type ropePair struct{ q, k ropeTables }
	ropes := map[string]ropePair{}
	ropeAt := func(l int) ropePair {
		invFreq := ropeInvFreq(cfg.ropeConfigAt(l))
		key := fmt.Sprint(invFreq)
		if r, ok := ropes[key]; ok {
			return r
		}
		inv32 := make([]float32, len(invFreq))
		for i, f := range invFreq {
			inv32[i] = float32(f)
		}
		angles := Mul(ExpandAxes(ConvertDType(positions, dtypes.Float32), -1), Reshape(Const(g, inv32), 1, 1, hd/2))
		angles = Reshape(angles, batch, seq, 1, 1, hd/2)
		cos, sin := Cos(angles), Sin(angles)
		ropes[key] = ropePair{newRope(cos, sin, nH), newRope(cos, sin, nKV)}
		return ropes[key]
	}

	x := Gather(w.Embed, ExpandAxes(tokens, -1))
	if s := cfg.EmbedScale(); s != 1 {
		x = MulScalar(x, float64(s)) // Gemma: √d_model, rounded to the checkpoint's dtype
	}
	x = at(hook, HookEmbed, x)
	for l, b := range w.Blocks {
		x = at(hook, ResidPre(l), x)

		// Attention: x += o_proj(attn(rope(q), rope(k), v)) on input_layernorm(x).
		q, k, v := qkvProjection(w.rmsNorm(x, b.InputNorm), b.QKV, b.QKVBias, nH*hd, nKV*hd)
		q, k, v = Reshape(q, batch, seq, nH, hd), Reshape(k, batch, seq, nKV, hd), Reshape(v, batch, seq, nKV, hd)
		if b.QNorm != nil {
			q = w.rmsNorm(q, b.QNorm)
			k = w.rmsNorm(k, b.KNorm)
		}
		rope := ropeAt(l)
		q, k = rope.q.apply(q), rope.k.apply(k)
		heads := attendFn(l, q, k, v) // query head h reads key/value head h / groups
		attnOut := nn.Dense(heads, b.O, b.OBias, compute.DenseLayoutInputOutputs)
		if b.AttnOutNorm != nil {
			attnOut = w.rmsNorm(attnOut, b.AttnOutNorm) // Gemma's post_attention_layernorm
		}
		attnOut = at(hook, AttnOut(l), attnOut)
		x = at(hook, ResidMid(l), Add(x, attnOut))

		// MLP: x += down_proj(silu(gate_proj(h)) · up_proj(h)), h = post_attention_layernorm(x).
		// Gemma: gelu_tanh(gate) · up, on pre_feedforward_layernorm(x), and the output normalized
		// by post_feedforward_layernorm.
		var gated *Node
		if cfg.Gemma == nil {
			gated = nn.Dense(w.rmsNorm(x, b.PostNorm), b.GateUp, b.GateUpBias, compute.DenseLayoutInputOutputs, activation.TypeSwiGLU)
		} else {
			gu := nn.Dense(w.rmsNorm(x, b.PostNorm), b.GateUp, b.GateUpBias, compute.DenseLayoutInputOutputs)
			ffn := cfg.IntermediateSize
			gated = Mul(activation.GeluApproximate(SliceAxis(gu, -1, AxisRange(0, ffn))), SliceAxis(gu, -1, AxisRangeToEnd(ffn)))
		}
		mlpOut := nn.Dense(gated, b.Down, b.DownBias, compute.DenseLayoutInputOutputs)
		if b.MLPOutNorm != nil {
			mlpOut = w.rmsNorm(mlpOut, b.MLPOutNorm)
		}
		mlpOut = at(hook, MLPOut(l), mlpOut)
		x = at(hook, ResidPost(l), Add(x, mlpOut))
	}
	return at(hook, HookLnFinal, w.rmsNorm(x, w.Norm))
}

// qkvProjection is x·qkv (+ bias), split into queries [..., qDim], keys and values [..., kvDim].
// It is the backend's fused projection where it has one (the go backend's splits the matmul's
// output and adds the biases in one pass over it), and a matmul and three slices elsewhere.
func qkvProjection(x, qkv, bias *Node, qDim, kvDim int) (q, k, v *Node) {
	var bq, bk, bv *Node
	if bias != nil {
		bq, bk, bv = SliceAxis(bias, 0, AxisRange(0, qDim)), SliceAxis(bias, 0, AxisRange(qDim, qDim+kvDim)), SliceAxis(bias, 0, AxisRangeToEnd(qDim+kvDim))
	}
	out, _ := InternalFusedOpCallerMulti(func() []*Node {
		q, k, v := BackendFusedAttentionQKVProjection(x, qkv, bq, bk, bv, qDim, kvDim)
		return []*Node{q, k, v}
	}, func() []*Node { return qkvDecomposed(x, qkv, bias, qDim, kvDim) }, false)
	return out[0], out[1], out[2]
}

// qkvDecomposed is qkvProjection as one matmul and three slices.
func qkvDecomposed(x, qkv, bias *Node, qDim, kvDim int) []*Node {
	p := nn.Dense(x, qkv, bias, compute.DenseLayoutInputOutputs)
	return []*Node{SliceAxis(p, -1, AxisRange(0, qDim)), SliceAxis(p, -1, AxisRange(qDim, qDim+kvDim)), SliceAxis(p, -1, AxisRangeToEnd(qDim+kvDim))}
}

// rmsNorm is x / sqrt(mean(x²) + eps) · weight over the last axis (weight is Gemma's 1 + w,
// formed when the weights are packed).
func (w *Weights) rmsNorm(x, weight *Node) *Node {
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[len(dims)-1] = weight.Shape().Dimensions[0]
	return Mul(Mul(x, Rsqrt(AddScalar(ms, w.Config.RMSNormEps))), Reshape(weight, dims...))
}

// ropeTables rotate [batch, seq, heads, head_dim] queries or keys in Hugging Face's layout,
// where dimension j pairs with j + head_dim/2:
//
//	x'[j]        = x[j]·cos − x[j+half]·sin
//	x'[j+half]   = x[j+half]·cos + x[j]·sin
//
// computed as x·C + swap(x)·S, swap exchanging the two halves, C = [cos, cos] and
// S = [−sin, sin], both broadcast to the full shape once per graph: every layer's rotation is
// then one copy and three elementwise ops of equal shapes, the backend's fast path.
type ropeTables struct{ c, s *Node } // [batch, seq, heads, 2, head_dim/2]

// newRope builds the tables for heads heads from cos and sin [batch, seq, 1, 1, head_dim/2].
// The copies along the heads axis are real (Concatenate): a broadcast would be folded into each
// layer's multiplication, which the go backend then runs on its slow general-broadcast path.
func newRope(cos, sin *Node, heads int) ropeTables {
	full := func(x *Node) *Node { return Concatenate(slices.Repeat([]*Node{x}, heads), 2) }
	return ropeTables{
		c: full(Concatenate([]*Node{cos, cos}, 3)),
		s: full(Concatenate([]*Node{Neg(sin), sin}, 3)),
	}
}

func (r ropeTables) apply(x *Node) *Node {
	dims := r.c.Shape().Dimensions
	x5 := Reshape(x, dims...)
	return Reshape(Add(Mul(x5, r.c), Mul(Reverse(x5, 3), r.s)), dims[0], dims[1], dims[2], 2*dims[4])
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
