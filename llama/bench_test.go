package llama_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/llama"
)

// BenchmarkForward times one forward pass (logits for every position) of random-weight models
// of SmolLM2-135M and Qwen2.5-0.5B shape on a batch of random tokens (default 32 × 64, or
// $LLAMA_BENCH_BATCH × $LLAMA_BENCH_SEQ), on the go backend. Run with:
//
//	GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 go test ./llama -run '^$' -bench Forward -benchtime 3x
//
// benchmarks.RunLlama compares the same workload with PyTorch, interleaved.
func BenchmarkForward(b *testing.B) {
	batch, seq := envInt("LLAMA_BENCH_BATCH", 32), envInt("LLAMA_BENCH_SEQ", 64)
	for _, name := range []string{"HuggingFaceTB/SmolLM2-135M", "Qwen/Qwen2.5-0.5B"} {
		b.Run(name, func(b *testing.B) {
			cfg, err := llama.ParseConfig([]byte(hubConfigs[name]))
			if err != nil {
				b.Fatal(err)
			}
			m, err := llama.New(testbackend.Get(b), "random "+name+"-shaped", cfg, llama.RandomTensors(cfg, 1))
			if err != nil {
				b.Fatal(err)
			}
			defer m.Finalize()
			rows := randomRows(1, batch, seq, cfg.VocabSize)
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
		})
	}
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}
