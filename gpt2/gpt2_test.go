package gpt2_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/reference"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/gomlx/gomlx/core/tensors"
)

// testConfigs differ in layers, heads and width.
var testConfigs = []checkpoint.Config{
	{NLayer: 2, NHead: 2, NEmbd: 8, NPositions: 32, VocabSize: 40, LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"},
	{NLayer: 3, NHead: 4, NEmbd: 32, NPositions: 64, VocabSize: 97, LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"},
}

func newModel(t testing.TB, cfg checkpoint.Config, seed int64) (*gpt2.Model, *reference.Model) {
	t.Helper()
	w := checkpoint.RandomTensors(cfg, seed)
	m, err := gpt2.New(testbackend.Get(t), "random test model", cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := reference.New(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	return m, ref
}

func randomRows(r *rand.Rand, batch, seq, vocab int) [][]int {
	rows := make([][]int, batch)
	for b := range rows {
		for range seq {
			rows[b] = append(rows[b], r.IntN(vocab))
		}
	}
	return rows
}

// maxDiff compares a [batch, seq, n] float32 tensor with per-row float64 references.
// checkReference compares out, a forward pass on rows, with ref's on each row: the logits and
// the activations at points, within 1e-4.
func checkReference(t *testing.T, out *gpt2.Output, ref *reference.Model, rows [][]int, points []string) {
	t.Helper()
	wantLogits := make([][][]float64, len(rows))
	wantActs := map[string][][][]float64{}
	for b, row := range rows {
		logits, hooks, err := ref.Forward(row, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantLogits[b] = logits
		for _, p := range points {
			wantActs[p] = append(wantActs[p], hooks[p])
		}
	}
	if d := maxDiff(t, out.Logits, wantLogits); d > 1e-4 {
		t.Errorf("logits differ from the float64 reference by %g", d)
	}
	for _, p := range points {
		if d := maxDiff(t, out.Activations[p], wantActs[p]); d > 1e-4 {
			t.Errorf("%s differs from the float64 reference by %g", p, d)
		}
	}
}

func maxDiff(t *testing.T, got *tensors.Tensor, want [][][]float64) float64 {
	t.Helper()
	flat := tensors.MustCopyFlatData[float32](got)
	worst := 0.0
	i := 0
	for _, row := range want {
		for _, pos := range row {
			for _, v := range pos {
				worst = max(worst, math.Abs(float64(flat[i])-v))
				i++
			}
		}
	}
	if i != len(flat) {
		t.Fatalf("tensor %s has %d values, reference %d", got.Shape(), len(flat), i)
	}
	return worst
}

func TestForwardMatchesFloat64Reference(t *testing.T) {
	for ci, cfg := range testConfigs {
		m, ref := newModel(t, cfg, int64(10+ci))
		points := gpt2.HookPoints(cfg.NLayer)
		r := rand.New(rand.NewPCG(uint64(ci), 7))
		for _, seq := range []int{1, 9} {
			t.Run(fmt.Sprintf("config%d/seq%d", ci, seq), func(t *testing.T) {
				rows := randomRows(r, 3, seq, cfg.VocabSize)
				out, err := m.Run(rows, points...)
				if err != nil {
					t.Fatal(err)
				}
				checkReference(t, out, ref, rows, points)
			})
		}
	}
}

func TestParseHookPointIsStrict(t *testing.T) {
	for _, bad := range []string{"blocks.01.hook_resid_pre", "blocks.1.hook_resid_pre.x", "blocks.1.hook_resid_pre ", "blocks.2.hook_resid_pre", "blocks.-1.hook_resid_pre", "hook_nope"} {
		if _, err := gpt2.ParseHookPoint(bad, 2); err == nil {
			t.Errorf("ParseHookPoint(%q) accepted a malformed or out-of-range name", bad)
		}
	}
	for _, p := range gpt2.HookPoints(2) {
		if _, err := gpt2.ParseHookPoint(p, 2); err != nil {
			t.Errorf("ParseHookPoint(%q): %v", p, err)
		}
	}
}

// TestManyShapes runs more distinct sequence lengths than GoMLX's default executable cache
// holds: a long session must never run out of programs.
func TestManyShapes(t *testing.T) {
	cfg := testConfigs[0]
	cfg.NPositions = 80
	m, _ := newModel(t, cfg, 3)
	r := rand.New(rand.NewPCG(9, 9))
	for seq := 1; seq <= 70; seq++ {
		if _, err := m.Run(randomRows(r, 1, seq, cfg.VocabSize)); err != nil {
			t.Fatalf("sequence length %d: %v", seq, err)
		}
	}
}
