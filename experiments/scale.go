package experiments

import (
	"fmt"
	"strconv"
	"strings"
)

// Scales of an experiment's config: the paper's sizes (PaperX) or a CPU-sized quick run
// (QuickX) for CI and first looks.
const (
	ScalePaper = "paper"
	ScaleQuick = "quick"
)

// atScale returns paper() or quick() by scale.
func atScale[T any](what, scale string, paper, quick func() T) (T, error) {
	switch scale {
	case ScalePaper:
		return paper(), nil
	case ScaleQuick:
		return quick(), nil
	}
	var zero T
	return zero, fmt.Errorf("experiments: %s: unknown scale %q: use %q (the paper's sizes) or %q (a quick run)", what, scale, ScalePaper, ScaleQuick)
}

// PerplexityAt returns E1's config at a scale: PaperPerplexity() or QuickPerplexity().
func PerplexityAt(scale string) (PerplexityConfig, error) {
	return atScale("E1", scale, PaperPerplexity, QuickPerplexity)
}

// WeddingAt returns E2's config at a scale: PaperWedding() or QuickWedding().
func WeddingAt(scale string) (WeddingConfig, error) {
	return atScale("E2", scale, PaperWedding, QuickWedding)
}

// ConceptNetAt returns E3's config at a scale: PaperConceptNet() or QuickConceptNet().
func ConceptNetAt(scale string) (ConceptNetConfig, error) {
	return atScale("E3", scale, PaperConceptNet, QuickConceptNet)
}

// OverheadAt returns E4's config at a scale: PaperOverhead() or QuickOverhead().
func OverheadAt(scale string) (OverheadConfig, error) {
	return atScale("E4", scale, PaperOverhead, QuickOverhead)
}

// The XFlags types hold a notebook's flag values; their Config method returns the scale's
// config with the flags applied. Fields documented "keep" leave the scale's value when they
// hold that value (a notebook flag's default); the others are always applied.

// PerplexityFlags are E1's notebook parameters.
type PerplexityFlags struct {
	Scale      string  // ScalePaper or ScaleQuick
	Layer      int     // injection layer, or ScaledLayer (-1)
	Coeff      float64 // c
	Seed       uint64  // seed of the document sample
	Docs       int     // documents to sample; 0 keeps the scale's
	MinBinDocs int     // bins shown need more than this many documents; -1 keeps the scale's
}

// Config returns the scale's E1 config with the flags applied.
func (f PerplexityFlags) Config() (PerplexityConfig, error) {
	cfg, err := PerplexityAt(f.Scale)
	if err != nil {
		return cfg, err
	}
	switch {
	case f.Docs < 0:
		return cfg, fmt.Errorf("experiments: E1: docs = %d: give a positive number of documents, or 0 for the scale's (%d)", f.Docs, cfg.Docs)
	case f.MinBinDocs < -1:
		return cfg, fmt.Errorf("experiments: E1: min_bin_docs = %d: give 0 or more, or -1 for the scale's (%d)", f.MinBinDocs, cfg.MinBinDocs)
	}
	cfg.Layer, cfg.Coeff, cfg.Seed = f.Layer, f.Coeff, f.Seed
	if f.Docs > 0 {
		cfg.Docs = f.Docs
	}
	if f.MinBinDocs >= 0 {
		cfg.MinBinDocs = f.MinBinDocs
	}
	return cfg, nil
}

// WeddingFlags are E2's notebook parameters.
type WeddingFlags struct {
	Scale       string  // ScalePaper or ScaleQuick
	Layers      string  // comma-separated layers (ParseLayers); "" sweeps all
	Coeff       float64 // c
	Seed        uint64  // sampling seed
	Completions int     // completions per setting; 0 keeps the scale's
	Tokens      int     // new tokens per completion; 0 keeps the scale's
}

