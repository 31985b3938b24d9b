package experiments_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/experiments"
)

func TestPerplexityRatio(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{{0, 1}, {math.Log(2), 0.5}, {-math.Log(4), 4}} {
		if got := experiments.PerplexityRatio(c.x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("PerplexityRatio(%g) = %g, want %g", c.x, got, c.want)
		}
	}
}

func TestBinByRelevance(t *testing.T) {
	docs := []experiments.DocScore{
		{Index: 0, Relevance: 0, Tokens: 10, SumDiff: 1},          // bin 0, [-1e-6, 0.004999)
		{Index: 1, Relevance: 0.004, Tokens: 30, SumDiff: -3},     // bin 0
		{Index: 2, Relevance: 0.015, Tokens: 5, SumDiff: -5},      // bin 3, [0.014999, 0.019999)
		{Index: 3, Relevance: 0.0199, Tokens: 15, SumDiff: -1},    // bin 3
		{Index: 4, Relevance: 0.0199, Tokens: 20, SumDiff: -2},    // bin 3
		{Index: 5, Relevance: 0.3, Tokens: 0, SumDiff: 0},         // no tokens: skipped
		{Index: 6, Relevance: 0.010000001, Tokens: 4, SumDiff: 2}, // bin 2
		{Index: 7, Relevance: 0.014998, Tokens: 4, SumDiff: 2},    // bin 2: below the edge 0.014999
	}
	bins, err := experiments.BinByRelevance(docs, 0.005, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []experiments.RelevanceBin{
		{Lo: -1e-6, Hi: 0.004999, Docs: 2, Tokens: 40, MeanDiff: -2.0 / 40, Shown: true},
		{Lo: 0.009999, Hi: 0.014999, Docs: 2, Tokens: 8, MeanDiff: 0.5, Shown: true},
		{Lo: 0.014999, Hi: 0.019999, Docs: 3, Tokens: 40, MeanDiff: -8.0 / 40, Shown: true},
	}
	if len(bins) != len(want) {
		t.Fatalf("got %d bins %+v, want %d", len(bins), bins, len(want))
	}
	for i, w := range want {
		b := bins[i]
		if math.Abs(b.Lo-w.Lo) > 1e-12 || math.Abs(b.Hi-w.Hi) > 1e-12 || b.Docs != w.Docs || b.Tokens != w.Tokens ||
			math.Abs(b.MeanDiff-w.MeanDiff) > 1e-12 || b.Shown != w.Shown || math.Abs(b.Ratio-math.Exp(-w.MeanDiff)) > 1e-12 {
			t.Errorf("bin %d = %+v, want %+v with Ratio exp(−MeanDiff) = %g", i, b, w, math.Exp(-w.MeanDiff))
		}
	}
	// Token weighting, not a mean of document means: bin 0's document means are 0.1 and −0.1.
	if bins[0].MeanDiff == 0 {
		t.Error("bin 0 averaged document means instead of weighting by tokens")
	}
	if _, err := experiments.BinByRelevance(docs, 0, 1); err == nil {
		t.Error("BinByRelevance accepted a zero bin width")
	}
	if got := (experiments.DocScore{Tokens: 4, SumDiff: -2}).MeanDiff(); got != -0.5 {
		t.Errorf("MeanDiff = %g, want -0.5", got)
	}
}

// weddingDocs is a small corpus: three documents with wedding words, four without.
var weddingDocs = []datasets.Document{
	{Text: "The wedding was lovely and the bride was happy. After the wedding they left on a honeymoon to Spain. Hi."},
	{Text: "Plans for the wedding took a year. The groom forgot the rings at home."},
	{Text: "Many couples marry in June. The marriage rate fell last year, a report says."},
	{Text: "The weather today is sunny. Tomorrow it will rain in the north."},
	{Text: "Stocks rose on Monday as investors cheered the news. Oil prices fell."},
	{Text: "The team won the match in the last minute. Fans celebrated in the streets."},
	{Text: "Scientists found water on a distant planet. " + strings.Repeat("ok ", 1100)},
}

func TestPerplexityEndToEnd(t *testing.T) {
	m := tinyModel(t)
	cfg := quick(t, experiments.PerplexityAt)
	cfg.Data = &experiments.DocumentSet{Docs: weddingDocs, Source: "test corpus", Tag: "test tag"}
	cfg.Docs, cfg.MinBinDocs, cfg.Progress = 7, 0, quiet
	res, err := experiments.Perplexity(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Layers) != 1 || res.Layers[0].Layer != 1 || res.VectorLen != 2 {
		t.Fatalf("layers %+v, vector length %d; want the paper's layer 16/48 scaled to 4 layers (1) and n = 2", res.Layers, res.VectorLen)
	}
	layer := res.Layers[0]
	if len(layer.Docs) != 7 || layer.Docs[0].Relevance <= layer.Docs[2].Relevance || layer.Docs[2].Relevance == 0 || layer.Docs[3].Relevance != 0 {
		t.Errorf("sample: %+v", layer.Docs)
	}
	if res.ShortSentences != 1 { // "Hi." is BOS + 2 tokens: nothing left to score after n = 2
		t.Errorf("ShortSentences = %d, want 1", res.ShortSentences)
	}
	// 1100 × "ok" is BOS + 1100 tokens: the first 1024 are scored, as TransformerLens's truncation
	// did, each sentence but its first n+1 = 3 positions.
	if res.TruncatedSentences != 1 || res.TruncatedTokens != 1101-1024 || res.TruncatedShort != 0 {
		t.Errorf("truncated %d sentences, %d tokens (%d cut short); want 1, %d, 0", res.TruncatedSentences, res.TruncatedTokens, res.TruncatedShort, 1101-1024)
	}
	wantTokens := len(m.EncodeWithBOS("Scientists found water on a distant planet.")) - 3 + 1024 - 3
	for _, d := range layer.Docs {
		if d.Index == 6 && (d.Sentences != 2 || d.Tokens != wantTokens) {
			t.Errorf("document 6: %d sentences, %d tokens scored; want 2 and %d", d.Sentences, d.Tokens, wantTokens)
		}
	}
	if res.Sentences == 0 || res.Tokens == 0 || res.DocsWithoutTokens != 0 {
		t.Errorf("scored %d sentences, %d tokens, %d documents without tokens", res.Sentences, res.Tokens, res.DocsWithoutTokens)
	}
	binned, tokens := 0, 0
	for _, b := range layer.Bins {
		binned += b.Docs
		tokens += b.Tokens
		if !(b.Ratio > 0) || math.IsInf(b.Ratio, 0) || math.Abs(b.Ratio-math.Exp(-b.MeanDiff)) > 1e-12 || !b.Shown {
			t.Errorf("bad bin %+v", b)
		}
		// The interval: over the bin's documents, around the ratio; none for a single document.
		ci := b.RatioCI
		if ci.N != b.Docs || math.Abs(ci.Value-b.Ratio) > 1e-12 || ci.Defined() != (b.Docs > 1) || (ci.Defined() && !(ci.Lo <= ci.Value && ci.Value <= ci.Hi)) {
			t.Errorf("bin [%g, %g) of %d documents: interval %+v around ratio %g", b.Lo, b.Hi, b.Docs, ci, b.Ratio)
		}
	}
	if binned != 7 || tokens != res.Tokens || layer.Bins[0].Lo != experiments.BinStart {
		t.Errorf("bins hold %d documents and %d tokens, want 7 and %d, first bin at BinStart: %+v", binned, tokens, res.Tokens, layer.Bins)
	}

	// Independent check of one document: score its sentences with two LogProbs calls.
	d := layer.Docs[0]
	var sentences []string
	split, err := datasets.Sentences(weddingDocs[d.Index].Text)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range split {
		if len(m.EncodeWithBOS(s)) > 3 {
			sentences = append(sentences, s)
		}
	}
	add := actadd.Pair(" weddings", "", 1).AtLayer(1)
	opts := actadd.ScoreOptions{SkipFirst: 2}
	base, err := m.LogProbs(sentences, opts)
	if err != nil {
		t.Fatal(err)
	}
	steered, err := m.LogProbs(sentences, opts, add)
	if err != nil {
		t.Fatal(err)
	}
	sum, n := 0.0, 0
	for i := range base {
		for j := range base[i] {
			sum += float64(steered[i][j] - base[i][j])
			n++
		}
	}
	if n != d.Tokens || d.Sentences != len(sentences) || math.Abs(sum-d.SumDiff) > 1e-4*math.Max(1, math.Abs(sum)) {
		t.Errorf("document %d: %d sentences, %d tokens, Σ diff %g; independent scoring: %d, %d, %g", d.Index, d.Sentences, d.Tokens, d.SumDiff, len(sentences), n, sum)
	}
	if sum == 0 {
		t.Error("steering did not change any log-probability")
	}

	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, figs, "E1", true, "e1-perplexity-ratio-vs-relevance")
	if sc := figs[0].Sidecar; len(sc.Series) != 2 || len(sc.Series[0].Lo) != len(layer.Bins) || len(sc.Series[0].N) != len(layer.Bins) ||
		sc.Series[1].Name != "documents per shown bin" || !strings.Contains(sc.Interval, "delta method") {
		t.Errorf("sidecar series %+v, interval %q: want the ratio with intervals and counts, and the documents per bin", sc.Series, sc.Interval)
	}
	if figs[0].Sidecar.DataSource != "test corpus" || figs[0].Sidecar.SampleSizes["documents"] != 7 {
		t.Errorf("sidecar: source %q, sample sizes %v", figs[0].Sidecar.DataSource, figs[0].Sidecar.SampleSizes)
	}
	if x := figs[0].Sidecar.XLabel; !strings.Contains(x, "data: test tag") {
		t.Errorf("x label %q lacks the data tag", x)
	}
	if res.ShownBins() != len(layer.Bins) || figs[0].Sidecar.SampleSizes["bins_shown"] != res.ShownBins() {
		t.Errorf("ShownBins() = %d of %d bins (MinBinDocs 0 shows all); sidecar %v", res.ShownBins(), len(layer.Bins), figs[0].Sidecar.SampleSizes)
	}
	summary := res.Summary()
	for _, want := range []string{"layers 1,", "7 documents", "data: test tag", "relevance bin", "ratio at layer 1 [95% CI]", fmt.Sprintf("%d of %d bins", len(layer.Bins), len(layer.Bins))} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if strings.Contains(summary, "NOTE") {
		t.Errorf("summary has a note although every bin is shown and the sample is complete:\n%s", summary)
	}

	// No bin with more than MinBinDocs documents: no empty figure, an error saying what to do.
	few := *res
	few.Config.MinBinDocs = 7
	bins, err := experiments.BinByRelevance(layer.Docs, cfg.BinWidth, few.Config.MinBinDocs)
	if err != nil {
		t.Fatal(err)
	}
	few.Layers = []experiments.PerplexityLayer{{Layer: layer.Layer, Docs: layer.Docs, Bins: bins}}
	if few.ShownBins() != 0 {
		t.Fatalf("%d bins shown with MinBinDocs 7 of 7 documents", few.ShownBins())
	}
	if figs, err := few.Figures(); err == nil || figs != nil || !strings.Contains(err.Error(), "lower MinBinDocs") || !strings.Contains(err.Error(), "more documents") {
		t.Errorf("Figures with no bin to show: %d figures, error %v", len(figs), err)
	}
	if sum := few.Summary(); !strings.Contains(sum, "NOTE: no bin is shown, so there is no figure: lower MinBinDocs (--min_bin_docs) to at most 3") {
		t.Errorf("summary does not explain the missing figure:\n%s", sum)
	}

	// With c = 0 the steered model is the baseline: every ratio is exactly 1.
	cfg.Coeff = 0
	zero, err := experiments.Perplexity(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range zero.Layers[0].Bins {
		if b.Ratio != 1 {
			t.Errorf("c = 0: bin %+v has ratio %g, want exactly 1", b, b.Ratio)
		}
	}
}

// Several layers in one run: each is the run at that layer alone, and the bins hold the same
// documents.
func TestPerplexitySeveralLayers(t *testing.T) {
	m := tinyModel(t)
	cfg := quick(t, experiments.PerplexityAt)
	cfg.Data = &experiments.DocumentSet{Docs: weddingDocs, Source: "test corpus"}
	cfg.Docs, cfg.MinBinDocs, cfg.Progress, cfg.Layers = 7, 0, quiet, experiments.Layers{{At: 0}, {At: 3}}
	both, err := experiments.Perplexity(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(both.Layers) != 2 || both.Layers[0].Layer != 0 || both.Layers[1].Layer != 3 {
		t.Fatalf("layers %+v", both.Layers)
	}
	cfg.Layers = experiments.Layers{{At: 3}}
	one, err := experiments.Perplexity(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range one.Layers[0].Docs {
		e := both.Layers[1].Docs[i]
		// Each setting's sentences are scored in batches of their own, so a layer's result does
		// not depend on the other layers of the run, to the bit.
		if e.Index != d.Index || e.Tokens != d.Tokens || e.SumDiff != d.SumDiff {
			t.Errorf("document %d at layer 3: %+v alone, %+v with layer 0", i, d, e)
		}
	}
	for i, b := range both.Layers[0].Bins {
		if c := both.Layers[1].Bins[i]; b.Docs != c.Docs || b.Tokens != c.Tokens || b.Lo != c.Lo {
			t.Errorf("bin %d differs between layers: %+v vs %+v", i, b, c)
		}
	}
	figs, err := both.Figures()
	if err != nil {
		t.Fatal(err)
	}
	if s := figs[0].Sidecar.Series; len(s) != 3 || s[0].Name != "layer 0" || s[1].Name != "layer 3" {
		t.Errorf("series %+v: want one per layer and the document counts", s)
	}
}

func TestPerplexityErrors(t *testing.T) {
	m := tinyModel(t)
	cfg := quick(t, experiments.PerplexityAt)
	cfg.Progress = quiet
	cfg.Data = &experiments.DocumentSet{Source: "an empty set"}
	if _, err := experiments.Perplexity(m, cfg); err == nil {
		t.Error("Perplexity accepted no documents")
	}
	cfg.Data = &experiments.DocumentSet{Docs: weddingDocs, Source: "test"}
	cfg.Layers = experiments.Layers{{At: 7}}
	if _, err := experiments.Perplexity(m, cfg); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("layer 7 of 4: error %v", err)
	}
	cfg.Layers = experiments.Layers{}
	if _, err := experiments.Perplexity(m, cfg); err == nil {
		t.Error("Perplexity accepted no layer")
	}
	if _, err := experiments.Perplexity(nil, quick(t, experiments.PerplexityAt)); err == nil {
		t.Error("Perplexity accepted a nil model")
	}
}
