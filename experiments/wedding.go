package experiments

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/plots"
	"github.com/actadd-go/actadd/sweep"
)

// WeddingConfig configures E2: wedding words in completions of one prompt, unsteered and with
// the " weddings" vector injected at each layer (and each coefficient).
type WeddingConfig struct {
	Prompt      string
	Completions int // completions per setting (the unsteered one and every layer × coefficient)
	NewTokens   int // tokens generated per completion
	Sampling    actadd.Sampling
	Layers      Layers    // layers to sweep: AllLayers (the paper's) for 0 … n_layer−1
	Coeffs      []float64 // coefficients to sweep, one curve each
	Plus, Minus string
	// BatchSize is the number of completions of one setting generated together in one batch:
	// the unit of work the run store records; 0 means 32.
	BatchSize int
	// Examples is how many completions of each setting Summary shows.
	Examples int
	Progress io.Writer `json:"-"` // progress lines; nil means os.Stderr
	// Runs is the run store recording the experiment's units of work (zero: none, compute
	// everything); Context, when set, stops the run between units (the units finished before
	// stay recorded) with its error.
	Runs    RunStore        `json:"-"`
	Context context.Context `json:"-"`
}

// paperWedding is E2 as the paper ran it: "I went up to my friend and said", 200 completions of
// 40 tokens per setting, T = 1, top-p 0.3, frequency penalty 1, seed 0, " weddings" − "" with
// c = 1 at every layer. BatchSize 100 (not a paper parameter) divides every sweep of 200
// completions per setting evenly; lower it if the KV cache does not fit in memory.
func paperWedding() WeddingConfig {
	return WeddingConfig{Prompt: "I went up to my friend and said", Completions: 200, NewTokens: 40,
		Sampling: actadd.PaperSampling, Layers: AllLayers, Coeffs: []float64{1}, Plus: WeddingPlus, Minus: WeddingMinus, BatchSize: 100, Examples: 3}
}

// quickWedding is E2 at a CPU-sized scale: 8 completions of 12 tokens per setting
// (notebooks/02-wedding-layer-sweep.ipynb quotes these numbers; a test keeps them in step).
func quickWedding() WeddingConfig {
	c := paperWedding()
	c.Completions, c.NewTokens, c.BatchSize = 8, 12, 64
	return c
}

// check rejects a config WeddingSweep cannot run.
func (c *WeddingConfig) check() error {
	switch {
	case c.Completions <= 0 || c.NewTokens <= 0:
		return fmt.Errorf("experiments: E2: Completions (%d) and NewTokens (%d) must be positive (paper: 200 and 40)", c.Completions, c.NewTokens)
	case c.Completions > sweep.MaxCompletions:
		return fmt.Errorf("experiments: E2: Completions = %d per setting is more than a sweep holds in memory (%d in all; paper: 200)", c.Completions, sweep.MaxCompletions)
	case len(c.Layers) == 0:
		return fmt.Errorf("experiments: E2: no layer to sweep: give at least one layer, or experiments.AllLayers (--layers=all) for every layer, the paper's")
	case len(c.Coeffs) == 0:
		return fmt.Errorf("experiments: E2: no coefficient to sweep: give at least one (paper: 1)")
	case c.Prompt == "":
		return fmt.Errorf("experiments: E2: no prompt to continue (paper: %q)", paperWedding().Prompt)
	case c.Plus == "" && c.Minus == "":
		return fmt.Errorf("experiments: E2: the prompt pair is empty on both sides (paper: %q and %q)", WeddingPlus, WeddingMinus)
	}
	for i, x := range c.Coeffs {
		if err := checkCoeff("E2", fmt.Sprintf("Coeffs[%d]", i), x); err != nil {
			return err
		}
	}
	if err := c.Sampling.Check(); err != nil {
		return fmt.Errorf("experiments: E2: %w", err)
	}
	return nil
}

// E2's metrics of one completion (datasets.WeddingCount): the wedding words it holds, and
// whether it holds one.
const (
	WeddingWords   = "wedding words per completion"
	WeddingSuccess = "fraction of completions with ≥ 1 wedding word"
)

// WeddingMetrics are E2's metrics: the mean number of wedding words per completion (a count, with
// a Poisson exact interval, which cannot go below 0 as a t interval of mostly-zero counts does)
// and the fraction of completions with at least one (with a Wilson interval).
func WeddingMetrics() []sweep.Metric[actadd.Completion] {
	return []sweep.Metric[actadd.Completion]{
		sweep.Count(WeddingWords, datasets.WeddingCount),
		sweep.Occurs(WeddingSuccess, datasets.WeddingCount),
	}
}

