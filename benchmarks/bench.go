// Package benchmarks measures the project's speed against a PyTorch baseline (`make bench`):
//
//   - Forward: one forward pass, logits included, of a random-weight GPT-2-shaped model on a batch
//     of random tokens (32 × 64, the paper's E4 workload), baseline and steered (layer L/2, the
//     vector of "This is a test prompt." − ""), timed A/B interleaved; premium = mean steered /
//     mean baseline − 1, as the paper defines it, with a 95% confidence interval from the A/B
//     pairs. Whole forward passes vary by ±5% from run to run on a shared machine, far more than
//     the premium, so the premium is also measured directly: the steering ops alone
//     (experiments.SteeringOpsTime, many A/B pairs of small graphs) as a percentage of the
//     baseline forward pass.
//   - Generation: sampled completions of a 9-token prompt (the E2 setting: 200 × 40 new tokens,
//     T = 1, top-p 0.3, frequency penalty 1) with the KV cache, in tokens per second.
//   - Sweep: a layer × coefficient sweep (every layer × 3 coefficients, one completion each) run
//     as one batched job on a cold model and then one configuration at a time: graphs compiled
//     (gpt2.Model.Builds) and wall time.
//
// The PyTorch reference (torch_reference.py, a baseline, not part of the product) runs the same
// shapes in the same run; ratios are Go time / PyTorch time (above 1: Go is slower).
//
// Benchmarks never run as timed assertions in tests: the test in this package only checks that
// the suite runs at a tiny size.
package benchmarks

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/abba"
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
	GenRows      int    // completions (200)
	GenNewTokens int    // new tokens per completion (40)
	GenBatch     int    // rows per program call (32)
	GenGreedy    bool   // also time greedy decoding (the model's cost without the sampler's)
	Prompt       string // the generation prompt ("I went up to my friend and said": 9 tokens with BOS)

	SweepCoeffs    []float64 // coefficients per layer; every layer of GenModel is swept
	SweepNewTokens int       // new tokens per sweep completion

	// Python runs torch_reference.py (TorchScript); "" skips the PyTorch reference.
	Python, TorchScript string
	TorchThreads        int
	// TorchDevice is where the PyTorch reference runs: "cpu" (the default) or "cuda" on a GPU
	// machine, to compare with XLA CUDA (benchmarks/device).
	TorchDevice string

	Log io.Writer `json:"-"` // progress lines; nil for none
}

// FullOptions are the sizes `make bench` uses (about 10 minutes on 2 cores).
func FullOptions() Options {
	return Options{
		Forward: []ModelReps{{"gpt2", 10}, {"gpt2-medium", 3}},
		Batch:   32, Seq: 64, SteeringOpsReps: 200,
		GenModel: "gpt2", GenRows: 200, GenNewTokens: 40, GenBatch: 32, GenGreedy: true,
		Prompt:      "I went up to my friend and said",
		SweepCoeffs: []float64{-1, 1, 4}, SweepNewTokens: 10,
		Python: "/usr/bin/python3", TorchScript: "benchmarks/torch_reference.py", TorchThreads: 2, TorchDevice: "cpu",
	}
}

// QuickOptions are reduced sizes for fast iteration (BENCH_QUICK=1, about 30 s).
func QuickOptions() Options {
	o := FullOptions()
	o.Forward = []ModelReps{{"gpt2", 2}}
	o.Batch, o.Seq, o.SteeringOpsReps = 8, 32, 20
	o.GenRows, o.GenNewTokens, o.GenBatch = 16, 8, 16
	o.SweepNewTokens = 2
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
	LoadStart  string          `json:"load_start"`
	LoadEnd    string          `json:"load_end"`
	Backend    string          `json:"backend"`
	Torch      *TorchInfo      `json:"torch,omitempty"`
	Forward    []ForwardResult `json:"forward,omitempty"`
	Generation *GenResult      `json:"generation,omitempty"`
	// GenerationGreedy is the same generation decoded greedily: with random weights the top-p
	// nucleus holds ~7,000 tokens, so sampling (sorting the vocabulary) dominates Generation.
	GenerationGreedy *GenResult   `json:"generation_greedy,omitempty"`
	Sweep            *SweepResult `json:"sweep,omitempty"`
	Summary          Summary      `json:"summary"`
}

