package actadd_test

import (
	"math"
	"testing"

	"github.com/actadd-go/actadd/actadd"
)

// ForwardTokens must compute the same logits as Logits (its checksum is their sum), steered or
// not, and report rows too short for the vector.
func TestForwardTokensSumsTheLogits(t *testing.T) {
	m, _ := models(t)
	prompt := "I went up to my friend and said"
	row := m.Tok.EncodeWithBOS(prompt)
	add := actadd.Pair(" weddings", "", 4).AtLayer(1)
	var sums [2]float64
	for i, adds := range [][]actadd.Addition{nil, {add}} {
		logits, err := m.Logits(prompt, adds...)
		if err != nil {
			t.Fatal(err)
		}
		want := 0.0
		for _, r := range logits {
			for _, v := range r {
				want += float64(v)
			}
		}
		got, err := m.ForwardTokens([][]int{row, row}, adds...)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-2*want) > 1e-3*math.Max(1, math.Abs(2*want)) {
			t.Errorf("additions %v: ForwardTokens = %g, want twice the sum of Logits = %g", adds, got, 2*want)
		}
		sums[i] = got
	}
	if sums[0] == sums[1] {
		t.Error("steering did not change ForwardTokens' logits")
	}
	if _, err := m.ForwardTokens([][]int{{row[0]}}, actadd.Pair("This is a test prompt.", "", 1)); err == nil {
		t.Error("ForwardTokens accepted a row shorter than the steering vector")
	}
	if _, err := m.ForwardTokens(nil); err == nil {
		t.Error("ForwardTokens accepted no rows")
	}
}

// SteeringOpsTime runs on any model and rejects shapes, layers and vectors it cannot time.
func TestSteeringOpsTime(t *testing.T) {
	m, _ := models(t)
	add := actadd.Pair(" weddings", "", 4).AtLayer(m.Config.NLayer - 1)
	v, err := m.Vector(add)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SteeringOpsTime(add, 2, 8, 2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		add              actadd.Addition
		batch, seq, reps int
	}{
		{add, 0, 8, 2}, {add, 2, v.N - 1, 2}, {add.AtLayer(m.Config.NLayer), 2, 8, 2}, {add.AtLayer(-1), 2, 8, 2},
		{add, 2, 8, 0}, {add, 2, m.Config.NPositions + 1, 2},
	} {
		if _, err := m.SteeringOpsTime(c.add, c.batch, c.seq, c.reps); err == nil {
			t.Errorf("SteeringOpsTime(%s, batch %d, seq %d, reps %d): no error", c.add, c.batch, c.seq, c.reps)
		}
	}
}
