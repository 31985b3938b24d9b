package experiments_test

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/interval"
)

func TestShapeConfig(t *testing.T) {
	for shape, want := range map[string][3]int{"gpt2-xl": {48, 1600, 25}, "tiny": {4, 64, 4}, "4x256": {4, 256, 4}, "2x32": {2, 32, 1}} {
		cfg, err := experiments.ShapeConfig(shape)
		if err != nil || [3]int{cfg.NLayer, cfg.NEmbd, cfg.NHead} != want || cfg.VocabSize != 50257 {
			t.Errorf("ShapeConfig(%q) = %+v, %v", shape, cfg, err)
		}
	}
	for _, bad := range []string{"gpt3", "4x", "x64", "4x100", "0x64"} {
		if _, err := experiments.ShapeConfig(bad); err == nil {
			t.Errorf("ShapeConfig(%q) accepted a bad shape", bad)
		}
	}
	gpt2, _ := checkpoint.KnownConfig("gpt2")
	if n := experiments.NumParams(gpt2); n != 124_439_808 {
		t.Errorf("NumParams(gpt2) = %d, want 124439808", n)
	}
	huge := gpt2
	huge.NLayer, huge.NEmbd = 1<<40, 1<<20 // 12·2⁸⁰ values: the product used to wrap around
	if n := experiments.NumParams(huge); n != -1 {
		t.Errorf("NumParams of 2⁴⁰ layers of width 2²⁰ = %d, want -1 (beyond int64)", n)
	}
}

