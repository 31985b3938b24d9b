package experiments

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/abba"
	"github.com/actadd-go/actadd/internal/machine"
	"github.com/actadd-go/actadd/interval"
	"github.com/actadd-go/actadd/loader"
	"github.com/actadd-go/actadd/plots"
	meter "github.com/actadd-go/actadd/progress"
	"github.com/actadd-go/actadd/runstore"
	"github.com/gomlx/compute"
)

// OverheadConfig configures E4: the inference-time premium of a steered forward pass over an
// unsteered one, for models of several sizes.
type OverheadConfig struct {
	// Shapes are model shapes: gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2, "tiny" (the
	// stand-in's config), or "<layers>x<width>" such as "4x256" (heads of width 64); or of the
	// Llama family (loader.RandomShapes): smollm2-135m, smollm2-360m, smollm2-1.7b,
	// qwen2.5-0.5b, or a stand-in's ("tiny-llama", …), E4 over one family's sizes.
	Shapes []string
	Seeds  int // seeds per shape: seed s draws the random tokens
	Batch  int // rows per forward pass
	Seq    int // tokens per row
	Reps   int // timed forward passes per arm (baseline, steered) and seed
	Warmup int // untimed passes per arm and seed before timing (the first also compiles)
	// Layer is the injection layer (paper: 1/2, n_layer/2 rounded down as the authors' L//2).
	Layer       Layer
	Plus, Minus string // steering = Pair(Plus, Minus, 1): +1·h(Plus) − 1·h(Minus)
	// OpsReps is the number of A/B pairs that time the steering ops alone
	// (SteeringOpsTime) per shape, the direct measure of the premium, in opsBlocks
	// blocks whose spread gives its interval; 0 skips it.
	OpsReps  int
	Progress io.Writer `json:"-"` // progress lines; nil means os.Stderr
	// Runs is the run store recording the experiment's units of work (zero: none, compute
	// everything); Context, when set, stops the run between units (the units finished before
	// stay recorded) with its error.
	Runs    RunStore        `json:"-"`
	Context context.Context `json:"-"`
}

// paperOverhead is E4 as the paper ran it: the four GPT-2 sizes, 10 seeds, random tokens
// batch 32 × 64, steering at layer n_layer/2 with "This is a test prompt." (c = +1) and ""
// (c = −1).
func paperOverhead() OverheadConfig {
	return OverheadConfig{Shapes: []string{"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"}, Seeds: 10, Batch: 32, Seq: 64,
		Reps: 20, Warmup: 2, Layer: Layer{At: 1, Of: 2}, Plus: "This is a test prompt.", Minus: "", OpsReps: 200}
}

// quickOverhead is E4 at a CPU-sized scale: the tiny shape and a 4-layer width-256 shape,
// 2 seeds, batch 4 × 32, 5 timed passes per arm, 50 A/B pairs of the steering ops alone.
func quickOverhead() OverheadConfig {
	c := paperOverhead()
	c.Shapes, c.Seeds, c.Batch, c.Seq, c.Reps, c.Warmup, c.OpsReps = []string{"tiny", "4x256"}, 2, 4, 32, 5, 1, 50
	return c
}

// opsBlocks is the number of blocks the OpsReps A/B pairs of the steering ops are timed in: the
// spread of the blocks' means gives the direct premium's interval.
const opsBlocks = 10

