// Package machine describes what a result depends on besides its inputs and the code that
// computes it: the numerics of the backend that ran the model (Numerics), and, for timings, the
// CPU (CPU). Run stores (package runstore) put these descriptions in their keys, so that a
// store shared by other machines or builds never hands back a result this one would compute
// differently.
package machine

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/klauspost/cpuid/v2"
)

// numericModules are the modules whose code computes the model's floating-point results: a
// change of their version can change the last bits of every result.
var numericModules = []string{"github.com/gomlx/compute", "github.com/gomlx/gomlx", "github.com/gomlx/go-xla"}

// Numerics names, for results computed on the backend named backend (actadd.Model.BackendName,
// e.g. "go" or "xla:cuda"), what their floating-point rounding depends on besides the inputs:
// the backend, the architecture, the go backend's SIMD kernels (compiled with
// GOEXPERIMENT=simd, chosen by the CPU's AVX2 and AVX-512 and GoMLX's switches for them) and the
// versions of the GoMLX modules, e.g.
//
//	go; linux/amd64; GOEXPERIMENT=simd, AVX-512 kernels; github.com/gomlx/compute v0.1.14, …
func Numerics(backend string) string {
	return fmt.Sprintf("%s; %s/%s; %s", backend, runtime.GOOS, runtime.GOARCH, build())
}

// build is the part of Numerics that holds for the whole process (GoMLX reads its SIMD
// switches once too), worked out once: keys are made for every unit of work.
var build = sync.OnceValue(func() string { return simdKernels() + "; " + moduleVersions() })

// CPU names the CPU model, its logical cores and the cores Go uses, e.g. "Intel(R) Xeon(R)
// Platinum 8581C CPU @ 2.30GHz; 2 logical cores, GOMAXPROCS 2": what timings depend on.
func CPU() string {
	name := strings.TrimSpace(cpuid.CPU.BrandName)
	if name == "" {
		name = fmt.Sprintf("%s family %d model %d", cpuid.CPU.VendorString, cpuid.CPU.Family, cpuid.CPU.Model)
	}
	return fmt.Sprintf("%s; %d logical cores, GOMAXPROCS %d", name, runtime.NumCPU(), runtime.GOMAXPROCS(0))
}

// moduleVersions lists the versions of numericModules this binary was built with (a replaced
// module by its replacement).
func moduleVersions() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "module versions unknown"
	}
	var parts []string
	for _, d := range info.Deps {
		for _, want := range numericModules {
			if d.Path != want {
				continue
			}
			v := d.Path + " " + d.Version
			if r := d.Replace; r != nil {
				v += " => " + strings.TrimSpace(r.Path+" "+r.Version)
			}
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return "module versions unknown"
	}
	return strings.Join(parts, ", ")
}
