package actadd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Sampling is the protocol's sampler (TransformerLens sample_logits), applied per step in this
// order: logits /= Temperature; logits -= FreqPenalty · (count of each token among ALL tokens of
// the row so far: BOS, prompt and generated); optional top-k; nucleus top-p (keep the smallest set
// of most likely tokens whose cumulative probability reaches TopP); draw from what is left.
type Sampling struct {
	// Temperature divides the logits; 0 means greedy (argmax, after the frequency penalty).
	Temperature float64
	// TopP in (0, 1]; 0 or 1 turn nucleus filtering off.
	TopP float64
	// TopK keeps the K most likely tokens; 0 turns it off.
	TopK int
	// FreqPenalty is subtracted from a token's logit once per earlier occurrence in the row.
	FreqPenalty float64
	// Seed makes completions reproducible: row i of a call draws from its own stream (Seed, i),
	// so a completion does not depend on how rows are batched.
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
	case math.IsNaN(s.FreqPenalty) || math.IsInf(s.FreqPenalty, 0):
		return fmt.Errorf("actadd: frequency penalty %v is not finite", s.FreqPenalty)
	}
	return nil
}

// sampler draws the next token of one row.
type sampler struct {
	s      Sampling
	rng    *rand.Rand
	counts map[int]int // occurrences of each token in the row so far
	buf    []float64
	idx    []int
}

func newSampler(s Sampling, row int, tokens []int) *sampler {
	sm := &sampler{s: s, rng: rand.New(rand.NewPCG(s.Seed, uint64(row))), counts: map[int]int{}}
	for _, t := range tokens {
		sm.counts[t]++
	}
	return sm
}

// observe records a token appended to the row.
func (sm *sampler) observe(tok int) { sm.counts[tok]++ }

// next picks the next token from the row's logits.
func (sm *sampler) next(logits []float32) int {
	s := sm.s
	x := sm.buf[:0]
	temp := s.Temperature
	if temp == 0 {
		temp = 1
	}
	for _, v := range logits {
		x = append(x, float64(v)/temp)
	}
	sm.buf = x
	if s.FreqPenalty != 0 {
		for tok, c := range sm.counts {
			x[tok] -= s.FreqPenalty * float64(c)
		}
	}
	if s.Temperature == 0 {
		best := 0
		for i, v := range x {
			if v > x[best] {
				best = i
			}
		}
		return best
	}
	keep := sm.candidates(x)
	// Probabilities over the kept set (softmax renormalised over it, which is what sampling
	// from the filtered logits does).
	maxv := math.Inf(-1)
	for _, i := range keep {
		maxv = max(maxv, x[i])
	}
	total := 0.0
	for _, i := range keep {
		total += math.Exp(x[i] - maxv)
	}
	u := sm.rng.Float64() * total
	acc := 0.0
	for _, i := range keep {
		acc += math.Exp(x[i] - maxv)
		if u < acc {
			return i
		}
	}
	return keep[len(keep)-1]
}

// candidates returns the token ids that survive top-k and top-p, most likely first (ties broken
// by lower id).
func (sm *sampler) candidates(x []float64) []int {
	s := sm.s
	idx := sm.idx[:0]
	for i := range x {
		idx = append(idx, i)
	}
	sm.idx = idx
	byLogit := func(a, b int) int {
		switch {
		case x[a] > x[b]:
			return -1
		case x[a] < x[b]:
			return 1
		}
		return a - b
	}
	nucleus := s.TopP > 0 && s.TopP < 1
	if s.TopK == 0 && !nucleus {
		return idx // no filtering: order does not matter
	}
	limit := len(idx)
	if s.TopK > 0 {
		limit = min(limit, s.TopK)
	}
	if !nucleus {
		partialSort(idx, limit, byLogit)
		return idx[:limit]
	}
	// Sort only as much as needed: the head of the distribution usually holds the nucleus.
	head := min(limit, 1024)
	partialSort(idx, head, byLogit)
	keep := idx[:head]
	{
		maxv := x[idx[0]]
		total := 0.0
		for _, v := range x {
			total += math.Exp(v - maxv)
		}
		if s.TopK > 0 { // top-k came first: renormalise over the k survivors
			total = 0
			for _, i := range idx[:limit] {
				total += math.Exp(x[i] - maxv)
			}
		}
		cum, cut := 0.0, -1
		for j, i := range keep {
			cum += math.Exp(x[i]-maxv) / total
			if cum >= s.TopP {
				cut = j + 1
				break
			}
		}
		if cut < 0 && head < limit { // the nucleus is wider than the head: sort everything
			slices.SortFunc(idx[:limit], byLogit)
			keep = idx[:limit]
			cum = 0
			cut = limit
			for j, i := range keep {
				cum += math.Exp(x[i]-maxv) / total
				if cum >= s.TopP {
					cut = j + 1
					break
				}
			}
		}
		if cut < 0 {
			cut = len(keep)
		}
		keep = keep[:cut]
	}
	return keep
}

// partialSort moves the k smallest elements (by cmp) of idx, sorted, to idx[:k].
func partialSort(idx []int, k int, cmp func(a, b int) int) {
	if k >= len(idx) {
		slices.SortFunc(idx, cmp)
		return
	}
	// Quickselect the k-th element, then sort the head.
	lo, hi := 0, len(idx)-1
	for lo < hi {
		p := idx[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for cmp(idx[i], p) < 0 {
				i++
			}
			for cmp(idx[j], p) > 0 {
				j--
			}
			if i <= j {
				idx[i], idx[j] = idx[j], idx[i]
				i++
				j--
			}
		}
		if k-1 <= j {
			hi = j
		} else if k-1 >= i {
			lo = i
		} else {
			break
		}
	}
	slices.SortFunc(idx[:k], cmp)
}