// WeddingResult is E2's outcome: the sweep's result, grouped by setting.
type WeddingResult struct {
	RunInfo
	Config WeddingConfig
	Layers []int // the layers swept, resolved for the model
	Sweep  *sweep.Result
}

// WeddingSweep runs E2, a sweep.Generate over the unsteered model and the vector at every layer
// and coefficient, with WeddingMetrics. Its units of work are BatchSize completions of one
// setting, each generated as one batch on the same compiled programs (vectors, coefficients
// and layers are runtime inputs) and recorded in the run store (cfg.Runs) as it finishes.
// Completion c of EVERY setting draws from the random stream (Sampling.Seed, c), as the
// authors passed the same seed to every setting, so that settings are paired; a layer's
// result does not depend on which other layers are in the sweep, to the bit. A completion
// stops at its first <|endoftext|>, as TransformerLens's generate (stop_at_eos=True by
// default), which the authors called, fills a finished row with <|endoftext|>: nothing after
// it is counted.
func WeddingSweep(m *actadd.Model, cfg WeddingConfig) (*WeddingResult, error) {
	if err := checkModel(m, "WeddingSweep"); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	layers, err := cfg.Layers.Resolve(m.Layers())
	if err != nil {
		return nil, err
	}
	res := &WeddingResult{RunInfo: newRunInfo(m), Config: cfg, Layers: layers}
	progress := progressTo(cfg.Progress)
	fmt.Fprintf(progress, "E2 wedding sweep: %s, unsteered + %s × %s, %d completions of %d tokens each\n",
		res.Label(), plural(len(layers), "layer"), plural(len(cfg.Coeffs), "coefficient"), cfg.Completions, cfg.NewTokens)
	st, err := cfg.Runs.open(progress)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	grid := sweep.Grid{Additions: []actadd.Addition{actadd.Pair(cfg.Plus, cfg.Minus, cfg.Coeffs[0])}, Layers: layers, Coeffs: cfg.Coeffs,
		Prompts: []string{cfg.Prompt}, Unsteered: true}
	gen := sweep.GenerateConfig{Completions: cfg.Completions, Store: st, Options: actadd.GenerateOptions{MaxNewTokens: cfg.NewTokens,
		Sampling: cfg.Sampling, BatchSize: cfg.BatchSize, StopAtEOS: true, Progress: progress, Context: cfg.Context}}
	if res.Sweep, err = sweep.Generate(m, grid, gen, WeddingMetrics()...); err != nil {
		return nil, fmt.Errorf("experiments: E2: %w", err)
	}
	res.finish()
	if err := res.closeStore(st, cfg.Runs); err != nil {
		return nil, err
	}
	best := res.Best()
	fmt.Fprintf(progress, "E2 wedding sweep: done in %.1fs; unsteered success %.3f, best layer %d (c=%g) success %.3f\n",
		res.WallSeconds, res.Baseline().Stats[WeddingSuccess].Value, best.Layer, best.Coeff, best.Stats[WeddingSuccess].Value)
	return res, nil
}

// Baseline is the unsteered setting.
func (r *WeddingResult) Baseline() sweep.SettingResult { return *r.Sweep.Unsteered(r.Config.Prompt) }

// Best is the steered setting with the highest success fraction (the first among ties).
func (r *WeddingResult) Best() sweep.SettingResult {
	best, _ := r.Sweep.Best(WeddingSuccess)
	return *best
}

// SaveTable writes the sweep's table, one row per setting and metric with its 95% interval, as
// e2-wedding-sweep.csv and .parquet into dir.
func (r *WeddingResult) SaveTable(dir string) ([]string, error) {
	return r.Sweep.SaveTable(dir, "e2-wedding-sweep")
}

// SuccessAxisMin and SuccessAxisMax are the ends of E2's success axis: a fraction, shown on
// about [0, 1.05] (a little below 0, so that points at 0 do not sit on the frame).
const (
	SuccessAxisMin = -0.02
	SuccessAxisMax = 1.05
)

