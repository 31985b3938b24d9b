package actadd

import (
	"fmt"

	"github.com/actadd-go/actadd/gpt2"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// This file is where the residual stream is edited.
//
// A steered program takes two runtime inputs besides the tokens:
//
//	vectors [K, batch, seq, d_model]  float32: K addition slots per row, each an (unscaled)
//	                                  steering vector already placed at its positions (front,
//	                                  mid or back) and zero elsewhere;
//	gates   [n_layer, K, batch]       float32: the coefficient of slot k of row b at layer l,
//	                                  zero at every layer but the slot's own.
//
// At the hook point of every layer l (blocks.{l}.hook_resid_pre unless the addition names another
// kind of point) the hook adds Σ_k gates[l,k,b] · vectors[k,b] to the stream. Because vectors,
// coefficients and layers are all inputs, a sweep over them reuses one compiled program, and each
// row of a batch can carry its own configuration (or none: zero gates).

// steeringHook returns the hook that adds the steering inputs at every layer's point of the
// given kind (e.g. "hook_resid_pre").
func steeringHook(kind string, vectors, gates *Node) gpt2.Hook {
	nLayer := gates.Shape().Dimensions[0]
	k, batch := gates.Shape().Dimensions[1], gates.Shape().Dimensions[2]
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
		delta := ReduceSum(Mul(vectors, g), 0) // [batch, seq, d_model]
		return Add(x, delta)
	}
}

// pointName is the hook point of kind (e.g. "hook_resid_pre") in block l.
func pointName(kind string, l int) string { return fmt.Sprintf("blocks.%d.%s", l, kind) }

// steeringInputs packs the per-row additions of a batch into the vectors and gates tensors.
// rows[b] lists the additions of row b (at most k, possibly none).
func steeringInputs(rows [][]*placedAddition, k, nLayer, seq, d int) (vectors, gates *tensors.Tensor) {
	batch := len(rows)
	vec := make([]float32, k*batch*seq*d)
	gat := make([]float32, nLayer*k*batch)
	for b, r := range rows {
		for s, a := range r {
			base := ((s*batch+b)*seq + a.start) * d
			copy(vec[base:base+len(a.vector.Data)], a.vector.Data)
			gat[(a.layer*k+s)*batch+b] = float32(a.coeff)
		}
	}
	return tensors.FromFlatDataAndDimensions(vec, k, batch, seq, d),
		tensors.FromFlatDataAndDimensions(gat, nLayer, k, batch)
}

// placedAddition is one steering vector placed in one row.
type placedAddition struct {
	vector *Vector
	layer  int
	coeff  float64
	start  int // first position the vector covers
}
