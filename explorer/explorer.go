// Package explorer is a live steering explorer: steered and unsteered completions of a prompt
// side by side, streamed token by token while the settings (layer, coefficient, p+, p−, the
// prompt, the number of completions, the seed) change, with a small plot of a metric against
// the layer for the current steering vector.
//
// Both columns are one batch (actadd.GenerateRows: the steered rows carry their addition, and
// GenerateOptions.Streams gives completion i of both columns the same random stream, so the
// columns pair row by row). A Session runs one job at a time: a change of settings cancels the
// job in progress (GenerateOptions.Context) and starts the new one, and nothing of the stale
// job is shown after that. Changes carry sequence numbers; an older change arriving after a
// newer one is dropped.
//
// Run (gonb.go) puts a Session in a GoNB notebook cell with widgets; the logic here is
// independent of GoNB and tested without it.
package explorer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/datasets"
)

// Settings are what the explorer's controls set.
type Settings struct {
	Plus, Minus string  // the steering prompt pair
	Prompt      string  // the prompt to continue
	Layer       int     // block whose resid_pre is steered
	Coeff       float64 // coefficient c
	N           int     // completions per column
	Tokens      int     // new tokens per completion
	Seed        uint64  // sampling seed; completion i of both columns draws from stream i
	Metric      string  // the plotted metric, one of Metrics' names
	// Chat takes the prompt and each steering prompt as one user message through the model's
	// chat template (with the generation prompt), the vector taken and added at the user's
	// content (actadd.ChatPair … AtUserContent). A flag of the cell, not a control.
	Chat bool `json:",omitempty"`
}

// Limits of the controls (and of Check): at most MaxN completions per column and MaxTokens
// new tokens, so that one change stays interactive.
const (
	MaxN      = 16
	MaxTokens = 200
)

// Sampling is the explorer's sampler: the paper's (T = 1, top-p 0.3, frequency penalty 1).
var Sampling = actadd.PaperSampling

// Check reports settings that cannot run on a model with nLayer layers.
func (s Settings) Check(nLayer int) error {
	switch {
	case s.Plus == "" && s.Minus == "":
		return errors.New("p+ and p− are both empty: give at least one steering prompt")
	case strings.TrimSpace(s.Prompt) == "":
		return errors.New("the prompt is empty: give some text to continue")
	case s.Layer < 0 || s.Layer >= nLayer:
		return fmt.Errorf("layer %d is out of range: this model has layers 0..%d", s.Layer, nLayer-1)
	case s.N < 1 || s.N > MaxN:
		return fmt.Errorf("%d completions per column: use 1..%d", s.N, MaxN)
	case s.Tokens < 1 || s.Tokens > MaxTokens:
		return fmt.Errorf("%d new tokens: use 1..%d", s.Tokens, MaxTokens)
	case MetricByName(s.Metric) == nil:
		return fmt.Errorf("unknown metric %q: use one of %s", s.Metric, strings.Join(MetricNames(), ", "))
	}
	return nil
}

// Addition is the steering the settings describe, at their layer.
func (s Settings) Addition() actadd.Addition {
	if s.Chat {
		return actadd.ChatPair(userMessage(s.Plus), userMessage(s.Minus), s.Coeff).AtLayer(s.Layer).AtUserContent()
	}
	return actadd.Pair(s.Plus, s.Minus, s.Coeff).AtLayer(s.Layer)
}

// curveKey is what a layer curve depends on: the settings without the layer and the metric
// (a curve covers every layer, and every metric is computed from the same completions).
func (s Settings) curveKey() Settings {
	s.Layer, s.Metric = 0, ""
	return s
}

// Metric scores one completion's text.
type Metric struct {
	Name  string
	Label string // y-axis label
	Score func(s Settings, text string) float64
}