// Summary holds the key numbers of the final line. Ratios are Go time / PyTorch time; premium
// and ratio are those of the first forward model (gpt2).
type Summary struct {
	ForwardRatioVsTorch *float64 `json:"forward_ratio_vs_torch"`
	GenRatioVsTorch     *float64 `json:"gen_ratio_vs_torch"`
	PremiumPct          *float64 `json:"premium_pct"`
	PremiumOpsPct       *float64 `json:"premium_ops_pct"` // the steering ops alone, see ForwardResult
	SweepCompiles       *int64   `json:"sweep_compiles"`  // graphs compiled by the batched sweep, cold
}

// ForwardResult times one model's forward pass (actadd.Model.ForwardTokens: logits included,
// summed on the device), baseline vs steered.
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
	SteeringOpsSeconds float64       `json:"steering_ops_seconds"`
	PremiumOpsPct      float64       `json:"premium_ops_pct"`
	BaseCVPct          float64       `json:"base_cv_pct"` // coefficient of variation of Base: the noise level
	Torch              *TorchForward `json:"torch,omitempty"`
	RatioVsTorch       *float64      `json:"ratio_vs_torch"` // BaseMean / Torch.BaseMean
}

// GenResult times sampled generation (unsteered; steering only changes the prefill).
type GenResult struct {
	Model           string          `json:"model"`
	Rows            int             `json:"rows"`
	NewTokens       int             `json:"new_tokens"`
	PromptTokens    int             `json:"prompt_tokens"` // with BOS
	Batch           int             `json:"batch"`
	Sampling        actadd.Sampling `json:"sampling"`
	Seconds         float64         `json:"seconds"`
	TokensPerSecond float64         `json:"tokens_per_second"` // generated tokens / Seconds
	Builds          int64           `json:"compiles"`          // graphs compiled during the timed run
	// Warm-up: one untimed batch first (compiling the prefill and step programs, which takes
	// seconds on XLA), as the forward timings and the PyTorch reference also warm up.
	WarmupSeconds float64   `json:"warmup_seconds"`
	WarmupBuilds  int64     `json:"warmup_compiles"`
	Torch         *TorchGen `json:"torch,omitempty"`
	RatioVsTorch  *float64  `json:"ratio_vs_torch"` // Torch.TokensPerSecond / TokensPerSecond
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

// Run runs the benchmarks opts asks for.
func Run(opts Options) (*Result, error) {
	start := time.Now()
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "bench: "+format+"\n", args...)
		}
	}
	res := &Result{Schema: "actadd-bench/1", Started: start, Machine: MachineInfo(), LoadStart: loadAverage()}
	res.Options, _ = json.Marshal(opts)
	b, desc, err := backend.New()
	if err != nil {
		return nil, err
	}
	res.Backend = desc
	var torch *torchRunner
	if opts.Python != "" {
		torch = &torchRunner{python: opts.Python, script: opts.TorchScript, threads: opts.TorchThreads, device: opts.TorchDevice, log: opts.Log}
		if res.Torch, err = torch.info(); err != nil {
			return nil, err
		}
		logf("PyTorch %s, %d threads, BLAS %s", res.Torch.Version, res.Torch.Threads, res.Torch.BLAS)
	}

	models := map[string]*actadd.Model{}
	load := func(name string) (*actadd.Model, error) {
		if m, ok := models[name]; ok {
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
		m, err := actadd.Wrap(g, backend.Describe(b))
		if err != nil {
			return nil, err
		}
		logf("built %s (%d layers × %d) in %s", m.Name, cfg.NLayer, cfg.NEmbd, time.Since(t0).Round(time.Millisecond))
		models[name] = m
		return m, nil
	}
	release := func(name string) {
		if m, ok := models[name]; ok {
			m.Finalize()
			delete(models, name)
		}
	}

	// The sweep goes first: its compile count is that of a model that has compiled nothing.
	if opts.GenModel != "" && len(opts.SweepCoeffs) > 0 && opts.SweepNewTokens > 0 {
		m, err := load(opts.GenModel)
		if err != nil {
			return nil, err
		}
		if res.Sweep, err = runSweep(m, opts, logf); err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
	}
	if opts.GenModel != "" && opts.GenRows > 0 && opts.GenNewTokens > 0 {
		m, err := load(opts.GenModel)
		if err != nil {
			return nil, err
		}
		if res.Generation, err = runGeneration(m, opts, actadd.PaperSampling, torch, logf); err != nil {
			return nil, fmt.Errorf("generation: %w", err)
		}
		if opts.GenGreedy {
			if res.GenerationGreedy, err = runGeneration(m, opts, actadd.Greedy, torch, logf); err != nil {
				return nil, fmt.Errorf("greedy generation: %w", err)
			}
		}
	}
	for i, fr := range opts.Forward {
		if fr.Reps <= 0 || opts.Batch <= 0 || opts.Seq <= 0 {
			continue
		}
		if i > 0 || fr.Model != opts.GenModel {
			release(opts.GenModel) // one model in memory at a time
		}
		m, err := load(fr.Model)
		if err != nil {
			return nil, err
		}
		r, err := runForward(m, fr, opts, torch, logf)
		if err != nil {
			return nil, fmt.Errorf("forward %s: %w", fr.Model, err)
		}
		res.Forward = append(res.Forward, *r)
		release(fr.Model)
	}
	for name := range models {
		release(name)
	}

	if len(res.Forward) > 0 {
		res.Summary.ForwardRatioVsTorch = res.Forward[0].RatioVsTorch
		p, ops := res.Forward[0].PremiumPct, res.Forward[0].PremiumOpsPct
		res.Summary.PremiumPct, res.Summary.PremiumOpsPct = &p, &ops
	}
	if res.Generation != nil {
		res.Summary.GenRatioVsTorch = res.Generation.RatioVsTorch
	}
	if res.Sweep != nil {
		c := res.Sweep.Batched.Compiles
		res.Summary.SweepCompiles = &c
	}
	res.WallSeconds = time.Since(start).Seconds()
	res.LoadEnd = loadAverage()
	return res, nil
}

