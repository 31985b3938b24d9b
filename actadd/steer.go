package actadd

import (
	"fmt"

	"github.com/actadd-go/actadd/gpt2"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// This file is where the residual stream is edited.
//
// A steered program takes these runtime inputs after its own (always last):
//
//	vectors   [K, batch, span, d_model] float32: K addition slots per row, each an unscaled
//	                                    steering vector given by the caller (zero rows past its
//	                                    length; all zero for slots built from pair rows, below);
//	positions [K, batch, span]          int32: the stream positions those rows are added to
//	                                    (front, mid or back placement, done on the host);
//	gates     [n_layer, K, batch]       float32: the coefficient of slot k of row b at layer l,
//	                                    zero at every layer but the slot's own;
//
// and, in a program that builds its vectors from prompt pairs in the same pass (pair rows:
// generation does, so that a sweep compiles no separate vector pass), two more:
//
//	pairs     [K, batch, 2]             int32: which of the P pair rows appended to the batch
//	                                    (the token rows after the batch's own) are slot k's
//	                                    prompts p+ and p−;
//	pairMask  [K, batch, span]          float32: 1 for the vector's own rows (j < its length),
//	                                    0 past it and for slots whose vector is given.
//
// At the hook point of every layer l (blocks.{l}.hook_resid_pre unless the addition names another
// kind of point) the hook scatter-adds gates[l,k,b] · vectors[k,b,j] into stream position
// positions[k,b,j] of row b. With pair rows, vectors[k,b,j] is first increased by
// pairMask[k,b,j] · (x[p+, j] − x[p−, j]): the difference of the pair rows' own stream at this
// very point, which is the steering vector h(p+) − h(p−) at this layer since pair rows are
// never steered (the scatter only touches the batch's own rows) and attention is causal (pair
// rows are right-padded to the batch's length). Only the span positions are touched (the go
// backend updates the stream in place), so the premium over the unsteered model is a few small
// ops per layer. Because vectors, positions, coefficients and layers are all inputs, a sweep
// over them reuses one compiled program, and each row of a batch carries its own configuration
// (or none: zero gates).

// steering is what a steered program's graph needs from the steering inputs: the hook, and
// which rows of the batch are the caller's (pair rows follow them and are dropped from outputs).
type steering struct {
	Hook  gpt2.Hook // nil for an unsteered program
	rows  int       // the batch's own rows; 0 when there are no pair rows
	total int       // the batch's rows with the pair rows
}

// Own slices x, whose first axis is the batch with its pair rows (possibly merged with a
// following axis, as the KV cache's [batch·heads, ...]), to the batch's own rows; x itself
// when there are no pair rows.
func (s *steering) Own(x *Node) *Node {
	if s.rows == 0 {
		return x
	}
	return SliceAxis(x, 0, AxisRange(0, x.Shape().Dimensions[0]/s.total*s.rows))
}

// steeringInputCount is the number of steering inputs a program takes (see above).
func steeringInputCount(k int, pairRows bool) int {
	switch {
	case k == 0:
		return 0
	case pairRows:
		return 5
	}
	return 3
}

// steeringHook returns the steering that applies the steering inputs (the last ones of in) at
// every layer's point of the given kind (e.g. "hook_resid_pre"); no hook when k = 0 (unsteered
// programs take no steering inputs and carry no hook). With pair rows, in[0] is the token rows
// [batch + P, seq]: the batch's own rows, then the pair rows.
func steeringHook(kind string, k int, pairRows bool, in []*Node) *steering {
	if k == 0 {
		return &steering{}
	}
	st := in[len(in)-steeringInputCount(k, pairRows):]
	vectors, positions, gates := st[0], st[1], st[2]
	dims := vectors.Shape().Dimensions // [K, batch, span, d]
	batch, span := dims[1], dims[2]
	nLayer := gates.Shape().Dimensions[0]
	// Scatter indices (b, position) for every slot, row and vector row: [K, batch, span, 2].
	rows := Iota(vectors.Graph(), shapes.Make(dtypes.Int32, k, batch, span, 1), 1)
	indices := Concatenate([]*Node{rows, ExpandAxes(positions, -1)}, -1)
	points := make(map[string]int, nLayer)
	for l := range nLayer {
		points[pointName(kind, l)] = l
	}
	s := &steering{}
	if pairRows {
		s.rows, s.total = batch, in[0].Shape().Dimensions[0]
	}
	s.Hook = func(point string, x *Node) *Node {
		l, ok := points[point]
		if !ok {
			return x
		}
		v := vectors
		if pairRows {
			pairs, mask := st[3], st[4]
			xp := Slice(x, AxisRange(batch, s.total), AxisRange(0, span)) // [P, span, d]
			plus := Gather(xp, SliceAxis(pairs, -1, AxisRange(0, 1)))     // [K, batch, span, d]
			minus := Gather(xp, SliceAxis(pairs, -1, AxisRange(1, 2)))
			v = Add(v, Mul(Sub(plus, minus), ExpandAxes(mask, -1)))
		}
		g := Reshape(SliceAxis(gates, 0, AxisElem(l)), k, batch, 1, 1)
		return ScatterSum(x, indices, Mul(v, g), false, false)
	}
	return s
}

// pointName is the hook point of kind (e.g. "hook_resid_pre") in block l.
func pointName(kind string, l int) string { return fmt.Sprintf("blocks.%d.%s", l, kind) }

// steeringInputs packs the per-row additions of a batch (rows[b], at most k each, possibly none,
// vectors of at most span positions) into the steering inputs: vectors, positions and gates, and
// with pairRows also pairs and pairMask (an addition without a given vector then names its pair
// rows).
func steeringInputs(rows [][]*placedAddition, k, span, nLayer, d int, pairRows bool) []any {
	batch := len(rows)
	vec := make([]float32, k*batch*span*d)
	pos := make([]int32, k*batch*span)
	gat := make([]float32, nLayer*k*batch)
	pairs := make([]int32, k*batch*2)
	mask := make([]float32, k*batch*span)
	for b, r := range rows {
		for s, a := range r {
			slot := s*batch + b
			if a.vector != nil {
				copy(vec[slot*span*d:], a.vector.Data)
			} else {
				pairs[2*slot], pairs[2*slot+1] = int32(2*a.pair), int32(2*a.pair+1)
				for j := range a.n {
					mask[slot*span+j] = 1
				}
			}
			for j := range span {
				// Rows past the vector's length are zero; point them at its last position.
				pos[slot*span+j] = int32(a.start + min(j, a.n-1))
			}
			gat[(a.layer*k+s)*batch+b] = float32(a.coeff)
		}
	}
	out := []any{
		tensors.FromFlatDataAndDimensions(vec, k, batch, span, d),
		tensors.FromFlatDataAndDimensions(pos, k, batch, span),
		tensors.FromFlatDataAndDimensions(gat, nLayer, k, batch),
	}
	if pairRows {
		out = append(out, tensors.FromFlatDataAndDimensions(pairs, k, batch, 2), tensors.FromFlatDataAndDimensions(mask, k, batch, span))
	}
	return out
}

// placedAddition is one steering vector placed in one row: a given vector, or (vector nil) the
// vector of pair rows 2·pair and 2·pair+1.
type placedAddition struct {
	vector *Vector
	pair   int
	n      int // the vector's length
	layer  int
	coeff  float64
	start  int // first position the vector covers
}

// steeredProgram returns the program named name for calls steering prep's kind of point with
// prep.k slots (one program per name, point, k and use of pair rows; its graph is built once per
// input shape). build receives the steering: its hook (nil when unsteered), and Own, which drops
// pair rows from the outputs.
func (m *Model) steeredProgram(name string, prep *prepared, build func(w *gpt2.Weights, in []*Node, st *steering) []*Node) (*gpt2.Program, error) {
	k, point, pairRows := prep.k, prep.point, prep.pairRows()
	return m.program(fmt.Sprintf("%s/%s/%d/%t", name, point, k, pairRows), func() (*gpt2.Program, error) {
		return m.NewProgram("actadd."+name, func(w *gpt2.Weights, in []*Node) []*Node {
			return build(w, in, steeringHook(point, k, pairRows, in))
		})
	})
}
