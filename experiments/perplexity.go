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
	"github.com/actadd-go/actadd/interval"
	"github.com/actadd-go/actadd/plots"
	meter "github.com/actadd-go/actadd/progress"
	"github.com/actadd-go/actadd/sweep"
)

// PerplexityConfig configures E1: the perplexity of OpenWebText documents under the steered
// model relative to the unsteered one, binned by the documents' wedding-word frequency.
type PerplexityConfig struct {
	Layers      Layers  // injection layers, one curve each (e.g. 16/48, the paper's)
	Coeff       float64 // c
	Plus, Minus string  // the prompt pair
	// Docs is the sample size: SampleByRelevance takes Docs/2 of the most wedding-relevant
	// documents and the rest at random among those without wedding words (seeded by Seed).
	Docs int
	Seed uint64
	// BinWidth is the width of the relevance bins as a fraction (0.005 = 0.5% of words);
	// MinBinDocs: only bins with MORE than this many documents are reported in the figure.
	BinWidth   float64
	MinBinDocs int
	// BatchSize is the number of sentences scored together in one batch: the sentences of all
	// sampled documents, sorted by length, are cut into batches (sweep.Score), and a batch under
	// one setting is the unit of work the run store records.
	BatchSize int
	// Data is the corpus to sample from; nil loads OpenWebTextSample. Source says where the
	// documents came from (recorded in results and sidecars) and SourceTag is its short form
	// for the figure (e.g. "owt1000 offline sample"; empty: Source): both are taken from Data
	// when empty.
	Data              *DocumentSet `json:"-"`
	Source, SourceTag string
	Progress          io.Writer `json:"-"` // progress lines; nil means os.Stderr
	// Runs is the run store recording the experiment's units of work (zero: none, compute
	// everything); Context, when set, stops the run between units (the units finished before
	// stay recorded) with its error.
	Runs    RunStore        `json:"-"`
	Context context.Context `json:"-"`
}

// paperPerplexity is E1 as the paper ran it: layer 16 on GPT-2-XL (scaled for other depths),
// c = 1, " weddings" − "", 300k documents half wedding-related, seed 0, bins 0.5% wide, bins
// with more than 1000 documents.
func paperPerplexity() PerplexityConfig {
	return PerplexityConfig{Layers: Layers{paperLayer}, Coeff: 1, Plus: WeddingPlus, Minus: WeddingMinus,
		Docs: 300_000, Seed: 0, BinWidth: 0.005, MinBinDocs: 1000, BatchSize: 32}
}

// quickPerplexity is E1 at a CPU-sized scale: 8 documents, bins with more than 1 document
// (notebooks/01-perplexity.ipynb quotes these numbers; a test keeps them in step).
func quickPerplexity() PerplexityConfig {
	c := paperPerplexity()
	c.Docs, c.MinBinDocs, c.BatchSize = 8, 1, 16
	return c
}

// check rejects a config Perplexity cannot run.
func (c *PerplexityConfig) check() error {
	switch {
	case c.Docs <= 0:
		return fmt.Errorf("experiments: E1: Docs = %d: sample at least 1 document (paper: 300000)", c.Docs)
	case c.MinBinDocs < 0:
		return fmt.Errorf("experiments: E1: MinBinDocs = %d must be ≥ 0", c.MinBinDocs)
	case !(c.BinWidth > 0 && c.BinWidth <= 1):
		return fmt.Errorf("experiments: E1: BinWidth = %v must be a fraction of words in (0, 1] (paper: 0.005)", c.BinWidth)
	case len(c.Layers) == 0:
		return fmt.Errorf("experiments: E1: no injection layer: give at least one (paper: 16/48)")
	case c.Plus == "" && c.Minus == "":
		return fmt.Errorf("experiments: E1: the prompt pair is empty on both sides (paper: %q and %q)", WeddingPlus, WeddingMinus)
	}
	return checkCoeff("E1", "Coeff", c.Coeff)
}

