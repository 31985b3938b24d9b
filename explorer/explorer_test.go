package explorer_test

import (
	"bytes"
	"context"
	"image/png"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/explorer"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
)

// testModel is the tiny stand-in (4 layers of width 64, GPT-2's vocabulary), built in memory.
func testModel(t testing.TB) *actadd.Model { return actaddtest.Get(t) }

func settings() explorer.Settings {
	return explorer.Settings{Plus: " weddings", Minus: "", Prompt: "I went up to my friend and said", Layer: 1, Coeff: 4,
		N: 3, Tokens: 6, Seed: 5, Metric: "wedding words"}
}

// The columns are one batch whose rows pair: each equals the completion generated alone with
// the same random stream, unsteered and steered.
func TestGenerateColumnsPair(t *testing.T) {
	m := testModel(t)
	s := settings()
	var steps []int
	cols, err := explorer.Generate(context.Background(), m, s, func(c explorer.Columns) { steps = append(steps, c.Step) })
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 3, 4, 5, 6}; !slices.Equal(steps, want) {
		t.Errorf("updates at steps %v, want one per step %v", steps, want)
	}
	if !cols.Done || cols.FirstWords <= 0 || cols.FirstWords > cols.Elapsed {
		t.Errorf("Done %v, first words after %v of %v", cols.Done, cols.FirstWords, cols.Elapsed)
	}
	sampling := explorer.Sampling
	sampling.Seed = s.Seed
	for i := range s.N {
		for _, steered := range []bool{false, true} {
			row := actadd.Row{Prompt: s.Prompt}
			want := cols.Unsteered[i]
			if steered {
				row.Adds, want = []actadd.Addition{s.Addition()}, cols.Steered[i]
			}
			alone, err := m.GenerateRows([]actadd.Row{row}, actadd.GenerateOptions{MaxNewTokens: s.Tokens, Sampling: sampling, Streams: []uint64{uint64(i)}})
			if err != nil {
				t.Fatal(err)
			}
			if alone[0].Text != want {
				t.Errorf("row %d steered=%v: %q in the batch, %q alone", i, steered, want, alone[0].Text)
			}
		}
	}
	if slices.Equal(cols.Unsteered, cols.Steered) {
		t.Error("steering changed no completion")
	}
}

