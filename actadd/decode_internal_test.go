package actadd

import (
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
)

// TestPackedStepEqualsUnpacked generates with the decoding step's matmul weights built in as
// constants (packed once by the go backend) and passed as inputs: the tokens must be the same.
// The model is wide enough (d_model 256) for the backend's packing matmul kernels.
func TestPackedStepEqualsUnpacked(t *testing.T) {
	m, g := wideModel(t)
	prompts := slices.Repeat([]string{"I went up to my friend and said"}, 8)
	for _, s := range []Sampling{Greedy, PaperSampling} {
		var got [2][]Completion
		for i, unpacked := range []bool{false, true} {
			m.tuning.unpackedStep = unpacked
			var err error
			if got[i], err = m.Generate(prompts, GenerateOptions{MaxNewTokens: 6, Sampling: s, Sampler: SamplerHost}, Pair(" weddings", "", 4).AtLayer(1)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range prompts {
			if !slices.Equal(got[0][i].Tokens, got[1][i].Tokens) {
				t.Errorf("%+v row %d: packed step %v, unpacked %v", s, i, got[0][i].Generated(), got[1][i].Generated())
			}
		}
	}
	if len(m.packed) == 0 || !g.Packs() {
		t.Errorf("no packed step program was built on the go backend")
	}
}

// TestPackedStepsStayFew: a model keeps at most maxPackedSteps packed step programs, dropping the
// least recently used one that is not running, and uses the shared unpacked program when all
// are running.
func TestPackedStepsStayFew(t *testing.T) {
	m, _ := wideModel(t)
	build := func(w *gpt2.Weights, in []*Node) []*Node { return []*Node{w.Logits(in[0])} }
	var held []*packedStep
	for i, key := range []string{"a", "b", "a"} {
		ps, err := m.acquirePacked(key, build)
		if err != nil || ps == nil {
			t.Fatalf("acquire %q: %v, %v", key, ps, err)
		}
		if i < 2 {
			held = append(held, ps)
			continue
		}
		ps.running-- // released at once
	}
	if ps, err := m.acquirePacked("c", build); ps != nil || err != nil {
		t.Errorf("c was packed while a and b were both running")
	}
	held[1].running-- // b done; a still running
	if ps, err := m.acquirePacked("c", build); err != nil || ps == nil {
		t.Fatalf("acquire c after b was released: %v, %v", ps, err)
	}
	_, a := m.packed["a"]
	_, b := m.packed["b"]
	if !a || b || len(m.packed) != maxPackedSteps {
		t.Errorf("packed %v: want a (running) and c, b dropped", m.packed)
	}
}

// wideModel is a random model wide enough (d_model 256) for the go backend's packing matmul
// kernels, on the go backend.
func wideModel(t *testing.T) (*Model, *gpt2.Model) {
	t.Helper()
	cfg := checkpoint.Config{NLayer: 2, NHead: 4, NEmbd: 256, NPositions: 64, VocabSize: 50257,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"}
	g, err := gpt2.New(testbackend.Get(t), "random test model", cfg, checkpoint.RandomTensors(cfg, 5))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Wrap(g, "go")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Finalize)
	return m, g
}