// DocScore is one document's E1 measurement: the sum over its scored tokens of
// log p_steered − log p_baseline, and the number of those tokens.
type DocScore struct {
	Index     int     // the document's index in the corpus given to Perplexity
	Relevance float64 // datasets.Relevance of the document
	Sentences int     // sentences scored
	Tokens    int     // tokens scored
	SumDiff   float64 // Σ (steered − baseline) log-probability over the scored tokens
}

// MeanDiff is the document's mean log-probability difference per token (0 without tokens).
func (d DocScore) MeanDiff() float64 {
	if d.Tokens == 0 {
		return 0
	}
	return d.SumDiff / float64(d.Tokens)
}

// RelevanceBin is one relevance bin of E1: documents with Lo <= relevance < Hi, where the edges
// are the authors' (see BinByRelevance).
type RelevanceBin struct {
	Lo, Hi float64
	Docs   int // documents in the bin (with at least one scored token)
	Tokens int
	// MeanDiff is X, the token-weighted mean of (steered − baseline) log-probability over the
	// bin's documents: Σ SumDiff / Σ Tokens.
	MeanDiff float64
	// Ratio is the perplexity ratio steered/baseline, exp(−MeanDiff).
	Ratio float64
	// Shown is true when the bin has more than MinBinDocs documents (the figure's bins).
	Shown bool
	// RatioCI is Ratio with its 95% interval over the bin's documents (see binIntervals).
	RatioCI interval.Estimate
}

// PerplexityRatio is the perplexity of the steered model relative to the baseline, exp(−X),
// for a mean log-probability difference X = mean(log p_steered − log p_baseline) per token.
func PerplexityRatio(meanDiff float64) float64 { return math.Exp(-meanDiff) }

// BinStart is the lower edge of E1's first relevance bin. The authors' edges were
// np.arange(-1e-6, max relevance + 0.01, width): starting just below 0, so that a relevance of
// exactly k·width (0 included) falls in the bin that starts 1e-6 below it.
const BinStart = -1e-6

// binEdge is edge k of np.arange(BinStart, …, width), computed as numpy fills an arange
// (start, start+width, then start + k·delta with delta = (start+width) − start), each product
// and sum rounded to float64 (the conversions forbid a fused multiply-add).
func binEdge(k int, width float64) float64 {
	switch k {
	case 0:
		return BinStart
	case 1:
		return float64(BinStart + width)
	}
	delta := float64(BinStart+width) - BinStart
	return float64(BinStart + float64(float64(k)*delta))
}

// relevanceBin is np.digitize(relevance, edges) − 1: the k with edge k <= relevance < edge k+1.
func relevanceBin(relevance, width float64) int {
	k := max(0, int(math.Floor((relevance-BinStart)/width)))
	for k > 0 && relevance < binEdge(k, width) {
		k--
	}
	for relevance >= binEdge(k+1, width) {
		k++
	}
	return k
}

// BinByRelevance groups documents into relevance bins of the given width with the authors'
// edges, BinStart + k·width (exactly as np.arange(-1e-6, …, width) computes them), assigning
// a document to bin k when edge k <= relevance < edge k+1 (as np.digitize does). It skips
// documents without scored tokens and returns the non-empty bins in increasing relevance.
// Each bin's MeanDiff is token-weighted and Ratio = exp(−MeanDiff); bins with more than
// minDocs documents are marked Shown.
func BinByRelevance(docs []DocScore, width float64, minDocs int) ([]RelevanceBin, error) {
	if !(width > 0) || math.IsInf(width, 0) {
		return nil, fmt.Errorf("experiments: relevance bin width %v must be positive (the paper's is 0.005, 0.5%% of words)", width)
	}
	type acc struct {
		docs, tokens int
		sum          float64
	}
	bins := map[int]*acc{}
	for _, d := range docs {
		if d.Tokens == 0 {
			continue
		}
		if d.Relevance < 0 || math.IsNaN(d.Relevance) {
			return nil, fmt.Errorf("experiments: document %d has relevance %v: relevance is a fraction of words, in [0, 1]", d.Index, d.Relevance)
		}
		k := relevanceBin(d.Relevance, width)
		a := bins[k]
		if a == nil {
			a = &acc{}
			bins[k] = a
		}
		a.docs++
		a.tokens += d.Tokens
		a.sum += d.SumDiff
	}
	var keys []int
	for k := range bins {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]RelevanceBin, 0, len(keys))
	for _, k := range keys {
		a := bins[k]
		x := a.sum / float64(a.tokens)
		out = append(out, RelevanceBin{Lo: binEdge(k, width), Hi: binEdge(k+1, width), Docs: a.docs, Tokens: a.tokens,
			MeanDiff: x, Ratio: PerplexityRatio(x), Shown: a.docs > minDocs})
	}
	return out, nil
}