// The layer curve's completions at the columns' layer are the steered column (same streams).
func TestLayerCurveMatchesColumns(t *testing.T) {
	m := testModel(t)
	s := settings()
	cols, err := explorer.Generate(context.Background(), m, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	updates := 0
	c, err := explorer.LayerCurve(context.Background(), m, s, cols.Unsteered, func(explorer.Curve) { updates++ }, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Done || len(c.Layers) != m.Layers() || updates == 0 {
		t.Fatalf("curve: done %v, %d layers, %d updates", c.Done, len(c.Layers), updates)
	}
	if !slices.Equal(c.Texts[s.Layer], cols.Steered) {
		t.Errorf("curve at layer %d: %q, steered column %q", s.Layer, c.Texts[s.Layer], cols.Steered)
	}
	means, base := c.Means(explorer.MetricByName("p+ words"))
	if len(means) != m.Layers() || base < 0 {
		t.Errorf("means %v, baseline %v", means, base)
	}
}

// recorder is a View that records what it is shown.
type recorder struct {
	mu      sync.Mutex
	columns []explorer.Columns
	curves  []explorer.Curve
	status  []string
	onCols  func(explorer.Columns)
}

func (r *recorder) Columns(c explorer.Columns) {
	r.mu.Lock()
	r.columns = append(r.columns, c)
	f := r.onCols
	r.mu.Unlock()
	if f != nil {
		f(c)
	}
}
func (r *recorder) Curve(c explorer.Curve) {
	r.mu.Lock()
	r.curves = append(r.curves, c)
	r.mu.Unlock()
}
func (r *recorder) Status(s string) { r.mu.Lock(); r.status = append(r.status, s); r.mu.Unlock() }

// A change made mid-generation cancels the stale job: nothing of it is shown afterwards, and
// the view ends with the new settings' columns and curve.
func TestChangeCancelsStaleJob(t *testing.T) {
	m := testModel(t)
	a := settings()
	a.Tokens = 60
	b := a
	b.Layer, b.Tokens = 3, 5
	rec := &recorder{}
	s := explorer.NewSession(m, rec)
	defer s.Close()
	ctx := context.Background()
	var once sync.Once
	changed := make(chan int, 1) // how many columns updates were shown before the change
	rec.onCols = func(c explorer.Columns) {
		if c.Settings == a && c.Step == 2 {
			once.Do(func() {
				// Views are called under the session's lock: change from another goroutine,
				// as the widgets do.
				go func() {
					s.Apply(ctx, explorer.Change{Seq: 2, Settings: b})
					rec.mu.Lock()
					changed <- len(rec.columns)
					rec.mu.Unlock()
				}()
			})
		}
	}
	s.Apply(ctx, explorer.Change{Seq: 1, Settings: a})
	n := <-changed
	deadline := time.Now().Add(time.Minute)
	for {
		rec.mu.Lock()
		done := len(rec.status) > 0 && strings.HasPrefix(rec.status[len(rec.status)-1], "done: ") && rec.columns[len(rec.columns)-1].Settings == b
		rec.mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
	for i, c := range rec.columns[n:] {
		if c.Settings != b {
			t.Fatalf("update %d after the change shows the stale settings (layer %d, step %d)", n+i, c.Settings.Layer, c.Step)
		}
	}
	last := rec.columns[len(rec.columns)-1]
	want, err := explorer.Generate(ctx, m, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !last.Done || !slices.Equal(last.Steered, want.Steered) || !slices.Equal(last.Unsteered, want.Unsteered) {
		t.Errorf("final columns %+v, want %+v", last, want)
	}
	for _, c := range rec.curves {
		if c.Settings.Coeff != b.Coeff || c.Settings.Tokens != b.Tokens {
			t.Errorf("a curve of the stale job was shown: %+v", c.Settings)
		}
	}
	if len(rec.curves) == 0 || !rec.curves[len(rec.curves)-1].Done {
		t.Error("no finished curve shown")
	}
}

// GoNB may deliver quick changes out of order: a change older than one applied is dropped, and
// settings equal to the running job's start nothing.
func TestOutOfOrderChangesDropped(t *testing.T) {
	m := testModel(t)
	rec := &recorder{}
	s := explorer.NewSession(m, rec)
	defer s.Close()
	ctx := context.Background()
	a, b := settings(), settings()
	b.Layer = 2
	if !s.Apply(ctx, explorer.Change{Seq: 5, Settings: b}) {
		t.Fatal("the first change started no job")
	}
	if s.Apply(ctx, explorer.Change{Seq: 4, Settings: a}) {
		t.Error("a stale change (seq 4 after 5) started a job")
	}
	if s.Apply(ctx, explorer.Change{Seq: 6, Settings: b}) {
		t.Error("a change to the running settings started a job")
	}
	s.Wait()
	for _, c := range rec.columns {
		if c.Settings != b {
			t.Fatalf("columns of settings %+v shown", c.Settings)
		}
	}
	// A metric change re-plots from the finished completions without generating again.
	n := len(rec.columns)
	c := b
	c.Metric = "p+ words"
	if !s.Apply(ctx, explorer.Change{Seq: 7, Settings: c}) {
		t.Fatal("a metric change started no job")
	}
	s.Wait()
	if got := len(rec.columns) - n; got != 1 || rec.curves[len(rec.curves)-1].Settings.Metric != "p+ words" {
		t.Errorf("after a metric change: %d columns updates (want 1: the finished columns), last curve metric %q", got, rec.curves[len(rec.curves)-1].Settings.Metric)
	}
}

func TestCheck(t *testing.T) {
	for name, mod := range map[string]func(*explorer.Settings){
		"no pair":        func(s *explorer.Settings) { s.Plus = "" },
		"empty prompt":   func(s *explorer.Settings) { s.Prompt = "  " },
		"layer":          func(s *explorer.Settings) { s.Layer = 4 },
		"n":              func(s *explorer.Settings) { s.N = 0 },
		"tokens":         func(s *explorer.Settings) { s.Tokens = explorer.MaxTokens + 1 },
		"unknown metric": func(s *explorer.Settings) { s.Metric = "fun" },
	} {
		s := settings()
		mod(&s)
		if err := s.Check(4); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := settings().Check(4); err != nil {
		t.Error(err)
	}
	// A bad setting shows as an error status and generates nothing.
	rec := &recorder{}
	bad := settings()
	bad.Layer = 9
	if err := explorer.Once(context.Background(), testModel(t), rec, bad); err == nil || !strings.Contains(err.Error(), "layer 9 is out of range") {
		t.Errorf("Once with a bad layer: %v", err)
	}
	if len(rec.columns) != 0 {
		t.Error("columns shown for bad settings")
	}
}

func TestRender(t *testing.T) {
	m := testModel(t)
	s := settings()
	s.Prompt = "<b>x</b> & y"
	cols, err := explorer.Generate(context.Background(), m, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := explorer.ColumnsHTML(m.Label(), cols)
	if strings.Contains(h, "<b>x</b>") || !strings.Contains(h, "&lt;b&gt;x&lt;/b&gt; &amp; y") || !strings.Contains(h, m.Label()) {
		t.Errorf("columns HTML does not escape the prompt or name the model: %s", h)
	}
	c, err := explorer.LayerCurve(context.Background(), m, s, cols.Unsteered, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	data, err := explorer.CurvePNG("tiny", "go", c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	c2 := c
	c2.Settings.Layer = 0
	data2, err := explorer.CurvePNG("tiny", "go", c2)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(data, data2) {
		t.Error("moving the marked layer does not change the plot")
	}
	ch, err := explorer.CurveHTML("tiny", "go", c)
	if err != nil || !strings.Contains(ch, `<img class="actadd-explorer-plot"`) || !strings.Contains(ch, "tokens, done") {
		t.Errorf("CurveHTML: %v %.80s", err, ch)
	}
}

// The text view (outside a notebook) prints both columns and the curve.
func TestOnceText(t *testing.T) {
	m := testModel(t)
	var out strings.Builder
	if err := explorer.Once(context.Background(), m, explorer.TextView(&out, m.Label()), settings()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--- unsteered", "--- steered: +4·(\" weddings\" − \"\") at blocks.1.hook_resid_pre", "wedding words per completion by layer:", "done: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// BenchmarkChangeToFirstWords measures, on a gpt2-shaped random model (12 layers, width 768),
// the time from a change of settings made mid-generation to the first words of the new
// columns (4 completions per column): the cancelled step, the steered prefill and one
// decoding step. Run: go test -run=^$ -bench=FirstWords ./explorer
func BenchmarkChangeToFirstWords(b *testing.B) {
	cfg, ok := checkpoint.KnownConfig("gpt2")
	if !ok {
		b.Fatal("no gpt2 config")
	}
	g, err := gpt2.New(testbackend.Get(b), "gpt2-shaped random model", cfg, checkpoint.RandomTensors(cfg, 3))
	if err != nil {
		b.Fatal(err)
	}
	m, err := actadd.Wrap(g, nil, "go")
	if err != nil {
		b.Fatal(err)
	}
	a := explorer.Settings{Plus: " weddings", Prompt: "I went up to my friend and said", Layer: 6, Coeff: 4, N: 4, Tokens: 40, Metric: "wedding words"}
	if _, err := explorer.Generate(context.Background(), m, a, nil); err != nil { // compile the programs
		b.Fatal(err)
	}
	b.ResetTimer()
	var total time.Duration
	for i := range b.N {
		rec := &recorder{}
		s := explorer.NewSession(m, rec)
		next := a
		next.Layer = i % 12
		next.Coeff = 4 + float64(i+1)
		first := make(chan time.Duration, 1)
		var changedAt time.Time
		var once, firstOnce sync.Once
		rec.onCols = func(c explorer.Columns) {
			if c.Settings == a && c.Step == 3 {
				once.Do(func() {
					go func() { changedAt = time.Now(); s.Apply(context.Background(), explorer.Change{Seq: 2, Settings: next}) }()
				})
			}
			if c.Settings == next {
				firstOnce.Do(func() { first <- time.Since(changedAt) })
			}
		}
		s.Apply(context.Background(), explorer.Change{Seq: 1, Settings: a})
		d := <-first
		total += d
		s.Close()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/first-words")
}
