package experiments_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/interval"
)

// testProbes builds LAMA-style probes through the real single-token filter.
func testProbes(t *testing.T) ([]datasets.LAMAProbe, datasets.LAMAFilterReport) {
	t.Helper()
	recs := []datasets.LAMARecord{
		{UUID: "1", MaskedSentences: []string{"Birds can [MASK]."}, ObjLabel: "fly"},
		{UUID: "2", MaskedSentences: []string{"You are likely to find a fork in a [MASK]."}, ObjLabel: "kitchen"},
		{UUID: "3", MaskedSentences: []string{"A cat is a kind of [MASK]."}, ObjLabel: "animal"},
		{UUID: "4", MaskedSentences: []string{"Ice is [MASK]."}, ObjLabel: "cold"},
		{UUID: "5", MaskedSentences: []string{"People sleep in a [MASK]."}, ObjLabel: "bed"},
		{UUID: "6", MaskedSentences: []string{"No mask here."}, ObjLabel: "x"},
	}
	probes, rep := datasets.SingleTokenProbes(recs, tinyModel(t).Tok)
	if len(probes) != 5 {
		t.Fatalf("kept %d probes (%s), want 5", len(probes), rep)
	}
	return probes, rep
}

func TestConceptNet(t *testing.T) {
	m := tinyModel(t)
	probes, rep := testProbes(t)
	cfg := quick(t, experiments.ConceptNetAt)
	cfg.Data, cfg.Progress = &experiments.LAMASet{Probes: probes, Report: rep, Source: "test records", Tag: "test tag"}, quiet
	res, err := experiments.ConceptNet(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 5 || res.Layer != 1 || !slices.Equal(res.Ks, experiments.PAtKList()) || res.Filter == nil || res.Filter.Total != 6 || res.Source != "test records" {
		t.Errorf("items %d, layer %d, Ks %v, filter %s, source %q", res.Items, res.Layer, res.Ks, res.Filter, res.Source)
	}
	for name, ps := range map[string][]interval.Estimate{"baseline": res.Baseline, "steered": res.Steered} {
		if len(ps) != len(res.Ks) {
			t.Fatalf("%s: %d values for %d Ks", name, len(ps), len(res.Ks))
		}
		for i, p := range ps {
			if p.Value < 0 || p.Value > 1 || (i > 0 && p.Value < ps[i-1].Value) || p.N != 5 || !(p.Lo <= p.Value && p.Value <= p.Hi) || p.Method != interval.Wilson {
				t.Errorf("%s: P@K %v is not non-decreasing in [0, 1] with Wilson intervals over 5 items", name, ps)
				break
			}
			if p.Value != experiments.PAtK(map[string][]int{"baseline": res.BaselineRanks, "steered": res.SteeredRanks}[name], res.Ks[i]) {
				t.Errorf("%s: P@%d %g differs from PAtK", name, res.Ks[i], p.Value)
			}
		}
	}
	for i, r := range res.BaselineRanks {
		if r < 0 || r >= m.VocabSize() || res.SteeredRanks[i] < 0 {
			t.Errorf("item %d: ranks %d, %d", i, r, res.SteeredRanks[i])
		}
	}
	if slices.Equal(res.BaselineRanks, res.SteeredRanks) {
		t.Errorf("steering changed no rank: %v", res.BaselineRanks)
	}
	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, figs, "E3", true, "e3-conceptnet-p-at-k")
	if s := figs[0].Sidecar.Series[0]; len(s.Lo) != len(res.Ks) || figs[0].Sidecar.Interval != interval.Wilson {
		t.Errorf("sidecar series %+v, interval %q: want Wilson intervals at every K", s, figs[0].Sidecar.Interval)
	}
	if figs[0].Sidecar.SampleSizes["records"] != 6 || figs[0].Sidecar.DataSource != "test records" {
		t.Errorf("sidecar: %v, source %q", figs[0].Sidecar.SampleSizes, figs[0].Sidecar.DataSource)
	}
	if x := figs[0].Sidecar.XLabel; !strings.Contains(x, "data: test tag") || !strings.Contains(x, "5 of 6 LAMA records") {
		t.Errorf("x label %q lacks the data tag or the filter count", x)
	}
	sum := res.Summary()
	for _, want := range []string{"layer 1", "5 items scored", "data: test records", "filter: ", "P@K unsteered [95% CI]", interval.Wilson,
		fmt.Sprintf("%4d   %s", 100, res.Baseline[len(res.Ks)-1].Numbers())} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}

	// Probes given with their own Source and no filter report: the filter is unknown, not invented.
	bare := quick(t, experiments.ConceptNetAt)
	bare.Data, bare.Source, bare.Progress = &experiments.LAMASet{Probes: probes}, "given probes", quiet
	res, err = experiments.ConceptNet(m, bare)
	if err != nil {
		t.Fatal(err)
	}
	if res.Filter != nil {
		t.Errorf("no filter given, yet the result reports one: %s", res.Filter)
	}
	figs, err = res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	sc := figs[0].Sidecar
	if !strings.Contains(sc.XLabel, "filter unknown") || strings.Contains(sc.XLabel, "LAMA records") || sc.Notes[0] != "filter: unknown (probes were given without a filter report)" {
		t.Errorf("x label %q, notes %q: want the filter unknown", sc.XLabel, sc.Notes)
	}
	if _, ok := sc.SampleSizes["records"]; ok {
		t.Errorf("sample sizes %v count records that were never seen", sc.SampleSizes)
	}
	if sum := res.Summary(); !strings.Contains(sum, "filter: unknown") {
		t.Errorf("summary does not say the filter is unknown:\n%s", sum)
	}

	// K = vocabulary size catches every label; c = 0 changes nothing; MaxItems cuts.
	cfg = quick(t, experiments.ConceptNetAt)
	cfg.Data, cfg.Progress = &experiments.LAMASet{Probes: probes, Report: rep}, quiet
	cfg.Ks, cfg.Coeff, cfg.MaxItems = []int{m.VocabSize(), 1}, 0, 3
	res, err = experiments.ConceptNet(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 3 || !slices.Equal(res.Ks, []int{1, m.VocabSize()}) || res.Baseline[1].Value != 1 || res.Steered[1].Value != 1 {
		t.Errorf("items %d, Ks %v, P@vocab %+v/%+v", res.Items, res.Ks, res.Baseline[1], res.Steered[1])
	}
	if !slices.Equal(res.BaselineRanks, res.SteeredRanks) {
		t.Errorf("c = 0 changed ranks: %v vs %v", res.BaselineRanks, res.SteeredRanks)
	}
	cfg.Ks = []int{0}
	if _, err := experiments.ConceptNet(m, cfg); err == nil {
		t.Error("ConceptNet accepted K = 0")
	}
}

