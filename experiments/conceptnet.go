package experiments

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/internal/machine"
	"github.com/actadd-go/actadd/interval"
	"github.com/actadd-go/actadd/plots"
	meter "github.com/actadd-go/actadd/progress"
	"github.com/actadd-go/actadd/runstore"
	"github.com/actadd-go/actadd/sweep"
)

// ConceptNetConfig configures E3: LAMA ConceptNet factual recall (P@K) with and without the
// wedding vector.
type ConceptNetConfig struct {
	Layer       Layer // injection layer (paper: 16/48)
	Coeff       float64
	Plus, Minus string
	Ks          []int // the K of P@K; nil means PAtKList()
	MaxItems    int   // score only the first MaxItems probes; 0 means all
	BatchSize   int   // prompts per batch, in probe order: a unit of work of the run store; 0 means 32
	// Data is the probes; nil loads LAMAProbes. Source and Filter record where the probes came
	// from and what the single-token filter dropped; SourceTag is Source's short form for the
	// figure (e.g. "LAMA ConceptNet test.jsonl"; empty: Source). All three are taken from Data
	// when Source is empty; they are copied into results and sidecars. A nil Filter means the
	// filter is unknown.
	Data              *LAMASet `json:"-"`
	Source, SourceTag string
	Filter            *datasets.LAMAFilterReport
	Progress          io.Writer `json:"-"` // progress lines; nil means os.Stderr
	// Runs is the run store recording the experiment's units of work (zero: none, compute
	// everything); Context, when set, stops the run between units (the units finished before
	// stay recorded) with its error.
	Runs    RunStore        `json:"-"`
	Context context.Context `json:"-"`
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
	if c.Layer.All {
		return fmt.Errorf("experiments: E3 steers one layer, not all: give one (paper: 16/48)")
	}
	if c.Plus == "" && c.Minus == "" {
		return fmt.Errorf("experiments: E3: the prompt pair is empty on both sides (paper: %q and %q)", WeddingPlus, WeddingMinus)
	}
	if err := checkCoeff("E3", "Coeff", c.Coeff); err != nil {
		return err
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
// Its units of work, recorded in the run store (cfg.Runs) as they finish, are the ranks of
// BatchSize probes (in probe order) unsteered or steered, and each short prompt's ranks.
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
		if len(m.EncodeWithBOS(p.Prompt)) < n {
			short = append(short, p)
			continue
		}
		prompts = append(prompts, p.Prompt)
		targets = append(targets, p.LabelToken)
	}
	fmt.Fprintf(progress, "E3 ConceptNet: %s, layer %d, %s\n", res.Label(), res.Layer, plural(len(probes), "probe"))
	st, err := cfg.Runs.open(progress)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := res.rank(m, prompts, targets, add, st, cfg, progress); err != nil {
		return nil, err
	}
	if err := res.rankShortPrompts(m, short, add, n, st); err != nil {
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
	if err := res.closeStore(st, cfg.Runs); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "E3 ConceptNet: done in %.1fs; P@%d baseline %.3f, steered %.3f\n", res.WallSeconds, ks[len(ks)-1], res.Baseline[len(ks)-1].Value, res.Steered[len(ks)-1].Value)
	return res, nil
}

// rankUnit is a unit of E3's work: the label ranks of prompts [from, to) (in probe order),
// unsteered or steered, computed as one batch.
type rankUnit struct {
	from, to int
	steered  bool
	key      runstore.Key
	stored   bool
}

// rank sets the label ranks of the prompts, unsteered and steered with add. The prompts are
// cut, in probe order, into units of BatchSize (so that a run with a larger MaxItems reuses
// the whole units of a smaller one), each ranked in one NextTokenRanks call of exactly its
// prompts: its ranks depend on its own prompts alone. It is recorded in st as it finishes.
func (r *ConceptNetResult) rank(m *actadd.Model, prompts []string, targets []int, add actadd.Addition, st *runstore.Store, cfg ConceptNetConfig, progress io.Writer) error {
	size := cfg.BatchSize
	if size <= 0 {
		size = 32
	}
	var units []rankUnit
	missing := 0
	for from := 0; from < len(prompts); from += size {
		to := min(from+size, len(prompts))
		data := sweep.Checksum(append(slices.Clone(prompts[from:to]), fmt.Sprint(targets[from:to])))
		for _, steered := range []bool{false, true} {
			u := rankUnit{from: from, to: to, steered: steered, key: conceptNetKey(m, "e3/label-ranks", add, steered, data, to-from)}
			var err error
			if u.stored, err = st.Has(u.key); err != nil {
				return fmt.Errorf("experiments: E3: %w", err)
			}
			if !u.stored {
				missing += to - from
			}
			units = append(units, u)
		}
	}
	r.BaselineRanks, r.SteeredRanks = make([]int, len(prompts)), make([]int, len(prompts))
	ranked := meter.New(progress, "E3 ConceptNet: rank "+m.Label(), "prompts", missing)
	for _, u := range units {
		into, what := r.BaselineRanks[u.from:u.to], "baseline"
		var adds []actadd.Addition
		if u.steered {
			into, what, adds = r.SteeredRanks[u.from:u.to], "steered", []actadd.Addition{add}
		}
		var ranks []int
		if ok, err := st.Get(u.key, &ranks); err != nil {
			return fmt.Errorf("experiments: E3: %w", err)
		} else if !ok {
			if err := contextErr(cfg.Context); err != nil {
				return err
			}
			if ranks, err = m.NextTokenRanks(prompts[u.from:u.to], targets[u.from:u.to], actadd.ScoreOptions{BatchSize: u.to - u.from}, adds...); err != nil {
				return fmt.Errorf("experiments: E3 %s ranks: %w", what, err)
			}
			if err := st.Put(u.key, ranks); err != nil {
				return fmt.Errorf("experiments: E3: %w", err)
			}
			ranked.Add(u.to - u.from)
		}
		if len(ranks) != len(into) {
			return fmt.Errorf("experiments: E3: the run store holds %d ranks for a unit of %d prompts: a damaged record; run with --fresh", len(ranks), len(into))
		}
		copy(into, ranks)
	}
	return nil
}

