package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/actadd-go/actadd/actadd"
)

// StepSampler samples one decoding step of a batch on the host as generation does (one
// actadd.HostSampler per row, the rows in parallel, each from its own stream), so that the
// sampler's cost per step can be timed on its own (sampler_ms_per_step).
type StepSampler struct {
	samplers []*actadd.HostSampler
	rngs     []*rand.Rand
	greedy   bool
	vocab    int
	toks     []int
	errs     []error
}

// NewStepSampler prepares s for len(history) rows whose tokens so far are history[b] (they
// give the frequency counts); row b draws from stream (s.Seed, b).
func NewStepSampler(s actadd.Sampling, vocab int, history [][]int) (*StepSampler, error) {
	if vocab < 1 || len(history) == 0 {
		return nil, fmt.Errorf("benchmarks: NewStepSampler needs a vocabulary and at least one row (got %d, %d)", vocab, len(history))
	}
	st := &StepSampler{greedy: s.Temperature == 0, vocab: vocab, toks: make([]int, len(history)), errs: make([]error, len(history))}
	for b, h := range history {
		hs, err := actadd.NewHostSampler(s, h)
		if err != nil {
			return nil, err
		}
		st.samplers = append(st.samplers, hs)
		st.rngs = append(st.rngs, s.Stream(uint64(b)))
	}
	return st, nil
}

// Next draws one token per row from logits ([rows × vocab], row-major), the rows in parallel.
// It does not record the tokens, so repeated calls sample the same step (with each row's next
// uniform).
func (st *StepSampler) Next(logits []float32) ([]int, error) {
	if len(logits) != len(st.samplers)*st.vocab {
		return nil, fmt.Errorf("benchmarks: StepSampler.Next: %d logits for %d rows of %d", len(logits), len(st.samplers), st.vocab)
	}
	u := make([]float64, len(st.samplers))
	if !st.greedy {
		for b, r := range st.rngs {
			u[b] = r.Float64()
		}
	}
	workers := min(len(st.samplers), runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for b := w; b < len(st.samplers); b += workers {
				st.toks[b], st.errs[b] = st.samplers[b].Next(logits[b*st.vocab:(b+1)*st.vocab], u[b])
			}
		})
	}
	wg.Wait()
	for b, err := range st.errs {
		if err != nil {
			return nil, fmt.Errorf("benchmarks: row %d: %w", b, err)
		}
	}
	return st.toks, nil
}
