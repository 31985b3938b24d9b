// Package fuzzcheck holds the bounds that the fuzz targets of this module check on every input,
// beyond "no panic": that a reader of outside bytes finishes (no hang), and that what it
// allocates is bounded by the size of its input (no allocation sized by a header field that was
// never checked against the file).
//
// Both checks are deliberately generous, so that they fail only on gross faults and never on a
// slow or busy machine: a hang, an allocation of gigabytes for a file of kilobytes.
package fuzzcheck

import (
	"runtime"
	"testing"
	"time"
)

// Deadline is the time one input may take before it counts as a hang. Inputs of the fuzzer are
// kilobytes; every reader here handles them in milliseconds.
const Deadline = 20 * time.Second

// Slack is the allocation every input may make regardless of its size (buffers, maps, the
// runtime's own work while it runs).
const Slack = 32 << 20

// Run calls fn and fails t when fn has not returned within Deadline; it returns the bytes
// fn allocated (the runtime's cumulative TotalAlloc across fn: allocations of other goroutines
// running meanwhile count too, which only errs on the side of a larger number).
//
// A call that never returns is left running: the failure ends the test or the fuzzing.
func Run(t testing.TB, fn func()) (allocated uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan struct{})
	go func() {
		// A panic here ends the process with fn's stack, which the fuzzer records as a crash.
		fn()
		close(done)
	}()
	timer := time.NewTimer(Deadline)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("no result after %v: the input makes the reader hang", Deadline)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Bounded is Run that also fails t when fn allocates more than Slack plus perByte bytes for each
// of the n bytes of its input.
func Bounded(t testing.TB, n int, perByte uint64, fn func()) {
	t.Helper()
	allocated := Run(t, fn)
	if limit := Slack + perByte*uint64(n); allocated > limit {
		t.Fatalf("an input of %d bytes made the reader allocate %d bytes, more than the bound of %d: an allocation is sized by something other than the input", n, allocated, limit)
	}
}
