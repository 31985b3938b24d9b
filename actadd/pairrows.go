package actadd

// Pair rows: a steered prefill can build the steering vectors of its prompt pairs in the same
// pass instead of taking them from a separate vector pass, so that a generation sweep compiles
// two programs (prefill and decoding step) instead of three. The pairs' prompts (p+ and p− of
// each pair, BOS and space-padded to the pair's length) are appended to the batch as extra
// token rows; at each layer's hook point the vector of a slot is the difference of its two pair
// rows' stream there, x[p+, j] − x[p−, j]. That is h(p+) − h(p−) at that layer because pair rows
// are never edited (the scatter only touches the batch's own rows) and attention is causal (pair
// rows are right-padded to the batch's length). Outputs drop the pair rows (steering.Own).
//
// This file plans a job's pair rows on the host; what a steered program does with them, and the
// two steering inputs that name them, are in steer.go with the edit.

// fewPairs reports whether a generation job builds its steering vectors in the steered prefill
// (pair rows) rather than in a separate pass: when its additions without a given vector use few
// distinct prompt pairs, at most one per 16 rows of a batch (and always one), so that the pair
// rows (two per pair) grow a batch by at most an eighth. A job over many pairs pays one more
// program (the vector pass) instead of much larger prefills.
func fewPairs(rows []Row, batchSize int) bool {
	pairs := map[[2]string]bool{}
	for _, r := range rows {
		for _, a := range r.Adds {
			if a.Vector == nil {
				pairs[pairKey(a)] = true
			}
		}
	}
	return len(pairs) <= max(1, batchSize/16)
}

// pairKey identifies an addition's prompt pair.
func pairKey(a Addition) [2]string { return [2]string{a.Plus, a.Minus} }

// withPairRows appends the job's pair rows, right-padded with the space token to seq, to a
// batch's token rows.
func (p *prepared) withPairRows(seqs [][]int, seq int) [][]int {
	if !p.pairRows() {
		return seqs
	}
	all := append([][]int(nil), seqs...)
	for _, row := range p.pairTokens {
		all = append(all, padRight(row, seq, p.pad))
	}
	return all
}

// padRight returns a copy of ids right-padded to n with pad, the tokenizer's padding token
// (lm.Tokenizer.Pad: GPT-2's single space).
func padRight(ids []int, n, pad int) []int {
	out := make([]int, n)
	copy(out, ids)
	for j := len(ids); j < n; j++ {
		out[j] = pad
	}
	return out
}
