package experiments

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/plots"
)

// WeddingConfig configures E2: wedding words in completions of one prompt, unsteered and with
// the " weddings" vector injected at each layer.
type WeddingConfig struct {
	Prompt      string
	Completions int // completions per setting (baseline and every layer)
	NewTokens   int // tokens generated per completion
	Sampling    actadd.Sampling
	Layers      []int // layers to sweep; nil means all, 0..n_layer-1 (an empty, non-nil list is an error)
	Coeff       float64
	Plus, Minus string
	BatchSize   int // rows per program call; 0 means 32
	// Examples is how many completions of each setting the result keeps as text.
	Examples int
	Progress io.Writer `json:"-"` // progress lines; nil means os.Stderr
}

// PaperWedding is E2 as the paper ran it: "I went up to my friend and said", 200 completions of
// 40 tokens per setting, T = 1, top-p 0.3, frequency penalty 1, seed 0, " weddings" − "" with
// c = 1 at every layer. BatchSize 100 (not a paper parameter) divides every sweep of 200
// completions per setting evenly; lower it if the KV cache does not fit in memory.
func PaperWedding() WeddingConfig {
	return WeddingConfig{Prompt: "I went up to my friend and said", Completions: 200, NewTokens: 40,
		Sampling: actadd.PaperSampling, Coeff: 1, Plus: WeddingPlus, Minus: WeddingMinus, BatchSize: 100, Examples: 3}
}

// QuickWedding is E2 at a CPU-sized scale: 8 completions of 12 tokens per setting
// (notebooks/02-wedding-layer-sweep.ipynb quotes these numbers; a test keeps them in step).
func QuickWedding() WeddingConfig {
	c := PaperWedding()
	c.Completions, c.NewTokens, c.BatchSize = 8, 12, 64
	return c
}

// WeddingSetting is E2's outcome for the baseline or one injection layer.
type WeddingSetting struct {
	Layer   int  // injection layer; -1 for the baseline
	Steered bool // false for the baseline
	Counts  []int
	// MeanCount is the mean number of wedding words per completion (datasets.WeddingCount) and
	// Success the fraction of completions with at least one; the SEs are their standard errors.
	MeanCount, MeanCountSE float64
	Success, SuccessSE     float64
	Examples               []string // the first completions, generated text only
}

// WeddingResult is E2's outcome.
type WeddingResult struct {
	RunInfo
	Config   WeddingConfig
	Baseline WeddingSetting
	Layers   []WeddingSetting // in the order of Config.Layers (all layers when nil)
}