// PerplexityResult is E1's outcome.
type PerplexityResult struct {
	RunInfo
	Config PerplexityConfig
	// VectorLen is the steering vector's positions n (the first n predictions of every
	// sentence are not scored).
	VectorLen int
	// Layers holds each injection layer's documents and bins, in the order of Config.Layers.
	Layers []PerplexityLayer
	// Sentences were scored; ShortSentences had no token to score after the n steered
	// positions and were skipped.
	Sentences, ShortSentences int
	// TruncatedSentences were longer than the model's context and were scored on their first
	// NPositions tokens (BOS included), as the authors' TransformerLens to_tokens truncated
	// them; TruncatedTokens of their tokens went unscored. TruncatedShort of them were cut a
	// few tokens earlier than the authors cut them, because the text of their first
	// NPositions tokens encodes to other tokens (the cut falls inside a character or a
	// byte-pair merge).
	TruncatedSentences, TruncatedTokens, TruncatedShort int
	Tokens                                              int // tokens scored in all
	DocsWithoutTokens                                   int // sampled documents with no scored token (not binned)
}

// PerplexityLayer is E1's outcome at one injection layer.
type PerplexityLayer struct {
	Layer int        // the layer steered
	Docs  []DocScore // the sampled documents, relevant ones first (SampleByRelevance)
	Bins  []RelevanceBin
}

