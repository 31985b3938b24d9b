package actadd_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/lm/lmtest"
	"github.com/actadd-go/actadd/loader"
)

// Steering and generation run end to end, through the loader and the seam, on the offline
// stand-in of every Llama-family architecture: BOS as each tokenizer says, pair padding with
// the tokenizer's Pad, the KV-cached decoder equal to recomputation, the steered completions
// different from the unsteered ones.
func TestLlamaFamilyStandIns(t *testing.T) {
	opts := hfhub.Options{CacheDir: t.TempDir(), Offline: true}
	for _, name := range []string{"tiny-llama", "tiny-mistral", "tiny-qwen2", "tiny-qwen3"} {
		t.Run(name, func(t *testing.T) {
			g, tok, err := loader.LoadWith(testbackend.Get(t), name, opts)
			if err != nil {
				t.Fatal(err)
			}
			lmtest.Check(t, g)
			m, err := actadd.Wrap(g, tok, "go")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Name, "random-weight") || m.Family() != strings.TrimPrefix(name, "tiny-") {
				t.Errorf("model %q of family %q", m.Name, m.Family())
			}
			bos, hasBOS := tok.BOS()
			ids := m.EncodeWithBOS("I went up to my friend")
			if hasBOS != (name == "tiny-llama" || name == "tiny-mistral") || (hasBOS && ids[0] != bos) {
				t.Errorf("BOS %d %t; prompt tokens %v", bos, hasBOS, ids)
			}
			add := actadd.Pair(" weddings", "", 8).AtLayer(1)
			opts := actadd.GenerateOptions{MaxNewTokens: 6, Sampling: actadd.Greedy}
			cmp, err := m.Compare("I went up to my friend and said", 2, opts, add)
			if err != nil {
				t.Fatal(err)
			}
			if len(cmp.Steered) != 2 || len(cmp.Unsteered) != 2 {
				t.Fatalf("%d steered, %d unsteered completions", len(cmp.Steered), len(cmp.Unsteered))
			}
			base, err := m.Logits("I went up to my friend and said")
			if err != nil {
				t.Fatal(err)
			}
			steered, err := m.Logits("I went up to my friend and said", add)
			if err != nil {
				t.Fatal(err)
			}
			last := len(base) - 1
			if slices.Equal(base[last], steered[last]) || len(base[last]) != m.VocabSize() {
				t.Errorf("steering left the last position's %d logits unchanged", len(base[last]))
			}
			opts.NoCache = true
			again, err := m.Generate([]string{"I went up to my friend and said"}, opts, add)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again[0].Tokens, cmp.Steered[0].Tokens) {
				t.Errorf("recomputed %v, KV-cached %v", again[0].Tokens, cmp.Steered[0].Tokens)
			}
			v, err := m.Vector(add)
			if err != nil {
				t.Fatal(err)
			}
			if v.D != m.Width() || v.N != len(m.EncodeWithBOS(" weddings")) {
				t.Errorf("vector %d×%d, want %d×%d", v.N, v.D, len(m.EncodeWithBOS(" weddings")), m.Width())
			}
			lp, err := m.LogProbs([]string{"The cat sat on the mat."}, actadd.ScoreOptions{}, add)
			if err != nil || len(lp) != 1 || len(lp[0]) == 0 {
				t.Fatalf("LogProbs: %v, %v", lp, err)
			}
		})
	}
}
