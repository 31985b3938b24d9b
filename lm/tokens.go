package lm

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
)

// TokensTensor checks a batch of token rows (equal lengths, ids in [0, vocab), at most context
// long) and packs it as an int32 [batch, seq] tensor: the input of every forward pass. Errors
// begin with who (the package asking) and say what to do; the one for an empty row ends with
// emptyRowHint (e.g. " (prepend BOS 50256)"), which may be "".
func TokensTensor(who, emptyRowHint string, vocab, context int, rows [][]int) (*tensors.Tensor, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty batch: give at least one row of tokens", who)
	}
	seq := len(rows[0])
	if seq == 0 {
		return nil, fmt.Errorf("%s: empty token row: every prompt needs at least one token%s", who, emptyRowHint)
	}
	if seq > context {
		return nil, fmt.Errorf("%s: %d tokens exceed the model's context of %d positions: shorten the text", who, seq, context)
	}
	flat := make([]int32, 0, len(rows)*seq)
	for i, r := range rows {
		if len(r) != seq {
			return nil, fmt.Errorf("%s: row %d has %d tokens but row 0 has %d: rows of a batch must have equal length (pad them)", who, i, len(r), seq)
		}
		for _, t := range r {
			if t < 0 || t >= vocab {
				return nil, fmt.Errorf("%s: token id %d in row %d is outside the vocabulary [0, %d)", who, t, i, vocab)
			}
			flat = append(flat, int32(t))
		}
	}
	return tensors.FromFlatDataAndDimensions(flat, len(rows), seq), nil
}

// PositionsTensor is the int32 [batch, seq] tensor of positions start, start+1, ... in every row.
func PositionsTensor(batch, seq, start int) *tensors.Tensor {
	flat := make([]int32, batch*seq)
	for i := range flat {
		flat[i] = int32(start + i%seq)
	}
	return tensors.FromFlatDataAndDimensions(flat, batch, seq)
}
