package actadd

import (
	"fmt"
	"math/rand/v2"
	"time"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// SteeringOpsTime measures what steering adds to one forward pass of batch × seq tokens with a
// span-token vector at one layer (hook_resid_pre): the ops of the steering hook (steer.go), at
// every layer, timed alone. Timing whole forward passes cannot resolve this premium: their
// run-to-run noise (±5% on a shared 2-core machine) is far larger than the premium itself.
//
// It builds two small graphs on the model's backend: one makes a fresh [batch, seq, d_model]
// stream (Neg of an input, so the graph owns the buffer as it owns a block's output), the other
// does the same and then applies the steering hook at all n_layer layers, gates zero except at
// layer. It runs them reps times each, interleaved (ABBA), and returns the mean difference per
// run: the steering premium of one forward pass in absolute time. Divide by a forward pass's time
// for the relative premium.
func (m *Model) SteeringOpsTime(batch, seq, span, layer, reps int) (time.Duration, error) {
	cfg := m.Config
	switch {
	case batch < 1 || seq < 2 || reps < 1:
		return 0, fmt.Errorf("actadd: SteeringOpsTime needs batch ≥ 1, seq ≥ 2 and reps ≥ 1 (got %d, %d, %d)", batch, seq, reps)
	case span < 1 || span >= seq:
		return 0, fmt.Errorf("actadd: SteeringOpsTime: a %d-token vector does not fit after BOS in %d positions", span, seq)
	case layer < 0 || layer >= cfg.NLayer:
		return 0, fmt.Errorf("actadd: layer %d is out of range: %s has layers 0..%d", layer, m.Name, cfg.NLayer-1)
	}
	d, nLayer := cfg.NEmbd, cfg.NLayer
	r := rand.New(rand.NewPCG(uint64(batch), uint64(seq)))
	randoms := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	pos := make([]int32, batch*span)
	for i := range pos {
		pos[i] = int32(1 + i%span) // front placement, after BOS
	}
	gates := make([]float32, nLayer*batch)
	for i := range batch {
		gates[layer*batch+i] = 1
	}
	in := []any{tensors.FromFlatDataAndDimensions(randoms(batch*seq*d), batch, seq, d),
		tensors.FromFlatDataAndDimensions(randoms(batch*span*d), 1, batch, span, d),
		tensors.FromFlatDataAndDimensions(pos, 1, batch, span),
		tensors.FromFlatDataAndDimensions(gates, nLayer, 1, batch)}
	defer func() {
		for _, t := range in {
			t.(*tensors.Tensor).FinalizeAll()
		}
	}()

	build := func(steer bool) (*Exec, error) {
		return NewExec(m.Backend(), func(in []*Node) *Node {
			h := Neg(in[0])
			if steer {
				hook := steeringHook("hook_resid_pre", 1, in)
				for l := range nLayer {
					h = hook(pointName("hook_resid_pre", l), h)
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
	var with, without time.Duration
	for i := -1; i < reps; i++ { // i = -1 compiles both
		order := []bool{false, true}
		if i%2 == 1 { // ABBA
			order[0], order[1] = true, false
		}
		for _, steer := range order {
			var t time.Duration
			if steer {
				t, err = timeIt(steered, in)
			} else {
				t, err = timeIt(plain, in[:1])
			}
			if err != nil {
				return 0, err
			}
			if i < 0 {
				continue
			}
			if steer {
				with += t
			} else {
				without += t
			}
		}
	}
	return (with - without) / time.Duration(reps), nil
}
