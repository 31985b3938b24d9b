package lm

import "testing"

// PositionsTensor counts from start in every row.
func TestPositionsTensor(t *testing.T) {
	got := PositionsTensor(2, 3, 5).Value().([][]int32)
	for _, row := range got {
		if row[0] != 5 || row[1] != 6 || row[2] != 7 {
			t.Fatalf("PositionsTensor(2, 3, 5) = %v", got)
		}
	}
}