// Metrics are the metrics the plot offers.
var Metrics = []Metric{
	{Name: "wedding words", Label: "wedding words per completion",
		Score: func(_ Settings, text string) float64 { return float64(datasets.WeddingCount(text)) }},
	{Name: "p+ words", Label: "words of p+ per completion",
		Score: func(s Settings, text string) float64 { return float64(wordCount(s.Plus, text)) }},
}

// MetricNames lists the names of Metrics.
func MetricNames() []string {
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = m.Name
	}
	return names
}

// MetricByName returns the metric called name, or nil.
func MetricByName(name string) *Metric {
	for i := range Metrics {
		if Metrics[i].Name == name {
			return &Metrics[i]
		}
	}
	return nil
}

// wordCount counts the words of text that are words of p (lower-cased, split on anything but
// letters and digits).
func wordCount(p, text string) int {
	want := map[string]bool{}
	for _, w := range words(p) {
		want[w] = true
	}
	n := 0
	for _, w := range words(text) {
		if want[w] {
			n++
		}
	}
	return n
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
}

// Columns is the state of one generation: both columns' texts so far.
type Columns struct {
	Settings   Settings
	Unsteered  []string
	Steered    []string
	Step       int           // new tokens generated so far
	Done       bool          // all Tokens generated
	Elapsed    time.Duration // since the job started
	FirstWords time.Duration // from the job's start to the first streamed words
}

// Generate continues s.Prompt s.N times unsteered and s.N times steered, in one GenerateRows
// batch (rows 0..N-1 unsteered, N..2N-1 steered; completion i of both draws from stream i),
// calling update after every decoding step with both columns so far. It stops with ctx's error
// when ctx is cancelled.
func Generate(ctx context.Context, m *actadd.Model, s Settings, update func(Columns)) (Columns, error) {
	if err := s.Check(m.Layers()); err != nil {
		return Columns{Settings: s}, err
	}
	start := time.Now()
	rows := make([]actadd.Row, 2*s.N)
	streams := make([]uint64, 2*s.N)
	adds := []actadd.Addition{s.Addition()}
	for i := range s.N {
		rows[i] = s.row(nil)
		rows[s.N+i] = s.row(adds)
		streams[i], streams[s.N+i] = uint64(i), uint64(i)
	}
	cols := Columns{Settings: s, Unsteered: make([]string, s.N), Steered: make([]string, s.N)}
	sampling := Sampling
	sampling.Seed = s.Seed
	opts := actadd.GenerateOptions{MaxNewTokens: s.Tokens, Sampling: sampling, Streams: streams, Context: ctx,
		BatchSize: 2 * s.N,
		Stream: func(i int, c actadd.Completion) {
			if i < s.N {
				cols.Unsteered[i] = c.Text
			} else {
				cols.Steered[i-s.N] = c.Text
			}
			if i == 2*s.N-1 { // the last row of a step: every row has its new token
				cols.Step = len(c.Generated())
				cols.Elapsed = time.Since(start)
				if cols.FirstWords == 0 {
					cols.FirstWords = cols.Elapsed
				}
				if update != nil {
					update(cols)
				}
			}
		}}
	out, err := m.GenerateRows(rows, opts)
	if err != nil {
		return cols, err
	}
	for i, c := range out {
		if i < s.N {
			cols.Unsteered[i] = c.Text
		} else {
			cols.Steered[i-s.N] = c.Text
		}
	}
	cols.Step, cols.Done, cols.Elapsed = s.Tokens, true, time.Since(start)
	return cols, nil
}

// Curve is a metric against the layer for one steering vector: the mean of the metric over
// the N steered completions at each layer, and over the unsteered ones.
type Curve struct {
	Settings Settings // the job's settings (its Layer is the one marked, Metric the one plotted)
	Layers   []int
	// Texts[l] are the steered completions at layer Layers[l] (so far), Baseline the
	// unsteered ones.
	Texts    [][]string
	Baseline []string
	Step     int  // new tokens generated so far in the layer rows
	Done     bool // every layer finished
}