// Figures renders E2's two figures: the mean wedding-word count per completion and the success
// fraction (completions with at least one wedding word) vs layer, one curve per coefficient,
// each point with its 95% interval (Poisson exact for the mean count, Wilson for the fraction), and the
// unsteered value of the same quantity as a dashed line over a band of its interval (on the
// success figure that is the unsteered success fraction; the authors' code drew the baseline
// mean count there).
func (r *WeddingResult) Figures() ([]*plots.Figure, error) {
	cfg := r.Config
	sample := fmt.Sprintf("%d completions/setting", cfg.Completions)
	var figs []*plots.Figure
	for _, f := range []struct {
		name, what, metric string
		fraction           bool // a fraction: the y axis is fixed at [SuccessAxisMin, SuccessAxisMax]
	}{
		{"e2-wedding-count-vs-layer", "E2 wedding words vs injection layer", WeddingWords, false},
		{"e2-success-vs-layer", "E2 completions with a wedding word vs injection layer", WeddingSuccess, true},
	} {
		p, series, err := r.Sweep.Plot(f.metric, sweep.ByLayer)
		if err != nil {
			return nil, err
		}
		method := r.Baseline().Stats[f.metric].Method
		title := plots.Heading(f.what, r.Model, r.Backend, sample)
		p.Title.Text = strings.Replace(title, " — ", "\n", 1)
		_, caption, _ := strings.Cut(p.X.Label.Text, "\n") // the intervals' method, the offset
		p.X.Label.Text = fmt.Sprintf("injection layer (resid_pre)\nActAdd %q − %q; prompt %q, %d new tokens, T=%g, top-p %g, freq. penalty %g, seed %d, paired streams; %s",
			cfg.Plus, cfg.Minus, cfg.Prompt, cfg.NewTokens, cfg.Sampling.Temperature, cfg.Sampling.TopP, cfg.Sampling.FreqPenalty, cfg.Sampling.Seed, caption)
		if f.fraction {
			p.Y.Min, p.Y.Max = SuccessAxisMin, SuccessAxisMax
		} else {
			p.Y.Min = min(p.Y.Min, -0.05)
			p.Y.Max = max(p.Y.Max, 1)
		}
		sc, err := r.sidecar("E2", title, cfg, cfg.Sampling.Seed, "")
		if err != nil {
			return nil, err
		}
		sc.SampleSizes = map[string]int{"completions_per_setting": cfg.Completions, "settings": len(r.Sweep.Settings),
			"completions": cfg.Completions * len(r.Sweep.Settings), "new_tokens": cfg.NewTokens}
		sc.Series, sc.Interval = series, method
		sc.Notes = r.notes("the unsteered setting is the series plotted at x = -1", fmt.Sprintf("layers swept: %v (config %q)", r.Layers, cfg.Layers.String()))
		fig, err := plots.NewFigure(f.name, p, sc)
		if err != nil {
			return nil, err
		}
		figs = append(figs, fig)
	}
	return figs, nil
}

// Summary is E2's outcome as text: the mean wedding-word count and the success fraction of
// every setting with their 95% intervals, and the best setting's first completions.
func (r *WeddingResult) Summary() string {
	var b strings.Builder
	cfg := r.Config
	fmt.Fprintf(&b, "%s: %d completions × %d tokens per setting, seed %d, %.0f s\n",
		r.Label(), cfg.Completions, cfg.NewTokens, cfg.Sampling.Seed, r.WallSeconds)
	fmt.Fprintf(&b, "%-18s  %-26s  %-26s\n", "setting", "wedding words [95% CI]", "success [95% CI]")
	for _, s := range r.Sweep.Settings {
		name := "unsteered"
		if s.Steered {
			name = fmt.Sprintf("layer %d, c=%g", s.Layer, s.Coeff)
		}
		fmt.Fprintf(&b, "%-18s  %-26s  %-26s\n", name, estimate(s.Stats[WeddingWords]), estimate(s.Stats[WeddingSuccess]))
	}
	fmt.Fprintf(&b, "intervals: %s (wedding words), %s (success)\n", r.Baseline().Stats[WeddingWords].Method, r.Baseline().Stats[WeddingSuccess].Method)
	best := r.Best()
	fmt.Fprintf(&b, "best: layer %d, c=%g, success %.3f (unsteered %.3f)", best.Layer, best.Coeff,
		best.Stats[WeddingSuccess].Value, r.Baseline().Stats[WeddingSuccess].Value)
	if n := min(cfg.Examples, len(best.Completions)); n > 0 {
		b.WriteString("; its first completions:\n")
		for _, c := range best.Completions[:n] {
			fmt.Fprintf(&b, "  %s%s\n", cfg.Prompt, strings.ReplaceAll(c.Text, "\n", `\n`))
		}
	} else {
		b.WriteString("\n")
	}
	b.WriteString(r.storeLine())
	return b.String()
}
