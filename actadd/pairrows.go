package actadd

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Pair rows: a steered prefill can build the steering vectors of its prompt pairs in the same
// pass instead of taking them from a separate vector pass, so that a generation sweep compiles
// two programs (prefill and decoding step) instead of three. The pairs' prompts (p+ and p− of
// each pair, BOS and space-padded to the pair's length) are appended to the batch as extra
// token rows; at each layer's hook point the vector of a slot is the difference of its two pair
// rows' stream there, x[p+, j] − x[p−, j]. That is h(p+) − h(p−) at that layer because pair rows
// are never edited (the scatter only touches the batch's own rows) and attention is causal (pair
// rows are right-padded to the batch's length). Outputs drop the pair rows (steering.Own).
//
// A program with pair rows takes two more steering inputs after vectors, positions and gates
// (steer.go):
//
//	pairs     [K, batch, 2]    int32    which pair rows are slot k's p+ and p− (0-based among them)
//	pairMask  [K, batch, span] float32  1 for the vector's own rows (j < its length); 0 past it and
//	                                    for slots whose vector is given in vectors

// pairRowInputs is the number of steering inputs pair rows add.
const pairRowInputs = 2

// pairRows is the pair-row part of a steered program's graph.
type pairRows struct {
	pairs, mask *Node
	count, span int // pair rows appended to the batch, and the longest vector
}

func newPairRows(in []*Node, count, span int) *pairRows {
	return &pairRows{pairs: in[0], mask: in[1], count: count, span: span}
}

// addVectors adds to the given vectors [K, batch, span, d] those the pair rows of x (the stream
// [batch + pair rows, seq, d] at one hook point) build.
func (p *pairRows) addVectors(vectors, x *Node) *Node {
	n := x.Shape().Dimensions[0]
	xp := Slice(x, AxisRange(n-p.count, n), AxisRange(0, p.span)) // [P, span, d]
	plus := Gather(xp, SliceAxis(p.pairs, -1, AxisRange(0, 1)))   // [K, batch, span, d]
	minus := Gather(xp, SliceAxis(p.pairs, -1, AxisRange(1, 2)))
	return Add(vectors, Mul(Sub(plus, minus), ExpandAxes(p.mask, -1)))
}

// own slices x, whose first axis is the batch's rows and then the pair rows (possibly merged with
// a following axis), to the first batch rows.
func (p *pairRows) own(x *Node, batch int) *Node {
	n := x.Shape().Dimensions[0]
	return SliceAxis(x, 0, AxisRange(0, n/(batch+p.count)*batch))
}

// pairRowTensors packs the pair-row inputs of a batch's placed additions.
func pairRowTensors(rows [][]placedAddition, k, span int) []any {
	batch := len(rows)
	pairs := make([]int32, k*batch*2)
	mask := make([]float32, k*batch*span)
	for b, r := range rows {
		for s, a := range r {
			if a.vector != nil {
				continue
			}
			slot := s*batch + b
			pairs[2*slot], pairs[2*slot+1] = int32(2*a.pair), int32(2*a.pair+1)
			for j := range a.n {
				mask[slot*span+j] = 1
			}
		}
	}
	return []any{tensors.FromFlatDataAndDimensions(pairs, k, batch, 2), tensors.FromFlatDataAndDimensions(mask, k, batch, span)}
}

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
