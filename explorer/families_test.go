package explorer_test

import (
	"context"
	"slices"
	"testing"

	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/explorer"
)

// The explorer's columns and layer curve work on a Llama-family stand-in: one column per
// completion, a curve point per layer, the curve at the settings' layer equal to the steered
// column.
func TestExplorerOnLlamaFamily(t *testing.T) {
	m := actaddtest.StandIn(t, "tiny-llama")
	s := settings()
	cols, err := explorer.Generate(context.Background(), m, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cols.Done || len(cols.Steered) != s.N || len(cols.Unsteered) != s.N {
		t.Fatalf("columns: done %v, %d steered, %d unsteered", cols.Done, len(cols.Steered), len(cols.Unsteered))
	}
	c, err := explorer.LayerCurve(context.Background(), m, s, cols.Unsteered, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Done || len(c.Layers) != m.Layers() || !slices.Equal(c.Texts[s.Layer], cols.Steered) {
		t.Errorf("curve: done %v, %d layers (model has %d); at layer %d %q, steered column %q", c.Done, len(c.Layers), m.Layers(), s.Layer, c.Texts[s.Layer], cols.Steered)
	}
}