func TestOverhead(t *testing.T) {
	cfg := quick(t, experiments.OverheadAt)
	cfg.Shapes, cfg.Seeds, cfg.Batch, cfg.Seq, cfg.Reps, cfg.Progress = []string{"tiny"}, 2, 1, 8, 2, quiet
	res, err := experiments.Overhead(tinyModel(t), cfg) // the tiny model's backend; its weights are not used
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shapes) != 1 {
		t.Fatalf("%d shapes", len(res.Shapes))
	}
	s := res.Shapes[0]
	if s.Layer != 2 || s.Description != "random weights (not GPT-2), tiny shape" || len(s.Runs) != 2 {
		t.Fatalf("shape result %+v", s)
	}
	p := s.Premium
	if !(s.BaseMean > 0) || !(s.SteeredMean > 0) || math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || p.Value <= -1 || p.N != 2 || !(-1 < p.Lo && p.Lo <= p.Value && p.Value <= p.Hi) || p.Method != interval.LogRatioT {
		t.Errorf("times %g, %g, premium %+v", s.BaseMean, s.SteeredMean, p)
	}
	o := s.OpsPremium
	if cfg.OpsReps == 0 || s.OpsSeconds == 0 || math.Abs(o.Value-s.OpsSeconds/s.BaseMean) > 1e-12 || o.N != 10 || !(o.Lo <= o.Value && o.Value <= o.Hi) {
		t.Errorf("steering ops alone: %g s, premium %+v (OpsReps %d)", s.OpsSeconds, o, cfg.OpsReps)
	}
	if !strings.Contains(res.Summary(), "steering ops alone") {
		t.Errorf("summary lacks the direct premium:\n%s", res.Summary())
	}
	// The premium is a ratio of means over every seed's passes, not a mean of per-seed ratios;
	// PremiumSD is the spread of the per-seed premiums.
	var base, steered, seedPremiums []float64
	for _, run := range s.Runs {
		if len(run.Base) != 2 || len(run.Steered) != 2 {
			t.Fatalf("run %+v: want 2 timed passes per arm", run)
		}
		base = append(base, run.Base...)
		steered = append(steered, run.Steered...)
		p := (run.Steered[0]+run.Steered[1])/(run.Base[0]+run.Base[1]) - 1
		if math.Abs(run.Premium-p) > 1e-12 {
			t.Errorf("seed %d: premium %g, want %g", run.Seed, run.Premium, p)
		}
		seedPremiums = append(seedPremiums, run.Premium)
	}
	sum := func(xs []float64) float64 {
		total := 0.0
		for _, x := range xs {
			total += x
		}
		return total
	}
	if want := sum(base) / 4; math.Abs(s.BaseMean-want) > 1e-12*want {
		t.Errorf("BaseMean %g, want the mean of all passes %g", s.BaseMean, want)
	}
	if want := sum(steered)/sum(base) - 1; math.Abs(s.Premium.Value-want) > 1e-12 {
		t.Errorf("premium %+v, want mean t_steered / mean t_base − 1 = %g", s.Premium, want)
	}
	if want := math.Abs(seedPremiums[0]-seedPremiums[1]) / math.Sqrt2; math.Abs(s.PremiumSD-want) > 1e-12 {
		t.Errorf("PremiumSD %g, want the sample SD of the seeds' premiums %v = %g", s.PremiumSD, seedPremiums, want)
	}
	if !s.SteeringChangedLogits {
		t.Error("the steered pass computed the same logits as the baseline")
	}
	if !strings.HasPrefix(res.Model, "random weights (not GPT-2), shapes tiny") || res.Backend != "go" || !res.TinyStandIn {
		t.Errorf("run info %+v", res.RunInfo)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "upper bound of a single addition at one fixed layer") {
		t.Errorf("the notes do not say the premium is an upper bound (every layer is gated): %q", res.Notes)
	}
	sum1 := res.Summary()
	for _, want := range []string{"random weights (not GPT-2)", "tiny", "2 seeds", "2/4", s.Premium.Scale(100).Numbers(), "upper bound", "delta method"} {
		if !strings.Contains(sum1, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum1)
		}
	}
	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, figs, "E4", false, "e4-overhead-vs-model-size")
	sc := figs[0].Sidecar
	if !sc.RandomWeights || !strings.Contains(sc.Title, "random weights (not GPT-2)") {
		t.Errorf("sidecar does not say the weights are random, not GPT-2: %q", sc.Title)
	}
	if !strings.Contains(sc.XLabel, "parameters (millions)") || !strings.Contains(sc.XLabel, "upper bound") {
		t.Errorf("x label %q does not give the size in millions and the every-layer caveat", sc.XLabel)
	}
	if !bytes.Contains(figs[0].SVG, []byte("tiny, layer 2/4")) {
		t.Error("the figure does not label the point with its shape")
	}
	if len(sc.Series[0].Lo) != 1 || sc.Series[0].Lo[0] != 100*p.Lo || !strings.Contains(sc.Interval, "delta method") {
		t.Errorf("sidecar premium series %+v, interval %q: want the premium's interval in %%", sc.Series[0], sc.Interval)
	}

	cfg.Shapes = []string{"nope"}
	if _, err := experiments.Overhead(tinyModel(t), cfg); err == nil {
		t.Error("Overhead accepted an unknown shape")
	}
}

// E4's random tokens depend on the seed only (as the authors' manual_seed(seed)): every shape
// of a run gets the same tokens for a seed, whatever its place in the list.
func TestOverheadTokens(t *testing.T) {
	a := experiments.OverheadTokens(3, 4, 5, 50257)
	if len(a) != 4 || len(a[0]) != 5 {
		t.Fatalf("shape %d×%d, want 4×5", len(a), len(a[0]))
	}
	if b := experiments.OverheadTokens(3, 4, 5, 50257); !slices.EqualFunc(a, b, slices.Equal) {
		t.Error("the same seed gave other tokens")
	}
	if c := experiments.OverheadTokens(4, 4, 5, 50257); slices.EqualFunc(a, c, slices.Equal) {
		t.Error("seeds 3 and 4 gave the same tokens")
	}
	for _, row := range experiments.OverheadTokens(0, 8, 64, 7) {
		for _, id := range row {
			if id < 0 || id >= 7 {
				t.Fatalf("token %d outside the vocabulary 0..6", id)
			}
		}
	}
}
