package experiments_test

import (
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/experiments"
)

// E1, E2 and E3 run on the offline stand-ins of the Llama family as on GPT-2's: the results name
// the stand-in, which figures and sidecars mark as one.
func TestExperimentsOnLlamaFamily(t *testing.T) {
	for _, name := range []string{"tiny-llama", "tiny-qwen3"} {
		t.Run(name, func(t *testing.T) {
			m := actaddtest.StandIn(t, name)
			wcfg := quick(t, experiments.WeddingAt)
			wcfg.Completions, wcfg.NewTokens, wcfg.Examples, wcfg.Progress = 2, 4, 1, quiet
			w, err := experiments.WeddingSweep(m, wcfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Sweep.Steered()) != m.Layers() || !w.TinyStandIn || !strings.HasPrefix(w.Model, name+" (random-weight") {
				t.Errorf("E2 on %s: %d steered settings for %d layers, model %q (stand-in %t)", name, len(w.Sweep.Steered()), m.Layers(), w.Model, w.TinyStandIn)
			}
			pcfg := quick(t, experiments.PerplexityAt)
			pcfg.Data = &experiments.DocumentSet{Docs: weddingDocs, Source: "test corpus", Tag: "test tag"}
			pcfg.Docs, pcfg.MinBinDocs, pcfg.Progress = 4, 0, quiet
			p, err := experiments.Perplexity(m, pcfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Layers) != 1 || len(p.Layers[0].Docs) != 4 {
				t.Errorf("E1 on %s: %d layers", name, len(p.Layers))
			}
			// E3's probes are filtered with the model's own tokenizer: few records of the
			// embedded sample have a single-token label in a tiny vocabulary, but some do.
			ccfg := quick(t, experiments.ConceptNetAt)
			ccfg.Progress, ccfg.MaxItems = quiet, 5
			c, err := experiments.ConceptNet(m, ccfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.Items == 0 || len(c.Steered) != len(c.Ks) || c.Filter == nil {
				t.Errorf("E3 on %s: %d items, filter %v", name, c.Items, c.Filter)
			}
		})
	}
}

// E4 runs over the sizes of one family, here the Llama family's stand-ins' shapes, its points
// named by shape and its title saying the weights are random.
func TestOverheadOverLlamaShapes(t *testing.T) {
	cfg := quick(t, experiments.OverheadAt)
	cfg.Shapes, cfg.Seeds, cfg.Batch, cfg.Seq, cfg.Reps, cfg.OpsReps, cfg.Progress = []string{"tiny-llama", "tiny-qwen3"}, 1, 1, 32, 2, 2, quiet
	res, err := experiments.Overhead(tinyModel(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Shapes) != 2 || !res.TinyStandIn || !strings.Contains(res.Model, experiments.RandomWeightsLLMLabel) {
		t.Fatalf("%d shapes, model %q, stand-in %t", len(res.Shapes), res.Model, res.TinyStandIn)
	}
	for _, s := range res.Shapes {
		if s.NLayer != 4 || s.NEmbd != 64 || s.Params <= 0 || !(s.BaseMean > 0) || !(s.SteeredMean > 0) || len(s.Runs) != 1 {
			t.Errorf("shape %s: %+v", s.Shape, s)
		}
	}
	if _, err := res.Figures(); err != nil {
		t.Fatal(err)
	}
}
