// Package benchmarks measures the project's speed against a PyTorch baseline (`make bench`).
// Every comparison with PyTorch is interleaved: the reference runs as a server process beside
// the Go program, and each repetition runs the Go and the PyTorch arm back to back, in ABBA
// order, so that the machine's drift moves both alike; each pair gives a ratio, and the
// reported ratio is their geometric mean with a 95% interval.
//
//   - Forward: one forward pass, logits included, of a random-weight GPT-2-shaped model on a batch
//     of random tokens (32 × 64, the paper's E4 workload), baseline and steered (layer L/2, the
//     vector of "This is a test prompt." − ""); premium = mean steered / mean baseline − 1, as
//     the paper defines it, with a 95% confidence interval from the A/B pairs, and the steering
//     ops alone (experiments.SteeringOpsTime) as a percentage of the baseline pass.
//   - Generation: completions of a 9-token prompt (the E2 setting: 200 × 40 new tokens) with the
//     KV cache, one batch of 32 rows per repetition, with the paper's sampler (T = 1, top-p 0.3,
//     frequency penalty 1) and greedily: greedy measures the engine, sampled adds the sampler.
//     The sampler's own cost per step is timed apart with go-benchmarks on the logits of a
//     decoding step (and PyTorch's on the same logits).
//   - One core: the forward pass and greedy generation with one thread on each side.
//   - Sweep: a layer × coefficient sweep (every layer × 3 coefficients, one completion each) run
//     as one batched job on a cold model and then one configuration at a time: graphs compiled
//     (gpt2.Model.Builds) and wall time.
//
// The PyTorch reference (torch_reference.py, a baseline, not part of the product) runs at its
// best: a short calibration picks OpenBLAS's fastest core type, one or two thread pools, and
// fresh or preallocated outputs, and the result says which.
//
// Benchmarks never run as timed assertions in tests: the test in this package only checks that
// the suite runs at a tiny size.
package benchmarks

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/abba"
	"github.com/gomlx/compute"
	gobench "github.com/janpfeifer/go-benchmarks"
)

// ModelReps is a model shape to time the forward pass of, with the number of timed repetitions
// per arm (baseline and steered) after one warm-up call of each.
type ModelReps struct {
	Model string // a checkpoint.KnownConfig name, or "tiny"
	Reps  int
}

// Options say what to run. Zero sizes skip a section.
type Options struct {
	Forward    []ModelReps // forward-pass models; the first one gives the summary's numbers
	Batch, Seq int         // forward batch shape (32 × 64)
	// SteeringOpsReps is the number of A/B pairs timing the steering ops alone (200).
	SteeringOpsReps int

	GenModel     string // model for generation and the sweep
	GenRows      int    // completions (200), rounded up to whole batches
	GenNewTokens int    // new tokens per completion (40)
	GenBatch     int    // rows per program call (32)
	GenGreedy    bool   // also time greedy decoding (the engine without the sampler)
	Prompt       string // the generation prompt ("I went up to my friend and said": 9 tokens with BOS)
	// SamplerTime is how long go-benchmarks times the sampler alone per function; 0 skips it.
	SamplerTime time.Duration

	// OneCoreReps is the number of one-thread forward pairs (Go and PyTorch) of the first forward
	// model, and OneCoreGenBatches the one-thread greedy generation batches; 0 skips them.
	OneCoreReps, OneCoreGenBatches int

	// Llama are Llama-family shapes (LlamaShapes) whose forward pass (Batch × Seq, Reps pairs) and
	// greedy decoding (LlamaGenBatches batches of GenBatch rows × GenNewTokens) are timed with
	// PyTorch's, interleaved.
	Llama           []ModelReps
	LlamaGenBatches int

	SweepCoeffs    []float64 // coefficients per layer; every layer of GenModel is swept
	SweepNewTokens int       // new tokens per sweep completion

	// E2 and E1 run the paper's experiments end to end on a checkpoint folder or a model shape
	// (random weights): E2 at its size (or E2Completions × E2NewTokens when positive), E1's
	// scoring on E1Docs synthetic documents. "" skips them.
	E2, E1                     string
	E2Completions, E2NewTokens int
	E1Docs                     int

	// Python runs torch_reference.py (TorchScript); "" skips the PyTorch reference.
	Python, TorchScript string
	TorchThreads        int
	// TorchDevice is where the PyTorch reference runs: "cpu" (the default) or "cuda" on a GPU
	// machine, to compare with XLA CUDA (benchmarks/device).
	TorchDevice string
	// TorchCalibrate picks the reference's fastest setup first (core type, thread pools,
	// output buffers); without it the reference runs OpenBLAS's pthread build as detected.
	TorchCalibrate bool
	// TorchInheritEnv passes the inherited OMP_*, OPENBLAS_*, MKL_* variables to the reference
	// (by default it runs with its own only).
	TorchInheritEnv bool

	Log io.Writer `json:"-"` // progress lines; nil for none
	// Sections, when set, is called with the result so far after each finished section, so
	// that a run cut short (a time limit) keeps what it measured.
	Sections func(*Result) `json:"-"`
}

// FullOptions are the sizes `make bench` uses.
func FullOptions() Options {
	return Options{
		Forward: []ModelReps{{"gpt2", 10}, {"gpt2-medium", 3}},
		Batch:   32, Seq: 64, SteeringOpsReps: 200,
		GenModel: "gpt2", GenRows: 200, GenNewTokens: 40, GenBatch: 32, GenGreedy: true,
		Prompt:      "I went up to my friend and said",
		SamplerTime: 2 * time.Second, OneCoreReps: 3, OneCoreGenBatches: 2,
		SweepCoeffs: []float64{-1, 1, 4}, SweepNewTokens: 10,
		Llama: []ModelReps{{"smollm2-135m", 5}, {"qwen2.5-0.5b", 3}}, LlamaGenBatches: 3,
		Python: "/usr/bin/python3", TorchScript: "benchmarks/torch_reference.py", TorchThreads: 2, TorchDevice: "cpu",
		TorchCalibrate: true,
	}
}

// QuickOptions are reduced sizes for fast iteration (BENCH_QUICK=1).
func QuickOptions() Options {
	o := FullOptions()
	o.Forward = []ModelReps{{"gpt2", 2}}
	o.Batch, o.Seq, o.SteeringOpsReps = 8, 32, 20
	o.GenRows, o.GenNewTokens, o.GenBatch = 32, 8, 16
	o.SamplerTime, o.OneCoreReps, o.OneCoreGenBatches = 300*time.Millisecond, 2, 1
	o.SweepNewTokens = 2
	o.Llama, o.LlamaGenBatches = []ModelReps{{"smollm2-135m", 1}}, 1
	return o
}

