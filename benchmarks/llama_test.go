package benchmarks

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/llama"
)

// TestLlamaGreedyDecoder checks the benchmark's cached greedy decoder against greedy decoding
// by whole forward passes.
func TestLlamaGreedyDecoder(t *testing.T) {
	cfg := LlamaShapes["tiny-qwen2"]
	m, err := llama.New(testbackend.Get(t), "tiny", cfg, llama.RandomTensors(cfg, 3))
	if err != nil {
		t.Fatal(err)
	}
	const batch, promptLen, newTokens = 2, 5, 6
	dec, err := newLlamaGreedy(m, batch, promptLen, newTokens)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.finalize()
	prompt := randomTokenRows(4, 1, promptLen, cfg.VocabSize)[0]
	got, err := dec.run(prompt)
	if err != nil {
		t.Fatal(err)
	}
	seq := append([]int(nil), prompt...)
	for i := range newTokens {
		out, err := m.Run([][]int{seq})
		if err != nil {
			t.Fatal(err)
		}
		logits := out.Logits.Value().([][][]float32)[0][len(seq)-1]
		best := 0
		for j, v := range logits {
			if v > logits[best] {
				best = j
			}
		}
		for b := range batch {
			if int(got[b][i]) != best {
				t.Fatalf("row %d token %d: decoder %d, forward passes %d (decoded %v)", b, i, got[b][i], best, got[b])
			}
		}
		seq = append(seq, best)
	}
}

// TestLlamaSmoke runs the Llama section at a tiny size without PyTorch: it checks that it runs
// and reports, not how fast.
func TestLlamaSmoke(t *testing.T) {
	res, err := Run(Options{Llama: []ModelReps{{"tiny-qwen2", 2}}, LlamaGenBatches: 2, Batch: 2, Seq: 8, GenBatch: 2, GenNewTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Llama) != 1 {
		t.Fatalf("llama results: %+v", res.Llama)
	}
	l := res.Llama[0]
	if len(l.Forward) != 2 || len(l.Greedy) != 2 || l.GreedyTokensPerSecond <= 0 || l.ForwardRatio != nil {
		t.Errorf("llama result incomplete (or a ratio without PyTorch): %+v", l)
	}
	var b strings.Builder
	PrintTable(&b, res)
	if !strings.Contains(b.String(), "tiny-qwen2") || !strings.Contains(SummaryLine(res), "llama_forward_ratio_vs_torch=na llama_greedy_ratio_vs_torch=na") {
		t.Errorf("report lacks the llama section:\n%s\n%s", b.String(), SummaryLine(res))
	}
}

// BenchmarkLlamaGreedy times one greedy batch ($LLAMA_BENCH_BATCH rows, default 32, × 40 new
// tokens after a 9-token prompt) of a random-weight SmolLM2-135M-shaped model with the
// benchmark's cached decoder, on the go backend:
//
//	GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1 go test ./benchmarks -run '^$' -bench LlamaGreedy -benchtime 2x
func BenchmarkLlamaGreedy(b *testing.B) {
	batch := 32
	if v, err := strconv.Atoi(os.Getenv("LLAMA_BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	cfg := LlamaShapes["smollm2-135m"]
	m, err := llama.New(testbackend.Get(b), "random smollm2-135m-shaped", cfg, llama.RandomTensors(cfg, 1))
	if err != nil {
		b.Fatal(err)
	}
	defer m.Finalize()
	dec, err := newLlamaGreedy(m, batch, 9, 40)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.finalize()
	prompt := randomTokenRows(0, 1, 9, cfg.VocabSize)[0]
	if _, err := dec.run(prompt); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := dec.run(prompt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*40*b.N)/b.Elapsed().Seconds(), "tok/s")
}

func TestParseLlamaShapes(t *testing.T) {
	got, err := ParseLlamaShapes("smollm2-135m:5, qwen2.5-0.5b")
	if err != nil || len(got) != 2 || got[0] != (ModelReps{"smollm2-135m", 5}) || got[1] != (ModelReps{"qwen2.5-0.5b", 3}) {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"gpt2:3", "smollm2-135m:x", "llama-70b"} {
		if _, err := ParseLlamaShapes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestTorchLlamaMatchesGo checks that the PyTorch baseline (torch_reference.py's Llama class)
// computes what package llama computes, on tiny checkpoints of each switch the benchmark
// shapes use; it skips where PyTorch is not installed ($ACTADD_TEST_PYTHON, default
// /usr/bin/python3).
func TestTorchLlamaMatchesGo(t *testing.T) {
	python := os.Getenv("ACTADD_TEST_PYTHON")
	if python == "" {
		python = "/usr/bin/python3"
	}
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s cannot import torch (%v): the PyTorch baseline is not checked", python, err)
	}
	base := LlamaShapes["tiny-qwen2"]
	smol := base
	smol.ModelType, smol.NumKeyValueHeads, smol.HeadDim = "llama", 1, 12
	for name, cfg := range map[string]llama.Config{"qwen2": base, "llama-untied": func() llama.Config { c := smol; c.TieWordEmbeddings = false; return c }()} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := llama.WriteRandom(dir, cfg, llama.RandomOptions{Seed: 9}); err != nil {
				t.Fatal(err)
			}
			ids := []int{1, 5, 9, 13, 17, 21, 25}
			out, err := exec.Command(python, "torch_llama_check.py", dir, "1,5,9,13,17,21,25").Output()
			if err != nil {
				t.Fatalf("torch_llama_check.py: %v", err)
			}
			var torchOut struct{ Full, Cached [][]float64 }
			if err := json.Unmarshal(out, &torchOut); err != nil {
				t.Fatal(err)
			}
			m, err := llama.Load(testbackend.Get(t), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Finalize()
			res, err := m.Run([][]int{ids})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Logits.Value().([][][]float32)[0]
			for what, want := range map[string][][]float64{"full": torchOut.Full, "cached": torchOut.Cached} {
				var diff, scale float64
				for i := range want {
					for j := range want[i] {
						diff = max(diff, math.Abs(float64(got[i][j])-want[i][j]))
						scale = max(scale, math.Abs(want[i][j]))
					}
				}
				if diff > 1e-4*scale {
					t.Errorf("PyTorch's %s logits differ from package llama's by %.3g (values up to %.3g)", what, diff, scale)
				}
			}
		})
	}
}
