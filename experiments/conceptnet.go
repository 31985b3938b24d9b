package experiments

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/interval"
	"github.com/actadd-go/actadd/plots"
)

// ConceptNetConfig configures E3: LAMA ConceptNet factual recall (P@K) with and without the
// wedding vector.
type ConceptNetConfig struct {
	Layer       Layer // injection layer (paper: 16/48)
	Coeff       float64
	Plus, Minus string
	Ks          []int // the K of P@K; nil means PAtKList()
	MaxItems    int   // score only the first MaxItems probes; 0 means all
	BatchSize   int   // prompts per program call; 0 means 32
	// Data is the probes; nil loads LAMAProbes. Source and Filter record where the probes came
	// from and what the single-token filter dropped; SourceTag is Source's short form for the
	// figure (e.g. "LAMA ConceptNet test.jsonl"; empty: Source). All three are taken from Data
	// when Source is empty; they are copied into results and sidecars. A nil Filter means the
	// filter is unknown.
	Data              *LAMASet `json:"-"`
	Source, SourceTag string
	Filter            *datasets.LAMAFilterReport
	Progress          io.Writer `json:"-"` // progress lines; nil means os.Stderr
}

// paperConceptNet is E3 as the paper ran it: the E1 wedding vector (layer 16 on GPT-2-XL,
// scaled for other depths; c = 1) on every single-token LAMA ConceptNet item, K in PAtKList().
func paperConceptNet() ConceptNetConfig {
	return ConceptNetConfig{Layer: paperLayer, Coeff: 1, Plus: WeddingPlus, Minus: WeddingMinus, BatchSize: 32}
}

// quickConceptNet is E3 at a CPU-sized scale: the first 200 probes.
func quickConceptNet() ConceptNetConfig {
	c := paperConceptNet()
	c.MaxItems = 200
	return c
}

// check rejects a config ConceptNet cannot run.
func (c *ConceptNetConfig) check() error {
	if c.MaxItems < 0 {
		return fmt.Errorf("experiments: E3: MaxItems = %d: give 0 (all) or more", c.MaxItems)
	}
	for _, k := range c.Ks {
		if k < 1 {
			return fmt.Errorf("experiments: E3: K values %v must be ≥ 1 (nil for the paper's PAtKList())", c.Ks)
		}
	}
	return nil
}

// PAtKList is the paper's K values, unique(ceil(logspace(0, 2, 20))):
// 1, 2, 3, 4, 5, 6, 7, 9, 12, 15, 19, 24, 30, 38, 49, 62, 79, 100.
func PAtKList() []int {
	var ks []int
	for i := range 20 {
		k := int(math.Ceil(math.Pow(10, 2*float64(i)/19)))
		if len(ks) == 0 || ks[len(ks)-1] != k {
			ks = append(ks, k)
		}
	}
	return ks
}

// PAtK is the fraction of ranks below k (rank 0 = the most likely token): mean P@K.
func PAtK(ranks []int, k int) float64 {
	if len(ranks) == 0 {
		return 0
	}
	return pAtK(ranks, k).Value
}

// pAtK is mean P@K with its 95% Wilson interval.
func pAtK(ranks []int, k int) interval.Estimate {
	hit := 0
	for _, r := range ranks {
		if r < k {
			hit++
		}
	}
	return interval.Proportion(hit, len(ranks))
}

// ConceptNetResult is E3's outcome.
type ConceptNetResult struct {
	RunInfo
	Config ConceptNetConfig
	Layer  int // the layer steered
	// Items were scored. Probes shorter (with BOS) than the steering vector are scored as the
	// authors' batches scored them (rankShortPrompts), their ranks after the others'; Skipped
	// of them could not be.
	Items, Skipped int
	Ks             []int
	// Baseline[i] and Steered[i] are mean P@Ks[i] without and with steering, with their 95%
	// Wilson intervals.
	Baseline, Steered []interval.Estimate
	// BaselineRanks and SteeredRanks are each item's label rank (0 = top).
	BaselineRanks, SteeredRanks []int
	// Filter is what the single-token filter kept and dropped (Config.Filter); nil when unknown.
	Filter *datasets.LAMAFilterReport
	Source string
}

