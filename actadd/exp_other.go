//go:build !goexperiment.simd

package actadd

import "math"

// expShifted sets dst[i] = exp(x[i] − shift), with math.Exp as the go backend's float64 Exp in
// builds without GOEXPERIMENT=simd.
func expShifted(dst, x []float64, shift float64) {
	for i, v := range x {
		dst[i] = math.Exp(v - shift)
	}
}