// check rejects a config Overhead cannot run, checking every shape before any model is built.
func (c *OverheadConfig) check() error {
	switch {
	case len(c.Shapes) == 0:
		return fmt.Errorf("experiments: E4: no model shapes: give e.g. []string{\"gpt2\", \"gpt2-xl\"} or {\"tiny\"}")
	case c.Layer.All:
		return fmt.Errorf("experiments: E4 steers one layer, not all: give one (paper: 1/2)")
	case c.Seeds <= 0 || c.Batch <= 0 || c.Seq <= 0 || c.Reps <= 0 || c.Warmup < 0 || c.OpsReps < 0:
		return fmt.Errorf("experiments: E4: Seeds (%d), Batch (%d), Seq (%d) and Reps (%d) must be positive, Warmup (%d) and OpsReps (%d) ≥ 0",
			c.Seeds, c.Batch, c.Seq, c.Reps, c.Warmup, c.OpsReps)
	}
	for _, s := range c.Shapes {
		if _, err := shapeOf(s); err != nil {
			return err
		}
	}
	return nil
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

// modelShape is a shape E4 times: its sizes, its config (recorded in the run store's keys), the
// label and revision of its random weights, and how to build a model of it.
type modelShape struct {
	layers, width, positions, vocab, params int
	config                                  any
	label, revision                         string
	standIn                                 bool
	build                                   func(b compute.Backend, desc string) (*actadd.Model, error)
}

// shapeOf resolves a shape named as in OverheadConfig.Shapes.
func shapeOf(shape string) (modelShape, error) {
	mc, err := ShapeConfig(shape)
	if err == nil {
		return modelShape{layers: mc.NLayer, width: mc.NEmbd, positions: mc.NPositions, vocab: mc.VocabSize, params: NumParams(mc),
			config: mc, label: RandomWeightsLabel, revision: "checkpoint.RandomTensors(shape, seed 0)", standIn: shape == checkpoint.TinyName,
			build: func(b compute.Backend, desc string) (*actadd.Model, error) {
				g, err := gpt2.New(b, desc, mc, checkpoint.RandomTensors(mc, 0))
				if err != nil {
					return nil, err
				}
				m, err := actadd.Wrap(g, nil, backend.Describe(b))
				if err != nil {
					g.Finalize()
				}
				return m, err
			}}, nil
	}
	ls, ok := loader.ShapeOf(shape)
	if !ok {
		return modelShape{}, fmt.Errorf("%w; or a Llama-family shape: %s", err, strings.Join(loader.RandomShapes(), ", "))
	}
	return modelShape{layers: ls.Dims.Layers, width: ls.Dims.Width, positions: ls.Dims.Context, vocab: ls.Dims.Vocab, params: int(ls.Params),
		config: ls.Config, label: RandomWeightsLLMLabel, revision: "llama.RandomTensors(shape, seed 0)", standIn: plots.IsTiny(shape),
		build: func(b compute.Backend, desc string) (*actadd.Model, error) {
			g, tok, err := loader.RandomShape(b, shape, desc, 0)
			if err != nil {
				return nil, err
			}
			m, err := actadd.Wrap(g, tok, backend.Describe(b))
			if err != nil {
				g.Finalize()
			}
			return m, err
		}}, nil
}

// NumParams counts the parameters of a GPT-2 of config cfg (the LM head is tied to the token
// embedding and not counted twice): checkpoint.Config.ParamCount, whose products cannot
// overflow; -1 for sizes whose count does not fit in an int64 (no config ShapeConfig accepts).
func NumParams(cfg checkpoint.Config) int {
	n, ok := cfg.ParamCount()
	if !ok {
		return -1
	}
	return int(n)
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

// RandomWeightsLLMLabel is how E4 names its models of Llama-family shapes: random weights, not
// the published model of that shape.
const RandomWeightsLLMLabel = "random weights (not a trained model)"

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
	// Premium is the protocol's premium, a ratio of means: SteeredMean/BaseMean − 1, with its
	// 95% interval over the seeds (interval.RatioOfMeansLog of the seeds' mean times, minus 1:
	// a t interval on the log scale, so that it never reaches below −100%).
	// PremiumSD is the spread of the seeds' own premiums (OverheadRun.Premium): their sample
	// standard deviation, 0 with one seed.
	Premium   interval.Estimate
	PremiumSD float64
	// OpsSeconds is the time the steering ops of one pass take, timed alone with
	// SteeringOpsTime (OpsReps A/B pairs in opsBlocks blocks), and OpsPremium =
	// OpsSeconds/BaseMean: the premium measured directly, free of the run-to-run noise of whole
	// passes, with a t interval over the blocks (BaseMean taken as exact). Zero when OpsReps is 0.
	OpsSeconds float64
	OpsPremium interval.Estimate
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

// Overhead runs E4 on m's backend (m's weights are not used; nil m means the backend
// backend.New picks). Timing does not depend on weight values, so each shape is a RANDOM-weight
// model (checkpoint.RandomTensors, seed 0) of that shape, built once; results and figures say so
// ("random weights (not GPT-2), gpt2-xl shape"). For each seed s, Batch × Seq random tokens
// (drawn from seed s alone, the same for every shape, as the authors' manual_seed(seed); see
// OverheadTokens) go through Warmup untimed and Reps timed forward passes
// (actadd.Model.ForwardTokens, logits included) of the unsteered model and of the model steered
// with Pair(Plus, Minus, 1) at Layer, A/B interleaved (ABBA order, which cancels linear drift). A
// shape's premium is mean t_steered / mean t_base − 1, the means over all its seeds' passes,
// with a 95% t interval over the seeds (delta method).
//
// The steered program is the library's general one: layers are runtime inputs of one compiled
// program, so it scatter-adds at the resid_pre of EVERY layer, with zero gates except at the
// steered layer. The measured premium is therefore an upper bound of the cost of a single
// addition at one fixed layer (the results' Notes and the figure say so).
func Overhead(m *actadd.Model, cfg OverheadConfig) (*OverheadResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	var b compute.Backend
	if m != nil {
		b = m.Backend()
	} else {
		var err error
		if b, _, err = backend.New(); err != nil {
			return nil, err
		}
	}
	progress := progressTo(cfg.Progress)
	res := &OverheadResult{Config: cfg, RunInfo: RunInfo{Backend: backend.Describe(b), Started: time.Now().UTC(), RunID: plots.NewRunID()}}
	var names []string
	labels, revisions := map[string]bool{}, map[string]bool{}
	for _, shape := range cfg.Shapes {
		names = append(names, shape)
		ms, _ := shapeOf(shape)
		res.TinyStandIn = res.TinyStandIn || ms.standIn
		labels[ms.label], revisions[ms.revision] = true, true
	}
	res.Model = strings.Join(slices.Sorted(maps.Keys(labels)), "; ") + ", shapes " + strings.Join(names, ", ")
	res.Revision = strings.Join(slices.Sorted(maps.Keys(revisions)), "; ")
	res.Notes = append(res.Notes,
		"weights are random, not those of the published models (timing does not depend on their values)",
		"the steered program scatter-adds the steering vector at the resid_pre of EVERY layer, with zero gates except at the steered layer (n_layer/2 by default): "+
			"layers are runtime inputs of one compiled program, so that sweeps never recompile. The measured premium is therefore an upper bound of a single addition at one fixed layer",
		"the steered pass includes building the steering inputs ([1, batch, n, d_model] vectors, [1, batch, n] positions and [n_layer, 1, batch] gates, n = the vector's length) on the host and passing them to the program on every call",
		"premium = mean t_ActAdd / mean t_baseline − 1, the means over all seeds' timed passes; its interval: "+interval.LogRatioT+" over the seeds' mean times; ± sd is the standard deviation of the seeds' own premiums")
	if cfg.OpsReps > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("steering ops alone = the time of the steering hook's ops (scatter-adds at every layer) on a [batch, seq, d_model] stream, "+
			"timed in %d A/B pairs of small graphs (%d blocks), over mean t_baseline: the premium measured without the run-to-run noise of whole passes; its interval: %s over the blocks, t_baseline taken as exact", cfg.OpsReps, opsBlocks, interval.T))
	}
	st, err := cfg.Runs.open(progress)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	passes, err := overheadMeter(cfg, b, st, progress)
	if err != nil {
		return nil, err
	}
	for _, shape := range cfg.Shapes {
		sr, err := overheadShape(shape, cfg, b, progress, st, passes)
		if err != nil {
			return nil, err
		}
		res.Shapes = append(res.Shapes, *sr)
	}
	res.finish()
	if err := res.closeStore(st, cfg.Runs); err != nil {
		return nil, err
	}
	return res, nil
}