// SteerPlus and SteerMinus are E4's prompt pair (c = +1 and −1, i.e. one addition with c = 1).
const (
	SteerPlus  = "This is a test prompt."
	SteerMinus = ""
	// SweepPlus is the sweep's (and E2's) positive prompt; the negative one is "".
	SweepPlus = " weddings"
)

// Result is what a run measured; it is written as JSON. Times are in seconds.
type Result struct {
	Schema      string          `json:"schema"`
	Started     time.Time       `json:"started"`
	WallSeconds float64         `json:"wall_seconds"`
	Options     json.RawMessage `json:"options"`
	Machine     Machine         `json:"machine"`
	// LoadStart and LoadEnd are /proc/loadavg's 1, 5 and 15-minute averages: well above 0 at the
	// start means something else was running, and the numbers are noisier.
	LoadStart string          `json:"load_start"`
	LoadEnd   string          `json:"load_end"`
	Backend   string          `json:"backend"`
	Reference *Reference      `json:"reference,omitempty"`
	Forward   []ForwardResult `json:"forward,omitempty"`
	// Generation is sampled with the paper's sampler, GenerationGreedy greedy (the engine alone),
	// their batches interleaved with each other and with PyTorch's.
	Generation       *GenResult     `json:"generation,omitempty"`
	GenerationGreedy *GenResult     `json:"generation_greedy,omitempty"`
	Sampler          *SamplerResult `json:"sampler,omitempty"`
	OneCore          *OneCoreResult `json:"one_core,omitempty"`
	Sweep            *SweepResult   `json:"sweep,omitempty"`
	Paper            []PaperRun     `json:"paper,omitempty"` // E2 and E1 end to end
	Llama            []LlamaResult  `json:"llama,omitempty"`
	Summary          Summary        `json:"summary"`
}

// Summary holds the key numbers of the final line. Ratios are Go time / PyTorch time (geometric
// means over interleaved pairs); premiums and the forward ratio are those of the first forward
// model (gpt2).
type Summary struct {
	ForwardRatioVsTorch *float64 `json:"forward_ratio_vs_torch"`
	GreedyRatioVsTorch  *float64 `json:"greedy_ratio_vs_torch"`
	SampledRatioVsTorch *float64 `json:"sampled_ratio_vs_torch"`
	// SamplerMsPerStep is the Go sampler alone, per decoding step of a batch (median).
	SamplerMsPerStep *float64 `json:"sampler_ms_per_step"`
	PremiumPct       *float64 `json:"premium_pct"`
	PremiumOpsPct    *float64 `json:"premium_ops_pct"` // the steering ops alone, see ForwardResult
	SweepCompiles    *int64   `json:"sweep_compiles"`  // graphs compiled by the batched sweep, cold
}

// ForwardResult times one model's forward pass (actadd.Model.ForwardTokens: logits included,
// summed on the device), baseline vs steered, interleaved with PyTorch's.
type ForwardResult struct {
	Model       string    `json:"model"`
	Layers      int       `json:"n_layer"`
	Width       int       `json:"n_embd"`
	Batch       int       `json:"batch"`
	Seq         int       `json:"seq"`
	Reps        int       `json:"reps"`
	SteerLayer  int       `json:"steer_layer"`
	SteerTokens int       `json:"steer_tokens"` // positions the steering vector covers
	WarmupBase  float64   `json:"warmup_base"`  // first calls (compilation, first use), not in the means
	WarmupSteer float64   `json:"warmup_steer"`
	Base        []float64 `json:"base"` // per timed call, in the order run (ABBA pairs)
	Steer       []float64 `json:"steer"`
	BaseMean    float64   `json:"base_mean"`
	SteerMean   float64   `json:"steer_mean"`
	// PremiumPct = (SteerMean / BaseMean − 1) · 100, the paper's definition.
	PremiumPct float64 `json:"premium_pct"`
	// PremiumCI95Pct is the half-width of the 95% confidence interval (Student's t) of the mean
	// over A/B pairs of (steer / base − 1) · 100: the premium is resolved only if it exceeds it.
	PremiumCI95Pct float64 `json:"premium_ci95_pct"`
	// PairedMedPct is the median over A/B pairs of (steer / base − 1) · 100: less sensitive to
	// a slow outlier than PremiumPct.
	PairedMedPct float64 `json:"paired_median_premium_pct"`
	// SteeringOpsSeconds is what the steering ops of one such forward pass cost, timed alone
	// (experiments.SteeringOpsTime), and PremiumOpsPct that time over BaseMean, · 100.
	SteeringOpsSeconds float64 `json:"steering_ops_seconds"`
	PremiumOpsPct      float64 `json:"premium_ops_pct"`
	BaseCVPct          float64 `json:"base_cv_pct"` // coefficient of variation of Base: the noise level
	// TorchBase and TorchSteer are PyTorch's passes, pair i run next to Go's pair i.
	TorchBase       []float64 `json:"torch_base,omitempty"`
	TorchSteer      []float64 `json:"torch_steer,omitempty"`
	TorchBaseMean   float64   `json:"torch_base_mean,omitempty"`
	TorchPremiumPct float64   `json:"torch_premium_pct,omitempty"`
	// Ratio is Base / TorchBase over the pairs (geometric mean, 95% interval).
	Ratio *Interval `json:"ratio_vs_torch,omitempty"`
}

// GenResult times generation with one sampler, one batch per pair.
type GenResult struct {
	Model        string          `json:"model"`
	Rows         int             `json:"rows"` // GenRows rounded up to whole batches
	NewTokens    int             `json:"new_tokens"`
	PromptTokens int             `json:"prompt_tokens"` // with BOS
	Batch        int             `json:"batch"`
	Sampling     actadd.Sampling `json:"sampling"`
	// Seconds holds each batch's wall time, TorchSeconds PyTorch's for the same batch.
	Seconds         []float64 `json:"seconds"`
	TokensPerSecond float64   `json:"tokens_per_second"` // generated tokens / total seconds
	Builds          int64     `json:"compiles"`          // graphs compiled during the timed batches
	// Warm-up: one untimed batch first (compiling the prefill and step programs, which takes
	// seconds on XLA), as the PyTorch reference also warms up. CompileSeconds estimates the
	// compilation in it: WarmupSeconds minus the median timed batch.
	WarmupSeconds        float64   `json:"warmup_seconds"`
	WarmupBuilds         int64     `json:"warmup_compiles"`
	CompileSeconds       float64   `json:"compile_seconds_estimate"`
	TorchSeconds         []float64 `json:"torch_seconds,omitempty"`
	TorchTokensPerSecond float64   `json:"torch_tokens_per_second,omitempty"`
	// Ratio is Seconds / TorchSeconds per batch (geometric mean, 95% interval): above 1, Go is
	// slower.
	Ratio *Interval `json:"ratio_vs_torch,omitempty"`
}

