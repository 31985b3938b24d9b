package actadd_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/abba"
	"github.com/actadd-go/actadd/internal/testbackend"
)

// Benchmarks on a random-weight model of gpt2 (small) shape, go backend. Run with:
//
//	GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 go test ./actadd -run '^$' -bench . -benchtime 3x

var (
	smallOnce  sync.Once
	smallModel *actadd.Model
)

func gpt2Shaped(b *testing.B) *actadd.Model {
	smallOnce.Do(func() {
		cfg, _ := checkpoint.KnownConfig("gpt2")
		g, err := gpt2.New(testbackend.Get(b), "random weights, gpt2 shape", cfg, checkpoint.RandomTensors(cfg, 1))
		if err != nil {
			b.Fatal(err)
		}
		if smallModel, err = actadd.Wrap(g, nil, "go"); err != nil {
			b.Fatal(err)
		}
	})
	return smallModel
}

// BenchmarkPremium is the paper's overhead measurement (E4): forward passes on 32 × 64 random
// tokens, baseline and with the addition "This is a test prompt." − "" at layer L/2, alternated
// in ABBA order so both see the same machine conditions. It reports both times and the premium.
func BenchmarkPremium(b *testing.B) {
	m := gpt2Shaped(b)
	rows := experiments.OverheadTokens(0, 32, 64, m.VocabSize())
	add := actadd.Pair("This is a test prompt.", "", 1).AtLayer(m.Layers() / 2)
	for _, adds := range [][]actadd.Addition{nil, {add}} { // compile and warm up
		if _, err := m.ForwardTokens(rows, adds...); err != nil {
			b.Fatal(err)
		}
	}
	timed := func(adds ...actadd.Addition) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			start := time.Now()
			_, err := m.ForwardTokens(rows, adds...)
			return time.Since(start), err
		}
	}
	var base, steered time.Duration
	b.ResetTimer()
	for i := range b.N {
		tb, ts, err := abba.Pair(i, timed(), timed(add))
		if err != nil {
			b.Fatal(err)
		}
		base, steered = base+tb, steered+ts
	}
	b.ReportMetric(base.Seconds()/float64(b.N), "base-s/op")
	b.ReportMetric(steered.Seconds()/float64(b.N), "steered-s/op")
	b.ReportMetric(100*(steered.Seconds()/base.Seconds()-1), "premium-%")
}

// BenchmarkGenerate samples 200 completions × 40 new tokens of the 9-token (with BOS) E2 prompt
// with the paper's sampler, steered at layer 6, in batches of 32 and of 200 rows, and reports
// aggregate tokens per second.
func BenchmarkGenerate(b *testing.B) {
	m := gpt2Shaped(b)
	prompts := make([]string, 200)
	for i := range prompts {
		prompts[i] = "I went up to my friend and said"
	}
	add := actadd.Pair(" weddings", "", 1).AtLayer(6)
	for _, batch := range []int{32, 200} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			opts := actadd.GenerateOptions{MaxNewTokens: 40, Sampling: actadd.PaperSampling, BatchSize: batch}
			warm := opts
			warm.MaxNewTokens = 2
			if _, err := m.Generate(prompts, warm, add); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, err := m.Generate(prompts, opts, add); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*200*40)/time.Since(start).Seconds(), "tokens/s")
		})
	}
}

// BenchmarkDecode is the decoding workload of the CPU target: 200 unsteered completions × 40
// new tokens of the 9-token E2 prompt in batches of 32, greedy and with the paper's sampler,
// reporting aggregate tokens per second. Profile it with -cpuprofile.
func BenchmarkDecode(b *testing.B) {
	m := gpt2Shaped(b)
	prompts := make([]string, 200)
	for i := range prompts {
		prompts[i] = "I went up to my friend and said"
	}
	for _, s := range []struct {
		name     string
		sampling actadd.Sampling
	}{{"greedy", actadd.Greedy}, {"paper", actadd.PaperSampling}} {
		b.Run(s.name, func(b *testing.B) {
			opts := actadd.GenerateOptions{MaxNewTokens: 40, Sampling: s.sampling, BatchSize: 32}
			warm := opts
			warm.MaxNewTokens = 2
			if _, err := m.Generate(prompts[:32], warm); err != nil { // compile
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if _, err := m.Generate(prompts, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*200*40)/time.Since(start).Seconds(), "tokens/s")
		})
	}
}
