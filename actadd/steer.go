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
// A steered program takes three runtime inputs after its own (always last):
//
//	vectors   [K, batch, span, d_model] float32: K addition slots per row, each an unscaled
//	                                    steering vector (zero rows past its length);
//	positions [K, batch, span]          int32: the stream positions those rows are added to
//	                                    (front, mid or back placement, done on the host);
//	gates     [n_layer, K, batch]       float32: the coefficient of slot k of row b at layer l,
//	                                    zero at every layer but the slot's own.
//
// At the hook point of every layer l (blocks.{l}.hook_resid_pre unless the addition names another
// kind of point) the hook scatter-adds gates[l,k,b] · vectors[k,b,j] into stream position
// positions[k,b,j] of row b. Only the span positions are touched (the go backend updates the
// stream in place), so the premium over the unsteered model is a few small ops per layer.
// Because vectors, positions, coefficients and layers are all inputs, a sweep over them reuses
// one compiled program, and each row of a batch carries its own configuration (or none: zero
// gates).

// steeringHook returns the hook that adds the steering inputs (the last three of in)
// at every layer's point of the given kind (e.g. "hook_resid_pre"); nil when k = 0 (unsteered
// programs take no steering inputs and carry no hook).
func steeringHook(kind string, k int, in []*Node) gpt2.Hook {
	if k == 0 {
		return nil
	}
	n := len(in)
	vectors, positions, gates := in[n-3], in[n-2], in[n-1]
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
	return func(point string, x *Node) *Node {
		l, ok := points[point]
		if !ok {
			return x
		}
		g := Reshape(SliceAxis(gates, 0, AxisElem(l)), k, batch, 1, 1)
		return ScatterSum(x, indices, Mul(vectors, g), false, false)
	}
}

// pointName is the hook point of kind (e.g. "hook_resid_pre") in block l.
func pointName(kind string, l int) string { return fmt.Sprintf("blocks.%d.%s", l, kind) }

// steeringInputs packs the per-row additions of a batch (rows[b], at most k each, possibly none)
// into the vectors, positions and gates tensors.
func steeringInputs(rows [][]*placedAddition, k, nLayer, d int) []any {
	span := 1
	for _, r := range rows {
		for _, a := range r {
			span = max(span, a.vector.N)
		}
	}
	batch := len(rows)
	vec := make([]float32, k*batch*span*d)
	pos := make([]int32, k*batch*span)
	gat := make([]float32, nLayer*k*batch)
	for b, r := range rows {
		for s, a := range r {
			slot := s*batch + b
			copy(vec[slot*span*d:], a.vector.Data)
			for j := range span {
				// Rows past the vector's length are zero; point them at its last position.
				pos[slot*span+j] = int32(a.start + min(j, a.vector.N-1))
			}
			gat[(a.layer*k+s)*batch+b] = float32(a.coeff)
		}
	}
	return []any{
		tensors.FromFlatDataAndDimensions(vec, k, batch, span, d),
		tensors.FromFlatDataAndDimensions(pos, k, batch, span),
		tensors.FromFlatDataAndDimensions(gat, nLayer, k, batch),
	}
}

// placedAddition is one steering vector placed in one row.
type placedAddition struct {
	vector *Vector
	layer  int
	coeff  float64
	start  int // first position the vector covers
}

// steeredProgram returns the program named name for calls steering prep's kind of point with
// prep.k slots (one program per name, point and k; its graph is built once per input shape).
// build receives the hook that applies the steering inputs (nil when unsteered).
func (m *Model) steeredProgram(name string, prep *prepared, build func(w *gpt2.Weights, in []*Node, hook gpt2.Hook) []*Node) (*gpt2.Program, error) {
	k, point := prep.k, prep.point
	return m.program(fmt.Sprintf("%s/%s/%d", name, point, k), func() (*gpt2.Program, error) {
		return m.NewProgram("actadd."+name, func(w *gpt2.Weights, in []*Node) []*Node {
			return build(w, in, steeringHook(point, k, in))
		})
	})
}