// overheadMeter is E4's meter: the forward passes (two per A/B pair, warm-up included) of the
// (shape, seed) timings st does not hold.
func overheadMeter(cfg OverheadConfig, b compute.Backend, st *runstore.Store, progress io.Writer) (*meter.Meter, error) {
	total := 0
	for _, shape := range cfg.Shapes {
		mc, _ := shapeOf(shape)
		layer, err := cfg.Layer.Resolve(mc.layers)
		if err != nil {
			return nil, fmt.Errorf("experiments: Overhead: shape %s: %w", shape, err)
		}
		for seed := range cfg.Seeds {
			if ok, err := st.Has(timingKey(cfg, b, shape, mc, layer, seed)); err != nil {
				return nil, fmt.Errorf("experiments: E4: %w", err)
			} else if !ok {
				total += 2 * (cfg.Warmup + cfg.Reps)
			}
		}
	}
	return meter.New(progress, "E4 overhead: timed forward passes on "+backend.Describe(b), "passes", total), nil
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

// overheadRecord is what the run store records of one (shape, seed) timing.
type overheadRecord struct {
	Run OverheadRun
	// ChangedLogits is true when a steered pass's logits differed from the baseline's.
	ChangedLogits bool
}

// overheadShape measures one shape: the seeds' timings and the steering ops' that st does not
// hold, on a random-weight model built only when one is missing. passes counts the forward
// passes done.
func overheadShape(shape string, cfg OverheadConfig, b compute.Backend, progress io.Writer, st *runstore.Store, passes *meter.Meter) (*OverheadShape, error) {
	mc, _ := shapeOf(shape)
	if cfg.Seq > mc.positions {
		return nil, fmt.Errorf("experiments: Overhead: Seq %d exceeds the %d positions of shape %s", cfg.Seq, mc.positions, shape)
	}
	layer, err := cfg.Layer.Resolve(mc.layers)
	if err != nil {
		return nil, fmt.Errorf("experiments: Overhead: shape %s: %w", shape, err)
	}
	out := &OverheadShape{Shape: shape, Description: fmt.Sprintf("%s, %s shape", mc.label, shape),
		NLayer: mc.layers, NEmbd: mc.width, Params: mc.params, Layer: layer}
	add := actadd.Pair(cfg.Plus, cfg.Minus, 1).AtLayer(layer)
	var m *actadd.Model
	// build builds the shape's random-weight model the first time a unit needs it.
	build := func() error {
		if m != nil {
			return nil
		}
		fmt.Fprintf(progress, "E4 overhead: building %s (%d layers, width %d, %.1fM parameters) on %s\n",
			out.Description, mc.layers, mc.width, float64(out.Params)/1e6, backend.Describe(b))
		var err error
		m, err = mc.build(b, out.Description)
		return err
	}
	defer func() {
		if m != nil {
			m.Finalize()
		}
	}()
	var means [2][]float64 // each seed's mean seconds per pass, unsteered and steered
	var premiums []float64
	for seed := range cfg.Seeds {
		key := timingKey(cfg, b, shape, mc, layer, seed)
		var rec overheadRecord
		ok, err := st.Get(key, &rec)
		if err != nil {
			return nil, fmt.Errorf("experiments: E4: %w", err)
		}
		if !ok {
			if err := contextErr(cfg.Context); err != nil {
				return nil, err
			}
			if err := build(); err != nil {
				return nil, err
			}
			if rec, err = timeSeed(m, add, seed, mc.vocab, cfg, passes); err != nil {
				return nil, err
			}
			if err := st.Put(key, rec); err != nil {
				return nil, fmt.Errorf("experiments: E4: %w", err)
			}
		}
		run := rec.Run
		out.SteeringChangedLogits = out.SteeringChangedLogits || rec.ChangedLogits
		mb, ms := stat.Mean(run.Base, nil), stat.Mean(run.Steered, nil)
		means[0], means[1] = append(means[0], mb), append(means[1], ms)
		premiums = append(premiums, run.Premium)
		out.Runs = append(out.Runs, run)
		fmt.Fprintf(progress, "E4 overhead: %s seed %d: baseline %.4gs, steered %.4gs per pass (batch %d×%d): premium %+.2f%%%s\n",
			shape, seed, mb, ms, cfg.Batch, cfg.Seq, 100*run.Premium, fromStore(ok))
	}
	out.BaseMean, out.SteeredMean = stat.Mean(means[0], nil), stat.Mean(means[1], nil)
	out.Premium = interval.RatioOfMeansLog(means[1], means[0]).Map(func(r float64) float64 { return r - 1 })
	out.PremiumSD = sampleSD(premiums)
	if cfg.OpsReps > 0 {
		key := overheadKey(cfg, b, shape, mc, layer, "e4/steering-ops", 0, overheadUnit{Config: mc.config, Batch: cfg.Batch, Seq: cfg.Seq, OpsReps: cfg.OpsReps})
		var blocks []float64 // seconds per pass of each block's steering ops
		stored, err := st.Get(key, &blocks)
		if err == nil && !stored {
			err = build()
		}
		if err != nil {
			return nil, err
		}
		for i := range opsBlocks * btoi(!stored) {
			reps := cfg.OpsReps/opsBlocks + btoi(i < cfg.OpsReps%opsBlocks)
			if reps == 0 {
				continue
			}
			ops, err := SteeringOpsTime(m, add, cfg.Batch, cfg.Seq, reps)
			if err != nil {
				return nil, err
			}
			blocks = append(blocks, ops.Seconds())
		}
		if !stored {
			if err := st.Put(key, blocks); err != nil {
				return nil, fmt.Errorf("experiments: E4: %w", err)
			}
		}
		t := interval.Mean(blocks)
		out.OpsSeconds = t.Value
		out.OpsPremium = t.Map(func(s float64) float64 { return s / out.BaseMean })
		fmt.Fprintf(progress, "E4 overhead: %s: steering ops alone %.3g ms per pass (%d A/B pairs): premium %s%%%s\n",
			shape, 1000*out.OpsSeconds, cfg.OpsReps, estimate(out.OpsPremium.Scale(100)), fromStore(stored))
	}
	return out, nil
}

// timeSeed times Warmup untimed and Reps timed A/B pairs of forward passes of seed's random
// tokens, unsteered and steered with add.
func timeSeed(m *actadd.Model, add actadd.Addition, seed, vocab int, cfg OverheadConfig, passes *meter.Meter) (overheadRecord, error) {
	rows := OverheadTokens(seed, cfg.Batch, cfg.Seq, vocab)
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
	rec := overheadRecord{Run: OverheadRun{Seed: seed}}
	run := &rec.Run
	// The warm-up pairs come first, then the timed ones; each phase starts its ABBA order anew.
	for i := range cfg.Warmup + cfg.Reps {
		pair, timing := i, i >= cfg.Warmup
		if timing {
			pair -= cfg.Warmup
		}
		pb, ps, err := abba.Pair(pair, base, steered)
		if err != nil {
			return rec, err
		}
		passes.Add(2)
		rec.ChangedLogits = rec.ChangedLogits || pb.sum != ps.sum
		if timing {
			run.Base = append(run.Base, pb.seconds)
			run.Steered = append(run.Steered, ps.seconds)
		}
	}
	run.Premium = stat.Mean(run.Steered, nil)/stat.Mean(run.Base, nil) - 1
	return rec, nil
}

// overheadUnit is what an E4 unit's key holds of the work: the shape's config and the sizes.
type overheadUnit struct {
	Config                            any // the shape's config: checkpoint.Config, or config.json's text
	Batch, Seq, Reps, Warmup, OpsReps int
}

// timingKey is the run-store key of the timing of one (shape, seed).
func timingKey(cfg OverheadConfig, b compute.Backend, shape string, mc modelShape, layer, seed int) runstore.Key {
	return overheadKey(cfg, b, shape, mc, layer, "e4/timing", seed, overheadUnit{Config: mc.config, Batch: cfg.Batch, Seq: cfg.Seq, Reps: cfg.Reps, Warmup: cfg.Warmup})
}

// overheadKey is the run-store key of an E4 unit of kind: a timing, which depends on the
// machine (the CPU model and cores, internal/machine.CPU) as well as on the backend.
func overheadKey(cfg OverheadConfig, b compute.Backend, shape string, mc modelShape, layer int, kind string, seed int, unit overheadUnit) runstore.Key {
	return runstore.Key{Kind: kind, Code: overheadCode, Model: mc.label + ", " + shape + " shape", Revision: mc.revision,
		Backend: machine.Numerics(backend.Describe(b)) + "; " + machine.CPU(),
		Steering: struct {
			Plus, Minus string
			Layer       int
		}{cfg.Plus, cfg.Minus, layer},
		Seed: uint64(seed), Unit: unit}
}

// fromStore is a progress line's note for a unit read back from the run store.
func fromStore(stored bool) string {
	if stored {
		return " (from the run store)"
	}
	return ""
}

// btoi is 1 for true, 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sampleSD is the sample standard deviation of xs (0 for fewer than two values).
func sampleSD(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	return stat.StdDev(xs, nil)
}

// Figures renders E4's figure: the premium in % vs model size (parameters in millions, linear
// axis), each shape's premium (ratio of means over its seeds) with its 95% interval and
// labelled with its shape name, each seed's own premium as a point, and the steering ops' direct
// premium with its interval.
func (r *OverheadResult) Figures() ([]*plots.Figure, error) {
	cfg := r.Config
	title := plots.Heading("E4 ActAdd inference-time premium vs model size", r.Model, r.Backend,
		fmt.Sprintf("batch %d×%d, %s × %d passes/arm", cfg.Batch, cfg.Seq, plural(cfg.Seeds, "seed"), cfg.Reps))
	xLabel := "parameters (millions)\n" + RandomWeightsLabel + " of each shape; the steered program adds at every layer's resid_pre, zero gates except the steered layer: " +
		"an upper bound of one fixed-layer addition. Bars: " + interval.LogRatioT + " over seeds (premium); " + interval.T + " over timing blocks (ops alone)"
	p := plots.NewPlot(title, xLabel, "premium: mean t_ActAdd / mean t_baseline − 1 (%)")
	var xs []float64
	var prem, ops []interval.Estimate
	seedS := plots.Series{Name: "one seed's premium"}
	names := plots.Series{Name: "shape names"}
	var labels []string
	for _, s := range r.Shapes {
		x := float64(s.Params) / 1e6
		xs = append(xs, x)
		prem = append(prem, s.Premium.Scale(100))
		ops = append(ops, s.OpsPremium.Scale(100))
		labels = append(labels, fmt.Sprintf("%s (layer %d of %d)", s.Description, s.Layer, s.NLayer))
		names.Labels = append(names.Labels, fmt.Sprintf("%s, layer %d/%d", s.Shape, s.Layer, s.NLayer))
		for _, run := range s.Runs {
			seedS.X = append(seedS.X, x)
			seedS.Y = append(seedS.Y, 100*run.Premium)
			seedS.Labels = append(seedS.Labels, fmt.Sprintf("%s seed %d", s.Shape, run.Seed))
		}
	}
	meanS := plots.SeriesOf("premium over all seeds (ratio of means)", xs, prem)
	meanS.Labels = labels
	opsS := plots.SeriesOf("steering ops alone (direct measure)", xs, ops)
	if err := plots.AddPoints(p, seedS, 1); err != nil {
		return nil, err
	}
	if err := plots.AddLine(p, meanS, 0); err != nil {
		return nil, err
	}
	if cfg.OpsReps > 0 {
		if err := plots.AddLine(p, opsS, 2); err != nil {
			return nil, err
		}
	}
	names.X, names.Y = meanS.X, meanS.Y
	if err := plots.AddLabels(p, names); err != nil {
		return nil, err
	}
	plots.AddReference(p, 0, "no premium", plots.Gray)
	sc, err := r.sidecar("E4", title, cfg, 0, "")
	if err != nil {
		return nil, err
	}
	sc.RandomWeights = true
	sc.SampleSizes = map[string]int{"shapes": len(r.Shapes), "seeds": cfg.Seeds, "passes_per_arm_and_seed": cfg.Reps, "batch": cfg.Batch, "seq": cfg.Seq,
		"steering_ops_ab_pairs": cfg.OpsReps}
	sc.Notes = r.notes(r.Notes...)
	sc.Series, sc.Interval = []plots.Series{meanS, seedS}, interval.LogRatioT+" (premium over seeds); "+interval.T+" (steering ops alone, over blocks)"
	if cfg.OpsReps > 0 {
		sc.Series = append(sc.Series, opsS)
	}
	plots.Pad(p)
	f, err := plots.NewFigure("e4-overhead-vs-model-size", p, sc)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f}, nil
}

