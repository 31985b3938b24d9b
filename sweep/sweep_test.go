package sweep_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/plots"
	"github.com/actadd-go/actadd/runstore"
	"github.com/actadd-go/actadd/sweep"
	"github.com/parquet-go/parquet-go"
)

// tinyModel is the offline stand-in "tiny", built in memory.
func tinyModel(t testing.TB) *actadd.Model { return actaddtest.Get(t) }

const prompt = "I went up to my friend and said"

// letters counts the letters a completion has: a metric with a spread on the random model.
func letters(c actadd.Completion) float64 {
	n := 0
	for _, r := range c.Text {
		if r >= 'a' && r <= 'z' {
			n++
		}
	}
	return float64(n)
}

func hasE(c actadd.Completion) bool { return strings.Contains(c.Text, "e") }

func TestGridSettings(t *testing.T) {
	g := sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", 1), actadd.Pair("Love", "Hate", 2).AtLayer(3)},
		Layers: []int{0, 2}, Coeffs: []float64{1, 4}, Prompts: []string{"a", "b"}, Unsteered: true}
	got, err := g.Settings()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*(1+2*2*2) {
		t.Fatalf("%d settings, want 18", len(got))
	}
	var names []string
	for _, s := range got[:5] {
		names = append(names, s.String())
	}
	want := []string{`unsteered, prompt "a"`, `+1·(" weddings" − "") at layer 0, prompt "a"`, `+4·(" weddings" − "") at layer 0, prompt "a"`,
		`+1·(" weddings" − "") at layer 2, prompt "a"`, `+4·(" weddings" − "") at layer 2, prompt "a"`}
	if !slices.Equal(names, want) {
		t.Errorf("settings begin %q, want %q", names, want)
	}
	if s := got[5]; s.Add.Layer != 0 || s.Add.Coeff != 1 || s.Add.Plus != "Love" {
		t.Errorf("the grid's layer and coefficient replace the addition's own: %+v", s.Add)
	}
	// nil keeps each addition's own layer and coefficient.
	own, err := sweep.Grid{Additions: []actadd.Addition{actadd.Pair("Love", "Hate", 2).AtLayer(3)}}.Settings()
	if err != nil || len(own) != 1 || own[0].Layer != 3 || own[0].Coeff != 2 {
		t.Errorf("own layer and coefficient: %+v, %v", own, err)
	}
	for name, bad := range map[string]sweep.Grid{
		"nothing":      {},
		"layers alone": {Layers: []int{1}, Unsteered: true},
		"empty layers": {Additions: g.Additions, Layers: []int{}},
		"empty coeffs": {Additions: g.Additions, Coeffs: []float64{}},
	} {
		if _, err := bad.Settings(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func generate(t *testing.T, g sweep.Grid, cfg sweep.GenerateConfig) *sweep.Result {
	t.Helper()
	res, err := sweep.Generate(tinyModel(t), g, cfg, sweep.Mean("letters", letters), sweep.Fraction("has e", hasE))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestGenerateGroupsAndPairs(t *testing.T) {
	m := tinyModel(t)
	add := actadd.Pair(" weddings", "", 4)
	g := sweep.Grid{Additions: []actadd.Addition{add}, Layers: []int{0, 1, 3}, Prompts: []string{prompt}, Unsteered: true}
	cfg := sweep.GenerateConfig{Completions: 5, Options: actadd.GenerateOptions{MaxNewTokens: 6, Sampling: actadd.Sampling{Temperature: 1, TopP: 0.9}}}
	builds := m.Builds()
	full := generate(t, g, cfg)
	if n := m.Builds() - builds; n > 3 {
		t.Errorf("the sweep built %d programs, want at most 3 (vectors, prefill, step)", n)
	}
	if len(full.Settings) != 4 || full.Unsteered(prompt) == nil || len(full.Steered()) != 3 {
		t.Fatalf("settings %+v", full.Settings)
	}
	for _, s := range full.Settings {
		if len(s.Completions) != 5 || len(s.Values["letters"]) != 5 {
			t.Fatalf("%s: %d completions, %d values", s.Setting, len(s.Completions), len(s.Values["letters"]))
		}
		var sum float64
		hits := 0
		for i, c := range s.Completions {
			if v := letters(c); v != s.Values["letters"][i] {
				t.Errorf("%s: value %d is %g, its completion has %g", s.Setting, i, s.Values["letters"][i], v)
			}
			sum += letters(c)
			if hasE(c) {
				hits++
			}
			if len(c.Adds) > 0 != s.Steered || (s.Steered && c.Adds[0].Layer != s.Layer) {
				t.Errorf("%s: completion %d was generated with %v", s.Setting, i, c.Adds)
			}
		}
		e, f := s.Stats["letters"], s.Stats["has e"]
		if math.Abs(e.Value-sum/5) > 1e-12 || e.N != 5 || !(e.Lo <= e.Value && e.Value <= e.Hi) {
			t.Errorf("%s: mean estimate %+v, values sum to %g", s.Setting, e, sum)
		}
		if f.Value != float64(hits)/5 || f.Method != "95% Wilson score interval" {
			t.Errorf("%s: fraction estimate %+v, %d of 5 hit", s.Setting, f, hits)
		}
	}
	// Paired: a layer alone, or with another batch size (more units), gives the same completions.
	g.Layers, cfg.Options.BatchSize = []int{1}, 2
	one := generate(t, g, cfg)
	if !reflect.DeepEqual(texts(one.Steered()[0]), texts(full.Steered()[1])) || !reflect.DeepEqual(texts(*one.Unsteered(prompt)), texts(*full.Unsteered(prompt))) {
		t.Errorf("layer 1 alone in units of 2: %q\nin the full sweep: %q", texts(one.Steered()[0]), texts(full.Steered()[1]))
	}
	// Unpaired: the steered setting draws other streams than the unsteered one.
	cfg.Unpaired = true
	unpaired := generate(t, g, cfg)
	if reflect.DeepEqual(texts(unpaired.Steered()[0]), texts(one.Steered()[0])) {
		t.Error("unpaired streams gave the paired completions")
	}
	best, err := full.Best("letters")
	if err != nil || !best.Steered {
		t.Errorf("Best: %+v, %v", best, err)
	}
	if _, err := full.Best("nope"); err == nil || !strings.Contains(err.Error(), "letters") {
		t.Errorf("Best of an unknown metric: %v", err)
	}
}

// Every layer is said with AllLayers(m); a nil Grid.Layers keeps each addition's own layer,
// never every layer (as a nil experiments.Layers is no layer, never all).
func TestAllLayers(t *testing.T) {
	m := tinyModel(t)
	if got := sweep.AllLayers(m); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("AllLayers(tiny) = %v, want 0 … 3", got)
	}
	if got := sweep.AllLayers(nil); got != nil {
		t.Errorf("AllLayers(nil) = %v", got)
	}
	own, err := sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", 1).AtLayer(2), actadd.Pair("Love", "Hate", 1).AtLayer(1)}}.Settings()
	if err != nil || len(own) != 2 || own[0].Layer != 2 || own[1].Layer != 1 {
		t.Errorf("nil Grid.Layers: %+v, %v; want each addition at its own layer", own, err)
	}
}

// Count and Occurs measure a count over a completion's generated text (its mean, and the fraction with at least one).
func TestCountMetrics(t *testing.T) {
	words := func(s string) int { return len(strings.Fields(s)) }
	count, occurs := sweep.Count("words", words), sweep.Occurs("has words", words)
	for _, c := range []actadd.Completion{{Text: " a wedding and a bride"}, {Text: ""}, {Row: actadd.Row{Prompt: "not counted"}, Text: " one"}} {
		if got := count.Value(c); got != float64(words(c.Text)) {
			t.Errorf("Count of %q = %g", c.Text, got)
		}
		if got, want := occurs.Value(c), map[bool]float64{true: 1, false: 0}[words(c.Text) > 0]; got != want {
			t.Errorf("Occurs of %q = %g, want %g", c.Text, got, want)
		}
	}
	if count.Name != "words" || count.Proportion || !occurs.Proportion {
		t.Errorf("Count %+v, Occurs %+v: want a mean and a proportion", count, occurs)
	}
}

func texts(s sweep.SettingResult) []string {
	var out []string
	for _, c := range s.Completions {
		out = append(out, c.Text)
	}
	return out
}

// Bad input fails before any work with an error that says what is wrong, also with a run store
// (a NaN in a unit's key used to fail deep inside it: "json: unsupported value: NaN").
func TestGenerateErrors(t *testing.T) {
	m := tinyModel(t)
	st, err := runstore.Open(t.TempDir(), runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	add := actadd.Pair(" weddings", "", 1)
	g := sweep.Grid{Additions: []actadd.Addition{add}, Prompts: []string{prompt}}
	ok := sweep.GenerateConfig{Completions: 1, Store: st, Options: actadd.GenerateOptions{MaxNewTokens: 1}}
	letterMetric := sweep.Mean("letters", letters)
	grid := func(edit func(*sweep.Grid)) sweep.Grid {
		g := g
		edit(&g)
		return g
	}
	sampled := func(s actadd.Sampling) sweep.GenerateConfig {
		c := ok
		c.Options.Sampling = s
		return c
	}
	newTokens := func(n int) sweep.GenerateConfig {
		c := ok
		c.Options.MaxNewTokens = n
		return c
	}
	texts := []string{"The bride and groom married in June."}
	delta := sweep.Mean("d", sweep.Scored.MeanDiff)
	for _, c := range []struct {
		name, want string
		err        error
	}{
		{"no metric", "no metric", second(sweep.Generate(m, g, ok))},
		{"unnamed metric", "no name", second(sweep.Generate(m, g, ok, sweep.Mean("", letters)))},
		{"repeated metric", "two metrics", second(sweep.Generate(m, g, ok, letterMetric, letterMetric))},
		{"no completions", "at least one completion", second(sweep.Generate(m, g, sweep.GenerateConfig{Options: ok.Options}, letterMetric))},
		{"no prompt", "no prompt", second(sweep.Generate(m, sweep.Grid{Additions: g.Additions}, ok, letterMetric))},
		{"streams given", "leave Options.Streams nil", second(sweep.Generate(m, g, sweep.GenerateConfig{Completions: 1, Options: actadd.GenerateOptions{MaxNewTokens: 1, Streams: []uint64{0}}}, letterMetric))},
		{"negative count", "whole number ≥ 0", second(sweep.Generate(m, g, sweep.GenerateConfig{Completions: 1, Options: ok.Options}, sweep.Count("neg", func(string) int { return -1 })))},
		{"non-finite value", "finite number", second(sweep.Generate(m, g, sweep.GenerateConfig{Completions: 1, Options: ok.Options}, sweep.Mean("nan", func(actadd.Completion) float64 { return math.NaN() })))},
		{"layer beyond the model", "out of range", second(sweep.Generate(m, grid(func(g *sweep.Grid) { g.Layers = []int{9} }), ok, letterMetric))},
		{"addition's layer beyond the model", "out of range", second(sweep.Generate(m, grid(func(g *sweep.Grid) { g.Additions = []actadd.Addition{add.AtLayer(4)} }), ok, letterMetric))},
		{"negative layer", "negative", second(sweep.Generate(m, grid(func(g *sweep.Grid) { g.Layers = []int{0, -1} }), ok, letterMetric))},
		{"addition's negative layer", "negative", second(sweep.Generate(m, grid(func(g *sweep.Grid) { g.Additions = []actadd.Addition{add.AtLayer(-2)} }), ok, letterMetric))},
		{"NaN coefficient", "not a finite number", second(sweep.Generate(m, grid(func(g *sweep.Grid) { g.Coeffs = []float64{1, math.NaN()} }), ok, letterMetric))},
		{"+Inf coefficient", "not a finite number", second(sweep.Generate(m, grid(func(g *sweep.Grid) { g.Coeffs = []float64{math.Inf(1)} }), ok, letterMetric))},
		{"addition's −Inf coefficient", "not a finite number", second(sweep.Generate(m, grid(func(g *sweep.Grid) { g.Additions = []actadd.Addition{add.WithCoeff(math.Inf(-1))} }), ok, letterMetric))},
		{"coefficient beyond float32", "overflows float32", second(sweep.Generate(m, grid(func(g *sweep.Grid) { g.Coeffs = []float64{-1e39} }), ok, letterMetric))},
		{"NaN temperature", "temperature", second(sweep.Generate(m, g, sampled(actadd.Sampling{Temperature: math.NaN()}), letterMetric))},
		{"+Inf temperature", "temperature", second(sweep.Generate(m, g, sampled(actadd.Sampling{Temperature: math.Inf(1)}), letterMetric))},
		{"NaN top-p", "top-p", second(sweep.Generate(m, g, sampled(actadd.Sampling{Temperature: 1, TopP: math.NaN()}), letterMetric))},
		{"top-p above 1", "top-p", second(sweep.Generate(m, g, sampled(actadd.Sampling{Temperature: 1, TopP: 1.5}), letterMetric))},
		{"NaN frequency penalty", "frequency penalty", second(sweep.Generate(m, g, sampled(actadd.Sampling{Temperature: 1, FreqPenalty: math.NaN()}), letterMetric))},
		{"negative top-k", "top-k", second(sweep.Generate(m, g, sampled(actadd.Sampling{Temperature: 1, TopK: -1}), letterMetric))},
		{"no new tokens", "at least one new token", second(sweep.Generate(m, g, newTokens(0), letterMetric))},
		{"more new tokens than the context", "exceeds the context", second(sweep.Generate(m, g, newTokens(1<<40), letterMetric))},
		{"more completions than memory holds", "in memory", second(sweep.Generate(m, g, sweep.GenerateConfig{Completions: math.MaxInt, Options: ok.Options}, letterMetric))},
		{"nil model", "nil model", second(sweep.Generate(nil, g, ok, letterMetric))},
		{"scoring with a NaN coefficient", "not a finite number", second(sweep.Score(m, sweep.Grid{Additions: g.Additions, Coeffs: []float64{math.NaN()}}, texts, sweep.ScoreConfig{Store: st}, delta))},
		{"scoring at a layer beyond the model", "out of range", second(sweep.Score(m, sweep.Grid{Additions: g.Additions, Layers: []int{4}}, texts, sweep.ScoreConfig{Store: st}, delta))},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		} else if !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", c.name, c.err, c.want)
		}
	}
	if n := st.Stats().Records; n != 0 {
		t.Errorf("bad input left %d records in the run store", n)
	}
}

func second(_ any, err error) error { return err }

func TestScore(t *testing.T) {
	m := tinyModel(t)
	docs := []string{"The bride and groom married in June.", "Stocks fell on Monday after the report.", "We went to the wedding."}
	add := actadd.Pair(" weddings", "", 2)
	opts := actadd.ScoreOptions{SkipFirst: 2}
	res, err := sweep.Score(m, sweep.Grid{Additions: []actadd.Addition{add}, Layers: []int{0, 2}, Unsteered: true}, docs,
		sweep.ScoreConfig{Options: opts}, sweep.Mean("mean Δ log-prob", sweep.Scored.MeanDiff))
	if err != nil {
		t.Fatal(err)
	}
	if u := res.Unsteered(""); u == nil || u.Stats["mean Δ log-prob"].Value != 0 {
		t.Errorf("the unsteered setting's difference from itself: %+v", u)
	}
	for _, s := range res.Steered() {
		steered, err := m.LogProbs(docs, opts, s.Add)
		if err != nil {
			t.Fatal(err)
		}
		base, err := m.LogProbs(docs, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range docs {
			want := sweep.Scored{LogProbs: steered[i], Unsteered: base[i]}.MeanDiff()
			if got := s.Values["mean Δ log-prob"][i]; math.Abs(got-want) > 1e-6 {
				t.Errorf("%s, text %d: %g, scored apart %g", s.Setting, i, got, want)
			}
		}
	}
	if _, err := sweep.Score(m, sweep.Grid{Additions: []actadd.Addition{add}, Prompts: []string{"x"}}, docs, sweep.ScoreConfig{}, sweep.Mean("d", sweep.Scored.MeanDiff)); err == nil {
		t.Error("Score accepted prompts")
	}
}

func TestTables(t *testing.T) {
	res := generate(t, sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", 4)}, Layers: []int{0, 2}, Prompts: []string{prompt}, Unsteered: true},
		sweep.GenerateConfig{Completions: 3, Options: actadd.GenerateOptions{MaxNewTokens: 4, Sampling: actadd.PaperSampling}})
	rows := res.Table()
	if len(rows) != 3*2 || rows[0].Steered || rows[0].Layer != -1 || rows[2].Layer != 0 || rows[3].Metric != "has e" {
		t.Fatalf("table rows %+v", rows)
	}
	dir := t.TempDir()
	paths, err := res.SaveTable(dir, "e0-sweep")
	if err != nil || len(paths) != 2 {
		t.Fatalf("SaveTable: %v, %v", paths, err)
	}
	back, err := parquet.ReadFile[sweep.Row](filepath.Join(dir, "e0-sweep.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rows) {
		t.Errorf("parquet round trip:\n%+v\nwant\n%+v", back, rows)
	}
	f, err := os.Open(filepath.Join(dir, "e0-sweep.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(rows) || recs[0][8] != "value" || recs[1][6] != "letters" || recs[1][4] != "-1" {
		t.Errorf("CSV %q", recs[:2])
	}
	if _, err := res.SaveTable(dir, "../x"); err == nil {
		t.Error("SaveTable accepted a path as name")
	}
}

func TestFigure(t *testing.T) {
	res := generate(t, sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", 4)}, Layers: []int{0, 1, 2, 3}, Coeffs: []float64{1, 4},
		Prompts: []string{prompt}, Unsteered: true},
		sweep.GenerateConfig{Completions: 4, Options: actadd.GenerateOptions{MaxNewTokens: 4, Sampling: actadd.PaperSampling}})
	f, err := res.Figure("e0-sweep", "letters", sweep.ByLayer)
	if err != nil {
		t.Fatal(err)
	}
	sc := f.Sidecar
	if len(sc.Series) != 3 || sc.Series[0].Name != `(" weddings" − ""), c=1` || len(sc.Series[0].Lo) != 4 || sc.Interval != "95% Student t interval" ||
		!sc.TinyStandIn || !strings.Contains(sc.Title, plots.StandInLabel) {
		raw, _ := json.Marshal(sc)
		t.Errorf("sidecar %s", raw)
	}
	if !bytes.HasPrefix(f.PDF, []byte("%PDF")) {
		t.Error("no PDF")
	}
	byCoeff, _, err := res.Plot("has e", sweep.ByCoeff)
	if err != nil || !strings.Contains(byCoeff.X.Label.Text, "Wilson") {
		t.Errorf("plot by coefficient: %v, caption %q", err, byCoeff.X.Label.Text)
	}
	if _, _, err := res.Plot("nope", sweep.ByLayer); err == nil {
		t.Error("Plot of an unknown metric")
	}
}
