package llama

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/actadd-go/actadd/internal/testbackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestQKVProjectionFusedEqualsDecomposed checks the backend's fused q/k/v projection against
// the matmul-and-slices fallback other backends take, with and without biases.
func TestQKVProjectionFusedEqualsDecomposed(t *testing.T) {
	b := testbackend.Get(t)
	r := rand.New(rand.NewPCG(1, 2))
	randT := func(dims ...int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	const d, qDim, kvDim = 12, 16, 8
	x, w, bias := randT(3, 5, d), randT(d, qDim+2*kvDim), randT(qDim+2*kvDim)
	for _, withBias := range []bool{false, true} {
		exec, err := NewExec(b, func(x, w, bias *Node) []*Node {
			if !withBias {
				bias = nil
			}
			q, k, v := qkvProjection(x, w, bias, qDim, kvDim)
			return append([]*Node{q, k, v}, qkvDecomposed(x, w, bias, qDim, kvDim)...)
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Exec(x, w, bias)
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"q", "k", "v"} {
			fused, dec := outs[i].Value().([][][]float32), outs[i+3].Value().([][][]float32)
			if got, want := outs[i].Shape(), outs[i+3].Shape(); !got.Equal(want) {
				t.Fatalf("bias %v, %s: fused shape %s, decomposed %s", withBias, name, got, want)
			}
			for a := range fused {
				for s := range fused[a] {
					for j := range fused[a][s] {
						if diff := math.Abs(float64(fused[a][s][j] - dec[a][s][j])); diff > 1e-5*(1+math.Abs(float64(dec[a][s][j]))) {
							t.Fatalf("bias %v, %s[%d,%d,%d]: fused %g, decomposed %g", withBias, name, a, s, j, fused[a][s][j], dec[a][s][j])
						}
					}
				}
			}
		}
	}
}
