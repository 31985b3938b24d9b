package experiments_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/experiments"
)

func TestConfigAtScale(t *testing.T) {
	p, err := experiments.PerplexityAt(experiments.ScalePaper)
	if err != nil || !reflect.DeepEqual(p, experiments.PaperPerplexity()) {
		t.Errorf("PerplexityAt(paper) = %+v, %v", p, err)
	}
	p, err = experiments.PerplexityAt(experiments.ScaleQuick)
	if err != nil || !reflect.DeepEqual(p, experiments.QuickPerplexity()) {
		t.Errorf("PerplexityAt(quick) = %+v, %v", p, err)
	}
	w, err := experiments.WeddingAt(experiments.ScaleQuick)
	if err != nil || !reflect.DeepEqual(w, experiments.QuickWedding()) {
		t.Errorf("WeddingAt(quick) = %+v, %v", w, err)
	}
	c, err := experiments.ConceptNetAt(experiments.ScalePaper)
	if err != nil || !reflect.DeepEqual(c, experiments.PaperConceptNet()) {
		t.Errorf("ConceptNetAt(paper) = %+v, %v", c, err)
	}
	o, err := experiments.OverheadAt(experiments.ScaleQuick)
	if err != nil || !reflect.DeepEqual(o, experiments.QuickOverhead()) {
		t.Errorf("OverheadAt(quick) = %+v, %v", o, err)
	}
	for _, bad := range []string{"", "huge", "Paper"} {
		if _, err := experiments.OverheadAt(bad); err == nil || !strings.Contains(err.Error(), "unknown scale") {
			t.Errorf("OverheadAt(%q): error %v", bad, err)
		}
	}
}

func TestPerplexityFlags(t *testing.T) {
	// The notebook's defaults keep the scale's sizes.
	cfg, err := experiments.PerplexityFlags{Scale: "quick", Layer: experiments.ScaledLayer, Coeff: 1, MinBinDocs: -1}.Config()
	if err != nil || !reflect.DeepEqual(cfg, experiments.QuickPerplexity()) {
		t.Errorf("defaults: %+v, %v; want QuickPerplexity()", cfg, err)
	}
	cfg, err = experiments.PerplexityFlags{Scale: "paper", Layer: 3, Coeff: 0, Seed: 7, Docs: 50, MinBinDocs: 0}.Config()
	want := experiments.PaperPerplexity()
	want.Layer, want.Coeff, want.Seed, want.Docs, want.MinBinDocs = 3, 0, 7, 50, 0
	if err != nil || !reflect.DeepEqual(cfg, want) {
		t.Errorf("overrides: %+v, %v; want %+v", cfg, err, want)
	}
	for _, bad := range []experiments.PerplexityFlags{{Scale: "x"}, {Scale: "quick", Docs: -1}, {Scale: "quick", MinBinDocs: -2}} {
		if _, err := bad.Config(); err == nil {
			t.Errorf("%+v gave no error", bad)
		}
	}
}

func TestWeddingFlags(t *testing.T) {
	cfg, err := experiments.WeddingFlags{Scale: "quick", Coeff: 1}.Config()
	if err != nil || !reflect.DeepEqual(cfg, experiments.QuickWedding()) {
		t.Errorf("defaults: %+v, %v; want QuickWedding()", cfg, err)
	}
	cfg, err = experiments.WeddingFlags{Scale: "paper", Layers: " 6, 0 ,", Coeff: 2, Seed: 3, Completions: 10, Tokens: 5}.Config()
	want := experiments.PaperWedding()
	want.Layers, want.Coeff, want.Sampling.Seed, want.Completions, want.NewTokens = []int{6, 0}, 2, 3, 10, 5
	if err != nil || !reflect.DeepEqual(cfg, want) {
		t.Errorf("overrides: %+v, %v; want %+v", cfg, err, want)
	}
	for _, bad := range []experiments.WeddingFlags{{Scale: "quick", Layers: "a"}, {Scale: "quick", Layers: ","}, {Scale: "quick", Tokens: -1}} {
		if _, err := bad.Config(); err == nil {
			t.Errorf("%+v gave no error", bad)
		}
	}
}

func TestParseLayers(t *testing.T) {
	for in, want := range map[string][]int{"": nil, "  ": nil, "3": {3}, "0,6, 12 ": {0, 6, 12}, "1,,2,": {1, 2}} {
		got, err := experiments.ParseLayers(in)
		if err != nil || !slices.Equal(got, want) || (want == nil) != (got == nil) {
			t.Errorf("ParseLayers(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	for _, bad := range []string{",", " , ", "x", "1,-2", "1.5"} {
		if got, err := experiments.ParseLayers(bad); err == nil {
			t.Errorf("ParseLayers(%q) = %v, want an error", bad, got)
		}
	}
}

func TestConceptNetFlags(t *testing.T) {
	cfg, err := experiments.ConceptNetFlags{Scale: "quick", Layer: experiments.ScaledLayer, Coeff: 1, MaxItems: -1}.Config()
	if err != nil || !reflect.DeepEqual(cfg, experiments.QuickConceptNet()) {
		t.Errorf("defaults: %+v, %v; want QuickConceptNet()", cfg, err)
	}
	cfg, err = experiments.ConceptNetFlags{Scale: "quick", Layer: 2, Coeff: 0.5, MaxItems: 0}.Config()
	if err != nil || cfg.Layer != 2 || cfg.Coeff != 0.5 || cfg.MaxItems != 0 {
		t.Errorf("overrides: %+v, %v; want layer 2, c 0.5, all items", cfg, err)
	}
	if _, err := (experiments.ConceptNetFlags{Scale: "quick", MaxItems: -2}).Config(); err == nil {
		t.Error("MaxItems -2 gave no error")
	}
}

func TestOverheadFlags(t *testing.T) {
	cfg, err := experiments.OverheadFlags{Scale: "quick"}.Config()
	if err != nil || !reflect.DeepEqual(cfg, experiments.QuickOverhead()) {
		t.Errorf("defaults: %+v, %v; want QuickOverhead()", cfg, err)
	}
	// Spaces around shape names are trimmed (a notebook's "--shapes=gpt2, gpt2-xl").
	cfg, err = experiments.OverheadFlags{Scale: "paper", Shapes: " gpt2, gpt2-xl ,", Seeds: 3, Batch: 2, Seq: 16, Reps: 4}.Config()
	want := experiments.PaperOverhead()
	want.Shapes, want.Seeds, want.Batch, want.Seq, want.Reps = []string{"gpt2", "gpt2-xl"}, 3, 2, 16, 4
	if err != nil || !reflect.DeepEqual(cfg, want) {
		t.Errorf("overrides: %+v, %v; want %+v", cfg, err, want)
	}
	for _, bad := range []experiments.OverheadFlags{{Scale: "quick", Shapes: "gpt2,gpt3"}, {Scale: "quick", Shapes: " , "}, {Scale: "quick", Reps: -1}, {Scale: "big"}} {
		if _, err := bad.Config(); err == nil {
			t.Errorf("%+v gave no error", bad)
		}
	}
}
