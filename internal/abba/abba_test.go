package abba

import (
	"errors"
	"slices"
	"testing"
)

func TestPairOrder(t *testing.T) {
	var calls []string
	arm := func(name string) func() (string, error) {
		return func() (string, error) { calls = append(calls, name); return name, nil }
	}
	for i := range 4 {
		ra, rb, err := Pair(i, arm("A"), arm("B"))
		if err != nil || ra != "A" || rb != "B" {
			t.Fatalf("rep %d: got %q, %q, %v; want A, B, nil", i, ra, rb, err)
		}
	}
	if want := []string{"A", "B", "B", "A", "A", "B", "B", "A"}; !slices.Equal(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	boom := errors.New("boom")
	calls = nil
	fail := func() (string, error) { calls = append(calls, "F"); return "", boom }
	if _, _, err := Pair(1, arm("A"), fail); !errors.Is(err, boom) || !slices.Equal(calls, []string{"F"}) {
		t.Errorf("after b fails first: err %v, calls %v; want boom and no call of a", err, calls)
	}
}
