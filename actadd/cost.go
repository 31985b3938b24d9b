package actadd

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/actadd-go/actadd/internal/abba"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// SteeringOpsTime measures what the addition a adds to one forward pass of batch × seq tokens:
// the ops of the steering hook (steer.go), at every layer, timed alone. Timing whole forward
// passes cannot resolve this premium: their run-to-run noise (±5% on a shared 2-core machine) is
// far larger than the premium itself.
//
// It builds two small graphs on the model's backend: one makes a fresh [batch, seq, d_model]
// stream (Neg of an input, so the graph owns the buffer as it owns a block's output), the other
// does the same and then applies the steering hook with a's vector, placement, coefficient and
// kind of hook point at all n_layer layers, gates zero except at a.Layer, as a steered program
// does. It runs them reps times each, interleaved (ABBA), and returns the mean difference per
// run: the steering premium of one forward pass in absolute time. Divide by a forward pass's time
// for the relative premium.
func (m *Model) SteeringOpsTime(a Addition, batch, seq, reps int) (time.Duration, error) {
	if batch < 1 || reps < 1 {
		return 0, fmt.Errorf("actadd: SteeringOpsTime needs batch ≥ 1 and reps ≥ 1 (got %d, %d)", batch, reps)
	}
	v, err := m.Vector(a)
	if err != nil {
		return 0, err
	}
	if v.N > seq {
		return 0, fmt.Errorf("actadd: SteeringOpsTime: the steering vector %s covers %d positions, more than the %d of a row", a, v.N, seq)
	}
	if seq > m.Config.NPositions {
		return 0, fmt.Errorf("actadd: SteeringOpsTime: %d positions exceed the model's context of %d", seq, m.Config.NPositions)
	}
	d, nLayer := m.Config.NEmbd, m.Config.NLayer
	r := rand.New(rand.NewPCG(uint64(batch), uint64(seq)))
	stream := make([]float32, batch*seq*d)
	for i := range stream {
		stream[i] = float32(r.NormFloat64())
	}
	placed := make([][]*placedAddition, batch)
	for b := range placed {
		placed[b] = []*placedAddition{{vector: v, n: v.N, layer: a.Layer, coeff: a.Coeff, start: a.Position.start(seq, v.N)}}
	}
	in := append([]any{tensors.FromFlatDataAndDimensions(stream, batch, seq, d)}, steeringInputs(placed, 1, v.N, nLayer, d, false)...)
	defer func() {
		for _, t := range in {
			t.(*tensors.Tensor).FinalizeAll()
		}
	}()
	point := a.point()

	build := func(steer bool) (*Exec, error) {
		return NewExec(m.Backend(), func(in []*Node) *Node {
			h := Neg(in[0])
			if steer {
				st := steeringHook(point, 1, false, in)
				for l := range nLayer {
					h = st.Hook(pointName(point, l), h)
				}
			}
			return h
		})
	}
	plain, err := build(false)
	if err != nil {
		return 0, err
	}
	steered, err := build(true)
	if err != nil {
		return 0, err
	}
	timeIt := func(e *Exec, in []any) (time.Duration, error) {
		start := time.Now()
		out, err := e.Call(in...)
		elapsed := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("actadd: SteeringOpsTime: %w", err)
		}
		out[0].FinalizeAll()
		return elapsed, nil
	}
	runPlain := func() (time.Duration, error) { return timeIt(plain, in[:1]) }
	runSteered := func() (time.Duration, error) { return timeIt(steered, in) }
	var with, without time.Duration
	for i := -1; i < reps; i++ { // i = -1 compiles both
		tp, ts, err := abba.Pair(i, runPlain, runSteered)
		if err != nil {
			return 0, err
		}
		if i >= 0 {
			without += tp
			with += ts
		}
	}
	return (with - without) / time.Duration(reps), nil
}