// runForward times baseline and steered forward passes, interleaved ABBA so that drift of the
// machine's speed affects both arms alike, then the PyTorch reference on the same shapes.
func runForward(m *actadd.Model, mr ModelReps, opts Options, torch *torchRunner, logf func(string, ...any)) (*ForwardResult, error) {
	cfg := m.Config
	layer := cfg.NLayer / 2
	add := actadd.Pair(SteerPlus, SteerMinus, 1).AtLayer(layer)
	v, err := m.Vector(add)
	if err != nil {
		return nil, err
	}
	rows := experiments.OverheadTokens(7, opts.Batch, opts.Seq, cfg.VocabSize)
	r := &ForwardResult{Model: mr.Model, Layers: cfg.NLayer, Width: cfg.NEmbd, Batch: opts.Batch, Seq: opts.Seq,
		Reps: mr.Reps, SteerLayer: layer, SteerTokens: v.N}
	timeOne := func(steer bool) (float64, error) {
		var adds []actadd.Addition
		if steer {
			adds = []actadd.Addition{add}
		}
		t0 := time.Now()
		_, err := m.ForwardTokens(rows, adds...)
		return time.Since(t0).Seconds(), err
	}
	if r.WarmupBase, err = timeOne(false); err != nil {
		return nil, err
	}
	if r.WarmupSteer, err = timeOne(true); err != nil {
		return nil, err
	}
	logf("forward %s %d×%d: warm-up base %.2fs, steered %.2fs; %d timed reps per arm", mr.Model, opts.Batch, opts.Seq, r.WarmupBase, r.WarmupSteer, mr.Reps)
	var pairs []float64
	for i := range mr.Reps {
		tb, ts, err := abba.Pair(i, func() (float64, error) { return timeOne(false) }, func() (float64, error) { return timeOne(true) })
		if err != nil {
			return nil, err
		}
		r.Base, r.Steer = append(r.Base, tb), append(r.Steer, ts)
		pairs = append(pairs, (ts/tb-1)*100)
		logf("forward %s rep %d/%d: base %.3fs steered %.3fs", mr.Model, i+1, mr.Reps, tb, ts)
	}
	r.BaseMean, r.SteerMean = stat.Mean(r.Base, nil), stat.Mean(r.Steer, nil)
	r.PremiumPct = (r.SteerMean/r.BaseMean - 1) * 100
	r.PairedMedPct = median(pairs)
	if n := len(pairs); n > 1 {
		r.BaseCVPct = stat.StdDev(r.Base, nil) / r.BaseMean * 100
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
		r.PremiumCI95Pct = t * stat.StdDev(pairs, nil) / math.Sqrt(float64(n))
	}
	if opts.SteeringOpsReps > 0 {
		ops, err := experiments.SteeringOpsTime(m, add, opts.Batch, opts.Seq, opts.SteeringOpsReps)
		if err != nil {
			return nil, err
		}
		r.SteeringOpsSeconds = ops.Seconds()
		r.PremiumOpsPct = r.SteeringOpsSeconds / r.BaseMean * 100
		logf("forward %s: steering ops alone %.3f ms per forward pass (%d A/B pairs) = %.3f%% of the baseline",
			mr.Model, r.SteeringOpsSeconds*1000, opts.SteeringOpsReps, r.PremiumOpsPct)
	}
	if torch != nil {
		logf("forward %s: PyTorch reference", mr.Model)
		if r.Torch, err = torch.forward(cfg, opts.Batch, opts.Seq, mr.Reps, layer, v.N); err != nil {
			return nil, err
		}
		ratio := r.BaseMean / r.Torch.BaseMean
		r.RatioVsTorch = &ratio
	}
	return r, nil
}