// Perplexity runs E1: it samples cfg.Docs documents of cfg.Data (OpenWebTextSample when nil)
// with SampleByRelevance, splits each into sentences as the authors did with NLTK's Punkt
// (datasets.Sentences), scores every sentence (with BOS, and truncated to the model's context
// as TransformerLens truncated it) under the unsteered model and steered at each layer,
// skipping the predictions at the n steered positions, and bins the documents' mean difference
// by relevance with the authors' bin edges (BinByRelevance), with a 95% interval per bin
// (binIntervals). The sentences of all sampled documents are one sweep.Score job: sorted by
// length into batches, so that similar lengths share a batch, and each batch under each
// setting (unsteered, each layer) is a unit of work, recorded in the run store (cfg.Runs) as it
// finishes. Progress: one meter over the documents while they are split into sentences, then
// one over every sentence under every setting.
//
// The sentence split is NLTK's Punkt algorithm with NLTK's English model as
// github.com/neurosnap/sentences embeds it; on the offline OpenWebText sample it gives NLTK
// 3.8's sentences exactly, given the same parameters (datasets.TestSentencesMatchNLTK with
// scripts/punkt-nltk.py). What remains unchecked is the parameters themselves: the module's
// export of NLTK's English model was not compared with NLTK's english.pickle. The result's
// sidecar says so; docs/fidelity.md has the comparison.
func Perplexity(m *actadd.Model, cfg PerplexityConfig) (*PerplexityResult, error) {
	if err := checkModel(m, "Perplexity"); err != nil {
		return nil, err
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	adds, layers, n, err := steering(m, cfg.Layers, cfg.Plus, cfg.Minus, cfg.Coeff)
	if err != nil {
		return nil, err
	}
	progress := progressTo(cfg.Progress)
	if cfg.Data == nil {
		if cfg.Data, err = OpenWebTextSample(progress); err != nil {
			return nil, err
		}
	}
	if cfg.Source == "" {
		cfg = cfg.Data.Config(cfg)
	}
	docs := cfg.Data.Docs
	if len(docs) == 0 {
		return nil, fmt.Errorf("experiments: Perplexity: no documents in %s: load some with OpenWebTextSample", cfg.Source)
	}
	res := &PerplexityResult{RunInfo: newRunInfo(m), Config: cfg, VectorLen: n}
	sample := datasets.SampleByRelevance(docs, cfg.Docs, cfg.Seed)
	fmt.Fprintf(progress, "E1 perplexity: %s, %s, %s sampled (%d asked) from %d\n",
		res.Label(), plural(len(layers), "layer"), plural(len(sample), "document"), cfg.Docs, len(docs))
	for _, l := range layers {
		pl := PerplexityLayer{Layer: l, Docs: make([]DocScore, len(sample))}
		for i, d := range sample {
			pl.Docs[i] = DocScore{Index: d.Index, Relevance: d.Relevance}
		}
		res.Layers = append(res.Layers, pl)
	}
	st, err := cfg.Runs.open(progress)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var sentences []string
	var owner []int // document (index in sample) of each sentence
	split := meter.New(progress, "E1 perplexity: splitting documents into sentences", "documents", len(sample))
	for i, d := range sample {
		if err := contextErr(cfg.Context); err != nil {
			return nil, err
		}
		ss, err := datasets.Sentences(d.Text)
		if err != nil {
			return nil, fmt.Errorf("experiments: E1: %w", err)
		}
		for _, s := range ss {
			ids := m.EncodeWithBOS(s)
			if full := len(ids); full > m.Context() {
				if s, ids, err = truncateToContext(m, ids); err != nil {
					return nil, fmt.Errorf("experiments: E1: %w", err)
				}
				res.TruncatedSentences++
				res.TruncatedTokens += full - len(ids)
				if len(ids) < m.Context() {
					res.TruncatedShort++
				}
			}
			if len(ids) <= n+1 { // every prediction is at a steered position
				res.ShortSentences++
				continue
			}
			sentences = append(sentences, s)
			owner = append(owner, i)
		}
		split.Add(1)
	}
	if len(sentences) > 0 {
		grid := sweep.Grid{Additions: adds[:1], Layers: layers}
		metrics := []sweep.Metric[sweep.Scored]{
			sweep.Mean(sumDiff, sweep.Scored.SumDiff),
			sweep.Mean(scoredTokens, func(s sweep.Scored) float64 { return float64(len(s.LogProbs)) }),
		}
		scoreCfg := sweep.ScoreConfig{Options: actadd.ScoreOptions{SkipFirst: n, BatchSize: cfg.BatchSize, Progress: progress}, Store: st, Context: cfg.Context}
		scored, err := sweep.Score(m, grid, sentences, scoreCfg, metrics...)
		if err != nil {
			return nil, fmt.Errorf("experiments: E1 scoring: %w", err)
		}
		for k, s := range scored.Steered() {
			sums, counts := s.Values[sumDiff], s.Values[scoredTokens]
			for j, i := range owner {
				d := &res.Layers[k].Docs[i]
				d.SumDiff += sums[j]
				d.Tokens += int(counts[j])
				d.Sentences++
			}
		}
		for _, c := range scored.Steered()[0].Values[scoredTokens] {
			res.Tokens += int(c)
		}
		res.Sentences = len(sentences)
	}
	for _, d := range res.Layers[0].Docs {
		if d.Tokens == 0 {
			res.DocsWithoutTokens++
		}
	}
	for k := range res.Layers {
		pl := &res.Layers[k]
		if pl.Bins, err = BinByRelevance(pl.Docs, cfg.BinWidth, cfg.MinBinDocs); err != nil {
			return nil, err
		}
		binIntervals(pl.Docs, pl.Bins, cfg.BinWidth)
	}
	res.finish()
	if err := res.closeStore(st, cfg.Runs); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "E1 perplexity: %d documents, %d sentences, %d tokens scored in %.1fs; %d of %d bins have > %d documents\n",
		len(sample)-res.DocsWithoutTokens, res.Sentences, res.Tokens, res.WallSeconds, res.ShownBins(), len(res.Layers[0].Bins), cfg.MinBinDocs)
	return res, nil
}

// Names of E1's per-sentence measurements in its sweep.Score job.
const (
	sumDiff      = "Σ Δ log-prob"
	scoredTokens = "tokens"
)

