package gpt2_test

import (
	"math/rand/v2"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
)

// BenchmarkForward times one forward pass (logits for every position) of a random-weight model
// of gpt2 (small) shape on a batch of 32 × 64 random tokens, on the go backend — the workload of
// the paper's overhead measurement (E4). Run with:
//
//	GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 go test ./gpt2 -run '^$' -bench Forward -benchtime 3x
func BenchmarkForward(b *testing.B) {
	cfg, _ := checkpoint.KnownConfig("gpt2")
	m, err := gpt2.New(testbackend.Get(b), "random gpt2-shaped", cfg, checkpoint.RandomTensors(cfg, 1))
	if err != nil {
		b.Fatal(err)
	}
	rows := randomRows(rand.New(rand.NewPCG(1, 2)), 32, 64, cfg.VocabSize)
	if _, err := m.Run(rows); err != nil { // compile and warm up
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		out, err := m.Run(rows)
		if err != nil {
			b.Fatal(err)
		}
		out.Logits.FinalizeAll()
	}
}
