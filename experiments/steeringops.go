package experiments

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/internal/abba"
	"github.com/actadd-go/actadd/lm/hookpoint"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// SteeringOpsTime measures what addition a adds to one forward pass of batch × seq tokens of m:
// the ops of the steering edit (actadd's steer.go) at every layer, timed alone, because the
// run-to-run noise of whole forward passes on a shared machine is far larger than the premium
// itself.
//
// It builds two small graphs on the model's backend: one makes a fresh [batch, seq, d_model]
// stream (Neg of an input, so the graph owns the buffer as it owns a block's output), the other
// does the same and then applies the steering hook with a's vector, placement, coefficient and
// kind of hook point at all n_layer layers, gates zero except at a.Layer, as a steered program
// does. It runs them reps times each, interleaved (ABBA), and returns the mean difference per
// run: the steering premium of one forward pass in absolute time. Divide by a forward pass's time
// for the relative premium.
func SteeringOpsTime(m *actadd.Model, a actadd.Addition, batch, seq, reps int) (time.Duration, error) {
	if batch < 1 || reps < 1 {
		return 0, fmt.Errorf("experiments: SteeringOpsTime needs batch ≥ 1 and reps ≥ 1 (got %d, %d)", batch, reps)
	}
	steerIn, hook, err := m.SteeringHook(a, batch, seq)
	if err != nil {
		return 0, err
	}
	d, nLayer := m.Width(), m.Layers()
	r := rand.New(rand.NewPCG(uint64(batch), uint64(seq)))
	stream := make([]float32, batch*seq*d)
	for i := range stream {
		stream[i] = float32(r.NormFloat64())
	}
	in := append([]*tensors.Tensor{tensors.FromFlatDataAndDimensions(stream, batch, seq, d)}, steerIn...)
	defer func() {
		for _, t := range in {
			t.FinalizeAll()
		}
	}()
	point := a.Point
	if point == "" {
		point = actadd.DefaultPoint
	}
	build := func(steer bool) (*Exec, error) {
		return NewExec(m.Backend(), func(in []*Node) *Node {
			h := Neg(in[0])
			if steer {
				edit := hook(in)
				for l := range nLayer {
					h = edit(hookpoint.Block(l, point), h)
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
	timeIt := func(e *Exec, in []*tensors.Tensor) (time.Duration, error) {
		args := make([]any, len(in))
		for i, t := range in {
			args[i] = t
		}
		start := time.Now()
		out, err := e.Call(args...)
		elapsed := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("experiments: SteeringOpsTime: %w", err)
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
