package experiments

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/plots"
	"github.com/gomlx/compute"
)

// OverheadConfig configures E4: the inference-time premium of a steered forward pass over an
// unsteered one, for models of several sizes.
type OverheadConfig struct {
	// Shapes are model shapes: gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, "tiny" (the
	// stand-in's config), or "<layers>x<width>" such as "4x256" (heads of width 64).
	Shapes []string
	Seeds  int // seeds per shape: seed s draws the random tokens
	Batch  int // rows per forward pass
	Seq    int // tokens per row
	Reps   int // timed forward passes per arm (baseline, steered) and seed
	Warmup int // untimed passes per arm and seed before timing (the first also compiles)
	// Layer is the injection layer; -1 means n_layer/2 (integer division), as in the paper.
	Layer       int
	Plus, Minus string // steering = Pair(Plus, Minus, 1): +1·h(Plus) − 1·h(Minus)
}

// PaperOverhead is E4 as the paper ran it: the four GPT-2 sizes, 10 seeds, random tokens
// batch 32 × 64, steering at layer n_layer/2 with "This is a test prompt." (c = +1) and ""
// (c = −1).
func PaperOverhead() OverheadConfig {
	return OverheadConfig{Shapes: []string{"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"}, Seeds: 10, Batch: 32, Seq: 64,
		Reps: 20, Warmup: 2, Layer: -1, Plus: "This is a test prompt.", Minus: ""}
}

// QuickOverhead is E4 at a CPU-sized scale: the tiny shape and a 4-layer width-256 shape,
// 2 seeds, batch 4 × 32, 5 timed passes per arm.
func QuickOverhead() OverheadConfig {
	c := PaperOverhead()
	c.Shapes, c.Seeds, c.Batch, c.Seq, c.Reps, c.Warmup = []string{"tiny", "4x256"}, 2, 4, 32, 5, 1
	return c
}

// ShapeConfig returns the config of a model shape named as in OverheadConfig.Shapes.
func ShapeConfig(shape string) (checkpoint.Config, error) {
	if shape == checkpoint.TinyName {
		return checkpoint.TinyConfig(), nil
	}
	if cfg, ok := checkpoint.KnownConfig(shape); ok {
		return cfg, nil
	}
	ls, ds, ok := strings.Cut(shape, "x")
	l, err1 := strconv.Atoi(ls)
	d, err2 := strconv.Atoi(ds)
	if !ok || err1 != nil || err2 != nil || l <= 0 || d <= 0 {
		return checkpoint.Config{}, fmt.Errorf("experiments: unknown model shape %q: use gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, tiny, or <layers>x<width> such as 4x256", shape)
	}
	if d > 64 && d%64 != 0 {
		return checkpoint.Config{}, fmt.Errorf("experiments: shape %q: the width must be a multiple of 64 (heads of width 64), or at most 64 (one head)", shape)
	}
	cfg := checkpoint.TinyConfig()
	cfg.NLayer, cfg.NEmbd, cfg.NHead = l, d, max(1, d/64)
	return cfg, cfg.Validate()
}

// NumParams counts the parameters of a GPT-2 of config cfg (the LM head is tied to the token
// embedding and not counted twice).
func NumParams(cfg checkpoint.Config) int {
	n := 0
	for _, shape := range checkpoint.ExpectedShapes(cfg) {
		k := 1
		for _, s := range shape {
			k *= s
		}
		n += k
	}
	return n
}

// OverheadRun is one (shape, seed) measurement: the seconds of each timed forward pass.
type OverheadRun struct {
	Seed          int
	Base, Steered []float64 // seconds per pass, in the order they ran
	// Premium is mean(Steered)/mean(Base) − 1.
	Premium float64
}

// OverheadShape is E4's outcome for one model shape.
type OverheadShape struct {
	Shape       string
	Description string // e.g. "random weights, gpt2-xl shape"
	NLayer      int
	NEmbd       int
	Params      int
	Layer       int // the layer steered
	Runs        []OverheadRun
	// BaseMean and SteeredMean are the mean seconds per pass over all seeds.
	BaseMean, SteeredMean float64
	// Premium is the mean over seeds of each seed's premium; PremiumSD their standard deviation.
	Premium, PremiumSD float64
	// SteeringChangedLogits is true when the steered pass's logits (their sum) differed from the
	// baseline's: proof that the timed steered pass really steered.
	SteeringChangedLogits bool
}

// OverheadResult is E4's outcome.
type OverheadResult struct {
	RunInfo
	Config OverheadConfig
	Shapes []OverheadShape
	Notes  []string
}