// ConceptNet runs E3: for each probe, the rank of its label token in the next-token
// distribution after the prompt (with BOS), unsteered and steered, and mean P@K for each K.
func ConceptNet(m *actadd.Model, cfg ConceptNetConfig) (*ConceptNetResult, error) {
	if err := checkModel(m, "ConceptNet"); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	progress := progressTo(cfg.Progress)
	var err error
	if cfg.Data == nil {
		if cfg.Data, err = LAMAProbes(m.Tok, progress); err != nil {
			return nil, err
		}
	}
	if cfg.Source == "" {
		cfg = cfg.Data.Config(cfg)
	}
	probes := cfg.Data.Probes
	if len(probes) == 0 {
		return nil, fmt.Errorf("experiments: ConceptNet: no probes in %s: load them with LAMAProbes", cfg.Source)
	}
	ks := slices.Clone(cfg.Ks)
	if ks == nil {
		ks = PAtKList()
	}
	slices.Sort(ks)
	ks = slices.Compact(ks)
	if len(ks) == 0 || ks[0] < 1 {
		return nil, fmt.Errorf("experiments: ConceptNet: K values %v must be ≥ 1 (nil for the paper's PAtKList())", cfg.Ks)
	}
	adds, layers, n, err := steering(m, Layers{cfg.Layer}, cfg.Plus, cfg.Minus, cfg.Coeff)
	if err != nil {
		return nil, err
	}
	add := adds[0]
	res := &ConceptNetResult{RunInfo: newRunInfo(m), Config: cfg, Layer: layers[0], Ks: ks, Source: cfg.Source}
	if cfg.Filter != nil {
		rep := *cfg.Filter
		res.Filter = &rep
	}
	if cfg.MaxItems > 0 && cfg.MaxItems < len(probes) {
		probes = probes[:cfg.MaxItems]
	}
	var prompts []string
	var targets []int
	var short []datasets.LAMAProbe
	for _, p := range probes {
		if len(m.Tok.EncodeWithBOS(p.Prompt)) < n {
			short = append(short, p)
			continue
		}
		prompts = append(prompts, p.Prompt)
		targets = append(targets, p.LabelToken)
	}
	fmt.Fprintf(progress, "E3 ConceptNet: %s, layer %d, %s\n", res.Label(), res.Layer, plural(len(probes), "probe"))
	opts := actadd.ScoreOptions{BatchSize: cfg.BatchSize, Progress: progress}
	if len(prompts) > 0 {
		if res.BaselineRanks, err = m.NextTokenRanks(prompts, targets, opts); err != nil {
			return nil, fmt.Errorf("experiments: E3 baseline ranks: %w", err)
		}
		if res.SteeredRanks, err = m.NextTokenRanks(prompts, targets, opts, add); err != nil {
			return nil, fmt.Errorf("experiments: E3 steered ranks: %w", err)
		}
	}
	if err := res.rankShortPrompts(m, short, add, n); err != nil {
		return nil, err
	}
	if res.Items = len(res.BaselineRanks); res.Items == 0 {
		return nil, fmt.Errorf("experiments: ConceptNet: none of the %d probes could be scored (%d shorter than the steering vector of %d tokens)", len(probes), res.Skipped, n)
	}
	for _, k := range ks {
		res.Baseline = append(res.Baseline, pAtK(res.BaselineRanks, k))
		res.Steered = append(res.Steered, pAtK(res.SteeredRanks, k))
	}
	res.finish()
	fmt.Fprintf(progress, "E3 ConceptNet: done in %.1fs; P@%d baseline %.3f, steered %.3f\n", res.WallSeconds, ks[len(ks)-1], res.Baseline[len(ks)-1].Value, res.Steered[len(ks)-1].Value)
	return res, nil
}

// rankShortPrompts ranks the labels of probes whose prompt (with BOS) is shorter than the n
// positions of the steering vector, such as a "[MASK]" at the start (BOS alone). The authors
// ran them in batches padded past n positions, so the steering also touched padding, which the
// prompt's last position cannot see (attention is causal): its next-token logits are those at
// the same position of any longer text that starts with the prompt's tokens, steered or not.
// Such a text is the prompt and a filler of n tokens; a prompt no filler extends without
// changing its tokens is counted as Skipped.
func (r *ConceptNetResult) rankShortPrompts(m *actadd.Model, probes []datasets.LAMAProbe, add actadd.Addition, n int) error {
	type logits struct{ base, steered []float32 }
	cache := map[string]*logits{}
	for _, p := range probes {
		l, seen := cache[p.Prompt]
		if !seen {
			ids := m.Tok.EncodeWithBOS(p.Prompt)
			for _, filler := range []string{" the", ".", "\n", " 1"} {
				text := p.Prompt + strings.Repeat(filler, n)
				if got := m.Tok.EncodeWithBOS(text); len(got) < max(n, len(ids)) || !slices.Equal(got[:len(ids)], ids) {
					continue
				}
				base, err := m.Logits(text)
				if err != nil {
					return fmt.Errorf("experiments: E3 baseline ranks: %w", err)
				}
				steered, err := m.Logits(text, add)
				if err != nil {
					return fmt.Errorf("experiments: E3 steered ranks: %w", err)
				}
				l = &logits{base[len(ids)-1], steered[len(ids)-1]}
				break
			}
			cache[p.Prompt] = l
		}
		if l == nil {
			r.Skipped++
			continue
		}
		r.BaselineRanks = append(r.BaselineRanks, rank(l.base, p.LabelToken))
		r.SteeredRanks = append(r.SteeredRanks, rank(l.steered, p.LabelToken))
	}
	return nil
}