// runGeneration times opts.GenRows completions of opts.Prompt, unsteered (steering only changes
// the prefill).
func runGeneration(m *actadd.Model, opts Options, sampling actadd.Sampling, torch *torchRunner, logf func(string, ...any)) (*GenResult, error) {
	prompts := make([]string, opts.GenRows)
	for i := range prompts {
		prompts[i] = opts.Prompt
	}
	r := &GenResult{Model: opts.GenModel, Rows: opts.GenRows, NewTokens: opts.GenNewTokens, Batch: opts.GenBatch,
		PromptTokens: len(m.Tok.EncodeWithBOS(opts.Prompt)), Sampling: sampling}
	logf("generation %s: %d completions × %d new tokens, prompt of %d tokens, %+v", opts.GenModel, r.Rows, r.NewTokens, r.PromptTokens, sampling)
	gen := actadd.GenerateOptions{MaxNewTokens: opts.GenNewTokens, Sampling: r.Sampling, BatchSize: opts.GenBatch}
	var err error
	r.WarmupSeconds, r.WarmupBuilds, err = timed(m, func() error {
		_, err := m.Generate(prompts[:min(opts.GenBatch, len(prompts))], gen)
		return err
	})
	if err != nil {
		return nil, err
	}
	logf("generation warm-up (one batch, untimed): %.2fs, %d compilations", r.WarmupSeconds, r.WarmupBuilds)
	gen.Progress = opts.Log
	var out []actadd.Completion
	if r.Seconds, r.Builds, err = timed(m, func() (err error) { out, err = m.Generate(prompts, gen); return err }); err != nil {
		return nil, err
	}
	n := 0
	for _, c := range out {
		n += len(c.Generated())
	}
	r.TokensPerSecond = float64(n) / r.Seconds
	if torch != nil {
		logf("generation %+v: PyTorch reference", sampling)
		if r.Torch, err = torch.generate(m.Config, r); err != nil {
			return nil, err
		}
		ratio := r.Torch.TokensPerSecond / r.TokensPerSecond
		r.RatioVsTorch = &ratio
	}
	return r, nil
}

// runSweep runs every layer × opts.SweepCoeffs as one batched job, then one configuration at a
// time, counting the graphs compiled by each.
func runSweep(m *actadd.Model, opts Options, logf func(string, ...any)) (*SweepResult, error) {
	nl := m.Config.NLayer
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

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// ParseModels parses "gpt2:5,gpt2-medium:3" (model:reps, reps defaulting to 3).
func ParseModels(s string) ([]ModelReps, error) {
	var out []ModelReps
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, reps, found := strings.Cut(f, ":")
		mr := ModelReps{Model: name, Reps: 3}
		if found {
			if _, err := fmt.Sscanf(reps, "%d", &mr.Reps); err != nil || mr.Reps < 1 {
				return nil, fmt.Errorf("bad repetition count in %q: want model:reps with reps ≥ 1", f)
			}
		}
		if _, err := experiments.ShapeConfig(name); err != nil {
			return nil, err
		}
		out = append(out, mr)
	}
	return out, nil
}