// Config returns the scale's E2 config with the flags applied.
func (f WeddingFlags) Config() (WeddingConfig, error) {
	cfg, err := WeddingAt(f.Scale)
	if err != nil {
		return cfg, err
	}
	if f.Completions < 0 || f.Tokens < 0 {
		return cfg, fmt.Errorf("experiments: E2: completions = %d and tokens = %d must be positive, or 0 for the scale's (%d and %d)",
			f.Completions, f.Tokens, cfg.Completions, cfg.NewTokens)
	}
	if cfg.Layers, err = ParseLayers(f.Layers); err != nil {
		return cfg, err
	}
	cfg.Coeff, cfg.Sampling.Seed = f.Coeff, f.Seed
	if f.Completions > 0 {
		cfg.Completions = f.Completions
	}
	if f.Tokens > 0 {
		cfg.NewTokens = f.Tokens
	}
	return cfg, nil
}

// ConceptNetFlags are E3's notebook parameters.
type ConceptNetFlags struct {
	Scale    string  // ScalePaper or ScaleQuick
	Layer    int     // injection layer, or ScaledLayer (-1)
	Coeff    float64 // c
	MaxItems int     // score only the first MaxItems probes, 0 all; -1 keeps the scale's
}

// Config returns the scale's E3 config with the flags applied.
func (f ConceptNetFlags) Config() (ConceptNetConfig, error) {
	cfg, err := ConceptNetAt(f.Scale)
	if err != nil {
		return cfg, err
	}
	if f.MaxItems < -1 {
		return cfg, fmt.Errorf("experiments: E3: max_items = %d: give 0 (all) or more, or -1 for the scale's (%d)", f.MaxItems, cfg.MaxItems)
	}
	cfg.Layer, cfg.Coeff = f.Layer, f.Coeff
	if f.MaxItems >= 0 {
		cfg.MaxItems = f.MaxItems
	}
	return cfg, nil
}

// OverheadFlags are E4's notebook parameters.
type OverheadFlags struct {
	Scale  string // ScalePaper or ScaleQuick
	Shapes string // comma-separated model shapes (spaces around them ignored); "" keeps the scale's
	// Seeds, Batch, Seq, Reps and OpsReps: 0 keeps the scale's.
	Seeds, Batch, Seq, Reps, OpsReps int
}

// Config returns the scale's E4 config with the flags applied. Shapes are checked here
// (ShapeConfig), so that a typo fails before any model is built.
func (f OverheadFlags) Config() (OverheadConfig, error) {
	cfg, err := OverheadAt(f.Scale)
	if err != nil {
		return cfg, err
	}
	if shapes := splitList(f.Shapes); len(shapes) > 0 {
		for _, s := range shapes {
			if _, err := ShapeConfig(s); err != nil {
				return cfg, err
			}
		}
		cfg.Shapes = shapes
	} else if strings.TrimSpace(f.Shapes) != "" {
		return cfg, fmt.Errorf("experiments: E4: shapes %q names no shape: give e.g. \"gpt2, gpt2-xl\", or nothing for the scale's", f.Shapes)
	}
	for _, v := range []struct {
		name string
		flag int
		dst  *int
	}{{"seeds", f.Seeds, &cfg.Seeds}, {"batch", f.Batch, &cfg.Batch}, {"seq", f.Seq, &cfg.Seq}, {"reps", f.Reps, &cfg.Reps}, {"ops_reps", f.OpsReps, &cfg.OpsReps}} {
		switch {
		case v.flag < 0:
			return cfg, fmt.Errorf("experiments: E4: %s = %d must be positive, or 0 for the scale's (%d)", v.name, v.flag, *v.dst)
		case v.flag > 0:
			*v.dst = v.flag
		}
	}
	return cfg, nil
}

// ParseLayers reads a comma-separated list of layers such as "0, 6,12": "" (or only spaces)
// is nil, meaning every layer; empty items are skipped; anything else must be a non-negative
// integer. A list with separators but no layer (",") is an error, never an empty sweep.
func ParseLayers(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range splitList(s) {
		l, err := strconv.Atoi(f)
		if err != nil || l < 0 {
			return nil, fmt.Errorf("experiments: layers %q: %q is not a layer number (0, 1, …)", s, f)
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("experiments: layers %q names no layer: give e.g. \"0,6,12\", or nothing for all layers", s)
	}
	return out, nil
}

// splitList splits a comma-separated list, trimming spaces around items and dropping empty ones.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
