package experiments_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/internal/cancel"
	"github.com/actadd-go/actadd/runstore"
)

// units is the store use of a run: units reused and computed.
func units(t *testing.T, what string, s *experiments.StoreUse) (reused, computed int) {
	t.Helper()
	if s == nil {
		t.Fatalf("%s: the result reports no run store", what)
	}
	return s.Reused, s.Computed
}

// perplexityRun is E1 on the test corpus in batches of 4 sentences, with a run store in dir.
func perplexityRun(t *testing.T, dir string, layers experiments.Layers, coeff float64, fresh bool, ctx context.Context) (*experiments.PerplexityResult, error) {
	cfg := quick(t, experiments.PerplexityAt)
	cfg.Data = &experiments.DocumentSet{Docs: weddingDocs, Source: "test corpus"}
	cfg.Docs, cfg.MinBinDocs, cfg.Progress, cfg.BatchSize, cfg.Layers, cfg.Coeff = 7, 0, quiet, 4, layers, coeff
	cfg.Runs, cfg.Context = experiments.RunStore{Dir: dir, Fresh: fresh}, ctx
	return experiments.Perplexity(tinyModel(t), cfg)
}

// sameLayer fails t unless two E1 layers hold the same documents and bins, to the bit (%v
// prints a float64 exactly, NaN included, which reflect.DeepEqual finds unequal to itself).
func sameLayer(t *testing.T, what string, got, want experiments.PerplexityLayer) {
	t.Helper()
	if fmt.Sprintf("%v", got) != fmt.Sprintf("%v", want) {
		t.Errorf("%s: layer %d differs:\n%+v\nwant\n%+v", what, got.Layer, got, want)
	}
}