// conceptNetKey is the run-store key of an E3 unit of kind over the data (a checksum of its
// prompts and labels) of count items, steered with add or not.
func conceptNetKey(m *actadd.Model, kind string, add actadd.Addition, steered bool, data string, unit any) runstore.Key {
	k := runstore.Key{Kind: kind, Code: conceptNetCode, Model: m.Name, Revision: m.Revision, Backend: machine.Numerics(m.BackendName), Data: data, Unit: unit}
	if steered {
		k.Steering = sweep.SteeringKey(add)
	}
	return k
}

// shortRanks is what the run store records of a short prompt's probe.
type shortRanks struct {
	Base, Steered int
	Skipped       bool // no filler extends the prompt
}

// rankShortPrompts ranks the labels of probes whose prompt (with BOS) is shorter than the n
// positions of the steering vector, such as a "[MASK]" at the start (BOS alone). The authors
// ran them in batches padded past n positions, so the steering also touched padding, which the
// prompt's last position cannot see (attention is causal): its next-token logits are those at
// the same position of any longer text that starts with the prompt's tokens, steered or not.
// Such a text is the prompt and a filler of n tokens; a prompt no filler extends without
// changing its tokens is counted as Skipped.
func (r *ConceptNetResult) rankShortPrompts(m *actadd.Model, probes []datasets.LAMAProbe, add actadd.Addition, n int, st *runstore.Store) error {
	cache := map[string]*shortPromptLogits{}
	for _, p := range probes {
		// The ranks depend on the steering (the filler's length is the vector's), so one key
		// holds both.
		key := conceptNetKey(m, "e3/short-prompt-ranks", add, true, sweep.Checksum([]string{p.Prompt}), p.LabelToken)
		var rec shortRanks
		ok, err := st.Get(key, &rec)
		if err != nil {
			return fmt.Errorf("experiments: E3: %w", err)
		}
		if !ok {
			l, seen := cache[p.Prompt]
			if !seen {
				if l, err = shortLogits(m, p.Prompt, add, n); err != nil {
					return err
				}
				cache[p.Prompt] = l
			}
			rec.Skipped = l == nil
			if l != nil {
				rec.Base, rec.Steered = rank(l.base, p.LabelToken), rank(l.steered, p.LabelToken)
			}
			if err := st.Put(key, rec); err != nil {
				return fmt.Errorf("experiments: E3: %w", err)
			}
		}
		if rec.Skipped {
			r.Skipped++
			continue
		}
		r.BaselineRanks = append(r.BaselineRanks, rec.Base)
		r.SteeredRanks = append(r.SteeredRanks, rec.Steered)
	}
	return nil
}

// shortLogits is the next-token logits after a short prompt, unsteered and steered, from the
// prompt extended by a filler of n tokens that keeps its tokens (nil when no filler does).
func shortLogits(m *actadd.Model, prompt string, add actadd.Addition, n int) (*shortPromptLogits, error) {
	ids := m.EncodeWithBOS(prompt)
	for _, filler := range []string{" the", ".", "\n", " 1"} {
		text := prompt + strings.Repeat(filler, n)
		if got := m.EncodeWithBOS(text); len(got) < max(n, len(ids)) || !slices.Equal(got[:len(ids)], ids) {
			continue
		}
		base, err := m.Logits(text)
		if err != nil {
			return nil, fmt.Errorf("experiments: E3 baseline ranks: %w", err)
		}
		steered, err := m.Logits(text, add)
		if err != nil {
			return nil, fmt.Errorf("experiments: E3 steered ranks: %w", err)
		}
		return &shortPromptLogits{base[len(ids)-1], steered[len(ids)-1]}, nil
	}
	return nil, nil
}

// shortPromptLogits are a short prompt's next-token logits, unsteered and steered.
type shortPromptLogits struct{ base, steered []float32 }

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
	sc.Notes = r.notes(filterNote, fmt.Sprintf("layer used: %d (config %s)", r.Layer, cfg.Layer))
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
	b.WriteString(r.storeLine())
	return b.String()
}
