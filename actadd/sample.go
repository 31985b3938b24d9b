package actadd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Sampling is the protocol's sampler, TransformerLens's sample_logits, applied per step:
//   - Temperature 0: greedy, the argmax of the raw logits (no penalty, no filtering);
//   - else: logits /= Temperature; logits -= FreqPenalty · (count of each token among ALL tokens
//     of the row so far: BOS, prompt and generated); then top-k if TopK > 0, otherwise nucleus
//     top-p (keep the smallest set of most likely tokens whose probability reaches TopP); then
//     draw from what is left.
type Sampling struct {
	// Temperature divides the logits; 0 means greedy.
	Temperature float64
	// TopP in (0, 1]; 0 or 1 turn nucleus filtering off. Ignored when TopK is set.
	TopP float64
	// TopK keeps the K most likely tokens; 0 turns it off.
	TopK int
	// FreqPenalty (≥ 0) is subtracted from a token's logit once per earlier occurrence in the
	// row.
	FreqPenalty float64
	// Seed makes completions reproducible: row i of a call draws from its own stream (Seed, i)
	// (or (Seed, GenerateOptions.Streams[i])), so a completion does not depend on how rows are
	// batched.
	Seed uint64
}

// PaperSampling is the setting of the paper's wedding experiments: T = 1, top-p 0.3,
// frequency penalty 1, seed 0.
var PaperSampling = Sampling{Temperature: 1, TopP: 0.3, FreqPenalty: 1, Seed: 0}

// Greedy picks the most likely token at every step.
var Greedy = Sampling{}

func (s Sampling) check() error {
	switch {
	case s.Temperature < 0 || math.IsNaN(s.Temperature) || math.IsInf(s.Temperature, 0):
		return fmt.Errorf("actadd: temperature %v must be ≥ 0 (0 = greedy)", s.Temperature)
	case s.TopP < 0 || s.TopP > 1 || math.IsNaN(s.TopP):
		return fmt.Errorf("actadd: top-p %v must be in [0, 1] (0 or 1 = off)", s.TopP)
	case s.TopK < 0:
		return fmt.Errorf("actadd: top-k %d must be ≥ 0 (0 = off)", s.TopK)
	case s.FreqPenalty < 0 || math.IsNaN(s.FreqPenalty) || math.IsInf(s.FreqPenalty, 0):
		return fmt.Errorf("actadd: frequency penalty %v must be a finite number ≥ 0", s.FreqPenalty)
	}
	return nil
}

// sampler draws the next token of one row on the host, from logits copied off the backend. The
// row's random draws are made by the caller (one uniform per sampled step, from the row's own
// stream, rowRand), so that the device sampler (devsample.go) can be given the same ones.
type sampler struct {
	s      Sampling
	counts map[int]int // occurrences of each token in the row so far
	x, e   []float64   // scratch: processed logits, and exp(x - max)
	idx    []int       // scratch: token ids being selected
}

func newSampler(s Sampling, tokens []int) *sampler {
	sm := &sampler{s: s, counts: map[int]int{}}
	for _, t := range tokens {
		sm.counts[t]++
	}
	return sm
}

// rowRand is the random stream of a row: (Seed, stream), where stream is the row's index in its
// call or the caller's GenerateOptions.Streams entry.
func rowRand(s Sampling, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(s.Seed, stream)) }

// observe records a token appended to the row.
func (sm *sampler) observe(tok int) { sm.counts[tok]++ }

// errNonFinite reports logits that hold NaN or ±Inf, which no token can be drawn from.
var errNonFinite = errors.New("the model's logits are not finite (NaN or ±Inf): a steering addition too large for float32 (lower its coefficient) or a corrupt vector or checkpoint")

// temperatureOverflow is the error of logits whose division by the temperature overflows.
func temperatureOverflow(t float64) error {
	return fmt.Errorf("the logits divided by the temperature %v overflow: use a larger temperature, or 0 for greedy", t)
}

// next picks the next token from the row's logits; u in [0, 1) is the row's next uniform draw
// (unused when greedy).
func (sm *sampler) next(logits []float32, u float64) (int, error) {
	if i := nonFinite(logits); i >= 0 {
		return 0, fmt.Errorf("%w; token %d's logit is %v", errNonFinite, i, logits[i])
	}
	if sm.s.Temperature == 0 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return best, nil
	}
	best, err := sm.weigh(logits)
	if err != nil {
		return 0, err
	}
	return sm.filter().draw(sm.e, u, best), nil
}