// E1 with a run store: killed (cancelled) midway, it resumes to the result of an uninterrupted
// run; one more layer computes that layer's batches only; unchanged, nothing; another
// coefficient, the steered batches only (the unsteered ones do not depend on it); --fresh,
// everything.
func TestPerplexityStore(t *testing.T) {
	dir := t.TempDir()
	layer1 := experiments.Layers{{At: 1}}
	want, err := perplexityRun(t, dir, layer1, 1, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	reused, computed := units(t, "first run", want.Store)
	batches := computed / 2 // unsteered and layer 1
	if reused != 0 || batches < 2 || computed != 2*batches {
		t.Fatalf("first run: %d units reused, %d computed; want 0 and two settings × several batches", reused, computed)
	}
	plain, err := perplexityRun(t, "", layer1, 1, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameLayer(t, "without a store", plain.Layers[0], want.Layers[0])

	// Cancelled after the 7 documents are split and k units are scored, then resumed.
	for _, k := range []int64{0, 1, int64(batches) + 1} {
		cut := t.TempDir()
		if _, err := perplexityRun(t, cut, layer1, 1, false, cancel.After(7+k)); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d units: error %v", k, err)
		}
		res, err := perplexityRun(t, cut, layer1, 1, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r, c := units(t, "resumed", res.Store); r != int(k) || c != 2*batches-int(k) {
			t.Errorf("resumed after %d units: %d reused, %d computed", k, r, c)
		}
		sameLayer(t, "resumed", res.Layers[0], want.Layers[0])
		if res.Tokens != want.Tokens || res.Sentences != want.Sentences {
			t.Errorf("resumed after %d units: bins or counts differ", k)
		}
	}

	for _, c := range []struct {
		name             string
		layers           experiments.Layers
		coeff            float64
		fresh            bool
		reused, computed int // in batches
	}{
		{"one more layer", experiments.Layers{{At: 1}, {At: 3}}, 1, false, 2, 1},
		{"unchanged", experiments.Layers{{At: 1}, {At: 3}}, 1, false, 3, 0},
		{"another coefficient", experiments.Layers{{At: 1}, {At: 3}}, 2, false, 1, 2},
		{"fresh", experiments.Layers{{At: 1}, {At: 3}}, 1, true, 0, 3},
	} {
		res, err := perplexityRun(t, dir, c.layers, c.coeff, c.fresh, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r, n := units(t, c.name, res.Store); r != c.reused*batches || n != c.computed*batches {
			t.Errorf("%s: %d units reused, %d computed; want %d and %d", c.name, r, n, c.reused*batches, c.computed*batches)
		}
		if c.coeff == 1 {
			sameLayer(t, c.name, res.Layers[0], want.Layers[0])
		}
		if !strings.Contains(res.Summary(), "run store") {
			t.Errorf("%s: the summary does not report the run store:\n%s", c.name, res.Summary())
		}
	}
}

// E2 with a run store: an unchanged rerun computes nothing and gives the same completions, one
// more layer computes that layer's units only, and the summary reports the store.
func TestWeddingSweepStore(t *testing.T) {
	dir := t.TempDir()
	run := func(layers experiments.Layers, fresh bool) *experiments.WeddingResult {
		t.Helper()
		cfg := quick(t, experiments.WeddingAt)
		cfg.Completions, cfg.NewTokens, cfg.BatchSize, cfg.Layers, cfg.Progress = 4, 5, 2, layers, quiet
		cfg.Runs = experiments.RunStore{Dir: dir, Fresh: fresh}
		res, err := experiments.WeddingSweep(tinyModel(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := run(experiments.Layers{{At: 0}, {At: 2}}, false)
	for _, c := range []struct {
		name             string
		layers           experiments.Layers
		fresh            bool
		reused, computed int // in settings of 2 units
	}{
		{"unchanged", experiments.Layers{{At: 0}, {At: 2}}, false, 3, 0},
		{"one more layer", experiments.Layers{{At: 0}, {At: 1}, {At: 2}}, false, 3, 1},
		{"fresh", experiments.Layers{{At: 0}, {At: 2}}, true, 0, 3},
	} {
		res := run(c.layers, c.fresh)
		if r, n := units(t, c.name, res.Store); r != 2*c.reused || n != 2*c.computed {
			t.Errorf("%s: %d units reused, %d computed; want %d and %d", c.name, r, n, 2*c.reused, 2*c.computed)
		}
		for _, s := range first.Sweep.Settings {
			for _, g := range res.Sweep.Settings {
				if g.Setting.String() != s.Setting.String() {
					continue
				}
				for i := range s.Completions {
					if !reflect.DeepEqual(g.Completions[i], s.Completions[i]) {
						t.Errorf("%s: %s, completion %d: %#v\nthe first run's: %#v", c.name, s.Setting, i, g.Completions[i], s.Completions[i])
					}
				}
			}
		}
		if !strings.Contains(res.Summary(), "run store") || !strings.Contains(res.Summary(), "units reused") {
			t.Errorf("%s: the summary does not report the run store:\n%s", c.name, res.Summary())
		}
	}
}

// E3 with a run store: an unchanged rerun computes nothing and gives the same ranks; another
// coefficient recomputes the steered ranks only.
func TestConceptNetStore(t *testing.T) {
	dir := t.TempDir()
	probes, rep := testProbes(t)
	run := func(coeff float64) *experiments.ConceptNetResult {
		t.Helper()
		cfg := quick(t, experiments.ConceptNetAt)
		cfg.Data, cfg.Progress, cfg.BatchSize, cfg.Coeff = &experiments.LAMASet{Probes: probes, Report: rep, Source: "test records"}, quiet, 2, coeff
		cfg.Runs = experiments.RunStore{Dir: dir}
		res, err := experiments.ConceptNet(tinyModel(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := run(1)
	_, computed := units(t, "first run", first.Store)
	again := run(1)
	if r, n := units(t, "unchanged", again.Store); r != computed || n != 0 {
		t.Errorf("unchanged: %d units reused, %d computed; want %d and 0", r, n, computed)
	}
	if !slices.Equal(again.BaselineRanks, first.BaselineRanks) || !slices.Equal(again.SteeredRanks, first.SteeredRanks) || again.Skipped != first.Skipped {
		t.Errorf("unchanged: ranks %v %v, first run %v %v", again.BaselineRanks, again.SteeredRanks, first.BaselineRanks, first.SteeredRanks)
	}
	other := run(3)
	r, n := units(t, "another coefficient", other.Store)
	if !slices.Equal(other.BaselineRanks, first.BaselineRanks) || r == 0 || n == 0 || r+n != computed {
		t.Errorf("another coefficient: %d units reused, %d computed (of %d); baseline ranks %v, first %v", r, n, computed, other.BaselineRanks, first.BaselineRanks)
	}
}

// E4 with a run store: an unchanged rerun times nothing, builds no model and gives the same
// timings; its meter counts the forward passes done of all.
func TestOverheadStore(t *testing.T) {
	dir := t.TempDir()
	run := func() (*experiments.OverheadResult, string) {
		t.Helper()
		var out bytes.Buffer
		cfg := quick(t, experiments.OverheadAt)
		cfg.Shapes, cfg.Seeds, cfg.Batch, cfg.Seq, cfg.Reps, cfg.Warmup, cfg.OpsReps, cfg.Progress = []string{"tiny"}, 2, 1, 8, 2, 1, 10, &out
		cfg.Runs = experiments.RunStore{Dir: dir}
		res, err := experiments.Overhead(tinyModel(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res, out.String()
	}
	first, log := run()
	if r, n := units(t, "first run", first.Store); r != 0 || n != 3 { // two seeds and the steering ops
		t.Errorf("first run: %d units reused, %d computed; want 0 and 3", r, n)
	}
	if !strings.Contains(log, "E4 overhead: timed forward passes on go: 12/12 passes") { // 2 seeds × 2 arms × (1 + 2) passes
		t.Errorf("no done/total line of the forward passes:\n%s", log)
	}
	again, log := run()
	if r, n := units(t, "unchanged", again.Store); r != 3 || n != 0 {
		t.Errorf("unchanged: %d units reused, %d computed; want 3 and 0", r, n)
	}
	if strings.Contains(log, "building") || !reflect.DeepEqual(again.Shapes, first.Shapes) {
		t.Errorf("unchanged: built a model or timed again:\n%s\n%+v\nwant\n%+v", log, again.Shapes, first.Shapes)
	}
	if st, err := runstore.Open(dir, runstore.Options{}); err != nil || st.Stats().Records != 3 {
		t.Errorf("the store holds %v records (%v), want 3", st.Stats().Records, err)
	}
}