// Overhead runs E4 on backend b. Timing does not depend on weight values, so each shape is a
// RANDOM-weight model (checkpoint.RandomTensors, seed 0) of that shape, built once; results
// and figures say so ("random weights, gpt2-xl shape"). For each seed s, Batch × Seq random
// tokens (drawn from seed s) go through Warmup untimed and Reps timed forward passes
// (actadd.Model.ForwardTokens, logits included) of the unsteered model and of the model
// steered with Pair(Plus, Minus, 1) at Layer, A/B interleaved (ABBA order, which cancels linear
// drift). The premium is mean t_steered / mean t_base − 1. Progress lines go to progress (nil
// means os.Stderr).
func Overhead(cfg OverheadConfig, b compute.Backend, progress io.Writer) (*OverheadResult, error) {
	switch {
	case b == nil:
		return nil, fmt.Errorf("experiments: Overhead: nil backend: pass the one backend.New() returns")
	case len(cfg.Shapes) == 0:
		return nil, fmt.Errorf("experiments: Overhead: no model shapes: give e.g. []string{\"gpt2\", \"gpt2-xl\"} or {\"tiny\"}")
	case cfg.Seeds <= 0 || cfg.Batch <= 0 || cfg.Seq <= 0 || cfg.Reps <= 0 || cfg.Warmup < 0:
		return nil, fmt.Errorf("experiments: Overhead: Seeds (%d), Batch (%d), Seq (%d) and Reps (%d) must be positive, Warmup (%d) ≥ 0",
			cfg.Seeds, cfg.Batch, cfg.Seq, cfg.Reps, cfg.Warmup)
	}
	progress = progressTo(progress)
	res := &OverheadResult{Config: cfg, RunInfo: RunInfo{Backend: backend.Describe(b), Started: time.Now().UTC()}}
	var names []string
	for _, shape := range cfg.Shapes {
		if _, err := ShapeConfig(shape); err != nil {
			return nil, err
		}
		names = append(names, shape)
		res.TinyStandIn = res.TinyStandIn || shape == checkpoint.TinyName
	}
	res.Model = "random weights, shapes " + strings.Join(names, ", ")
	res.Revision = "checkpoint.RandomTensors(shape, seed 0)"
	res.Notes = append(res.Notes,
		"weights are random (timing does not depend on their values)",
		"the steered pass includes building the steering inputs ([1, batch, n, d_model] vectors, [1, batch, n] positions and [n_layer, 1, batch] gates, n = the vector's length) on the host and passing them to the program on every call")
	for si, shape := range cfg.Shapes {
		sr, err := overheadShape(shape, si, cfg, b, progress)
		if err != nil {
			return nil, err
		}
		res.Shapes = append(res.Shapes, *sr)
	}
	res.finish()
	return res, nil
}