// binIntervals gives each bin its perplexity ratio's 95% interval: X = Σ SumDiff / Σ Tokens
// over the bin's documents is a ratio of means, whose t interval comes from the delta method
// with documents as the units (interval.RatioOfMeans), and the ratio's interval is exp(−·) of
// X's. A document's bin is the one BinByRelevance puts it in (one call per document), so that
// the intervals follow its edges.
func binIntervals(docs []DocScore, bins []RelevanceBin, width float64) {
	byLo := map[float64]int{}
	for i, b := range bins {
		byLo[b.Lo] = i
	}
	sums, tokens := make([][]float64, len(bins)), make([][]float64, len(bins))
	for _, d := range docs {
		own, err := BinByRelevance([]DocScore{d}, width, 0)
		if err != nil || len(own) != 1 {
			continue // no scored token (not binned)
		}
		i := byLo[own[0].Lo]
		sums[i], tokens[i] = append(sums[i], d.SumDiff), append(tokens[i], float64(d.Tokens))
	}
	for i := range bins {
		bins[i].RatioCI = interval.RatioOfMeans(sums[i], tokens[i]).Map(PerplexityRatio)
	}
}

// bins are the bins of the first layer: every layer bins the same documents with the same
// tokens, so their bins hold the same documents and differ in the ratio alone.
func (r *PerplexityResult) bins() []RelevanceBin {
	if len(r.Layers) == 0 {
		return nil
	}
	return r.Layers[0].Bins
}

// scoredDocs is the number of sampled documents with a scored token.
func (r *PerplexityResult) scoredDocs() int {
	if len(r.Layers) == 0 {
		return 0
	}
	return len(r.Layers[0].Docs) - r.DocsWithoutTokens
}

// truncateToContext returns the text of the first Context() tokens of a sentence's ids (BOS
// first, when the model has one) and those ids: scoring the text encodes it back to exactly those tokens. When the cut
// falls inside a character or a byte-pair merge, the text of the cut encodes to other tokens;
// then the cut moves back to the longest prefix whose text encodes to itself.
func truncateToContext(m *actadd.Model, ids []int) (string, []int, error) {
	first := 0 // where the sentence's own tokens start: after BOS, when the model has one
	if _, ok := m.Tok.BOS(); ok {
		first = 1
	}
	for k := m.Context(); k > first; k-- {
		text, err := m.Tok.Decode(ids[first:k])
		if err != nil {
			return "", nil, err
		}
		if slices.Equal(m.EncodeWithBOS(text), ids[:k]) {
			return text, ids[:k], nil
		}
	}
	return "", ids[:first], nil
}

// sentenceSplitNote says how E1 splits documents into sentences, and how far that is checked.
const sentenceSplitNote = "sentences: NLTK's Punkt algorithm (NLTK 3.8) with NLTK's English model as github.com/neurosnap/sentences embeds it; " +
	"identical to NLTK's split of the 1,000 offline OpenWebText sample documents given the same parameters; " +
	"the embedded parameters were not compared with NLTK's english.pickle"

// sentencesNote counts the sentences skipped and truncated.
func (r *PerplexityResult) sentencesNote() string {
	note := fmt.Sprintf("sentences: %d scored, %d skipped with nothing to score after the steered positions, %d longer than the context scored on the tokens that fit it (BOS included) as TransformerLens truncated them, %d tokens past the context unscored",
		r.Sentences, r.ShortSentences, r.TruncatedSentences, r.TruncatedTokens)
	if r.TruncatedShort > 0 {
		note += fmt.Sprintf("; %d of those cut a few tokens earlier (the text of the cut encodes to other tokens)", r.TruncatedShort)
	}
	return note
}

// binEdgesNote states E1's bin edges.
func binEdgesNote(width float64) string {
	return fmt.Sprintf("relevance bins: the authors' edges np.arange(%g, …, %g), a document in bin k when edge k ≤ relevance < edge k+1 (np.digitize)", BinStart, width)
}

// ShownBins is the number of bins the figure shows: those with more than MinBinDocs documents.
func (r *PerplexityResult) ShownBins() int {
	n := 0
	for _, b := range r.bins() {
		if b.Shown {
			n++
		}
	}
	return n
}

