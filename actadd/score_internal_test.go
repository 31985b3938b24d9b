package actadd

import "testing"

func TestScoringBatchesCapTokens(t *testing.T) {
	p := &prepared{context: 1024}
	lens := []int{5, 900, 12, 300, 40, 1000, 7, 64, 64, 200}
	for _, n := range lens {
		p.rows = append(p.rows, preparedRow{tokens: make([]int, n)})
	}
	seen := map[int]int{}
	for _, bt := range p.scoringBatches(4, 1024) {
		longest := 0
		for _, i := range bt.idx {
			longest = max(longest, p.paddedLen(i))
			seen[i]++
		}
		if bt.width > 1 && bt.width*longest > 1024 {
			t.Errorf("batch %v: %d rows × %d tokens exceed the cap of 1024", bt.idx, bt.width, longest)
		}
		if bt.width != 4 && bt.width != 2 && bt.width != 1 {
			t.Errorf("batch width %d is not 4 halved", bt.width)
		}
	}
	for i := range lens {
		if seen[i] != 1 {
			t.Errorf("row %d is in %d batches, want 1", i, seen[i])
		}
	}
	if got := len(p.scoringBatches(4, 0)); got != 3 {
		t.Errorf("without a cap: %d batches of 4, want 3", got)
	}
}
