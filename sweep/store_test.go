package sweep_test

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/internal/cancel"
	"github.com/actadd-go/actadd/runstore"
	"github.com/actadd-go/actadd/sweep"
)

// openStore opens a run store in dir, closed when the test ends.
func openStore(t *testing.T, dir string, fresh bool) *runstore.Store {
	t.Helper()
	st, err := runstore.Open(dir, runstore.Options{Fresh: fresh})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// genJob is a generation sweep of the tests: 5 completions per setting in units of 2 (units of
// 2, 2 and 1 completions), layers × one coefficient and the unsteered setting.
type genJob struct {
	layers []int
	coeff  float64
	seed   uint64
	topP   float64
	prompt string
}

var baseJob = genJob{layers: []int{0, 1}, coeff: 4, topP: 0.9, prompt: prompt}

func (j genJob) run(t *testing.T, st *runstore.Store, ctx context.Context) (*sweep.Result, error) {
	t.Helper()
	g := sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", j.coeff)}, Layers: j.layers, Prompts: []string{j.prompt}, Unsteered: true}
	cfg := sweep.GenerateConfig{Completions: 5, Store: st, Options: actadd.GenerateOptions{MaxNewTokens: 6, BatchSize: 2, Context: ctx,
		Sampling: actadd.Sampling{Temperature: 1, TopP: j.topP, FreqPenalty: 1, Seed: j.seed}}}
	return sweep.Generate(tinyModel(t), g, cfg, sweep.Mean("letters", letters))
}

func (j genJob) must(t *testing.T, st *runstore.Store) *sweep.Result {
	t.Helper()
	res, err := j.run(t, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sameSettings fails t unless every setting of got is in want with the same completions (rows,
// tokens, prompt length, text) and values.
func sameSettings(t *testing.T, what string, got, want *sweep.Result) {
	t.Helper()
	for _, g := range got.Settings {
		found := false
		for _, w := range want.Settings {
			if g.Setting.String() != w.Setting.String() {
				continue
			}
			found = true
			if !reflect.DeepEqual(g.Completions, w.Completions) || !reflect.DeepEqual(g.Values, w.Values) {
				t.Errorf("%s: %s differs:\n%+v\nwant\n%+v", what, g.Setting, g.Completions, w.Completions)
			}
		}
		if !found {
			t.Errorf("%s: no setting %s to compare with", what, g.Setting)
		}
	}
}

// A generation sweep with a store computes only the units it lacks: one more layer computes
// that layer's units, an unchanged sweep none; a changed coefficient, seed, sampler or prompt
// computes every unit it changes; Fresh computes everything. What it reads back equals what a
// sweep without a store computes, bit for bit.
func TestGenerateStoreGrows(t *testing.T) {
	dir := t.TempDir()
	const unitsPerSetting = 3 // 5 completions in units of 2
	plain := genJob{layers: []int{0, 1, 3}, coeff: 4, topP: 0.9, prompt: prompt}.must(t, nil)
	for _, c := range []struct {
		name             string
		job              genJob
		fresh            bool
		reused, computed int // in settings
	}{
		{"first run", baseJob, false, 0, 3},
		{"one more layer", genJob{layers: []int{0, 1, 3}, coeff: 4, topP: 0.9, prompt: prompt}, false, 3, 1},
		{"unchanged", genJob{layers: []int{0, 1, 3}, coeff: 4, topP: 0.9, prompt: prompt}, false, 4, 0},
		{"another coefficient", genJob{layers: []int{0, 1, 3}, coeff: 2, topP: 0.9, prompt: prompt}, false, 1, 3}, // the unsteered setting stays
		{"another seed", genJob{layers: []int{0, 1, 3}, coeff: 4, seed: 1, topP: 0.9, prompt: prompt}, false, 0, 4},
		{"another sampler", genJob{layers: []int{0, 1, 3}, coeff: 4, topP: 0.5, prompt: prompt}, false, 0, 4},
		{"another prompt", genJob{layers: []int{0, 1, 3}, coeff: 4, topP: 0.9, prompt: "The weather today is"}, false, 0, 4},
		{"fresh", genJob{layers: []int{0, 1, 3}, coeff: 4, topP: 0.9, prompt: prompt}, true, 0, 4},
	} {
		st := openStore(t, dir, c.fresh)
		res := c.job.must(t, st)
		if res.Reused != c.reused*unitsPerSetting || res.Computed != c.computed*unitsPerSetting {
			t.Errorf("%s: %d units reused, %d computed; want %d and %d", c.name, res.Reused, res.Computed, c.reused*unitsPerSetting, c.computed*unitsPerSetting)
		}
		if s := st.Stats(); s.Reused != res.Reused || s.Computed != res.Computed {
			t.Errorf("%s: the store counts %d reused, %d computed; the result %d, %d", c.name, s.Reused, s.Computed, res.Reused, res.Computed)
		}
		if c.job.coeff == 4 && c.job.seed == 0 && c.job.topP == 0.9 && c.job.prompt == prompt {
			sameSettings(t, c.name, res, plain)
		}
	}
}

// A sweep killed (SIGKILL) in the middle of a unit resumes where it stopped: the units
// finished before the kill are read back, the others computed, and the result is that of an
// uninterrupted run.
func TestGenerateResumesAfterKill(t *testing.T) {
	if os.Getenv("SWEEP_KILL_DIR") != "" {
		t.Skip("in the child process")
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestGenerateKilledChild$", "-test.v")
	child.Env = append(os.Environ(), "SWEEP_KILL_DIR="+dir)
	out := &lockedBuffer{}
	child.Stdout, child.Stderr = out, out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	// The child blocks in the unit after its second recorded one; kill it there.
	deadline := time.Now().Add(2 * time.Minute)
	for records := 0; records < 2; {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("the child recorded %d units in 2 minutes:\n%s", records, out)
		}
		time.Sleep(20 * time.Millisecond)
		if _, err := os.Stat(dir + "/records.log"); err != nil {
			continue
		}
		st, err := runstore.Open(dir, runstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		records = st.Stats().Records
		st.Close()
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err == nil {
		t.Fatalf("the child was not killed:\n%s", out)
	}
	st := openStore(t, dir, false)
	resumed := baseJob.must(t, st)
	if resumed.Reused != 2 || resumed.Computed != 7 {
		t.Errorf("resumed: %d units reused, %d computed; want 2 and 7", resumed.Reused, resumed.Computed)
	}
	sameSettings(t, "resumed after a kill", resumed, baseJob.must(t, nil))
}

// TestGenerateKilledChild is the sweep TestGenerateResumesAfterKill kills: once two units are
// recorded, it blocks in the next one.
func TestGenerateKilledChild(t *testing.T) {
	dir := os.Getenv("SWEEP_KILL_DIR")
	if dir == "" {
		t.Skip("run by TestGenerateResumesAfterKill")
	}
	st := openStore(t, dir, false)
	g := sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", baseJob.coeff)}, Layers: baseJob.layers, Prompts: []string{prompt}, Unsteered: true}
	cfg := sweep.GenerateConfig{Completions: 5, Store: st, Options: actadd.GenerateOptions{MaxNewTokens: 6, BatchSize: 2,
		Sampling: actadd.Sampling{Temperature: 1, TopP: baseJob.topP, FreqPenalty: 1}}}
	cfg.Options.Stream = func(int, actadd.Completion) {
		if st.Stats().Computed >= 2 {
			time.Sleep(time.Hour)
		}
	}
	sweep.Generate(tinyModel(t), g, cfg, sweep.Mean("letters", letters))
	t.Fatal("the sweep finished instead of blocking")
}

// lockedBuffer collects a child's output from two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// A sweep cancelled at any point (here after 1, 4 and 7 checks of its context, that is between
// units and in the middle of one) resumes to the result of an uninterrupted run.
func TestGenerateResumesAfterCancel(t *testing.T) {
	want := baseJob.must(t, nil)
	for _, n := range []int64{1, 4, 7, 20} {
		dir := t.TempDir()
		_, err := baseJob.run(t, openStore(t, dir, false), cancel.After(n))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d checks: error %v", n, err)
		}
		st := openStore(t, dir, false)
		res := baseJob.must(t, st)
		if res.Reused == 0 && n > 7 || res.Reused+res.Computed != 9 {
			t.Errorf("cancelled after %d checks: %d reused, %d computed", n, res.Reused, res.Computed)
		}
		t.Logf("cancelled after %d checks: %d units reused, %d computed", n, res.Reused, res.Computed)
		sameSettings(t, "resumed after a cancel", res, want)
	}
}

// scoreTexts are texts of several lengths, laid out in batches of 3.
var scoreTexts = []string{
	"The bride and groom married in June.", "Stocks fell on Monday after the report.", "We went to the wedding.",
	"A", "Short one.", "It rained all day, and the river rose over its banks by the evening, flooding the mill.",
	"Her sister's wedding was the happiest day of the year for the whole family.", "Go.", "Then the music started",
	"The committee will meet again next Tuesday to discuss the budget for the coming year.",
}

// scoreJob scores scoreTexts at some layers and records every scored text's log-probs (steered
// and unsteered) by setting and text, to compare bit for bit.
func scoreJob(t *testing.T, st *runstore.Store, ctx context.Context, layers []int, coeff float64) (*sweep.Result, map[string][][2][]float32, error) {
	t.Helper()
	var mu sync.Mutex
	lps := map[string][][2][]float32{}
	res, err := sweep.Score(tinyModel(t), sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", coeff)}, Layers: layers, Unsteered: true},
		scoreTexts, sweep.ScoreConfig{Options: actadd.ScoreOptions{SkipFirst: 1, BatchSize: 3}, Store: st, Context: ctx},
		sweep.Mean("Σ Δ", sweep.Scored.SumDiff),
		sweep.Mean("record", func(s sweep.Scored) float64 {
			mu.Lock()
			defer mu.Unlock()
			lps[s.Text] = append(lps[s.Text], [2][]float32{s.LogProbs, s.Unsteered})
			return 0
		}))
	return res, lps, err
}

// sameBits reports whether two log-prob lists are equal bit for bit.
func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// A scoring sweep with a store: one more layer computes that layer's batches only, an unchanged
// one none, another coefficient the steered batches only (the unsteered ones stay); log-probs
// read back equal the computed ones bit for bit; a run cancelled midway resumes to the result of
// an uninterrupted run.
func TestScoreStore(t *testing.T) {
	const batches = 4 // 10 texts in batches of 3
	_, plain, err := scoreJob(t, nil, nil, []int{0, 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name             string
		layers           []int
		coeff            float64
		reused, computed int // in settings (the unsteered one included)
	}{
		{"first run", []int{2}, 2, 0, 2},
		{"one more layer", []int{0, 2}, 2, 2, 1},
		{"unchanged", []int{0, 2}, 2, 3, 0},
		{"another coefficient", []int{0, 2}, 3, 1, 2},
	} {
		res, lps, err := scoreJob(t, openStore(t, dir, false), nil, c.layers, c.coeff)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reused != c.reused*batches || res.Computed != c.computed*batches {
			t.Errorf("%s: %d units reused, %d computed; want %d and %d", c.name, res.Reused, res.Computed, c.reused*batches, c.computed*batches)
		}
		if c.coeff != 2 || len(c.layers) != 2 {
			continue
		}
		for text, want := range plain {
			got := lps[text]
			for i := range want {
				if len(got) != len(want) || !sameBits(got[i][0], want[i][0]) || !sameBits(got[i][1], want[i][1]) {
					t.Fatalf("%s: %q: log-probs %v, computed without a store %v", c.name, text, got, want)
				}
			}
		}
	}
	want, _, err := scoreJob(t, nil, nil, []int{0, 2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{0, 3, 7} {
		dir := t.TempDir()
		if _, _, err := scoreJob(t, openStore(t, dir, false), cancel.After(n), []int{0, 2}, 2); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d units: error %v", n, err)
		}
		res, _, err := scoreJob(t, openStore(t, dir, false), nil, []int{0, 2}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reused != int(n) || res.Computed != 3*batches-int(n) {
			t.Errorf("resumed after %d units: %d reused, %d computed", n, res.Reused, res.Computed)
		}
		if !reflect.DeepEqual(res.Settings, want.Settings) {
			t.Errorf("resumed after %d units: %+v\nwant %+v", n, res.Settings, want.Settings)
		}
	}
}
