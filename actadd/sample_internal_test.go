package actadd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// hostKept lists the tokens the host sampler with s keeps for these logits (after temperature
// and penalty), by brute force over its filter.
func hostKept(s Sampling, history []int, logits []float32) []int {
	sm := newSampler(s, history)
	if _, err := sm.weigh(logits); err != nil {
		panic(err)
	}
	keep := sm.filter()
	var out []int
	for i := range logits {
		if keep.has(i) {
			out = append(out, i)
		}
	}
	return out
}

func TestTopPKeepsSmallestSetReachingP(t *testing.T) {
	// Probabilities 0.4, 0.3, 0.2, 0.1 (as logits), in scrambled id order.
	probs := []float64{0.2, 0.4, 0.1, 0.3}
	logits := make([]float32, len(probs))
	for i, p := range probs {
		logits[i] = float32(math.Log(p))
	}
	cases := []struct {
		p    float64
		want []int
	}{
		{0.3, []int{1}}, // 0.4 ≥ 0.3 already
		{0.39, []int{1}},
		{0.41, []int{1, 3}},    // 0.4 falls short of 0.41
		{0.5, []int{1, 3}},     // 0.4 + 0.3
		{0.75, []int{0, 1, 3}}, // 0.4 + 0.3 + 0.2
		{0.95, []int{0, 1, 2, 3}},
	}
	for _, c := range cases {
		got := hostKept(Sampling{Temperature: 1, TopP: c.p}, nil, logits)
		if !slices.Equal(got, c.want) {
			t.Errorf("top-p %g kept %v, want %v", c.p, got, c.want)
		}
	}
	// As in TransformerLens, top-k takes precedence: top-p is then ignored.
	if got := hostKept(Sampling{Temperature: 1, TopK: 2, TopP: 0.3}, nil, logits); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("top-k 2 with top-p 0.3 kept %v, want [1 3] (top-k only)", got)
	}
	if got := hostKept(Sampling{Temperature: 1, TopK: 3}, nil, logits); !slices.Equal(got, []int{0, 1, 3}) {
		t.Errorf("top-k 3 kept %v, want [0 1 3]", got)
	}
}

func TestTopPMatchesSortingOnRandomLogits(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		n := 1 + r.IntN(300)
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = float32(r.NormFloat64() * 3)
			if r.IntN(10) == 0 && i > 0 { // some exact ties
				logits[i] = logits[i-1]
			}
		}
		p := r.Float64()
		// Brute force: sort ids by (logit desc, id asc), keep the shortest prefix reaching p.
		ids := make([]int, n)
		for i := range ids {
			ids[i] = i
		}
		slices.SortFunc(ids, func(a, b int) int {
			if logits[a] != logits[b] {
				if logits[a] > logits[b] {
					return -1
				}
				return 1
			}
			return a - b
		})
		mx := float64(logits[ids[0]])
		total := 0.0
		for _, v := range logits {
			total += math.Exp(float64(v) - mx)
		}
		var want []int
		cum := 0.0
		for _, i := range ids {
			want = append(want, i)
			cum += math.Exp(float64(logits[i])-mx) / total
			if cum >= p {
				break
			}
		}
		slices.Sort(want)
		got := hostKept(Sampling{Temperature: 1, TopP: p}, nil, logits)
		// Summation order differs from the brute force's, so allow a one-token difference only
		// where the cumulative mass sits within rounding of p.
		if !slices.Equal(got, want) && math.Abs(float64(len(got)-len(want))) > 1 {
			t.Fatalf("trial %d (n=%d, p=%g): kept %d tokens, brute force %d", trial, n, p, len(got), len(want))
		}
	}
}

func TestFrequencyPenaltyCountsEveryToken(t *testing.T) {
	// BOS (0), prompt (1, 1) and generated (2) tokens all count. Top-k 1 keeps only the best
	// penalised logit, so the draw is deterministic.
	logits := []float32{10, 10.5, 9.8, 9.0}
	s := Sampling{Temperature: 1, TopK: 1, FreqPenalty: 1}
	sm := newSampler(s, []int{0, 1, 1})
	sm.observe(2)
	// After penalty: 9, 8.5, 8.8, 9.0 → tie between 0 and 3, lower id wins.
	if got, _ := sm.next(logits, 0.5); got != 0 {
		t.Errorf("picked %d, want 0", got)
	}
	sm.observe(0) // token 0 now counted twice: 8, 8.5, 8.8, 9.0
	if got, _ := sm.next(logits, 0.5); got != 3 {
		t.Errorf("picked %d, want 3", got)
	}
	if sm.counts[0] != 2 || sm.counts[1] != 2 || sm.counts[2] != 1 {
		t.Errorf("counts %v, want BOS 2, prompt token 2, generated 1", sm.counts)
	}
	// Greedy (temperature 0) is the argmax of the raw logits, as in TransformerLens.
	g := newSampler(Sampling{FreqPenalty: 1}, []int{1, 1, 1})
	if got, _ := g.next(logits, 0.5); got != 1 {
		t.Errorf("greedy picked %d, want 1 (penalty does not apply)", got)
	}
}

func TestSamplingReproducible(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	draw := func(seed uint64, row uint64) []int {
		s := Sampling{Temperature: 1, TopP: 0.9, FreqPenalty: 0.5, Seed: seed}
		sm, rng := newSampler(s, []int{5}), rowRand(s, row)
		var out []int
		for range 30 {
			tok, err := sm.next(logits, rng.Float64())
			if err != nil {
				t.Fatal(err)
			}
			sm.observe(tok)
			out = append(out, tok)
		}
		return out
	}
	if !slices.Equal(draw(7, 0), draw(7, 0)) {
		t.Error("the same seed gave different draws")
	}
	if slices.Equal(draw(7, 0), draw(8, 0)) {
		t.Error("different seeds gave identical draws")
	}
	if slices.Equal(draw(7, 0), draw(7, 1)) {
		t.Error("different rows gave identical draws")
	}
}

func TestPositionStartMatchesAuthors(t *testing.T) {
	// The authors' code places "mid" at T//2 - n//2.
	cases := []struct {
		p       Position
		t, n, s int
	}{{Front, 6, 3, 0}, {Mid, 6, 3, 2}, {Mid, 7, 3, 2}, {Mid, 6, 2, 2}, {Back, 6, 3, 3}, {Mid, 3, 3, 0}}
	for _, c := range cases {
		if got := c.p.start(c.t, c.n); got != c.s {
			t.Errorf("%v start(T=%d, n=%d) = %d, want %d", c.p, c.t, c.n, got, c.s)
		}
	}
}