// largestBin is the number of documents in the fullest bin (0 without bins).
func (r *PerplexityResult) largestBin() int {
	n := 0
	for _, b := range r.bins() {
		n = max(n, b.Docs)
	}
	return n
}

// errNoBinShown explains why E1 has no figure: no bin has more than MinBinDocs documents.
func (r *PerplexityResult) errNoBinShown() error {
	if len(r.bins()) == 0 {
		sampled := 0
		if len(r.Layers) > 0 {
			sampled = len(r.Layers[0].Docs)
		}
		return fmt.Errorf("experiments: E1 has nothing to plot: none of the %s has a scored token: use more (or longer) documents", plural(sampled, "sampled document"))
	}
	return fmt.Errorf("experiments: E1 has nothing to plot: no relevance bin has more than MinBinDocs = %d documents (%d bins of %s; the fullest holds %d): "+
		"lower MinBinDocs (notebook flag --min_bin_docs) to %d or less, or use more documents (Docs, --docs; $%s for a bigger corpus)",
		r.Config.MinBinDocs, len(r.bins()), plural(r.scoredDocs(), "scored document"), r.largestBin(), r.largestBin()-1, EnvOpenWebText)
}

// layerNames lists the layers steered, e.g. "4" or "2, 4, 6".
func (r *PerplexityResult) layerNames() string {
	var names []string
	for _, l := range r.Layers {
		names = append(names, fmt.Sprint(l.Layer))
	}
	return strings.Join(names, ", ")
}

// Figures renders E1's figure: the perplexity ratio steered/unsteered of each shown bin against
// its relevance (bin centre, in % of words), one curve per injection layer, each point with its
// 95% interval (binIntervals), a dashed line at 1, and under it a panel with the number of
// documents in each bin. When no bin has more than MinBinDocs documents there is nothing to
// plot, and it returns an error saying how to get a figure (lower MinBinDocs or use more
// documents) rather than an empty figure.
func (r *PerplexityResult) Figures() ([]*plots.Figure, error) {
	if r.ShownBins() == 0 {
		return nil, r.errNoBinShown()
	}
	cfg := r.Config
	title := plots.Heading(fmt.Sprintf("E1 perplexity ratio (ActAdd/unsteered) vs wedding-word frequency, c=%g", cfg.Coeff),
		r.Model, r.Backend, plural(r.scoredDocs(), "document"))
	var method string
	var xs []float64
	var counts []int
	for _, b := range r.bins() {
		if b.Shown {
			xs = append(xs, 100*(b.Lo+b.Hi)/2)
			counts = append(counts, b.Docs)
			method = b.RatioCI.Method
		}
	}
	// Curves of several layers are offset sideways so that their bars do not hide each other.
	step := 0.08 * 100 * cfg.BinWidth
	dodge := ""
	if len(r.Layers) > 1 {
		dodge = fmt.Sprintf("; points of different layers offset by %g%% steps for legibility", step)
	}
	xLabel := fmt.Sprintf("wedding words (%% of the document's words; bin centres)\n%q − %q; bins %g%% wide, only bins with > %s shown (%d of %d); %s; bars: %s, documents as units%s",
		cfg.Plus, cfg.Minus, 100*cfg.BinWidth, plural(cfg.MinBinDocs, "document"), r.ShownBins(), len(r.bins()), dataTag(cfg.SourceTag, cfg.Source), method, dodge)
	p := plots.NewPlot(title, xLabel, "perplexity ratio exp(−X), X = mean Δ log-prob per token")
	var series []plots.Series
	for k, l := range r.Layers {
		var ests []interval.Estimate
		for _, b := range l.Bins {
			if b.Shown {
				ests = append(ests, b.RatioCI)
			}
		}
		s := plots.SeriesOf(fmt.Sprintf("layer %d", l.Layer), xs, ests)
		drawn := s
		drawn.X = make([]float64, len(xs))
		for i, x := range xs {
			drawn.X[i] = x + step*(float64(k)-float64(len(r.Layers)-1)/2)
		}
		if err := plots.AddLine(p, drawn, k); err != nil {
			return nil, err
		}
		series = append(series, s)
	}
	plots.AddReference(p, 1, "ratio 1 (no change)", plots.Gray)
	plots.Pad(p)
	panel := plots.NewPlot("", "", "documents")
	if err := plots.CountPanel(panel, xs, counts); err != nil {
		return nil, err
	}
	sc, err := r.sidecar("E1", title, cfg, cfg.Seed, cfg.Source)
	if err != nil {
		return nil, err
	}
	sc.SampleSizes = map[string]int{"documents": r.scoredDocs(), "documents_asked": cfg.Docs, "sentences": r.Sentences,
		"sentences_truncated": r.TruncatedSentences, "tokens": r.Tokens, "bins": len(r.bins()), "bins_shown": r.ShownBins()}
	sc.Notes = r.notes(fmt.Sprintf("layers used: %s (config %s); the steering vector covers %d positions, whose predictions are not scored", r.layerNames(), cfg.Layers, r.VectorLen),
		sentenceSplitNote, r.sentencesNote(), binEdgesNote(cfg.BinWidth))
	docs := plots.Series{Name: "documents per shown bin", X: xs}
	for _, n := range counts {
		docs.Y = append(docs.Y, float64(n))
	}
	sc.Series, sc.Interval = append(series, docs), method
	f, err := plots.NewFigure("e1-perplexity-ratio-vs-relevance", p, sc, panel)
	if err != nil {
		return nil, err
	}
	return []*plots.Figure{f}, nil
}