// rank is the number of tokens with a higher logit than the target's (0 = the most likely).
func rank(logits []float32, target int) int {
	n := 0
	for _, v := range logits {
		if v > logits[target] {
			n++
		}
	}
	return n
}

// Figures renders E3's figure: mean P@K vs K (log x axis), unsteered and ActAdd, each point
// with its 95% Wilson interval (the two curves offset sideways so that their bars do not hide
// each other).
func (r *ConceptNetResult) Figures() ([]*plots.Figure, error) {
	cfg := r.Config
	title := plots.Heading(fmt.Sprintf("E3 LAMA ConceptNet P@K, layer %d, c=%g", r.Layer, cfg.Coeff), r.Model, r.Backend, plural(r.Items, "item"))
	filter := "single-token filter unknown"
	if r.Filter != nil {
		filter = fmt.Sprintf("%d of %d LAMA records have a single-token label", r.Filter.Kept, r.Filter.Total)
	}
	method := interval.Wilson
	xLabel := fmt.Sprintf("K\nP@K: the label is among the K most likely next tokens; %d items (%s); %s; bars: %s; curves offset by ±3%% in K for legibility",
		r.Items, filter, dataTag(cfg.SourceTag, r.Source), method)
	p := plots.NewPlot(title, xLabel, "mean P@K")
	plots.LogX(p)
	ks := make([]float64, len(r.Ks))
	for i, k := range r.Ks {
		ks[i] = float64(k)
	}
	base := plots.SeriesOf("unsteered baseline", ks, r.Baseline)
	steered := plots.SeriesOf(fmt.Sprintf("ActAdd %q − %q, c=%g, layer %d", cfg.Plus, cfg.Minus, cfg.Coeff, r.Layer), ks, r.Steered)
	for i, s := range []plots.Series{base, steered} {
		drawn := s
		drawn.X = make([]float64, len(ks))
		for j, k := range ks {
			drawn.X[j] = k * (0.97 + 0.06*float64(i))
		}
		if err := plots.AddLine(p, drawn, 1-i); err != nil {
			return nil, err
		}
	}
	p.Y.Min, p.Y.Max = 0, max(p.Y.Max, 0.05)
	sc, err := r.sidecar("E3", title, cfg, 0, r.Source)
	if err != nil {
		return nil, err
	}
	sc.SampleSizes = map[string]int{"items": r.Items, "skipped": r.Skipped}
	filterNote := "filter: unknown (probes were given without a filter report)"
	if r.Filter != nil {
		sc.SampleSizes["records"], sc.SampleSizes["kept_by_filter"] = r.Filter.Total, r.Filter.Kept
		for reason, n := range r.Filter.Dropped {
			sc.SampleSizes["dropped: "+string(reason)] = n
		}
		filterNote = "filter: the authors' rule (the last token of BOS+prompt+label is the target, kept when it contains the label); " + r.Filter.String()
	}
	sc.Notes = []string{filterNote, fmt.Sprintf("layer used: %d (config %s)", r.Layer, cfg.Layer)}
	sc.Series, sc.Interval = []plots.Series{base, steered}, method
	plots.Pad(p)
	f, err := plots.NewFigure("e3-conceptnet-p-at-k", p, sc)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f}, nil
}

// Summary is E3's outcome as text: what was scored, the data source and filter, and mean P@K
// unsteered and steered for every K, with 95% Wilson intervals.
func (r *ConceptNetResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: layer %d, c=%g, %s scored (%d skipped: shorter than the steering vector, not extendable), %.0f s\n",
		r.Label(), r.Layer, r.Config.Coeff, plural(r.Items, "item"), r.Skipped, r.WallSeconds)
	fmt.Fprintf(&b, "%s\n", dataTag("", r.Source))
	if r.Filter != nil {
		fmt.Fprintf(&b, "filter: the authors' single-token rule (datasets.SingleTokenProbes); %s\n", r.Filter)
	} else {
		b.WriteString("filter: unknown (probes were given without a filter report)\n")
	}
	fmt.Fprintf(&b, "%4s   %-26s   %-26s\n", "K", "P@K unsteered [95% CI]", "P@K steered [95% CI]")
	for i, k := range r.Ks {
		fmt.Fprintf(&b, "%4d   %-26s   %-26s\n", k, estimate(r.Baseline[i]), estimate(r.Steered[i]))
	}
	fmt.Fprintf(&b, "intervals: %s\n", interval.Wilson)
	return b.String()
}