// SamplerResult is the sampler's cost per decoding step of one batch.
type SamplerResult struct {
	Rows  int `json:"rows"`
	Vocab int `json:"vocab"`
	// Micro are go-benchmarks' timings of the Go host sampler alone (the paper's sampler, and
	// greedy argmax) on the logits of a decoding step of the reference model.
	Micro []MicroStat `json:"micro"`
	// TorchMedian is PyTorch's sampler (which sorts the vocabulary) on the same logits.
	TorchMedian float64 `json:"torch_median_seconds,omitempty"`
	// InRun is, from the interleaved generation, (sampled − greedy) batch time per step: what
	// sampling adds to a decoding step in the engine as run; TorchInRun the same for PyTorch.
	InRun      *Interval `json:"in_run_seconds,omitempty"`
	TorchInRun *Interval `json:"torch_in_run_seconds,omitempty"`
}

// OneCoreResult compares Go and PyTorch with one thread each: the go backend with one worker
// and GOMAXPROCS 1, PyTorch with one OpenMP and one OpenBLAS thread.
type OneCoreResult struct {
	Model         string    `json:"model"`
	Forward       []float64 `json:"forward"`
	TorchForward  []float64 `json:"torch_forward"`
	ForwardRatio  *Interval `json:"forward_ratio_vs_torch"`
	Greedy        []float64 `json:"greedy"` // per batch of GenBatch rows × GenNewTokens
	TorchGreedy   []float64 `json:"torch_greedy"`
	GreedyRatio   *Interval `json:"greedy_ratio_vs_torch"`
	GreedyTokPerS float64   `json:"greedy_tokens_per_second"`
}

// SweepResult counts compilations of a layer × coefficient sweep of generations.
type SweepResult struct {
	Model     string    `json:"model"`
	Layers    int       `json:"layers"`
	Coeffs    []float64 `json:"coeffs"`
	Configs   int       `json:"configs"`
	NewTokens int       `json:"new_tokens"`
	// Batched: every configuration as a row of one GenerateRows call, on a model that has compiled
	// nothing yet (so it counts every program the sweep needs, vectors included).
	Batched SweepRun `json:"batched"`
	// OneByOne: then the same configurations one Generate call each (batch width 1).
	OneByOne SweepRun `json:"one_by_one"`
}

// SweepRun is one way of running the sweep.
type SweepRun struct {
	Compiles int64   `json:"compiles"`
	Seconds  float64 `json:"seconds"`
}

// run holds what the sections of one Run share.
type run struct {
	opts   Options
	res    *Result
	b      compute.Backend
	ref    *refRunner // nil: no PyTorch reference
	models map[string]*actadd.Model
}

func (r *run) logf(format string, args ...any) {
	if r.opts.Log != nil {
		fmt.Fprintf(r.opts.Log, "bench: "+format+"\n", args...)
	}
}

// load builds (once) a random-weight model of the named shape on b.
func (r *run) load(name string, b compute.Backend) (*actadd.Model, error) {
	key := fmt.Sprintf("%s@%p", name, b)
	if m, ok := r.models[key]; ok {
		return m, nil
	}
	cfg, err := experiments.ShapeConfig(name)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	g, err := gpt2.New(b, "random-weight "+name+"-shaped model", cfg, checkpoint.RandomTensors(cfg, 1))
	if err != nil {
		return nil, err
	}
	m, err := actadd.Wrap(g, nil, backend.Describe(b))
	if err != nil {
		return nil, err
	}
	r.logf("built %s (%d layers × %d) in %s", m.Name, cfg.NLayer, cfg.NEmbd, time.Since(t0).Round(time.Millisecond))
	r.models[key] = m
	return m, nil
}

// release frees every model in memory (one model at a time keeps the footprint small).
func (r *run) release() {
	for k, m := range r.models {
		m.Finalize()
		delete(r.models, k)
	}
}

// releaseOthers frees the models of other shapes than name.
func (r *run) releaseOthers(name string) {
	for k, m := range r.models {
		if !strings.HasPrefix(k, name+"@") {
			m.Finalize()
			delete(r.models, k)
		}
	}
}

// Run runs the benchmarks opts asks for.
func Run(opts Options) (*Result, error) {
	start := time.Now()
	res := &Result{Schema: "actadd-bench/2", Started: start, Machine: MachineInfo(), LoadStart: loadAverage()}
	res.Options, _ = json.Marshal(opts)
	b, desc, err := backend.New()
	if err != nil {
		return nil, err
	}
	res.Backend = desc
	r := &run{opts: opts, res: res, b: b, models: map[string]*actadd.Model{}}
	defer r.release()
	if opts.Python != "" {
		r.ref = &refRunner{python: opts.Python, script: opts.TorchScript, device: opts.TorchDevice, inherit: opts.TorchInheritEnv, log: opts.Log}
		defer r.ref.closeAll()
		if err := r.setUpReference(); err != nil {
			return nil, err
		}
	}

	// The sweep goes first: its compile count is that of a model that has compiled nothing.
	if opts.GenModel != "" && len(opts.SweepCoeffs) > 0 && opts.SweepNewTokens > 0 {
		m, err := r.load(opts.GenModel, b)
		if err != nil {
			return nil, err
		}
		if res.Sweep, err = runSweep(m, opts, r.logf); err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		r.section()
	}
	if opts.GenModel != "" && opts.GenRows > 0 && opts.GenNewTokens > 0 {
		m, err := r.load(opts.GenModel, b)
		if err != nil {
			return nil, err
		}
		if err := r.runGeneration(m); err != nil {
			return nil, fmt.Errorf("generation: %w", err)
		}
		if opts.SamplerTime > 0 {
			if res.Sampler, err = r.runSampler(m); err != nil {
				return nil, fmt.Errorf("sampler: %w", err)
			}
		}
		r.section()
	}
	if err := r.runPaper(); err != nil {
		return nil, err
	}
	for _, fr := range opts.Forward {
		if fr.Reps <= 0 || opts.Batch <= 0 || opts.Seq <= 0 {
			continue
		}
		r.releaseOthers(fr.Model)
		m, err := r.load(fr.Model, b)
		if err != nil {
			return nil, err
		}
		f, err := r.runForward(m, fr)
		if err != nil {
			return nil, fmt.Errorf("forward %s: %w", fr.Model, err)
		}
		res.Forward = append(res.Forward, *f)
		r.section()
		if r.ref != nil && fr.Model != opts.GenModel {
			r.ref.release(fr.Model)
		}
	}
	r.release()
	for _, mr := range opts.Llama {
		l, err := r.runLlama(mr)
		if err != nil {
			return nil, fmt.Errorf("llama %s: %w", mr.Model, err)
		}
		res.Llama = append(res.Llama, *l)
		r.section()
	}
	if (opts.OneCoreReps > 0 || opts.OneCoreGenBatches > 0) && backend.Describe(b) == "go" {
		if res.OneCore, err = r.runOneCore(); err != nil {
			return nil, fmt.Errorf("one core: %w", err)
		}
	}
	res.Summary = summarize(res)
	res.WallSeconds = time.Since(start).Seconds()
	res.LoadEnd = loadAverage()
	return res, nil
}

