package backend

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestSmallMatmulsUnderRace runs float32 matmuls of the shapes that take the go backend's small
// AVX-512 and AVX2 kernels (fewer than 4 rows, a column tail, one column, batches), and one
// that takes the packed large kernels, and checks them against a float64 product. It is the
// minimal repro of a crash under `go test -race`:
// github.com/gomlx/compute v0.1.14 as published keeps Go heap addresses in uintptr variables and
// converts them back after arithmetic, which -race's pointer checks (-d=checkptr) stop with
// "fatal error: checkptr: pointer arithmetic result points to invalid allocation". The module is
// replaced by the patched copy in third_party/compute; `make race` runs this test to hold it to
// that (docs/upstream-compute-checkptr.md).
func TestSmallMatmulsUnderRace(t *testing.T) {
	b, err := Go()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][4]int{ // batch, rows, contracting, columns
		{1, 3, 8, 24}, {1, 5, 8, 67}, {2, 4, 16, 16}, {1, 7, 33, 1}, {3, 1, 64, 5}, {1, 9, 130, 80},
		{2, 70, 200, 161}, // past the small kernels' 4 Mi-flop limit: the packed large kernels
	} {
		batch, m, k, n := s[0], s[1], s[2], s[3]
		x, y := make([]float32, batch*m*k), make([]float32, batch*k*n)
		for i := range x {
			x[i] = float32(i%13) - 6
		}
		for i := range y {
			y[i] = float32(i%7)/4 - 0.5
		}
		out, err := graph.CallOnce(b, func(x, y *graph.Node) *graph.Node {
			return graph.MatMul(graph.Reshape(x, batch, m, k), graph.Reshape(y, batch, k, n))
		}, x, y)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		got, err := tensors.CopyFlatData[float32](out)
		if err != nil {
			t.Fatal(err)
		}
		for bi := range batch {
			for i := range m {
				for j := range n {
					var want float64
					for l := range k {
						want += float64(x[(bi*m+i)*k+l]) * float64(y[(bi*k+l)*n+j])
					}
					if g := got[(bi*m+i)*n+j]; math.Abs(float64(g)-want) > 1e-4*(1+math.Abs(want)) {
						t.Fatalf("%s: [%d,%d,%d] = %v, want %v", fmt.Sprint(s), bi, i, j, g, want)
					}
				}
			}
		}
	}
}