// Summary is E1's outcome as text: what was scored, every relevance bin (documents, tokens,
// perplexity ratio with its 95% interval at each layer, whether the figure shows it), and notes
// when the sample is smaller than asked or no bin is shown.
func (r *PerplexityResult) Summary() string {
	var b strings.Builder
	cfg := r.Config
	fmt.Fprintf(&b, "%s: layers %s, c=%g, %s, %d sentences, %d tokens scored in %.0f s\n",
		r.Label(), r.layerNames(), cfg.Coeff, plural(r.scoredDocs(), "document"), r.Sentences, r.Tokens, r.WallSeconds)
	fmt.Fprintf(&b, "%s\n", dataTag(cfg.SourceTag, cfg.Source))
	if len(r.Layers) > 0 && len(r.Layers[0].Docs) < cfg.Docs {
		fmt.Fprintf(&b, "NOTE: %s sampled of %d asked: the corpus is smaller than the sample asked for.\n", plural(len(r.Layers[0].Docs), "document"), cfg.Docs)
	}
	fmt.Fprintf(&b, "%s\n%s\n", r.sentencesNote(), binEdgesNote(cfg.BinWidth))
	fmt.Fprintf(&b, "%-22s %8s %10s  %-6s", "relevance bin", "docs", "tokens", "shown")
	for _, l := range r.Layers {
		fmt.Fprintf(&b, "  %-32s", fmt.Sprintf("ratio at layer %d [95%% CI]", l.Layer))
	}
	b.WriteString("\n")
	for i, bin := range r.bins() {
		fmt.Fprintf(&b, "[%7.4f%%, %7.4f%%)  %8d %10d  %-6v", 100*bin.Lo, 100*bin.Hi, bin.Docs, bin.Tokens, bin.Shown)
		for _, l := range r.Layers {
			fmt.Fprintf(&b, "  %-32s", estimate(l.Bins[i].RatioCI))
		}
		b.WriteString("\n")
	}
	if len(r.bins()) > 0 {
		fmt.Fprintf(&b, "intervals: %s, documents as units\n", r.bins()[0].RatioCI.Method)
	}
	fmt.Fprintf(&b, "%d of %d bins have more than %s (MinBinDocs) and are shown\n", r.ShownBins(), len(r.bins()), plural(cfg.MinBinDocs, "document"))
	if r.ShownBins() == 0 {
		fmt.Fprintf(&b, "NOTE: no bin is shown, so there is no figure: lower MinBinDocs (--min_bin_docs) to at most %d, or use more documents\n", max(0, r.largestBin()-1))
	}
	b.WriteString(r.storeLine())
	return b.String()
}
