package actadd

import (
	"fmt"
	"math"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
)

// TestPairRowsEqualGivenVectors checks the steered prefill that builds its vectors from pair
// rows in the same pass (what generation uses) against the same prefill given the vectors of a
// separate vector pass: equal last-position logits and equal KV caches of the batch's own rows
// (the pair rows must be dropped from both), for mixed batches (rows without additions, two
// additions on a row, a given vector among pair ones, every placement) at two kinds of point.
func TestPairRowsEqualGivenVectors(t *testing.T) {
	cfg := checkpoint.Config{NLayer: 4, NHead: 4, NEmbd: 32, NPositions: 64, VocabSize: 50257,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"}
	m, _ := randomModel(t, "random test model", cfg, 7)
	given, err := m.Vector(Pair("Anger", "Calm", 1).AtLayer(1))
	if err != nil {
		t.Fatal(err)
	}
	prompt := "I went up to my friend and said" // 9 tokens with BOS, as every row here
	for _, point := range []string{"hook_resid_pre", "hook_resid_post"} {
		rows := []Row{
			{Prompt: prompt},
			{Prompt: prompt, Adds: []Addition{Pair(" weddings", "", 4).AtLayer(0)}},
			{Prompt: prompt, Adds: []Addition{Pair("Love", "Hate", 5).AtLayer(2).AtPosition(Back), Pair(" weddings", "", -2).AtLayer(3).AtPosition(Mid)}},
			{Prompt: prompt, Adds: []Addition{Apply(given, 3).AtLayer(2), Pair("Love", "Hate", 1).AtLayer(1)}},
		}
		for i := range rows {
			for j := range rows[i].Adds {
				if rows[i].Adds[j].Vector == nil {
					rows[i].Adds[j] = rows[i].Adds[j].AtPoint(point)
				} else {
					v := *given
					v.Point = point
					rows[i].Adds[j].Vector, rows[i].Adds[j].Point = &v, point
				}
			}
		}
		t.Run(point, func(t *testing.T) {
			run := func(pairRows bool) ([]float32, [][]float32) {
				t.Helper()
				prep, err := m.prepareRows(rows, pairRows)
				if err != nil {
					t.Fatal(err)
				}
				if prep.pairRows() != pairRows {
					t.Fatalf("prepared with pairRows=%v, asked for %v", prep.pairRows(), pairRows)
				}
				bts := prep.batches(len(rows), paddedTail)
				if len(bts) != 1 {
					t.Fatalf("rows make %d batches, want 1 (equal prompt lengths)", len(bts))
				}
				bt := bts[0]
				seqs := make([][]int, bt.width)
				for b := range seqs {
					seqs[b] = prep.rows[bt.row(b)].tokens
				}
				outs, err := steeredPrompts{m, prep, bt}.prefill(seqs, 32, samplingHead{}, nil, false, bt.width)
				if err != nil {
					t.Fatal(err)
				}
				var kv [][]float32
				for _, c := range outs[1:] {
					kv = append(kv, take[float32](c))
				}
				return take[float32](outs[0]), kv
			}
			wantLogits, wantKV := run(false)
			gotLogits, gotKV := run(true)
			closeTo(t, "logits", gotLogits, wantLogits)
			if len(gotKV) != len(wantKV) {
				t.Fatalf("%d cache tensors, want %d", len(gotKV), len(wantKV))
			}
			for i := range wantKV {
				closeTo(t, fmt.Sprintf("cache tensor %d", i), gotKV[i], wantKV[i])
			}
		})
	}
}

func closeTo(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, scale := 0.0, 1.0
	for i := range want {
		worst = max(worst, math.Abs(float64(got[i]-want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	if worst > 1e-5*scale {
		t.Errorf("%s: pair rows differ from given vectors by up to %g (values up to %g)", what, worst, scale)
	}
}

func TestFewPairs(t *testing.T) {
	sweep := func(pairs int) []Row {
		var rows []Row
		for p := range pairs {
			for l := range 3 {
				rows = append(rows, Row{Prompt: "x", Adds: []Addition{Pair(fmt.Sprint("plus", p), "", 1).AtLayer(l)}})
			}
		}
		return rows
	}
	given := Apply(&Vector{N: 1, D: 1, Data: []float32{1}}, 1)
	for _, c := range []struct {
		rows  []Row
		batch int
		want  bool
	}{
		{sweep(1), 32, true}, {sweep(1), 1, true}, {sweep(2), 32, true}, {sweep(3), 32, false},
		{sweep(2), 8, false}, {[]Row{{Prompt: "x", Adds: []Addition{given, given}}}, 1, true},
	} {
		if got := fewPairs(c.rows, c.batch); got != c.want {
			t.Errorf("fewPairs(%d rows, batch %d) = %v, want %v", len(c.rows), c.batch, got, c.want)
		}
	}
}
