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
	row := m.EncodeWithBOS(prompt)
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