// Means returns the curve's metric means per layer and for the baseline.
func (c Curve) Means(metric *Metric) (perLayer []float64, baseline float64) {
	mean := func(texts []string) float64 {
		if len(texts) == 0 {
			return 0
		}
		sum := 0.0
		for _, t := range texts {
			sum += metric.Score(c.Settings, t)
		}
		return sum / float64(len(texts))
	}
	perLayer = make([]float64, len(c.Texts))
	for i, ts := range c.Texts {
		perLayer[i] = mean(ts)
	}
	return perLayer, mean(c.Baseline)
}

// LayerCurve generates s.N steered completions at every layer of m (one GenerateRows job,
// completion i of every layer from stream i, as the columns), with baseline the unsteered
// column, calling update about every updateEvery with the texts so far.
func LayerCurve(ctx context.Context, m *actadd.Model, s Settings, baseline []string, update func(Curve), updateEvery time.Duration) (Curve, error) {
	if err := s.Check(m.Layers()); err != nil {
		return Curve{Settings: s}, err
	}
	nl := m.Layers()
	c := Curve{Settings: s, Layers: make([]int, nl), Texts: make([][]string, nl), Baseline: slices.Clone(baseline)}
	var rows []actadd.Row
	var streams []uint64
	for l := range nl {
		c.Layers[l] = l
		c.Texts[l] = make([]string, s.N)
		adds := []actadd.Addition{s.Addition().AtLayer(l)}
		for i := range s.N {
			rows = append(rows, s.row(adds))
			streams = append(streams, uint64(i))
		}
	}
	sampling := Sampling
	sampling.Seed = s.Seed
	last := time.Now()
	opts := actadd.GenerateOptions{MaxNewTokens: s.Tokens, Sampling: sampling, Streams: streams, Context: ctx,
		Stream: func(i int, comp actadd.Completion) {
			c.Texts[i/s.N][i%s.N] = comp.Text
			c.Step = len(comp.Generated())
			if update != nil && time.Since(last) >= updateEvery {
				last = time.Now()
				update(c)
			}
		}}
	out, err := m.GenerateRows(rows, opts)
	if err != nil {
		return c, err
	}
	for i, comp := range out {
		c.Texts[i/s.N][i%s.N] = comp.Text
	}
	c.Step, c.Done = s.Tokens, true
	return c, nil
}

// View shows a Session's state. Its methods are called one at a time, under the Session's
// lock (so they must not call the Session), and never for a job that was cancelled.
type View interface {
	Columns(Columns)
	Curve(Curve)
	// Status is a line about the job: what runs, what finished, an error.
	Status(string)
}

// Change is a new value of the settings, numbered in the order the user made the changes.
type Change struct {
	Seq      uint64
	Settings Settings
}

// Session runs the explorer's jobs for a model: at most one job at a time, the latest settings
// winning.
type Session struct {
	m    *actadd.Model
	view View
	// CurveUpdateEvery is the least time between two plot updates while a curve is computed.
	CurveUpdateEvery time.Duration

	mu      sync.Mutex // guards everything below, and every call of view
	seq     uint64
	current Settings
	cancel  context.CancelFunc
	jobCtx  context.Context
	wg      sync.WaitGroup
	done    chan struct{}        // closed when the latest job has returned
	columns map[Settings]Columns // finished columns by settings without the metric
	curves  map[Settings]Curve   // finished curves by curveKey
}

// NewSession returns a session showing its jobs on view.
func NewSession(m *actadd.Model, view View) *Session {
	return &Session{m: m, view: view, CurveUpdateEvery: 500 * time.Millisecond,
		columns: map[Settings]Columns{}, curves: map[Settings]Curve{}}
}

