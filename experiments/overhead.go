package experiments

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/abba"
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
	// OpsReps is the number of A/B pairs that time the steering ops alone
	// (SteeringOpsTime) per shape, the direct measure of the premium; 0 skips it.
	OpsReps int
}

// PaperOverhead is E4 as the paper ran it: the four GPT-2 sizes, 10 seeds, random tokens
// batch 32 × 64, steering at layer n_layer/2 with "This is a test prompt." (c = +1) and ""
// (c = −1).
func PaperOverhead() OverheadConfig {
	return OverheadConfig{Shapes: []string{"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"}, Seeds: 10, Batch: 32, Seq: 64,
		Reps: 20, Warmup: 2, Layer: -1, Plus: "This is a test prompt.", Minus: "", OpsReps: 200}
}

// QuickOverhead is E4 at a CPU-sized scale: the tiny shape and a 4-layer width-256 shape,
// 2 seeds, batch 4 × 32, 5 timed passes per arm, 50 A/B pairs of the steering ops alone.
func QuickOverhead() OverheadConfig {
	c := PaperOverhead()
	c.Shapes, c.Seeds, c.Batch, c.Seq, c.Reps, c.Warmup, c.OpsReps = []string{"tiny", "4x256"}, 2, 4, 32, 5, 1, 50
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

// RandomWeightsLabel is how E4 names its models: random weights of a GPT-2 shape, never
// GPT-2 itself.
const RandomWeightsLabel = "random weights (not GPT-2)"

// OverheadShape is E4's outcome for one model shape.
type OverheadShape struct {
	Shape       string
	Description string // e.g. "random weights (not GPT-2), gpt2-xl shape"
	NLayer      int
	NEmbd       int
	Params      int
	Layer       int // the layer steered
	Runs        []OverheadRun
	// BaseMean and SteeredMean are the mean seconds per pass over all seeds (the mean of the
	// seeds' means; every seed times the same number of passes).
	BaseMean, SteeredMean float64
	// Premium is the protocol's premium, a ratio of means: SteeredMean/BaseMean − 1.
	// PremiumSD is the spread of the seeds' own premiums (OverheadRun.Premium): their sample
	// standard deviation, 0 with one seed.
	Premium, PremiumSD float64
	// OpsSeconds is the time the steering ops of one pass take, timed alone with
	// SteeringOpsTime (OpsReps A/B pairs), and OpsPremium = OpsSeconds/BaseMean: the
	// premium measured directly, free of the run-to-run noise of whole passes. Zero when
	// OpsReps is 0.
	OpsSeconds, OpsPremium float64
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
// and figures say so ("random weights (not GPT-2), gpt2-xl shape"). For each seed s, Batch ×
// Seq random tokens (drawn from seed s alone, the same for every shape, as the authors'
// manual_seed(seed); see OverheadTokens) go through Warmup untimed and Reps timed forward
// passes (actadd.Model.ForwardTokens, logits included) of the unsteered model and of the model
// steered with Pair(Plus, Minus, 1) at Layer, A/B interleaved (ABBA order, which cancels linear
// drift). A shape's premium is mean t_steered / mean t_base − 1, the means over all its seeds'
// passes. Progress lines go to progress (nil means os.Stderr).
//
// The steered program is the library's general one: layers are runtime inputs of one compiled
// program, so it scatter-adds at the resid_pre of EVERY layer, with zero gates except at the
// steered layer. The measured premium is therefore an upper bound of the cost of a single
// addition at one fixed layer (the results' Notes and the figure say so).
func Overhead(cfg OverheadConfig, b compute.Backend, progress io.Writer) (*OverheadResult, error) {
	switch {
	case b == nil:
		return nil, fmt.Errorf("experiments: Overhead: nil backend: pass the one backend.New() returns")
	case len(cfg.Shapes) == 0:
		return nil, fmt.Errorf("experiments: Overhead: no model shapes: give e.g. []string{\"gpt2\", \"gpt2-xl\"} or {\"tiny\"}")
	case cfg.Seeds <= 0 || cfg.Batch <= 0 || cfg.Seq <= 0 || cfg.Reps <= 0 || cfg.Warmup < 0 || cfg.OpsReps < 0:
		return nil, fmt.Errorf("experiments: Overhead: Seeds (%d), Batch (%d), Seq (%d) and Reps (%d) must be positive, Warmup (%d) and OpsReps (%d) ≥ 0",
			cfg.Seeds, cfg.Batch, cfg.Seq, cfg.Reps, cfg.Warmup, cfg.OpsReps)
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
	res.Model = RandomWeightsLabel + ", shapes " + strings.Join(names, ", ")
	res.Revision = "checkpoint.RandomTensors(shape, seed 0)"
	res.Notes = append(res.Notes,
		"weights are random, not GPT-2's (timing does not depend on their values)",
		"the steered program scatter-adds the steering vector at the resid_pre of EVERY layer, with zero gates except at the steered layer (n_layer/2 by default): "+
			"layers are runtime inputs of one compiled program, so that sweeps never recompile. The measured premium is therefore an upper bound of a single addition at one fixed layer",
		"the steered pass includes building the steering inputs ([1, batch, n, d_model] vectors, [1, batch, n] positions and [n_layer, 1, batch] gates, n = the vector's length) on the host and passing them to the program on every call",
		"premium = mean t_ActAdd / mean t_baseline − 1, the means over all seeds' timed passes; ± is the standard deviation of the seeds' own premiums")
	if cfg.OpsReps > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("steering ops alone = the time of the steering hook's ops (scatter-adds at every layer) on a [batch, seq, d_model] stream, "+
			"timed in %d A/B pairs of small graphs, over mean t_baseline: the premium measured without the run-to-run noise of whole passes", cfg.OpsReps))
	}
	for _, shape := range cfg.Shapes {
		sr, err := overheadShape(shape, cfg, b, progress)
		if err != nil {
			return nil, err
		}
		res.Shapes = append(res.Shapes, *sr)
	}
	res.finish()
	return res, nil
}

// OverheadTokens returns E4's random tokens for seed: batch rows of seq token ids below vocab,
// drawn from the seed alone (the same for every shape, whatever its place in the list).
func OverheadTokens(seed, batch, seq, vocab int) [][]int {
	r := rand.New(rand.NewPCG(uint64(seed), 0))
	rows := make([][]int, batch)
	for i := range rows {
		rows[i] = make([]int, seq)
		for j := range rows[i] {
			rows[i][j] = r.IntN(vocab)
		}
	}
	return rows
}

// overheadShape measures one shape.
func overheadShape(shape string, cfg OverheadConfig, b compute.Backend, progress io.Writer) (*OverheadShape, error) {
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
	out := &OverheadShape{Shape: shape, Description: fmt.Sprintf("%s, %s shape", RandomWeightsLabel, shape),
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
		rows := OverheadTokens(seed, cfg.Batch, cfg.Seq, mc.VocabSize)
		// pass times one forward pass and keeps the sum of its logits.
		type pass struct{ seconds, sum float64 }
		timed := func(adds ...actadd.Addition) func() (pass, error) {
			return func() (pass, error) {
				start := time.Now()
				sum, err := m.ForwardTokens(rows, adds...)
				return pass{time.Since(start).Seconds(), sum}, err
			}
		}
		base, steered := timed(), timed(add)
		for i := range cfg.Warmup {
			pb, ps, err := abba.Pair(i, base, steered)
			if err != nil {
				return nil, err
			}
			out.SteeringChangedLogits = out.SteeringChangedLogits || pb.sum != ps.sum
		}
		run := OverheadRun{Seed: seed}
		for rep := range cfg.Reps {
			pb, ps, err := abba.Pair(rep, base, steered)
			if err != nil {
				return nil, err
			}
			out.SteeringChangedLogits = out.SteeringChangedLogits || pb.sum != ps.sum
			run.Base = append(run.Base, pb.seconds)
			run.Steered = append(run.Steered, ps.seconds)
		}
		mb, ms := stat.Mean(run.Base, nil), stat.Mean(run.Steered, nil)
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
	out.Premium = out.SteeredMean/out.BaseMean - 1
	out.PremiumSD = sampleSD(premiums)
	if cfg.OpsReps > 0 {
		ops, err := SteeringOpsTime(m, add, cfg.Batch, cfg.Seq, cfg.OpsReps)
		if err != nil {
			return nil, err
		}
		out.OpsSeconds = ops.Seconds()
		out.OpsPremium = out.OpsSeconds / out.BaseMean
		fmt.Fprintf(progress, "E4 overhead: %s: steering ops alone %.3g ms per pass (%d A/B pairs): premium %+.3f%%\n",
			shape, 1000*out.OpsSeconds, cfg.OpsReps, 100*out.OpsPremium)
	}
	return out, nil
}

// sampleSD is the sample standard deviation of xs (0 for fewer than two values).
func sampleSD(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	return stat.StdDev(xs, nil)
}

// Figures renders E4's figure: the premium in % vs model size (parameters in millions, linear
// axis), each shape's premium (ratio of means over its seeds) labelled with its shape name, and
// each seed's own premium as a point.
func (r *OverheadResult) Figures() ([]*plots.Figure, error) {
	cfg := r.Config
	title := plots.Heading("E4 ActAdd inference-time premium vs model size", r.Model, r.Backend,
		fmt.Sprintf("batch %d×%d, %s × %d passes/arm", cfg.Batch, cfg.Seq, plural(cfg.Seeds, "seed"), cfg.Reps))
	xLabel := "parameters (millions); " + RandomWeightsLabel + " of each shape\n" +
		"steered program adds at every layer's resid_pre, zero gates except the steered layer: an upper bound of one fixed-layer addition"
	p := plots.NewPlot(title, xLabel, "premium: mean t_ActAdd / mean t_baseline − 1 (%)")
	meanS := plots.Series{Name: "premium over all seeds (ratio of means)"}
	seedS := plots.Series{Name: "one seed's premium"}
	opsS := plots.Series{Name: "steering ops alone (direct measure)"}
	names := plots.Series{Name: "shape names"}
	for _, s := range r.Shapes {
		x := float64(s.Params) / 1e6
		meanS.X = append(meanS.X, x)
		meanS.Y = append(meanS.Y, 100*s.Premium)
		meanS.Labels = append(meanS.Labels, fmt.Sprintf("%s (layer %d of %d)", s.Description, s.Layer, s.NLayer))
		names.Labels = append(names.Labels, fmt.Sprintf("%s, layer %d/%d", s.Shape, s.Layer, s.NLayer))
		if cfg.OpsReps > 0 {
			opsS.X = append(opsS.X, x)
			opsS.Y = append(opsS.Y, 100*s.OpsPremium)
			opsS.Labels = append(opsS.Labels, fmt.Sprintf("%s steering ops alone", s.Shape))
		}
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
	if len(opsS.X) > 0 {
		if err := plots.AddLine(p, opsS, 2); err != nil {
			return nil, err
		}
	}
	names.X, names.Y = meanS.X, meanS.Y
	if err := plots.AddLabels(p, names); err != nil {
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
	if len(opsS.X) > 0 {
		sc.Series = append(sc.Series, opsS)
	}
	sc.SampleSizes["steering_ops_ab_pairs"] = cfg.OpsReps
	plots.Pad(p)
	f, err := plots.NewFigure("e4-overhead-vs-model-size", p, sc)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f}, nil
}

// Summary is E4's outcome as text: one line per shape (parameters, seconds per pass, premium
// ± the spread of the seeds' premiums) and the notes.
func (r *OverheadResult) Summary() string {
	var b strings.Builder
	cfg := r.Config
	fmt.Fprintf(&b, "%s on %s: batch %d × %d tokens, %s × %d timed passes per arm, %.0f s\n",
		r.Model, r.Backend, cfg.Batch, cfg.Seq, plural(cfg.Seeds, "seed"), cfg.Reps, r.WallSeconds)
	fmt.Fprintf(&b, "%-12s %10s %6s %18s %16s   %-26s %s\n", "shape", "params", "layer", "unsteered s/pass", "steered s/pass",
		"premium (± sd over seeds)", "steering ops alone")
	for _, s := range r.Shapes {
		ops := "-"
		if cfg.OpsReps > 0 {
			ops = fmt.Sprintf("%+.3f%% (%.3g ms)", 100*s.OpsPremium, 1000*s.OpsSeconds)
		}
		fmt.Fprintf(&b, "%-12s %10d %6s %18.4g %16.4g   %-26s %s\n", s.Shape, s.Params,
			fmt.Sprintf("%d/%d", s.Layer, s.NLayer), s.BaseMean, s.SteeredMean,
			fmt.Sprintf("%+.3f%% (± %.3f%%)", 100*s.Premium, 100*s.PremiumSD), ops)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}