// A "[MASK]" at the start leaves BOS alone, shorter than the steering vector: the authors kept
// such records and their padded batches scored them, which rankShortPrompts reproduces with a
// longer text that starts with the same tokens. That relies on the logits at a prompt's last
// position not depending on what follows, steered or not: checked here on a full-length probe.
func TestConceptNetShortPrompt(t *testing.T) {
	m := tinyModel(t)
	recs := []datasets.LAMARecord{
		{UUID: "1", MaskedSentences: []string{"Birds can [MASK]."}, ObjLabel: "fly"},
		{UUID: "2", MaskedSentences: []string{"[MASK] sky is blue."}, ObjLabel: "The"},
	}
	probes, rep := datasets.SingleTokenProbes(recs, m.Tok)
	if rep.Kept != 2 || probes[1].Prompt != "" {
		t.Fatalf("probes %+v (%s): want both, the second with an empty prompt", probes, rep)
	}
	cfg := quick(t, experiments.ConceptNetAt)
	cfg.Data, cfg.Source, cfg.Progress = &experiments.LAMASet{Probes: probes, Report: rep}, "test records", quiet
	res, err := experiments.ConceptNet(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 2 || res.Skipped != 0 {
		t.Fatalf("%d items, %d skipped; want 2 and 0", res.Items, res.Skipped)
	}
	add := actadd.Pair(cfg.Plus, cfg.Minus, cfg.Coeff).AtLayer(res.Layer)
	rankAt := func(text string, pos, target int, adds ...actadd.Addition) int {
		l, err := m.Logits(text, adds...)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, v := range l[pos] {
			if v > l[pos][target] {
				n++
			}
		}
		return n
	}
	// Probe 1 ("Birds can", BOS + 3 tokens): its ranks are those at position 3 of a longer text.
	last := len(m.EncodeWithBOS(probes[0].Prompt)) - 1
	if b, s := rankAt(probes[0].Prompt+" the the", last, probes[0].LabelToken), rankAt(probes[0].Prompt+" the the", last, probes[0].LabelToken, add); b != res.BaselineRanks[0] || s != res.SteeredRanks[0] {
		t.Errorf("probe 1: ranks %d, %d at the prompt's last position of a longer text; NextTokenRanks gave %d, %d", b, s, res.BaselineRanks[0], res.SteeredRanks[0])
	}
	// Probe 2 (BOS alone): the ranks at position 0.
	if b, s := rankAt(".", 0, probes[1].LabelToken), rankAt(" a b", 0, probes[1].LabelToken, add); b != res.BaselineRanks[1] || s != res.SteeredRanks[1] {
		t.Errorf("probe 2: ranks after BOS %d, %d; ConceptNet gave %d, %d", b, s, res.BaselineRanks[1], res.SteeredRanks[1])
	}
}
