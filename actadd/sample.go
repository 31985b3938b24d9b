package actadd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Sampling is the protocol's sampler, TransformerLens's sample_logits, applied per step:
//   - Temperature 0: greedy, the argmax of the raw logits (no penalty, no filtering);
//   - else: logits /= Temperature; logits -= FreqPenalty · (count of each token among ALL tokens
//     of the row so far: BOS, prompt and generated); then top-k if TopK > 0, otherwise nucleus
//     top-p (keep the smallest set of most likely tokens whose probability reaches TopP); then
//     draw from what is left.
//
// Where a model's vocabulary is padded past its tokenizer's (Qwen: 151936 embedding rows for
// 151665 tokens), the ids past the tokenizer's are never drawn, greedy or not: no text decodes
// to them. (Hugging Face's generate can draw them, and its decode then drops them.)
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

// Check reports a sampling setting that generation would refuse (a temperature, top-p or
// frequency penalty that is negative, out of range or not a finite number, a negative top-k),
// for callers that check their inputs before any work, as package sweep does.
func (s Sampling) Check() error { return s.check() }

// sampler draws the next token of one row on the host, from logits copied off the backend. The
// row's random draws are made by the caller (one uniform per sampled step, from the row's own
// stream, rowRand), so that the device sampler (devsample.go) can be given the same ones.
type sampler struct {
	s      Sampling
	counts map[int]int // occurrences of each token in the row so far
	// Scratch of one draw, filled by weigh.
	x, e   []float64 // processed logits, and exp(x − max x)
	bucket []int32   // each token's rank bucket (see filter)
	hi, lo float64   // max and min of x
	mass   float64   // Σe
	// Per rank bucket: how many tokens, and their Σe.
	bucketN [rankBuckets]float64
	bucketE [rankBuckets]float64
	idx     []int // the edge bucket's tokens
}

// rankBuckets is the number of buckets filter counts tokens into.
const rankBuckets = 4096

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

// nonFiniteLogit is errNonFinite naming the first bad logit.
func nonFiniteLogit(i int, v float32) error {
	return fmt.Errorf("%w; token %d's logit is %v", errNonFinite, i, v)
}

// temperatureOverflow is the error of logits whose division by the temperature overflows.
func temperatureOverflow(t float64) error {
	return fmt.Errorf("the logits divided by the temperature %v overflow: use a larger temperature, or 0 for greedy", t)
}

