//go:build goexperiment.simd

package actadd

import (
	"simd"

	"github.com/gomlx/compute/support/simdmath"
)

// expShifted sets dst[i] = exp(x[i] − shift). In GOEXPERIMENT=simd builds it uses the vector
// exponential of GoMLX's go backend (compute's simdmath.ExpFloat64, the backend's float64 Exp),
// so that the host sampler's weights are those the device sampler computes on that backend; it
// is also several times faster than math.Exp there.
func expShifted(dst, x []float64, shift float64) {
	s := simd.BroadcastFloat64s(shift)
	n := s.Len()
	i := 0
	for ; i+n <= len(x); i += n {
		simdmath.ExpFloat64(simd.LoadFloat64s(x[i:]).Sub(s)).Store(dst[i:])
	}
	if i < len(x) {
		v, _ := simd.LoadFloat64sPart(x[i:])
		simdmath.ExpFloat64(v.Sub(s)).StorePart(dst[i:])
	}
}