func summarize(res *Result) Summary {
	var s Summary
	value := func(iv *Interval) *float64 {
		if iv == nil {
			return nil
		}
		v := iv.Value
		return &v
	}
	if len(res.Forward) > 0 {
		f := res.Forward[0]
		s.ForwardRatioVsTorch = value(f.Ratio)
		p, ops := f.PremiumPct, f.PremiumOpsPct
		s.PremiumPct, s.PremiumOpsPct = &p, &ops
	}
	if g := res.Generation; g != nil {
		s.SampledRatioVsTorch = value(g.Ratio)
	}
	if g := res.GenerationGreedy; g != nil {
		s.GreedyRatioVsTorch = value(g.Ratio)
	}
	if sm := res.Sampler; sm != nil && len(sm.Micro) > 0 {
		ms := sm.Micro[0].Median * 1000
		s.SamplerMsPerStep = &ms
	}
	if res.Sweep != nil {
		c := res.Sweep.Batched.Compiles
		s.SweepCompiles = &c
	}
	return s
}

// setUpReference records the reference's environment and picks its setup: the fastest
// OpenBLAS core type, then the fastest thread pools and output buffers per workload.
func (r *run) setUpReference() error {
	opts, ref := r.opts, r.ref
	rec := &Reference{Python: opts.Python, Script: opts.TorchScript, Device: opts.TorchDevice, Inherited: inheritedThreadEnv(), InheritEnv: opts.TorchInheritEnv}
	r.res.Reference = rec
	shape := opts.GenModel
	if len(opts.Forward) > 0 {
		shape = opts.Forward[0].Model
	}
	if shape == "" { // only the Llama family is timed: calibrate on gpt2's shape all the same
		shape = "gpt2"
	}
	cfg, err := experiments.ShapeConfig(shape)
	if err != nil {
		return err
	}
	base := RefSetup{Threads: opts.TorchThreads}
	builds := blasBuilds()
	if opts.TorchDevice != "cpu" || len(builds) == 0 {
		builds = []string{""}
	}
	base.BLAS = builds[0]
	if opts.TorchCalibrate && base.BLAS != "" {
		rows := max(opts.Batch*opts.Seq, opts.GenBatch)
		// Two rounds in opposite orders; each candidate keeps its faster round, so that a burst of
		// load during one probe does not decide.
		cores := []string{"", "Haswell", "SkylakeX", "Cooperlake"}
		rec.CoreProbes = make([]CoreProbe, len(cores))
		for round := range 2 {
			for k := range cores {
				if round == 1 {
					k = len(cores) - 1 - k
				}
				s := base
				s.CoreType = cores[k]
				p := ref.probe(cfg, rows, s)
				r.logf("reference core type %q: %s %.0f GFLOP/s %s", cores[k], p.Core, p.GFLOPS, p.Error)
				if round == 0 || p.GFLOPS > rec.CoreProbes[k].GFLOPS {
					rec.CoreProbes[k] = p
				}
			}
		}
		best := slices.MaxFunc(rec.CoreProbes, func(a, b CoreProbe) int { return cmpFloat(a.GFLOPS, b.GFLOPS) })
		if best.GFLOPS > 0 {
			base.CoreType = best.CoreType
		}
	}
	rec.CoreType = base.CoreType
	rec.Forward, rec.Generation = base, base
	if opts.TorchCalibrate {
		if err := r.calibrate(shape, cfg, base, builds, rec); err != nil {
			return err
		}
	}
	srv, err := ref.server(shape, cfg, rec.Forward)
	if err != nil {
		return err
	}
	rec.Info = srv.info
	r.logf("reference: PyTorch %s; forward: %s; generation: %s", srv.info.Version, rec.Forward, rec.Generation)
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// calibrate times each BLAS build with fresh and preallocated outputs on a few forward passes
// and short greedy batches, interleaved, and sets rec's setups to the fastest per workload. A
// setup's time is its fastest repetition: what it can do, with bursts of load on a shared
// machine left out.
func (r *run) calibrate(shape string, cfg checkpoint.Config, base RefSetup, builds []string, rec *Reference) error {
	opts := r.opts
	const reps = 3
	for _, blas := range builds {
		s := base
		s.BLAS = blas
		srv, err := r.ref.server(shape, cfg, s)
		if err != nil {
			return err
		}
		var fwd, gen [2][]float64 // [fresh, prealloc]
		if opts.Batch > 0 && opts.Seq > 0 {
			if err := srv.call(map[string]any{"op": "forward_setup", "batch": opts.Batch, "seq": opts.Seq, "steer_layer": cfg.NLayer / 2, "steer_tokens": 7}, &struct{}{}); err != nil {
				return err
			}
			for i := -1; i < reps; i++ { // i = -1 warms up both
				a, b, err := abba.Pair(i, func() (float64, error) { return srv.seconds(map[string]any{"op": "forward", "prealloc": false}) },
					func() (float64, error) { return srv.seconds(map[string]any{"op": "forward", "prealloc": true}) })
				if err != nil {
					return err
				}
				if i >= 0 {
					fwd[0], fwd[1] = append(fwd[0], a), append(fwd[1], b)
				}
			}
		}
		if opts.GenBatch > 0 && opts.GenNewTokens > 0 {
			batch := func(prealloc bool) func() (float64, error) {
				return func() (float64, error) {
					return srv.seconds(map[string]any{"op": "generate", "rows": opts.GenBatch, "prompt_tokens": 9, "new_tokens": min(opts.GenNewTokens, 10),
						"temperature": 0, "top_p": 0, "freq_penalty": 0, "prealloc": prealloc})
				}
			}
			for i := -1; i < reps; i++ {
				a, b, err := abba.Pair(i, batch(false), batch(true))
				if err != nil {
					return err
				}
				if i >= 0 {
					gen[0], gen[1] = append(gen[0], a), append(gen[1], b)
				}
			}
		}
		for k, prealloc := range []bool{false, true} {
			s.Prealloc = prealloc
			c := Calibration{Setup: s}
			if len(fwd[k]) > 0 {
				c.ForwardSeconds = slices.Min(fwd[k])
			}
			if len(gen[k]) > 0 {
				c.GreedySeconds = slices.Min(gen[k])
			}
			r.logf("reference calibration: %s: forward %.3fs, greedy batch %.3fs", s, c.ForwardSeconds, c.GreedySeconds)
			rec.Calibration = append(rec.Calibration, c)
		}
	}
	fastest := func(key func(Calibration) float64) RefSetup {
		return slices.MinFunc(rec.Calibration, func(a, b Calibration) int { return cmpFloat(key(a), key(b)) }).Setup
	}
	rec.Forward = fastest(func(c Calibration) float64 { return c.ForwardSeconds })
	rec.Generation = fastest(func(c Calibration) float64 { return c.GreedySeconds })
	// Stop the processes no workload chose.
	for k, srv := range r.ref.servers {
		if srv.setup.BLAS != rec.Forward.BLAS && srv.setup.BLAS != rec.Generation.BLAS {
			srv.close()
			delete(r.ref.servers, k)
		}
	}
	return nil
}

// runPaper runs the paper's experiments that opts asks for, after generation, so that a model
// shape they share with it is built once: E1's scoring (bounded by its document count) first,
// then E2 (the longer one, which a time limit cuts first).
func (r *run) runPaper() error {
	opts := r.opts
	for _, e := range []struct {
		spec string
		run  func(*actadd.Model, bool) (*PaperRun, error)
	}{
		{opts.E1, func(m *actadd.Model, random bool) (*PaperRun, error) { return RunE1(m, random, opts.E1Docs, opts.Log) }},
		{opts.E2, func(m *actadd.Model, random bool) (*PaperRun, error) {
			return RunE2(m, random, opts.E2Completions, opts.E2NewTokens, opts.Log)
		}},
	} {
		if e.spec == "" {
			continue
		}
		m, random, err := r.paperModel(e.spec)
		if err != nil {
			return err
		}
		p, err := e.run(m, random)
		if err != nil {
			return fmt.Errorf("%s: %w", e.spec, err)
		}
		r.logf("%s on %s: %.1fs end to end, %d compilations, %.0f tokens/s", p.Experiment, p.Model, p.Seconds, p.Compiles, p.TokensPerSecond)
		r.res.Paper = append(r.res.Paper, *p)
		r.section()
	}
	return nil
}

// section reports a finished section to opts.Sections with the summary so far.
func (r *run) section() {
	if r.opts.Sections != nil {
		r.res.Summary = summarize(r.res)
		r.res.WallSeconds = time.Since(r.res.Started).Seconds()
		r.opts.Sections(r.res)
	}
}

// steeringOpsSeconds is the cost of the steering ops of one forward pass, timed alone.
func steeringOpsSeconds(m *actadd.Model, add actadd.Addition, opts Options) (float64, error) {
	ops, err := experiments.SteeringOpsTime(m, add, opts.Batch, opts.Seq, opts.SteeringOpsReps)
	return ops.Seconds(), err
}

// runForward times baseline and steered forward passes of the Go model and of PyTorch's,
// interleaved ABBA (Go's pair, then PyTorch's, reversed every other repetition).
func (r *run) runForward(m *actadd.Model, mr ModelReps) (*ForwardResult, error) {
	opts := r.opts
	cfg, err := gpt2Config(m)
	if err != nil {
		return nil, err
	}
	layer := cfg.NLayer / 2
	add := actadd.Pair(SteerPlus, SteerMinus, 1).AtLayer(layer)
	v, err := m.Vector(add)
	if err != nil {
		return nil, err
	}
	rows := experiments.OverheadTokens(7, opts.Batch, opts.Seq, cfg.VocabSize)
	f := &ForwardResult{Model: mr.Model, Layers: cfg.NLayer, Width: cfg.NEmbd, Batch: opts.Batch, Seq: opts.Seq,
		Reps: mr.Reps, SteerLayer: layer, SteerTokens: v.N}
	goPass := func(steer bool) func() (float64, error) {
		return func() (float64, error) {
			var adds []actadd.Addition
			if steer {
				adds = []actadd.Addition{add}
			}
			t0 := time.Now()
			_, err := m.ForwardTokens(rows, adds...)
			return time.Since(t0).Seconds(), err
		}
	}
	goPair := func(i int) func() ([2]float64, error) {
		return func() ([2]float64, error) {
			b, s, err := abba.Pair(i, goPass(false), goPass(true))
			return [2]float64{b, s}, err
		}
	}
	if f.WarmupBase, err = goPass(false)(); err != nil {
		return nil, err
	}
	if f.WarmupSteer, err = goPass(true)(); err != nil {
		return nil, err
	}
	var torchPair func(i int) func() ([2]float64, error)
	if r.ref != nil {
		srv, err := r.ref.server(mr.Model, cfg, r.res.Reference.Forward)
		if err != nil {
			return nil, err
		}
		if err := srv.call(map[string]any{"op": "forward_setup", "batch": opts.Batch, "seq": opts.Seq, "steer_layer": layer, "steer_tokens": v.N}, &struct{}{}); err != nil {
			return nil, err
		}
		prealloc := srv.setup.Prealloc
		pass := func(steer bool) func() (float64, error) {
			return func() (float64, error) {
				return srv.seconds(map[string]any{"op": "forward", "steer": steer, "prealloc": prealloc})
			}
		}
		for _, steer := range []bool{false, true} { // warm-up
			if _, err := pass(steer)(); err != nil {
				return nil, err
			}
		}
		torchPair = func(i int) func() ([2]float64, error) {
			return func() ([2]float64, error) {
				b, s, err := abba.Pair(i, pass(false), pass(true))
				return [2]float64{b, s}, err
			}
		}
	}
	r.logf("forward %s %d×%d: warm-up base %.2fs, steered %.2fs; %d timed pairs", mr.Model, opts.Batch, opts.Seq, f.WarmupBase, f.WarmupSteer, mr.Reps)
	var premiums []float64
	for i := range mr.Reps {
		var g, t [2]float64
		if torchPair != nil {
			g, t, err = abba.Pair(i, goPair(i), torchPair(i))
			f.TorchBase, f.TorchSteer = append(f.TorchBase, t[0]), append(f.TorchSteer, t[1])
		} else {
			g, err = goPair(i)()
		}
		if err != nil {
			return nil, err
		}
		f.Base, f.Steer = append(f.Base, g[0]), append(f.Steer, g[1])
		premiums = append(premiums, (g[1]/g[0]-1)*100)
		r.logf("forward %s pair %d/%d: Go base %.3fs steered %.3fs; PyTorch %.3fs %.3fs", mr.Model, i+1, mr.Reps, g[0], g[1], t[0], t[1])
	}
	f.BaseMean, f.SteerMean = stat.Mean(f.Base, nil), stat.Mean(f.Steer, nil)
	f.PremiumPct = (f.SteerMean/f.BaseMean - 1) * 100
	f.PairedMedPct = median(premiums)
	if n := len(premiums); n > 1 {
		f.BaseCVPct = stat.StdDev(f.Base, nil) / f.BaseMean * 100
		iv := meanInterval(premiums)
		f.PremiumCI95Pct = iv.Hi - iv.Value
	}
	if len(f.TorchBase) > 0 {
		f.TorchBaseMean = stat.Mean(f.TorchBase, nil)
		f.TorchPremiumPct = (stat.Mean(f.TorchSteer, nil)/f.TorchBaseMean - 1) * 100
		iv := ratioInterval(f.Base, f.TorchBase)
		f.Ratio = &iv
	}
	if opts.SteeringOpsReps > 0 {
		if f.SteeringOpsSeconds, err = steeringOpsSeconds(m, add, opts); err != nil {
			return nil, err
		}
		f.PremiumOpsPct = f.SteeringOpsSeconds / f.BaseMean * 100
		r.logf("forward %s: steering ops alone %.3f ms per forward pass (%d A/B pairs) = %.3f%% of the baseline",
			mr.Model, f.SteeringOpsSeconds*1000, opts.SteeringOpsReps, f.PremiumOpsPct)
	}
	return f, nil
}

// genArm is one side of the generation comparison: a batch of rows run by Go or PyTorch.
type genArm func(batch int) (float64, error)

// goGenArm generates batch k (rows k·GenBatch …) with m and sampling; row i samples from
// stream i whatever the batching.
func (r *run) goGenArm(m *actadd.Model, sampling actadd.Sampling, newTokens int, builds *int64) genArm {
	opts := r.opts
	return func(k int) (float64, error) {
		prompts := make([]string, opts.GenBatch)
		streams := make([]uint64, opts.GenBatch)
		for i := range prompts {
			prompts[i], streams[i] = opts.Prompt, uint64(k*opts.GenBatch+i)
		}
		gen := actadd.GenerateOptions{MaxNewTokens: newTokens, Sampling: sampling, BatchSize: opts.GenBatch, Streams: streams}
		secs, n, err := timed(m, func() error { _, err := m.Generate(prompts, gen); return err })
		*builds += n
		return secs, err
	}
}

// torchGenArm generates a batch with the reference; the draws of batch k are seeded with k.
func torchGenArm(srv *torchServer, opts Options, sampling actadd.Sampling, promptTokens, newTokens int) genArm {
	prealloc := srv.setup.Prealloc
	return func(k int) (float64, error) {
		return srv.seconds(map[string]any{"op": "generate", "rows": opts.GenBatch, "prompt_tokens": promptTokens, "new_tokens": newTokens,
			"temperature": sampling.Temperature, "top_p": sampling.TopP, "freq_penalty": sampling.FreqPenalty, "seed": k, "prealloc": prealloc})
	}
}

// runGeneration times the sampled and (with GenGreedy) greedy generation, batch by batch,
// each batch of Go next to the same batch of PyTorch, the order reversed every other batch.
func (r *run) runGeneration(m *actadd.Model) error {
	opts := r.opts
	nb := (opts.GenRows + opts.GenBatch - 1) / opts.GenBatch
	promptTokens := len(m.EncodeWithBOS(opts.Prompt))
	samplings := []actadd.Sampling{actadd.PaperSampling}
	if opts.GenGreedy {
		samplings = append(samplings, actadd.Greedy)
	}
	var results []*GenResult
	var goArms, torchArms []genArm
	builds := make([]int64, len(samplings))
	for j, s := range samplings {
		g := &GenResult{Model: opts.GenModel, Rows: nb * opts.GenBatch, NewTokens: opts.GenNewTokens, Batch: opts.GenBatch, PromptTokens: promptTokens, Sampling: s}
		var err error
		g.WarmupSeconds, g.WarmupBuilds, err = timed(m, func() error {
			var n int64
			_, err := r.goGenArm(m, s, opts.GenNewTokens, &n)(0)
			return err
		})
		if err != nil {
			return err
		}
		r.logf("generation %s: warm-up batch %.2fs, %d compilations", samplingName(s), g.WarmupSeconds, g.WarmupBuilds)
		results = append(results, g)
		goArms = append(goArms, r.goGenArm(m, s, opts.GenNewTokens, &builds[j]))
		if r.ref != nil {
			cfg, err := gpt2Config(m)
			if err != nil {
				return err
			}
			srv, err := r.ref.server(opts.GenModel, cfg, r.res.Reference.Generation)
			if err != nil {
				return err
			}
			if _, err := torchGenArm(srv, opts, s, promptTokens, min(opts.GenNewTokens, 4))(0); err != nil { // warm-up
				return err
			}
			torchArms = append(torchArms, torchGenArm(srv, opts, s, promptTokens, opts.GenNewTokens))
		}
	}
	r.logf("generation %s: %d batches of %d rows × %d new tokens, prompt of %d tokens; Go and PyTorch interleaved",
		opts.GenModel, nb, opts.GenBatch, opts.GenNewTokens, promptTokens)
	start := time.Now()
	for k := range nb {
		// One arm per (sampler, side); the order is reversed every other batch.
		var arms []func() error
		for j := range samplings {
			g := results[j]
			arms = append(arms, func() error {
				t, err := goArms[j](k)
				g.Seconds = append(g.Seconds, t)
				return err
			})
			if torchArms != nil {
				arms = append(arms, func() error {
					t, err := torchArms[j](k)
					g.TorchSeconds = append(g.TorchSeconds, t)
					return err
				})
			}
		}
		if k%2 == 1 {
			slices.Reverse(arms)
		}
		for _, arm := range arms {
			if err := arm(); err != nil {
				return err
			}
		}
		done := float64(k + 1)
		r.logf("generation batch %d/%d: %s; %.0fs, about %.0fs left", k+1, nb, genProgress(results), time.Since(start).Seconds(),
			time.Since(start).Seconds()/done*(float64(nb)-done))
	}
	for j, g := range results {
		g.Builds = builds[j]
		tokens := float64(g.Rows * g.NewTokens)
		g.TokensPerSecond = tokens / sum(g.Seconds)
		g.CompileSeconds = max(0, g.WarmupSeconds-median(g.Seconds))
		if len(g.TorchSeconds) > 0 {
			g.TorchTokensPerSecond = tokens / sum(g.TorchSeconds)
			iv := ratioInterval(g.Seconds, g.TorchSeconds)
			g.Ratio = &iv
		}
	}
	r.res.Generation = results[0]
	if len(results) > 1 {
		r.res.GenerationGreedy = results[1]
	}
	return nil
}

func samplingName(s actadd.Sampling) string {
	if s.Temperature == 0 {
		return "greedy"
	}
	return fmt.Sprintf("T=%g top-p=%g fp=%g", s.Temperature, s.TopP, s.FreqPenalty)
}

func genProgress(results []*GenResult) string {
	var parts []string
	for _, g := range results {
		p := fmt.Sprintf("%s %.2fs", samplingName(g.Sampling), g.Seconds[len(g.Seconds)-1])
		if n := len(g.TorchSeconds); n > 0 {
			p += fmt.Sprintf(" (PyTorch %.2fs)", g.TorchSeconds[n-1])
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// runSampler times the sampler alone per decoding step: the Go host sampler with
// go-benchmarks, PyTorch's on the same logits (those of the reference model's first decoding
// step, or random ones without the reference); and, from the interleaved generation, what
// sampling added to a step.
func (r *run) runSampler(m *actadd.Model) (*SamplerResult, error) {
	opts := r.opts
	cfg, err := gpt2Config(m)
	if err != nil {
		return nil, err
	}
	res := &SamplerResult{Rows: opts.GenBatch, Vocab: cfg.VocabSize}
	s, g := r.res.Generation, r.res.GenerationGreedy
	if g != nil {
		perStep := func(a, b []float64) *Interval {
			d := make([]float64, len(a))
			for i := range a {
				d[i] = (a[i] - b[i]) / float64(s.NewTokens)
			}
			iv := meanInterval(d)
			return &iv
		}
		res.InRun = perStep(s.Seconds, g.Seconds)
		if len(s.TorchSeconds) > 0 && len(g.TorchSeconds) > 0 {
			res.TorchInRun = perStep(s.TorchSeconds, g.TorchSeconds)
		}
	}
	logits := make([]float32, opts.GenBatch*cfg.VocabSize)
	var srv *torchServer
	if r.ref != nil {
		var err error
		if srv, err = r.ref.server(opts.GenModel, cfg, r.res.Reference.Generation); err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "actadd-bench")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "logits.f32")
		p := actadd.PaperSampling
		if err := srv.call(map[string]any{"op": "generate", "rows": opts.GenBatch, "prompt_tokens": 9, "new_tokens": 1, "dump_logits": path,
			"temperature": p.Temperature, "top_p": p.TopP, "freq_penalty": p.FreqPenalty}, &struct{}{}); err != nil {
			return nil, err
		}
		if logits, err = readFloat32s(path, len(logits)); err != nil {
			return nil, err
		}
		var t struct{ Median float64 }
		if err := srv.call(map[string]any{"op": "sampler", "path": path, "rows": opts.GenBatch, "warmup": 3, "reps": 20,
			"temperature": p.Temperature, "top_p": p.TopP, "freq_penalty": p.FreqPenalty}, &t); err != nil {
			return nil, err
		}
		res.TorchMedian = t.Median
	} else {
		// Without the reference: normal logits, a wide nucleus as a random-weight model's.
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range logits {
			logits[i] = float32(2 * rng.NormFloat64())
		}
	}
	history := make([][]int, opts.GenBatch)
	for i := range history {
		history[i] = m.EncodeWithBOS(opts.Prompt)
	}
	var fns []gobench.NamedFunction
	for _, s := range []actadd.Sampling{actadd.PaperSampling, actadd.Greedy} {
		st, err := NewStepSampler(s, cfg.VocabSize, history)
		if err != nil {
			return nil, err
		}
		if _, err := st.Next(logits); err != nil {
			return nil, err
		}
		fns = append(fns, gobench.NamedFunction{Name: fmt.Sprintf("go-host-sampler/%s/%dx%d", strings.ReplaceAll(samplingName(s), " ", ","), opts.GenBatch, cfg.VocabSize),
			Func: func() { _, _ = st.Next(logits) }})
	}
	var table io.Writer
	if opts.Log != nil {
		table = opts.Log
	}
	if res.Micro, err = micro(table, 3, opts.SamplerTime, fns...); err != nil {
		return nil, err
	}
	r.logf("sampler alone per step of %d rows: Go %.2f ms (greedy %.2f ms), PyTorch %.2f ms", opts.GenBatch,
		res.Micro[0].Median*1000, res.Micro[1].Median*1000, res.TorchMedian*1000)
	return res, nil
}

// runOneCore compares one-thread Go (go backend with one worker, GOMAXPROCS 1) with one-thread
// PyTorch on the first forward model and greedy generation.
func (r *run) runOneCore() (*OneCoreResult, error) {
	opts := r.opts
	if len(opts.Forward) == 0 && opts.GenModel == "" {
		return nil, nil
	}
	shape := opts.GenModel
	if len(opts.Forward) > 0 {
		shape = opts.Forward[0].Model
	}
	b1, err := compute.NewWithConfig(backend.GoConfig + ",parallelism=1")
	if err != nil {
		return nil, err
	}
	defer b1.Finalize()
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	m, err := r.load(shape, b1)
	if err != nil {
		return nil, err
	}
	defer r.release()
	cfg, err := gpt2Config(m)
	if err != nil {
		return nil, err
	}
	res := &OneCoreResult{Model: shape}
	var srvF, srvG *torchServer
	if r.ref != nil {
		one := func(s RefSetup) (*torchServer, error) {
			s.Threads = 1
			return r.ref.server(shape+"-1", cfg, s)
		}
		if srvF, err = one(r.res.Reference.Forward); err != nil {
			return nil, err
		}
		if srvG, err = one(r.res.Reference.Generation); err != nil {
			return nil, err
		}
		defer r.ref.release(shape + "-1")
	}
	r.logf("one core: %s, go backend with one worker and GOMAXPROCS=1, PyTorch with one thread", shape)
	if opts.OneCoreReps > 0 && opts.Batch > 0 && opts.Seq > 0 {
		rows := experiments.OverheadTokens(7, opts.Batch, opts.Seq, cfg.VocabSize)
		goPass := func() (float64, error) {
			t0 := time.Now()
			_, err := m.ForwardTokens(rows)
			return time.Since(t0).Seconds(), err
		}
		torchPass := func() (float64, error) { return 0, nil }
		if srvF != nil {
			if err := srvF.call(map[string]any{"op": "forward_setup", "batch": opts.Batch, "seq": opts.Seq, "steer_layer": cfg.NLayer / 2, "steer_tokens": 1}, &struct{}{}); err != nil {
				return nil, err
			}
			prealloc := r.res.Reference.Forward.Prealloc
			torchPass = func() (float64, error) { return srvF.seconds(map[string]any{"op": "forward", "prealloc": prealloc}) }
		}
		for i := -1; i < opts.OneCoreReps; i++ { // i = -1 warms up
			g, t, err := abba.Pair(i, goPass, torchPass)
			if err != nil {
				return nil, err
			}
			if i >= 0 {
				res.Forward, res.TorchForward = append(res.Forward, g), append(res.TorchForward, t)
				r.logf("one core forward %d/%d: Go %.2fs, PyTorch %.2fs", i+1, opts.OneCoreReps, g, t)
			}
		}
		if srvF != nil {
			iv := ratioInterval(res.Forward, res.TorchForward)
			res.ForwardRatio = &iv
		}
	}
	if opts.OneCoreGenBatches > 0 && opts.GenBatch > 0 && opts.GenNewTokens > 0 {
		var builds int64
		goArm := r.goGenArm(m, actadd.Greedy, opts.GenNewTokens, &builds)
		torchArm := genArm(func(int) (float64, error) { return 0, nil })
		if srvG != nil {
			torchArm = torchGenArm(srvG, opts, actadd.Greedy, len(m.EncodeWithBOS(opts.Prompt)), opts.GenNewTokens)
		}
		for k := -1; k < opts.OneCoreGenBatches; k++ { // k = -1 warms up
			g, t, err := abba.Pair(k, func() (float64, error) { return goArm(max(k, 0)) }, func() (float64, error) { return torchArm(max(k, 0)) })
			if err != nil {
				return nil, err
			}
			if k >= 0 {
				res.Greedy, res.TorchGreedy = append(res.Greedy, g), append(res.TorchGreedy, t)
				r.logf("one core greedy batch %d/%d: Go %.2fs, PyTorch %.2fs", k+1, opts.OneCoreGenBatches, g, t)
			}
		}
		res.GreedyTokPerS = float64(len(res.Greedy)*opts.GenBatch*opts.GenNewTokens) / sum(res.Greedy)
		if srvG != nil {
			iv := ratioInterval(res.Greedy, res.TorchGreedy)
			res.GreedyRatio = &iv
		}
	}
	return res, nil
}

// runSweep runs every layer × opts.SweepCoeffs as one batched job, then one configuration at a
// time, counting the graphs compiled by each.
func runSweep(m *actadd.Model, opts Options, logf func(string, ...any)) (*SweepResult, error) {
	nl := m.Layers()
	r := &SweepResult{Model: opts.GenModel, Layers: nl, Coeffs: slices.Clone(opts.SweepCoeffs), NewTokens: opts.SweepNewTokens}
	var rows []actadd.Row
	for l := range nl {
		for _, c := range opts.SweepCoeffs {
			rows = append(rows, actadd.Row{Prompt: opts.Prompt, Adds: []actadd.Addition{actadd.Pair(SweepPlus, "", c).AtLayer(l)}})
		}
	}
	r.Configs = len(rows)
	gen := actadd.GenerateOptions{MaxNewTokens: opts.SweepNewTokens, Sampling: actadd.PaperSampling, BatchSize: opts.GenBatch}
	logf("sweep %s: %d layers × %d coefficients, %d new tokens each, batched", opts.GenModel, nl, len(opts.SweepCoeffs), opts.SweepNewTokens)
	var err error
	r.Batched.Seconds, r.Batched.Compiles, err = timed(m, func() error {
		_, err := m.GenerateRows(rows, gen)
		return err
	})
	if err != nil {
		return nil, err
	}
	logf("sweep batched: %d compilations, %.2fs; now one configuration at a time", r.Batched.Compiles, r.Batched.Seconds)
	r.OneByOne.Seconds, r.OneByOne.Compiles, err = timed(m, func() error {
		for _, row := range rows {
			if _, err := m.Generate([]string{row.Prompt}, gen, row.Adds...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	logf("sweep one by one: %d compilations, %.2fs", r.OneByOne.Compiles, r.OneByOne.Seconds)
	return r, nil
}

// timed runs fn and returns its wall time in seconds and the programs m compiled meanwhile.
func timed(m *actadd.Model, fn func() error) (seconds float64, compiles int64, err error) {
	before, start := m.Builds(), time.Now()
	err = fn()
	return time.Since(start).Seconds(), m.Builds() - before, err
}

// ParseModels parses "gpt2:5,gpt2-medium:3" (model:reps, reps defaulting to 3).
func ParseModels(s string) ([]ModelReps, error) {
	return parseModelReps(s, "model", 1, func(name string) error {
		_, err := experiments.ShapeConfig(name)
		return err
	})
}

// parseModelReps parses a comma-separated list of name:reps (reps defaulting to 3, at least
// minReps), each name checked by known; what names the list's items in messages.
func parseModelReps(s, what string, minReps int, known func(name string) error) ([]ModelReps, error) {
	var out []ModelReps
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, reps, found := strings.Cut(f, ":")
		mr := ModelReps{Model: name, Reps: 3}
		if found {
			if _, err := fmt.Sscanf(reps, "%d", &mr.Reps); err != nil || mr.Reps < minReps {
				return nil, fmt.Errorf("bad repetition count in %q: want %s:reps with reps ≥ %d", f, what, minReps)
			}
		}
		if err := known(name); err != nil {
			return nil, err
		}
		out = append(out, mr)
	}
	return out, nil
}

// readFloat32s reads n little-endian float32 values from path.
func readFloat32s(path string, n int) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) != 4*n {
		return nil, fmt.Errorf("%s holds %d bytes, want %d float32 values", path, len(raw), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, nil
}

// gpt2Config is the GPT-2 config of m, whose shapes the PyTorch reference rebuilds: the
// benchmarks compare GPT-2-shaped models.
func gpt2Config(m *actadd.Model) (checkpoint.Config, error) {
	g, ok := m.LM.(*gpt2.Model)
	if !ok {
		return checkpoint.Config{}, fmt.Errorf("benchmarks: model %s is of family %s: the PyTorch reference rebuilds GPT-2 shapes only", m.Name, m.Family())
	}
	return g.Config, nil
}
