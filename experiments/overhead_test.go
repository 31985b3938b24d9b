package experiments_test

import (
	"math"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/experiments"
	"github.com/gomlx/compute/gobackend"
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
}

func TestOverhead(t *testing.T) {
	cfg := experiments.QuickOverhead()
	cfg.Shapes, cfg.Seeds, cfg.Batch, cfg.Seq, cfg.Reps = []string{"tiny"}, 1, 1, 8, 1
	res, err := experiments.Overhead(cfg, gobackend.GetBackend(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shapes) != 1 {
		t.Fatalf("%d shapes", len(res.Shapes))
	}
	s := res.Shapes[0]
	if s.Layer != 2 || s.Description != "random weights, tiny shape" || len(s.Runs) != 1 || len(s.Runs[0].Base) != 1 || len(s.Runs[0].Steered) != 1 {
		t.Errorf("shape result %+v", s)
	}
	if !(s.BaseMean > 0) || !(s.SteeredMean > 0) || math.IsNaN(s.Premium) || math.IsInf(s.Premium, 0) || s.Premium <= -1 {
		t.Errorf("times %g, %g, premium %g", s.BaseMean, s.SteeredMean, s.Premium)
	}
	if math.Abs(s.Premium-(s.Runs[0].Steered[0]/s.Runs[0].Base[0]-1)) > 1e-12 {
		t.Errorf("premium %g is not t_steered/t_base − 1 of the one run %+v", s.Premium, s.Runs[0])
	}
	if !s.SteeringChangedLogits {
		t.Error("the steered pass computed the same logits as the baseline")
	}
	if !strings.Contains(res.Model, "random weights") || res.Backend != "go" || !res.TinyStandIn {
		t.Errorf("run info %+v", res.RunInfo)
	}
	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, figs, "E4", false, "e4-overhead-vs-model-size")
	if sc := figs[0].Sidecar; !sc.RandomWeights || !strings.Contains(sc.Title, "random weights") {
		t.Errorf("sidecar does not say the weights are random: %q", sc.Title)
	}

	cfg.Shapes = []string{"nope"}
	if _, err := experiments.Overhead(cfg, gobackend.GetBackend(), quiet); err == nil {
		t.Error("Overhead accepted an unknown shape")
	}
	if _, err := experiments.Overhead(experiments.QuickOverhead(), nil, quiet); err == nil {
		t.Error("Overhead accepted a nil backend")
	}
}