// next picks the next token from the row's logits; u in [0, 1) is the row's next uniform draw
// (unused when greedy).
func (sm *sampler) next(logits []float32, u float64) (int, error) {
	if sm.s.Temperature == 0 {
		best := 0
		for i, v := range logits {
			if v-v != 0 { // NaN − NaN and Inf − Inf are NaN
				return 0, nonFiniteLogit(i, v)
			}
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
// penalty), e with exp(x − max x) and, when a filter is on, the rank buckets; it returns the
// index of the largest x.
func (sm *sampler) weigh(logits []float32) (int, error) {
	s := sm.s
	x := slices.Grow(sm.x[:0], len(logits))[:len(logits)]
	sm.x = x
	for i, v := range logits {
		if v-v != 0 {
			return 0, nonFiniteLogit(i, v)
		}
		x[i] = float64(v)
	}
	if s.Temperature != 1 { // v/1 is v
		for i := range x {
			x[i] /= s.Temperature
		}
	}
	if s.FreqPenalty > 0 {
		for tok, c := range sm.counts {
			x[tok] -= s.FreqPenalty * float64(c)
		}
	}
	best, lo := 0, x[0]
	for i, v := range x {
		if v > x[best] {
			best = i
		}
		lo = min(lo, v)
	}
	hi := x[best]
	if math.IsInf(hi, 0) {
		return 0, temperatureOverflow(s.Temperature)
	}
	sm.hi, sm.lo = hi, lo
	e := slices.Grow(sm.e[:0], len(x))[:len(x)]
	expShifted(e, x, hi)
	mass := 0.0
	if !s.filters(len(x)) {
		for _, w := range e {
			mass += w
		}
		sm.e, sm.mass = e, mass
		return best, nil
	}
	scale := 0.0
	if hi > lo {
		scale = rankBuckets / (hi - lo)
	}
	clear(sm.bucketN[:])
	clear(sm.bucketE[:])
	bucket := slices.Grow(sm.bucket[:0], len(x))[:len(x)]
	for i, v := range x {
		w := e[i]
		mass += w
		// Monotone in v: a token in a lower bucket has a larger x than every token of a higher one.
		b := min(int32((hi-v)*scale), rankBuckets-1)
		bucket[i] = b
		sm.bucketN[b]++
		sm.bucketE[b] += w
	}
	sm.e, sm.mass, sm.bucket = e, mass, bucket
	return best, nil
}

// filters reports whether top-k or top-p applies over a vocabulary of vocab tokens (top-k when
// 0 < TopK < vocab, else top-p when 0 < TopP < 1).
func (s Sampling) filters(vocab int) bool {
	return (s.TopK > 0 && s.TopK < vocab) || (s.TopK == 0 && s.TopP > 0 && s.TopP < 1)
}

// keptSet says which tokens survive top-k or top-p: all of them, or those ranked at or above
// the boundary token b, ranking by processed logit x (higher first), ties by lower id. total is
// the kept tokens' Σe.
type keptSet struct {
	all   bool
	x     []float64
	xb    float64 // x[b]
	b     int
	total float64
}

func (k keptSet) has(i int) bool {
	return k.all || k.x[i] > k.xb || (k.x[i] == k.xb && i <= k.b)
}

// draw picks a kept token with probability proportional to its weight e, by inverse transform
// of u in id order (as sampling from the filtered logits does). best is kept whatever the
// filter, so it is the answer when rounding leaves u·total at or past the last sum.
func (k keptSet) draw(e []float64, u float64, best int) int {
	target := u * k.total
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
// the ranking (see keptSet) whose weights (e for top-p, 1 for top-k) first reach the filter's
// need (p·Σe, or k).
//
// The prefix is found without sorting the vocabulary: weigh counts the tokens into rankBuckets
// buckets of equal width in x from the largest down to the smallest, with each bucket's Σe;
// the buckets from the top add up to the need in the edge's bucket, whose few tokens alone are
// then sorted by rank.
func (sm *sampler) filter() keptSet {
	s, x, e := sm.s, sm.x, sm.e
	if !s.filters(len(x)) {
		return keptSet{all: true, total: sm.mass}
	}
	weights, need := &sm.bucketE, s.TopP*sm.mass
	if s.TopK > 0 {
		weights, need = &sm.bucketN, float64(s.TopK)
	}
	edge, above, total := -1, 0.0, 0.0
	for b, w := range weights {
		if above+w >= need {
			edge = b
			break
		}
		above += w
		total += sm.bucketE[b]
	}
	if edge < 0 { // rounding left a sliver of the need: keep everything
		return keptSet{all: true, total: sm.mass}
	}
	idx := sm.idx[:0]
	for i, b := range sm.bucket {
		if int(b) == edge {
			idx = append(idx, i)
		}
	}
	sm.idx = idx
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case x[a] > x[b]:
			return -1
		case x[a] < x[b]:
			return 1
		}
		return a - b
	})
	boundary := idx[len(idx)-1] // rounding left a sliver of the need: keep the whole bucket
	for _, i := range idx {
		if s.TopK > 0 {
			above++
		} else {
			above += e[i]
		}
		total += e[i]
		if above >= need {
			boundary = i
			break
		}
	}
	return keptSet{x: x, xb: x[boundary], b: boundary, total: total}
}

// HostSampler is the host sampler of one row, as generation draws with it (SamplerHost): the
// protocol's sampler over the row's logits, counting the row's tokens so far for the frequency
// penalty. Generation runs one per row; it is exported for callers that hold logits of their
// own, such as the benchmarks that time a decoding step's sampling alone.
type HostSampler struct{ sm *sampler }

// NewHostSampler prepares the sampler of a row whose tokens so far are history.
func NewHostSampler(s Sampling, history []int) (*HostSampler, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return &HostSampler{newSampler(s, history)}, nil
}

// Next draws the next token from the row's logits, with u in [0, 1) the row's next uniform draw
// (unused when greedy; see Sampling.Stream). It does not record the token: see Observe.
func (h *HostSampler) Next(logits []float32, u float64) (int, error) { return h.sm.next(logits, u) }

// Observe records a token appended to the row.
func (h *HostSampler) Observe(tok int) { h.sm.observe(tok) }

// Stream is the random stream generation draws row uniforms from: (Seed, stream), where stream
// is the row's index in its call or its GenerateOptions.Streams entry.
func (s Sampling) Stream(stream uint64) *rand.Rand { return rowRand(s, stream) }