// Apply starts a job for ch.Settings, cancelling the job in progress, unless ch is older than
// a change already applied (then it is dropped: GoNB delivers values fired in quick succession
// out of order) or its settings are those of the current job. It reports whether a job started.
func (s *Session) Apply(ctx context.Context, ch Change) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobCtx != nil && ch.Seq <= s.seq {
		return false // stale
	}
	s.seq = ch.Seq
	if s.jobCtx != nil && s.jobCtx.Err() == nil && ch.Settings == s.current {
		return false // the job for these settings runs or ran (a stopped one starts again)
	}
	s.current = ch.Settings
	s.stopLocked()
	jctx, cancel := context.WithCancel(ctx)
	s.jobCtx, s.cancel = jctx, cancel
	// The new job starts once the cancelled one has stopped (at its next decoding step), so
	// that two jobs never compete for the CPU.
	prev, done := s.done, make(chan struct{})
	s.done = done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		if prev != nil {
			<-prev
		}
		s.job(jctx, ch.Settings)
	}()
	return true
}

// Stop cancels the job in progress (its columns stay as they are) and says so.
func (s *Session) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil && s.jobCtx.Err() == nil {
		s.stopLocked()
		s.view.Status("stopped")
	}
}

func (s *Session) stopLocked() {
	if s.cancel != nil {
		s.cancel()
	}
}

// Wait waits until the current job has finished or seen its cancellation.
func (s *Session) Wait() { s.wg.Wait() }

// Close cancels the job in progress and waits for it.
func (s *Session) Close() {
	s.mu.Lock()
	s.stopLocked()
	s.mu.Unlock()
	s.wg.Wait()
}

// show calls f (a view call) unless the job of ctx was cancelled.
func (s *Session) show(ctx context.Context, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() == nil {
		f()
	}
}

// job generates the columns for settings, then the layer curve (each taken from the cache
// when the controls return to earlier settings).
func (s *Session) job(ctx context.Context, st Settings) {
	fail := func(err error) { s.show(ctx, func() { s.view.Status("error: " + err.Error()) }) }
	if err := st.Check(s.m.Layers()); err != nil {
		fail(err)
		return
	}
	colsKey := st
	colsKey.Metric = ""
	cols, err := cached(s, s.columns, colsKey, func() (Columns, error) {
		s.show(ctx, func() { s.view.Status(fmt.Sprintf("generating: %s", describe(st))) })
		return Generate(ctx, s.m, st, func(c Columns) { s.show(ctx, func() { s.view.Columns(c) }) })
	})
	if err != nil {
		fail(err)
		return
	}
	cols.Settings = st
	s.show(ctx, func() {
		s.view.Columns(cols)
		s.view.Status(fmt.Sprintf("columns done in %s (first words after %s); computing %s against the layer",
			cols.Elapsed.Round(time.Millisecond), cols.FirstWords.Round(time.Millisecond), st.Metric))
	})
	curve, err := cached(s, s.curves, st.curveKey(), func() (Curve, error) {
		return LayerCurve(ctx, s.m, st, cols.Unsteered, func(c Curve) { s.show(ctx, func() { s.view.Curve(c) }) }, s.CurveUpdateEvery)
	})
	if err != nil {
		fail(err)
		return
	}
	curve.Settings = st // the layer marked and the metric plotted are the job's
	s.show(ctx, func() {
		s.view.Curve(curve)
		s.view.Status(fmt.Sprintf("done: %s", describe(st)))
	})
}

// cached returns cache[key], or computes it and keeps it (at most cacheSize entries).
func cached[T any](s *Session, cache map[Settings]T, key Settings, compute func() (T, error)) (T, error) {
	s.mu.Lock()
	v, ok := cache[key]
	s.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(cache) >= cacheSize {
		clear(cache)
	}
	cache[key] = v
	return v, nil
}

// cacheSize bounds the finished columns and curves a Session keeps (to show again at once
// when the controls return to earlier settings).
const cacheSize = 64

// describe is the settings in a status line.
func describe(s Settings) string {
	return fmt.Sprintf("%+g·(%q − %q) at layer %d, %d × %d tokens, seed %d", s.Coeff, s.Plus, s.Minus, s.Layer, s.N, s.Tokens, s.Seed)
}
