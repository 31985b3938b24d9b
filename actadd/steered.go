package actadd

import (
	"fmt"
	"slices"

	"github.com/actadd-go/actadd/lm"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// steeredPrompts are the passes of one batch of a generation job over its prompts, steered as
// its rows' additions say (decode.go's prompts): the one place generation meets steering.
type steeredPrompts struct {
	m    *Model
	prep *prepared
	bt   batch
}

func (p steeredPrompts) same() bool {
	first := p.prep.rows[p.bt.idx[0]]
	for _, i := range p.bt.idx[1:] {
		r := p.prep.rows[i]
		if !slices.Equal(r.tokens, first.tokens) || !slices.Equal(r.adds, first.adds) {
			return false
		}
	}
	return true
}

func (p steeredPrompts) rowError(b int, err error) error { return p.prep.outputError(p.bt.idx[b], err) }

// withSampling inserts the sampling inputs after a steered program's tokens and positions.
func withSampling(inputs, sampling []any) []any {
	return append(inputs[:2:2], append(sampling, inputs[2:]...)...)
}

func (p steeredPrompts) prefill(seqs [][]int, capacity int, head samplingHead, sampling []any, shared bool, width int) ([]*tensors.Tensor, error) {
	m, n := p.m, head.inputs()
	bt, name := p.bt, "prefill"
	if shared {
		bt, name = batch{idx: p.bt.idx[:1], width: 1}, fmt.Sprintf("prefill-shared/%d", width)
	}
	inputs, err := m.steeredInputs(p.prep, bt, seqs)
	if err != nil {
		return nil, err
	}
	prog, err := m.steeredProgram(fmt.Sprintf("%s/%d/%s", name, capacity, head.name()), p.prep, func(w lm.Graph, in []*Node, st *steering) []*Node {
		h, cache := w.Prefill(in[0], in[1], st.Hook(), capacity)
		// A shared prompt ran once: every row gets its logits and KV cache.
		spread := func(x *Node) *Node {
			if !shared {
				return x
			}
			dims := x.Shape().Dimensions
			return Reshape(BroadcastToDims(ExpandAxes(x, 0), append([]int{width}, dims...)...), append([]int{width * dims[0]}, dims[1:]...)...)
		}
		outs := head.build(spread(w.Logits(lastPosition(st.Own(h)))), in[2:2+n])
		for _, c := range cache {
			outs = append(outs, spread(st.Own(c)))
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	return prog.Call(withSampling(inputs, sampling)...)
}

func (p steeredPrompts) last(seqs [][]int, head samplingHead, sampling []any) ([]*tensors.Tensor, error) {
	m, n := p.m, head.inputs()
	inputs, err := m.steeredInputs(p.prep, p.bt, seqs)
	if err != nil {
		return nil, err
	}
	prog, err := m.steeredProgram("last/"+head.name(), p.prep, func(w lm.Graph, in []*Node, st *steering) []*Node {
		return head.build(w.Logits(lastPosition(st.Own(w.Forward(in[0], in[1], st.Hook())))), in[2:2+n])
	})
	if err != nil {
		return nil, err
	}
	return prog.Call(withSampling(inputs, sampling)...)
}
