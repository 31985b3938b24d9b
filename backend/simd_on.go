//go:build goexperiment.simd

package backend

// simdEnabled reports whether the binary was built with GOEXPERIMENT=simd, which compiles
// the go backend's fast (AVX2/AVX-512) matmul.
const simdEnabled = true
