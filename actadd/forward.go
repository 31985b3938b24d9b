package actadd

import (
	"fmt"

	"github.com/actadd-go/actadd/lm"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// ForwardTokens runs one forward pass, logits included, over rows of token ids (all of the same
// length, used as given: no BOS is added) with the additions applied to every row at their
// positions, and returns the sum of all logits. Only that scalar is copied back: it forces the
// whole pass (LM head included) to be computed and finished, without the cost of moving the
// logits to the host. It is the unit of work the inference-overhead experiment times; with no
// additions it runs the unmodified model (no hook in the graph).
//
// Each row must be at least as long as every addition's steering vector.
func (m *Model) ForwardTokens(rows [][]int, adds ...Addition) (float64, error) {
	if len(rows) == 0 {
		return 0, fmt.Errorf("actadd: ForwardTokens: no token rows: give at least one")
	}
	steered := make([]Row, len(rows))
	idx := make([]int, len(rows))
	for i := range rows {
		steered[i], idx[i] = Row{Adds: adds}, i
	}
	prep, err := m.prepareTokens(steered, rows, false)
	if err != nil {
		return 0, err
	}
	p, err := m.steeredProgram("forward", prep, func(w lm.Graph, in []*Node, st *steering) []*Node {
		logits := w.Logits(w.Forward(in[0], in[1], st.Hook()))
		return []*Node{ReduceAllSum(logits)}
	})
	if err != nil {
		return 0, err
	}
	inputs, err := m.steeredInputs(prep, batch{idx: idx, width: len(rows)}, rows)
	if err != nil {
		return 0, err
	}
	outs, err := p.Call(inputs...)
	if err != nil {
		return 0, err
	}
	defer outs[0].FinalizeAll()
	return float64(tensors.ToScalar[float32](outs[0])), nil
}