// overheadShape measures one shape.
func overheadShape(shape string, si int, cfg OverheadConfig, b compute.Backend, progress io.Writer) (*OverheadShape, error) {
	mc, _ := ShapeConfig(shape)
	if cfg.Seq > mc.NPositions {
		return nil, fmt.Errorf("experiments: Overhead: Seq %d exceeds the %d positions of shape %s", cfg.Seq, mc.NPositions, shape)
	}
	layer := cfg.Layer
	if layer == -1 {
		layer = mc.NLayer / 2
	}
	if layer < 0 || layer >= mc.NLayer {
		return nil, fmt.Errorf("experiments: Overhead: layer %d is out of range for shape %s (layers 0..%d; -1 means n_layer/2)", layer, shape, mc.NLayer-1)
	}
	out := &OverheadShape{Shape: shape, Description: fmt.Sprintf("random weights, %s shape", shape),
		NLayer: mc.NLayer, NEmbd: mc.NEmbd, Params: NumParams(mc), Layer: layer}
	fmt.Fprintf(progress, "E4 overhead: building %s (%d layers, width %d, %.1fM parameters) on %s\n",
		out.Description, mc.NLayer, mc.NEmbd, float64(out.Params)/1e6, backend.Describe(b))
	g, err := gpt2.New(b, out.Description, mc, checkpoint.RandomTensors(mc, 0))
	if err != nil {
		return nil, err
	}
	defer g.Finalize()
	m, err := actadd.Wrap(g, backend.Describe(b))
	if err != nil {
		return nil, err
	}
	add := actadd.Pair(cfg.Plus, cfg.Minus, 1).AtLayer(layer)
	var sumBase, sumSteered float64
	var premiums []float64
	for seed := range cfg.Seeds {
		r := rand.New(rand.NewPCG(uint64(seed), uint64(si)))
		rows := make([][]int, cfg.Batch)
		for i := range rows {
			rows[i] = make([]int, cfg.Seq)
			for j := range rows[i] {
				rows[i][j] = r.IntN(mc.VocabSize)
			}
		}
		base := func() (float64, float64, error) {
			start := time.Now()
			sum, err := m.ForwardTokens(rows)
			return time.Since(start).Seconds(), sum, err
		}
		steered := func() (float64, float64, error) {
			start := time.Now()
			sum, err := m.ForwardTokens(rows, add)
			return time.Since(start).Seconds(), sum, err
		}
		for range cfg.Warmup {
			_, sb, err := base()
			if err != nil {
				return nil, err
			}
			_, ss, err := steered()
			if err != nil {
				return nil, err
			}
			out.SteeringChangedLogits = out.SteeringChangedLogits || sb != ss
		}
		run := OverheadRun{Seed: seed}
		for rep := range cfg.Reps {
			first, second := base, steered
			if rep%2 == 1 { // ABBA: alternate which arm goes first
				first, second = steered, base
			}
			t1, s1, err := first()
			if err != nil {
				return nil, err
			}
			t2, s2, err := second()
			if err != nil {
				return nil, err
			}
			out.SteeringChangedLogits = out.SteeringChangedLogits || s1 != s2
			if rep%2 == 1 {
				t1, t2 = t2, t1
			}
			run.Base = append(run.Base, t1)
			run.Steered = append(run.Steered, t2)
		}
		mb, ms := mean(run.Base), mean(run.Steered)
		run.Premium = ms/mb - 1
		sumBase += mb
		sumSteered += ms
		premiums = append(premiums, run.Premium)
		out.Runs = append(out.Runs, run)
		fmt.Fprintf(progress, "E4 overhead: %s seed %d: baseline %.4gs, steered %.4gs per pass (batch %d×%d): premium %+.2f%%\n",
			shape, seed, mb, ms, cfg.Batch, cfg.Seq, 100*run.Premium)
	}
	out.BaseMean = sumBase / float64(cfg.Seeds)
	out.SteeredMean = sumSteered / float64(cfg.Seeds)
	out.Premium = mean(premiums)
	if len(premiums) > 1 {
		ss := 0.0
		for _, p := range premiums {
			ss += (p - out.Premium) * (p - out.Premium)
		}
		out.PremiumSD = math.Sqrt(ss / float64(len(premiums)-1))
	}
	return out, nil
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Figures renders E4's figure: the premium in % vs model size (parameters, log axis), one
// point per seed and the mean over seeds per shape.
func (r *OverheadResult) Figures() ([]*plots.Figure, error) {
	cfg := r.Config
	title := plots.Heading("E4 ActAdd inference-time premium vs model size", r.Model, r.Backend,
		fmt.Sprintf("batch %d×%d, %s × %d passes/arm", cfg.Batch, cfg.Seq, plural(cfg.Seeds, "seed"), cfg.Reps))
	p := plots.NewPlot(title, "parameters (millions, log scale); random-weight models of each shape",
		"premium: mean t_ActAdd / mean t_baseline − 1 (%)")
	plots.LogX(p)
	meanS := plots.Series{Name: "mean over seeds"}
	seedS := plots.Series{Name: "one seed"}
	for _, s := range r.Shapes {
		x := float64(s.Params) / 1e6
		meanS.X = append(meanS.X, x)
		meanS.Y = append(meanS.Y, 100*s.Premium)
		meanS.Labels = append(meanS.Labels, fmt.Sprintf("%s (layer %d of %d)", s.Description, s.Layer, s.NLayer))
		for _, run := range s.Runs {
			seedS.X = append(seedS.X, x)
			seedS.Y = append(seedS.Y, 100*run.Premium)
			seedS.Labels = append(seedS.Labels, fmt.Sprintf("%s seed %d", s.Shape, run.Seed))
		}
	}
	if err := plots.AddPoints(p, seedS, 1); err != nil {
		return nil, err
	}
	if err := plots.AddLine(p, meanS, 0); err != nil {
		return nil, err
	}
	plots.AddHLine(p, 0, "no premium", plots.Gray)
	sc, err := r.sidecar("E4", title, cfg, 0, "")
	if err != nil {
		return nil, err
	}
	sc.RandomWeights = true
	sc.SampleSizes = map[string]int{"shapes": len(r.Shapes), "seeds": cfg.Seeds, "passes_per_arm_and_seed": cfg.Reps, "batch": cfg.Batch, "seq": cfg.Seq}
	sc.Notes = r.Notes
	sc.Series = []plots.Series{meanS, seedS}
	plots.Pad(p)
	f, err := plots.NewFigure("e4-overhead-vs-model-size", p, sc)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f}, nil
}
