//go:build amd64 && goexperiment.simd

package machine

import (
	"simd/archsimd"

	"github.com/gomlx/compute/support/envutil"
)

// simdKernels names the go backend's SIMD kernels as package compute's go backend chooses them:
// AVX-512 or AVX2 when the CPU has them and GOMLX_GO_SIMD_AVX512 / GOMLX_GO_SIMD_AVX2 do not turn
// them off, with the CPU's vector width for its portable SIMD code.
func simdKernels() string {
	switch {
	case envutil.MustReadBool(envutil.GoBackendSIMD_AVX512, true) && archsimd.X86.AVX512():
		return "GOEXPERIMENT=simd, AVX-512 kernels"
	case envutil.MustReadBool(envutil.GoBackendSIMD_AVX2, true) && archsimd.X86.AVX2():
		return "GOEXPERIMENT=simd, AVX2 kernels, " + vectorWidth()
	}
	return "GOEXPERIMENT=simd, no AVX2 kernels, " + vectorWidth()
}

// vectorWidth is the widest vectors the CPU has, which portable SIMD code uses.
func vectorWidth() string {
	switch {
	case archsimd.X86.AVX512():
		return "512-bit vectors"
	case archsimd.X86.AVX2():
		return "256-bit vectors"
	}
	return "128-bit vectors"
}
