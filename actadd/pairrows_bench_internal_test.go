package actadd

import (
	"fmt"
	"testing"
	"time"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
)

// BenchmarkSweepPairRows times a generation sweep (gpt2-small shape, random weights: every layer
// × 3 coefficients of " weddings" − "", 10 new tokens each, the paper's sampler, batches of 32)
// on a cold model, building its vectors with pair rows and with a separate vector pass,
// alternated, and reports each one's wall time and programs compiled. Run with:
//
//	GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 go test ./actadd -run '^$' -bench SweepPairRows -benchtime 4x
func BenchmarkSweepPairRows(b *testing.B) {
	cfg, _ := checkpoint.KnownConfig("gpt2")
	weights := checkpoint.RandomTensors(cfg, 1)
	var rows []Row
	for l := range cfg.NLayer {
		for _, c := range []float64{-1, 1, 4} {
			rows = append(rows, Row{Prompt: "I went up to my friend and said", Adds: []Addition{Pair(" weddings", "", c).AtLayer(l)}})
		}
	}
	opts := GenerateOptions{MaxNewTokens: 10, Sampling: PaperSampling, BatchSize: 32}
	var seconds [2]float64
	var builds [2]int64
	for i := range b.N {
		for k := range 2 {
			pairRows := (i+k)%2 == 0
			g, err := gpt2.New(testbackend.Get(b), "random weights, gpt2 shape", cfg, weights)
			if err != nil {
				b.Fatal(err)
			}
			m, err := Wrap(g, nil, "go")
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if _, err := m.generate(rows, opts, pairRows); err != nil {
				b.Fatal(err)
			}
			j := 0
			if !pairRows {
				j = 1
			}
			seconds[j] += time.Since(start).Seconds()
			builds[j] = m.Builds()
			m.Finalize()
		}
	}
	for j, name := range []string{"pair-rows", "vector-pass"} {
		b.ReportMetric(seconds[j]/float64(b.N), name+"-s")
		b.ReportMetric(float64(builds[j]), name+"-compiles")
	}
	fmt.Printf("pair rows %.2fs (%d compiles), vector pass %.2fs (%d compiles), per sweep\n",
		seconds[0]/float64(b.N), builds[0], seconds[1]/float64(b.N), builds[1])
}