// Summary is E4's outcome as text: one line per shape (parameters, seconds per pass, premium
// with its 95% interval and the spread of the seeds' premiums, the steering ops' direct premium)
// and the notes.
func (r *OverheadResult) Summary() string {
	var b strings.Builder
	cfg := r.Config
	fmt.Fprintf(&b, "%s on %s: batch %d × %d tokens, %s × %d timed passes per arm, %.0f s\n",
		r.Model, r.Backend, cfg.Batch, cfg.Seq, plural(cfg.Seeds, "seed"), cfg.Reps, r.WallSeconds)
	fmt.Fprintf(&b, "%-12s %10s %6s %16s %14s   %-30s %-10s %s\n", "shape", "params", "layer", "unsteered s/pass", "steered s/pass",
		"premium % [95% CI]", "sd seeds", "steering ops alone % [95% CI]")
	for _, s := range r.Shapes {
		ops := "-"
		if cfg.OpsReps > 0 {
			ops = fmt.Sprintf("%s (%.3g ms)", estimate(s.OpsPremium.Scale(100)), 1000*s.OpsSeconds)
		}
		fmt.Fprintf(&b, "%-12s %10d %6s %16.4g %14.4g   %-30s %-10s %s\n", s.Shape, s.Params,
			fmt.Sprintf("%d/%d", s.Layer, s.NLayer), s.BaseMean, s.SteeredMean,
			estimate(s.Premium.Scale(100)), fmt.Sprintf("%.3f%%", 100*s.PremiumSD), ops)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	b.WriteString(r.storeLine())
	return b.String()
}
