package actadd

import (
	"fmt"
	"math/rand/v2"
)

// StepSampler is the host sampler GenerateRows uses, for one batch, exposed so that its cost
// per decoding step can be timed on its own (benchmarks: make bench's sampler_ms_per_step).
type StepSampler struct {
	samplers []*sampler
	rngs     []*rand.Rand
	vocab    int
	toks     []int
	errs     []error
}

// NewStepSampler prepares s for len(history) rows whose tokens so far are history[b] (they
// give the frequency counts); row b draws from stream (s.Seed, b).
func NewStepSampler(s Sampling, vocab int, history [][]int) (*StepSampler, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if vocab < 1 || len(history) == 0 {
		return nil, fmt.Errorf("actadd: NewStepSampler needs a vocabulary and at least one row (got %d, %d)", vocab, len(history))
	}
	st := &StepSampler{vocab: vocab, toks: make([]int, len(history)), errs: make([]error, len(history))}
	for b, h := range history {
		st.samplers = append(st.samplers, newSampler(s, h))
		st.rngs = append(st.rngs, rowRand(s, uint64(b)))
	}
	return st, nil
}

// Next draws one token per row from logits ([rows × vocab], row-major), the rows in parallel
// as in GenerateRows. It does not record the tokens, so repeated calls sample the same step
// (with each row's next uniform, drawn as GenerateRows draws it).
func (st *StepSampler) Next(logits []float32) ([]int, error) {
	if len(logits) != len(st.samplers)*st.vocab {
		return nil, fmt.Errorf("actadd: StepSampler.Next: %d logits for %d rows of %d", len(logits), len(st.samplers), st.vocab)
	}
	u := make([]float64, len(st.samplers))
	if st.samplers[0].s.Temperature != 0 {
		for b, r := range st.rngs {
			u[b] = r.Float64()
		}
	}
	parallelRows(len(st.samplers), func(b int) {
		st.toks[b], st.errs[b] = st.samplers[b].next(logits[b*st.vocab:(b+1)*st.vocab], u[b])
	})
	for b, err := range st.errs {
		if err != nil {
			return nil, fmt.Errorf("actadd: row %d: %w", b, err)
		}
	}
	return st.toks, nil
}
