//go:build !(amd64 && goexperiment.simd)

package machine

// simdKernels names the go backend's SIMD kernels: none without GOEXPERIMENT=simd on amd64.
func simdKernels() string { return "no SIMD kernels" }