// WeddingSweep runs E2: Completions completions of the prompt unsteered and with the steering
// vector at each layer, all as one GenerateRows job (rows of every setting share the compiled
// prefill and step programs; each row carries its own addition). Completion c of EVERY setting
// (the baseline and each layer) draws from the random stream (Sampling.Seed, c), as the
// authors passed the same seed to every setting: settings are paired, and a layer's result
// does not depend on which other layers are in the sweep. A completion stops at its first
// <|endoftext|>, as TransformerLens's generate (stop_at_eos=True by default), which the authors
// called, fills a finished row with <|endoftext|>: nothing after it is counted.
func WeddingSweep(m *actadd.Model, cfg WeddingConfig) (*WeddingResult, error) {
	if err := checkModel(m, "WeddingSweep"); err != nil {
		return nil, err
	}
	if cfg.Completions <= 0 || cfg.NewTokens <= 0 {
		return nil, fmt.Errorf("experiments: WeddingSweep: Completions (%d) and NewTokens (%d) must be positive (paper: 200 and 40)", cfg.Completions, cfg.NewTokens)
	}
	layers := cfg.Layers
	if layers != nil && len(layers) == 0 {
		return nil, fmt.Errorf("experiments: WeddingSweep: the list of layers is empty: give at least one layer, or nil (no --layers) for all %d", m.Config.NLayer)
	}
	if layers == nil {
		for l := range m.Config.NLayer {
			layers = append(layers, l)
		}
	}
	for _, l := range layers {
		if l < 0 || l >= m.Config.NLayer {
			return nil, fmt.Errorf("experiments: WeddingSweep: layer %d is out of range: this model has layers 0..%d", l, m.Config.NLayer-1)
		}
	}
	res := &WeddingResult{RunInfo: newRunInfo(m), Config: cfg}
	res.Config.Layers = layers
	base := actadd.Pair(cfg.Plus, cfg.Minus, cfg.Coeff)
	c := cfg.Completions
	rows := make([]actadd.Row, 0, c*(1+len(layers)))
	streams := make([]uint64, 0, cap(rows))
	for i := range c {
		rows = append(rows, actadd.Row{Prompt: cfg.Prompt})
		streams = append(streams, uint64(i))
	}
	for _, l := range layers {
		adds := []actadd.Addition{base.AtLayer(l)}
		for i := range c {
			rows = append(rows, actadd.Row{Prompt: cfg.Prompt, Adds: adds})
			streams = append(streams, uint64(i))
		}
	}
	progress := progressTo(cfg.Progress)
	fmt.Fprintf(progress, "E2 wedding sweep: %s, baseline + %s × %d completions of %d tokens\n",
		res.Label(), plural(len(layers), "layer"), c, cfg.NewTokens)
	comps, err := m.GenerateRows(rows, actadd.GenerateOptions{MaxNewTokens: cfg.NewTokens, Sampling: cfg.Sampling,
		BatchSize: cfg.BatchSize, Streams: streams, StopAtEOS: true, Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("experiments: E2 generation: %w", err)
	}
	setting := func(layer int, part []actadd.Completion) WeddingSetting {
		s := WeddingSetting{Layer: layer, Steered: layer >= 0, Counts: make([]int, len(part))}
		hits := 0
		var sum, sumSq float64
		for i, comp := range part {
			n := datasets.WeddingCount(comp.Text)
			s.Counts[i] = n
			sum += float64(n)
			sumSq += float64(n) * float64(n)
			if n > 0 {
				hits++
			}
			if i < cfg.Examples {
				s.Examples = append(s.Examples, comp.Text)
			}
		}
		k := float64(len(part))
		s.MeanCount = sum / k
		s.Success = float64(hits) / k
		if k > 1 {
			s.MeanCountSE = math.Sqrt(max(0, (sumSq-k*s.MeanCount*s.MeanCount)/(k-1)) / k)
		}
		s.SuccessSE = math.Sqrt(s.Success * (1 - s.Success) / k)
		return s
	}
	res.Baseline = setting(-1, comps[:c])
	for k, l := range layers {
		res.Layers = append(res.Layers, setting(l, comps[(k+1)*c:(k+2)*c]))
	}
	res.finish()
	best := res.BestLayer()
	fmt.Fprintf(progress, "E2 wedding sweep: done in %.1fs; baseline success %.3f, best layer %d success %.3f\n",
		res.WallSeconds, res.Baseline.Success, best.Layer, best.Success)
	return res, nil
}

// BestLayer returns the steered setting with the highest success fraction (the lowest layer
// among ties).
func (r *WeddingResult) BestLayer() WeddingSetting {
	var best WeddingSetting
	best.Success = -1
	for _, s := range r.Layers {
		if s.Success > best.Success {
			best = s
		}
	}
	return best
}

// SuccessAxisMin and SuccessAxisMax are the ends of E2's success axis: a fraction, shown on
// about [0, 1.05] (a little below 0, so that points at 0 do not sit on the frame).
const (
	SuccessAxisMin = -0.02
	SuccessAxisMax = 1.05
)

// Figures renders E2's two figures: mean wedding-word count vs layer and success fraction
// (completions with at least one wedding word) vs layer, each with the baseline's value of the
// same quantity as a dashed horizontal line (on the success figure that is the baseline's
// success fraction; the authors' code drew the baseline mean count there).
func (r *WeddingResult) Figures() ([]*plots.Figure, error) {
	cfg := r.Config
	sample := fmt.Sprintf("%d completions/setting", cfg.Completions)
	vecName := fmt.Sprintf("ActAdd %q − %q, c=%g", cfg.Plus, cfg.Minus, cfg.Coeff)
	xLabel := fmt.Sprintf("injection layer (resid_pre)\nprompt %q, %d new tokens, T=%g, top-p %g, freq. penalty %g",
		cfg.Prompt, cfg.NewTokens, cfg.Sampling.Temperature, cfg.Sampling.TopP, cfg.Sampling.FreqPenalty)
	var layers []float64
	var means, success []float64
	for _, s := range r.Layers {
		layers = append(layers, float64(s.Layer))
		means = append(means, s.MeanCount)
		success = append(success, s.Success)
	}
	var figs []*plots.Figure
	for _, f := range []struct {
		name, what, yLabel string
		y                  []float64
		baseline           float64
		baseName           string
		yMax               float64 // the y axis reaches at least this
		fraction           bool    // a fraction: the y axis is fixed at [SuccessAxisMin, SuccessAxisMax]
	}{
		{"e2-wedding-count-vs-layer", "E2 wedding words vs injection layer", "mean wedding words per completion",
			means, r.Baseline.MeanCount, fmt.Sprintf("unsteered baseline (%.3g)", r.Baseline.MeanCount), 1, false},
		{"e2-success-vs-layer", "E2 completions with a wedding word vs injection layer", "fraction of completions with ≥ 1 wedding word",
			success, r.Baseline.Success, fmt.Sprintf("unsteered baseline success (%.3g)", r.Baseline.Success), 1, true},
	} {
		title := plots.Heading(f.what, r.Model, r.Backend, sample)
		p := plots.NewPlot(title, xLabel, f.yLabel)
		s := plots.Series{Name: vecName, X: layers, Y: f.y}
		if err := plots.AddLine(p, s, 0); err != nil {
			return nil, err
		}
		plots.AddHLine(p, f.baseline, f.baseName, plots.Gray)
		if f.fraction {
			plots.PadX(p)
			p.Y.Min, p.Y.Max = SuccessAxisMin, SuccessAxisMax
		} else {
			p.Y.Min, p.Y.Max = 0, max(p.Y.Max, f.yMax)
			plots.Pad(p)
		}
		sc, err := r.sidecar("E2", title, cfg, cfg.Sampling.Seed, "")
		if err != nil {
			return nil, err
		}
		sc.SampleSizes = map[string]int{"completions_per_setting": cfg.Completions, "settings": len(r.Layers) + 1,
			"completions": cfg.Completions * (len(r.Layers) + 1), "new_tokens": cfg.NewTokens}
		sc.Series = []plots.Series{s, {Name: "baseline", X: []float64{-1}, Y: []float64{f.baseline}}}
		fig, err := plots.NewFigure(f.name, p, sc)
		if err != nil {
			return nil, err
		}
		figs = append(figs, fig)
	}
	return figs, nil
}

// Summary is E2's outcome as text: mean wedding-word count and success fraction of the
// baseline and of every layer, and the best layer's first completions.
func (r *WeddingResult) Summary() string {
	var b strings.Builder
	cfg := r.Config
	fmt.Fprintf(&b, "%s: %d completions × %d tokens per setting, c=%g, seed %d, %.0f s\n",
		r.Label(), cfg.Completions, cfg.NewTokens, cfg.Coeff, cfg.Sampling.Seed, r.WallSeconds)
	fmt.Fprintf(&b, "%-10s  %10s  %7s\n", "setting", "mean count", "success")
	fmt.Fprintf(&b, "%-10s  %10.3f  %7.3f\n", "baseline", r.Baseline.MeanCount, r.Baseline.Success)
	for _, s := range r.Layers {
		fmt.Fprintf(&b, "%-10s  %10.3f  %7.3f\n", fmt.Sprintf("layer %d", s.Layer), s.MeanCount, s.Success)
	}
	if len(r.Layers) == 0 {
		return b.String()
	}
	best := r.BestLayer()
	fmt.Fprintf(&b, "best layer %d: success %.3f (baseline %.3f)", best.Layer, best.Success, r.Baseline.Success)
	if len(best.Examples) > 0 {
		b.WriteString("; its first completions:")
	}
	b.WriteString("\n")
	for _, e := range best.Examples {
		fmt.Fprintf(&b, "  %s%s\n", cfg.Prompt, strings.ReplaceAll(e, "\n", `\n`))
	}
	return b.String()
}
