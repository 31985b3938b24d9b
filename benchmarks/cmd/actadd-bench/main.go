// Command actadd-bench runs the project's benchmarks and the PyTorch reference on the same
// shapes (see package benchmarks), writes benchmarks/results/<timestamp>.json and latest.json,
// prints tables and, last, one summary line:
//
//	forward_ratio_vs_torch=… greedy_ratio_vs_torch=… sampled_ratio_vs_torch=… sampler_ms_per_step=…
//	premium_pct=… sweep_compiles=… gen_ratio_vs_torch=… premium_ops_pct=…
//	llama_forward_ratio_vs_torch=… llama_greedy_ratio_vs_torch=…
//
// Run it from the repository root through `make bench` (which installs PyTorch and sets
// GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1). BENCH_QUICK=1 (or -quick) uses small sizes.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/actadd-go/actadd/benchmarks"
)

func main() {
	quick, _ := strconv.ParseBool(os.Getenv("BENCH_QUICK"))
	flag.BoolVar(&quick, "quick", quick, "small sizes for fast iteration (default from $BENCH_QUICK)")
	models := flag.String("models", "", "forward models and timed repetitions per arm, e.g. gpt2:5,gpt2-medium:3 (default: 10 and 3; quick: gpt2:2); none: no forward section")
	genModel := flag.String("gen-model", "", "model shape for generation and the sweep (default gpt2); none: neither")
	python := flag.String("python", "/usr/bin/python3", "Python with PyTorch for the reference; empty to skip it")
	torchDevice := flag.String("torch-device", "cpu", "where the PyTorch reference runs: cpu, or cuda on a GPU machine")
	torchThreads := flag.Int("torch-threads", 0, "CPU threads of the PyTorch reference (default 2, the Go side's cores here)")
	script := flag.String("torch-script", "benchmarks/torch_reference.py", "the PyTorch reference script")
	out := flag.String("out", "benchmarks/results", "folder for the JSON results")
	genRows := flag.Int("gen-rows", 0, "completions to generate (default 200; quick 16)")
	genTokens := flag.Int("gen-tokens", 0, "new tokens per completion (default 40; quick 8)")
	sweepTokens := flag.Int("sweep-tokens", 0, "new tokens per sweep completion (default 10; quick 2)")
	sweep := flag.Bool("sweep", true, "run the layer × coefficient sweep on the -gen-model shape")
	greedy := flag.Bool("greedy", true, "also time greedy generation on the -gen-model shape")
	oneCore := flag.Bool("one-core", true, "also compare Go and PyTorch with one thread each (go backend only)")
	samplerTime := flag.Duration("sampler-time", 0, "how long go-benchmarks times the sampler alone (default 2s; quick 300ms); negative (-1s): skip")
	calibrate := flag.Bool("torch-calibrate", true, "first pick the PyTorch reference's fastest setup (OpenBLAS core type, thread pools, output buffers)")
	inheritEnv := flag.Bool("torch-inherit-env", false, "pass the inherited OMP_*, OPENBLAS_*, MKL_* variables to the PyTorch reference")
	e2 := flag.String("e2", "", "also run E2 end to end (the paper's size) on a checkpoint folder or a model shape such as gpt2-xl (random weights)")
	e2Completions := flag.Int("e2-completions", 0, "E2 completions per setting (default: the paper's 200)")
	e2Tokens := flag.Int("e2-tokens", 0, "E2 new tokens per completion (default: the paper's 40)")
	e1 := flag.String("e1", "", "also run E1's scoring end to end on a checkpoint folder or a model shape (synthetic documents)")
	e1Docs := flag.Int("e1-docs", 400, "E1: synthetic documents to score")
	llamaShapes := flag.String("llama", "", "Llama-family shapes (random weights) and forward pairs, e.g. smollm2-135m:5,qwen2.5-0.5b:3 (the default; quick: smollm2-135m:1); none: skip them")
	llamaBatches := flag.Int("llama-gen-batches", 0, "greedy batches per Llama-family shape (default 3; quick 1)")
	flag.Parse()

	opts := benchmarks.FullOptions()
	if quick {
		opts = benchmarks.QuickOptions()
	}
	switch *models {
	case "":
	case "none":
		opts.Forward = nil
	default:
		mr, err := benchmarks.ParseModels(*models)
		if err != nil {
			fail(err)
		}
		opts.Forward = mr
	}
	switch *genModel {
	case "":
	case "none":
		opts.GenModel = ""
	default:
		if _, err := benchmarks.ParseModels(*genModel); err != nil || strings.Contains(*genModel, ",") {
			fail(fmt.Errorf("-gen-model %q: want one model shape such as gpt2-xl", *genModel))
		}
		opts.GenModel = *genModel
	}
	for _, o := range []struct {
		flag int
		dst  *int
	}{{*genRows, &opts.GenRows}, {*genTokens, &opts.GenNewTokens}, {*sweepTokens, &opts.SweepNewTokens}} {
		if o.flag > 0 {
			*o.dst = o.flag
		}
	}
	switch *llamaShapes {
	case "":
	case "none":
		opts.Llama = nil
	default:
		ls, err := benchmarks.ParseLlamaShapes(*llamaShapes)
		if err != nil {
			fail(err)
		}
		opts.Llama = ls
	}
	if *llamaBatches > 0 {
		opts.LlamaGenBatches = *llamaBatches
	}
	if !*sweep {
		opts.SweepCoeffs = nil
	}
	opts.GenGreedy = opts.GenGreedy && *greedy
	if !*oneCore {
		opts.OneCoreReps, opts.OneCoreGenBatches = 0, 0
	}
	switch {
	case *samplerTime < 0:
		opts.SamplerTime = 0
	case *samplerTime > 0:
		opts.SamplerTime = *samplerTime
	}
	opts.TorchCalibrate, opts.TorchInheritEnv = *calibrate, *inheritEnv
	opts.E2, opts.E2Completions, opts.E2NewTokens, opts.E1, opts.E1Docs = *e2, *e2Completions, *e2Tokens, *e1, *e1Docs
	opts.Python, opts.TorchScript, opts.TorchDevice = strings.TrimSpace(*python), *script, *torchDevice
	if *torchThreads > 0 {
		opts.TorchThreads = *torchThreads
	}
	opts.Log = os.Stderr
	opts.Sections = func(res *benchmarks.Result) { // a run cut short keeps what it measured
		if _, err := benchmarks.WriteJSON(res, *out); err != nil {
			fmt.Fprintln(os.Stderr, "actadd-bench:", err)
		}
	}

	res, err := benchmarks.Run(opts)
	if err != nil {
		fail(err)
	}
	path, err := benchmarks.WriteJSON(res, *out)
	if err != nil {
		fail(err)
	}
	fmt.Println()
	benchmarks.PrintTable(os.Stdout, res)
	fmt.Printf("results: %s (and %s/latest.json)\n", path, *out)
	fmt.Println(benchmarks.SummaryLine(res))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "actadd-bench:", err)
	os.Exit(1)
}