// weigh fills x with the processed logits (divided by the temperature, less the frequency
// penalty) and e with exp(x - max x), and returns the index of the largest x.
func (sm *sampler) weigh(logits []float32) (int, error) {
	s := sm.s
	x := sm.x[:0]
	for _, v := range logits {
		x = append(x, float64(v)/s.Temperature)
	}
	sm.x = x
	if s.FreqPenalty > 0 {
		for tok, c := range sm.counts {
			x[tok] -= s.FreqPenalty * float64(c)
		}
	}
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	if math.IsInf(x[best], 0) {
		return 0, temperatureOverflow(s.Temperature)
	}
	e := sm.e[:0]
	mx := x[best]
	for _, v := range x {
		e = append(e, math.Exp(v-mx))
	}
	sm.e = e
	return best, nil
}

// keptSet says which tokens survive top-k or top-p: all of them, or those ranked at or above
// the boundary token b, ranking by processed logit x (higher first), ties by lower id.
type keptSet struct {
	all bool
	x   []float64
	xb  float64 // x[b]
	b   int
}

func (k keptSet) has(i int) bool {
	return k.all || k.x[i] > k.xb || (k.x[i] == k.xb && i <= k.b)
}

// draw picks a kept token with probability proportional to its weight e, by inverse transform
// of u in id order (as sampling from the filtered logits does). best is kept whatever the
// filter, so it is the answer when rounding leaves u·total at or past the last sum.
func (k keptSet) draw(e []float64, u float64, best int) int {
	total := 0.0
	for i, w := range e {
		if k.has(i) {
			total += w
		}
	}
	target := u * total
	acc, last := 0.0, best
	for i, w := range e {
		if k.has(i) {
			acc += w
			last = i
			if target < acc {
				return i
			}
		}
	}
	return last
}

// filter applies top-k, or else top-p, to the weighed logits. The survivors are a prefix of
// the ranking (see keptSet), found by selection in expected linear time rather than by sorting
// the whole vocabulary.
func (sm *sampler) filter() keptSet {
	s, x, e := sm.s, sm.x, sm.e
	topK := s.TopK > 0 && s.TopK < len(x)
	nucleus := s.TopK == 0 && s.TopP > 0 && s.TopP < 1
	if !nucleus && !topK {
		return keptSet{all: true}
	}
	better := func(a, b int) bool { return x[a] > x[b] || (x[a] == x[b] && a < b) }
	idx := sm.idx[:0]
	for i := range x {
		idx = append(idx, i)
	}
	sm.idx = idx
	var boundary int
	if topK {
		selectK(idx, s.TopK, better)
		boundary = idx[0]
		for _, i := range idx[:s.TopK] {
			if better(boundary, i) {
				boundary = i
			}
		}
	} else {
		mass := 0.0
		for _, w := range e {
			mass += w
		}
		boundary = selectMass(idx, e, s.TopP*mass, better)
	}
	return keptSet{x: x, xb: x[boundary], b: boundary}
}

// selectK reorders idx so that its k best elements (by better) come first, in any order.
func selectK(idx []int, k int, better func(a, b int) bool) {
	lo, hi := 0, len(idx)
	for hi-lo > 1 {
		p := partition(idx, lo, hi, better)
		switch {
		case p == k-1 || p == k:
			return
		case p > k:
			hi = p
		default:
			lo = p + 1
		}
	}
}

// selectMass returns the element b such that the elements ranked up to b (by better) are the
// smallest prefix whose weights sum to at least mass. It reorders idx.
func selectMass(idx []int, w []float64, mass float64, better func(a, b int) bool) int {
	lo, hi := 0, len(idx)
	worst := idx[0]
	for lo < hi {
		p := partition(idx, lo, hi, better)
		above := 0.0
		for _, i := range idx[lo:p] {
			above += w[i]
		}
		switch {
		case above >= mass && p > lo:
			hi = p
		case above+w[idx[p]] >= mass:
			return idx[p]
		default:
			mass -= above + w[idx[p]]
			worst = idx[p]
			lo = p + 1
		}
	}
	return worst // rounding left a sliver of mass: keep everything considered
}

// partition rearranges idx[lo:hi] around a pivot (median of three) so that better elements
// come first, and returns the pivot's final position.
func partition(idx []int, lo, hi int, better func(a, b int) bool) int {
	b := medianOf3(idx, lo, lo+(hi-lo)/2, hi-1, better)
	idx[b], idx[hi-1] = idx[hi-1], idx[b]
	pivot := idx[hi-1]
	store := lo
	for i := lo; i < hi-1; i++ {
		if better(idx[i], pivot) {
			idx[i], idx[store] = idx[store], idx[i]
			store++
		}
	}
	idx[store], idx[hi-1] = idx[hi-1], idx[store]
	return store
}

// medianOf3 returns which of positions a, b, c holds the middle element of the three.
func medianOf3(idx []int, a, b, c int, better func(a, b int) bool) int {
	x, y, z := idx[a], idx[b], idx[c]
	switch {
	case better(x, y) == better(y, z):
		return b
	case better(y, x) == better(x, z):
		return a
	}
	return c
}
