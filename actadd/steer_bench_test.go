package actadd_test

import (
	"testing"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/experiments"
)

// BenchmarkSteeringOps measures the steering premium of the paper's overhead workload (E4:
// gpt2-small shape, 32 × 64 tokens, the vector of "This is a test prompt." − "" at layer 6)
// without the noise of timing whole forward passes: the steering ops alone
// (experiments.SteeringOpsTime, 200 ABBA pairs), as a percentage of an unsteered forward pass timed in
// the same run. Run with:
//
//	GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 go test ./actadd -run '^$' -bench SteeringOps -benchtime 3x
func BenchmarkSteeringOps(b *testing.B) {
	m := gpt2Shaped(b)
	const batch, seq, reps = 32, 64, 200
	add := actadd.Pair("This is a test prompt.", "", 1).AtLayer(m.Layers() / 2)
	rows := experiments.OverheadTokens(0, batch, seq, m.VocabSize())
	if _, err := m.ForwardTokens(rows); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	var ops, forward time.Duration
	for range b.N {
		t, err := experiments.SteeringOpsTime(m, add, batch, seq, reps)
		if err != nil {
			b.Fatal(err)
		}
		ops += t
		start := time.Now()
		if _, err := m.ForwardTokens(rows); err != nil {
			b.Fatal(err)
		}
		forward += time.Since(start)
	}
	b.ReportMetric(float64(ops.Microseconds())/float64(b.N), "steering-µs/forward")
	b.ReportMetric(forward.Seconds()/float64(b.N), "forward-s")
	b.ReportMetric(100*ops.Seconds()/forward.Seconds(), "premium-%")
}
