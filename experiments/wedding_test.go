package experiments_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/experiments"
)

func TestWeddingSweep(t *testing.T) {
	m := tinyModel(t)
	cfg := experiments.QuickWedding()
	cfg.Completions, cfg.NewTokens, cfg.Examples, cfg.Progress = 3, 6, 2, quiet
	builds := m.Builds()
	res, err := experiments.WeddingSweep(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// One batched job: the vectors (one pass for all layers), one prefill, one step program.
	if n := m.Builds() - builds; n > 3 {
		t.Errorf("the sweep built %d graphs, want at most 3", n)
	}
	if res.Baseline.Layer != -1 || res.Baseline.Steered {
		t.Errorf("baseline setting = %+v", res.Baseline)
	}
	if len(res.Layers) != 4 || !reflect.DeepEqual(res.Config.Layers, []int{0, 1, 2, 3}) {
		t.Fatalf("swept %d layers (%v), want all 4", len(res.Layers), res.Config.Layers)
	}
	for i, s := range append([]experiments.WeddingSetting{res.Baseline}, res.Layers...) {
		if i > 0 && (s.Layer != i-1 || !s.Steered) {
			t.Errorf("setting %d is layer %d (steered %v)", i, s.Layer, s.Steered)
		}
		if len(s.Counts) != 3 || len(s.Examples) != 2 {
			t.Fatalf("layer %d: %d counts, %d examples; want 3 and 2", s.Layer, len(s.Counts), len(s.Examples))
		}
		sum, hits := 0, 0
		for j, c := range s.Counts {
			sum += c
			if c > 0 {
				hits++
			}
			if j < 2 && datasets.WeddingCount(s.Examples[j]) != c {
				t.Errorf("layer %d completion %d: count %d, but the text %q has %d", s.Layer, j, c, s.Examples[j], datasets.WeddingCount(s.Examples[j]))
			}
		}
		if s.MeanCount != float64(sum)/3 || s.Success != float64(hits)/3 || s.Success < 0 || s.Success > 1 || s.SuccessSE < 0 || s.MeanCountSE < 0 {
			t.Errorf("layer %d: mean %g success %g from counts %v", s.Layer, s.MeanCount, s.Success, s.Counts)
		}
		for _, e := range s.Examples {
			if e == "" {
				t.Errorf("layer %d: empty completion", s.Layer)
			}
		}
	}
	// Reproducible from the seed.
	again, err := experiments.WeddingSweep(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Layers, res.Layers) || !reflect.DeepEqual(again.Baseline, res.Baseline) {
		t.Error("the same config gave different completions")
	}

	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, figs, "E2", true, "e2-wedding-count-vs-layer", "e2-success-vs-layer")
	// The success figure's baseline is the baseline success fraction, not its mean count.
	if b := figs[1].Sidecar.Series[1]; b.Name != "baseline" || b.Y[0] != res.Baseline.Success {
		t.Errorf("success figure baseline = %+v, want %g", b, res.Baseline.Success)
	}
	if figs[0].Sidecar.Seed != cfg.Sampling.Seed || figs[0].Sidecar.SampleSizes["completions_per_setting"] != 3 {
		t.Errorf("sidecar seed %d, sample sizes %v", figs[0].Sidecar.Seed, figs[0].Sidecar.SampleSizes)
	}
	// The success fraction's axis is about [0, 1.05], not padded beyond.
	if r := figs[1].Sidecar.YRange; len(r) != 2 || r[0] > 0 || r[0] < -0.03 || r[1] != 1.05 {
		t.Errorf("success axis %v, want about [0, 1.05]", r)
	}
	if r := figs[0].Sidecar.YRange; len(r) != 2 || r[0] >= 0 || r[1] < 1 {
		t.Errorf("count axis %v, want it padded around [0, ≥ 1]", r)
	}

	sum := res.Summary()
	for _, want := range []string{"3 completions × 6 tokens", "baseline", "layer 3", fmt.Sprintf("best layer %d", res.BestLayer().Layer)} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if n := strings.Count(sum, "\n  "+cfg.Prompt); n != 2 {
		t.Errorf("summary shows %d example completions, want 2:\n%s", n, sum)
	}
}

// Completion c of every setting draws from stream c: a layer's result does not depend on the
// other layers of the sweep, and the baseline is the same in every sweep.
func TestWeddingSweepSettingsArePaired(t *testing.T) {
	m := tinyModel(t)
	cfg := experiments.QuickWedding()
	cfg.Completions, cfg.NewTokens, cfg.Examples, cfg.Progress = 3, 5, 3, quiet
	cfg.Sampling.TopP = 0.9 // wider nuclei than the paper's 0.3: the random stream matters more
	full, err := experiments.WeddingSweep(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []int{0, 2} {
		cfg.Layers = []int{l}
		one, err := experiments.WeddingSweep(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one.Layers[0], full.Layers[l]) {
			t.Errorf("layer %d alone: %q\nwithin the full sweep: %q", l, one.Layers[0].Examples, full.Layers[l].Examples)
		}
		if !reflect.DeepEqual(one.Baseline, full.Baseline) {
			t.Errorf("the baseline depends on the layers swept: %q vs %q", one.Baseline.Examples, full.Baseline.Examples)
		}
	}
	// Within one setting the completions use different streams.
	if ex := full.Baseline.Examples; ex[0] == ex[1] && ex[1] == ex[2] {
		t.Errorf("the baseline's 3 completions are identical: %q", ex)
	}
}

func TestWeddingSweepSomeLayers(t *testing.T) {
	m := tinyModel(t)
	cfg := experiments.QuickWedding()
	cfg.Completions, cfg.NewTokens, cfg.Layers, cfg.Progress = 2, 2, []int{3, 0}, quiet
	res, err := experiments.WeddingSweep(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Layers) != 2 || res.Layers[0].Layer != 3 || res.Layers[1].Layer != 0 {
		t.Errorf("layers %+v, want 3 then 0", res.Layers)
	}
	cfg.Layers = []int{4}
	if _, err := experiments.WeddingSweep(m, cfg); err == nil {
		t.Error("WeddingSweep accepted layer 4 of a 4-layer model")
	}
	cfg.Layers = []int{}
	if _, err := experiments.WeddingSweep(m, cfg); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("WeddingSweep with an empty, non-nil list of layers: error %v, want one saying it is empty", err)
	}
}
