package sweep_test

import (
	"reflect"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/sweep"
)

// A generation and a scoring sweep run on a Llama-family stand-in and are recorded in the run
// store under its identity: a second run reuses every unit, and the same sweep on another
// family's stand-in reuses none.
func TestSweepsOnLlamaFamily(t *testing.T) {
	st := openStore(t, t.TempDir(), false)
	g := sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", 4)}, Layers: []int{0, 3}, Prompts: []string{prompt}, Unsteered: true}
	gen := sweep.GenerateConfig{Completions: 3, Store: st, Options: actadd.GenerateOptions{MaxNewTokens: 5, Sampling: actadd.PaperSampling}}
	score := sweep.ScoreConfig{Store: st}
	texts := []string{"The wedding was lovely.", "Rain fell all day on the hills."}
	run := func(name string) (*sweep.Result, *sweep.Result) {
		t.Helper()
		m := actaddtest.StandIn(t, name)
		gr, err := sweep.Generate(m, g, gen, sweep.Mean("letters", letters))
		if err != nil {
			t.Fatal(err)
		}
		sg := g
		sg.Prompts = nil
		sr, err := sweep.Score(m, sg, texts, score, sweep.Mean("mean Δ log-prob", sweep.Scored.MeanDiff))
		if err != nil {
			t.Fatal(err)
		}
		return gr, sr
	}
	first, firstScore := run("tiny-llama")
	if first.Computed == 0 || first.Reused != 0 || firstScore.Computed == 0 || len(first.Settings) != 3 {
		t.Fatalf("first run: %d computed, %d reused (%d scoring units), %d settings", first.Computed, first.Reused, firstScore.Computed, len(first.Settings))
	}
	again, againScore := run("tiny-llama")
	if again.Computed != 0 || again.Reused != first.Computed || againScore.Computed != 0 {
		t.Errorf("second run: %d computed, %d reused; scoring %d computed", again.Computed, again.Reused, againScore.Computed)
	}
	for i := range first.Settings {
		if !reflect.DeepEqual(first.Settings[i].Values, again.Settings[i].Values) {
			t.Errorf("setting %s: stored values differ from computed ones", first.Settings[i].Setting)
		}
	}
	other, _ := run("tiny-qwen2")
	if other.Reused != 0 || other.Model == first.Model {
		t.Errorf("another family's stand-in reused %d units (models %q, %q)", other.Reused, other.Model, first.Model)
	}
}
