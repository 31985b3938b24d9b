package actadd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/actadd-go/actadd/internal/testbackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"gonum.org/v1/gonum/stat/distuv"
)

// drawCase is one row for the device sampler: logits, the row's tokens so far, and its uniform.
type drawCase struct {
	logits  []float32
	history []int
	u       float64
}

// deviceDrawAll runs the device sampler of s on rows of equal vocabulary and returns each row's
// token, status and kept set.
func deviceDrawAll(t *testing.T, s Sampling, rows []drawCase) (tokens, status []int32, kept [][]int) {
	t.Helper()
	b, v := len(rows), len(rows[0].logits)
	logits := make([]float32, 0, b*v)
	counts := make([]int32, b*v)
	u := make([]float64, b)
	for i, r := range rows {
		logits = append(logits, r.logits...)
		for _, tok := range r.history {
			counts[i*v+tok]++
		}
		u[i] = r.u
	}
	mode := s.mode(v)
	exec, err := NewExec(testbackend.Get(t), func(in []*Node) []*Node {
		tok, st, k := deviceDraw(mode, in[0], in[1], in[2], in[3])
		if k == nil {
			k = OnesLike(in[1])
		}
		return []*Node{tok, st, ConvertDType(k, in[1].DType())}
	})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := exec.Call(tensors.FromFlatDataAndDimensions(logits, b, v), tensors.FromFlatDataAndDimensions(counts, b, v), u, s.params())
	if err != nil {
		t.Fatal(err)
	}
	tokens, status = take[int32](outs[0]), take[int32](outs[1])
	flat := take[int32](outs[2])
	for i := range b {
		var k []int
		for j, x := range flat[i*v : (i+1)*v] {
			if x != 0 {
				k = append(k, j)
			}
		}
		kept = append(kept, k)
	}
	return tokens, status, kept
}

// hostAmbiguous reports whether the host sampler's kept set or draw for this row lies within
// rounding of a boundary, where the device sampler (other summation order, float32 rank keys)
// may decide the other way: the running mass of the ranked tokens within 1e-9 of the nucleus's
// mass, two tokens on either side of the kept set's edge whose processed logits are equal in
// float32 but not in float64, or u·Σ within 1e-9 of a running sum of the draw.
func hostAmbiguous(s Sampling, r drawCase) bool {
	sm := newSampler(s, r.history)
	if _, err := sm.weigh(r.logits); err != nil {
		panic(err)
	}
	x, e := sm.x, sm.e
	k := sm.filter()
	mass, total := 0.0, 0.0
	for i, w := range e {
		mass += w
		if k.has(i) {
			total += w
		}
	}
	const tol = 1e-9
	if !k.all { // a kept and a dropped token equal in float32 both round to the edge's value
		edge := float32(k.xb)
		var in, out []float64
		for i, xi := range x {
			if float32(xi) == edge {
				if k.has(i) {
					in = append(in, xi)
				} else {
					out = append(out, xi)
				}
			}
		}
		for _, a := range in {
			for _, b := range out {
				if a != b {
					return true
				}
			}
		}
	}
	if !k.all && s.TopK == 0 {
		ranked := make([]int, len(x))
		for i := range ranked {
			ranked[i] = i
		}
		slices.SortFunc(ranked, func(a, b int) int {
			switch {
			case x[a] > x[b] || (x[a] == x[b] && a < b):
				return -1
			}
			return 1
		})
		cum := 0.0
		for _, i := range ranked {
			cum += e[i]
			if math.Abs(cum-s.TopP*mass) < tol*mass {
				return true
			}
		}
	}
	acc := 0.0
	for i, w := range e {
		if k.has(i) {
			acc += w
			if math.Abs(acc-r.u*total) < tol*total {
				return true
			}
		}
	}
	return false
}

// TestDeviceSamplerMatchesHost gives the device and host samplers the same logits, histories
// and uniforms, for every filter (top-p at several p, top-k, none) and with temperature and
// penalty, and requires the same kept set and the same token except where the host's decision
// lies within rounding of a boundary (hostAmbiguous), which must be rare. Logits include exact
// ties (ranked by id on both) and the vocabularies are small and GPT-2's.
func TestDeviceSamplerMatchesHost(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	settings := []Sampling{
		{Temperature: 1, TopP: 0.3, FreqPenalty: 1}, {Temperature: 1, TopP: 0.9}, {Temperature: 0.7, TopP: 0.5, FreqPenalty: 0.5},
		{Temperature: 1, TopP: 0.05}, {Temperature: 1.3, TopK: 5, FreqPenalty: 2}, {Temperature: 1, TopK: 1}, {Temperature: 1, TopK: 40},
		{Temperature: 1, FreqPenalty: 1}, {Temperature: 0.5},
	}
	ambiguous, compared := 0, 0
	for _, v := range []int{7, 300, 50257} {
		for _, s := range settings {
			rows := make([]drawCase, 12)
			if v == 50257 {
				rows = rows[:3]
			}
			for i := range rows {
				c := drawCase{logits: make([]float32, v), u: r.Float64()}
				for j := range c.logits {
					c.logits[j] = float32(r.NormFloat64() * 3)
					if j > 0 && r.IntN(8) == 0 {
						c.logits[j] = c.logits[r.IntN(j)] // exact ties
					}
				}
				for range r.IntN(20) {
					c.history = append(c.history, r.IntN(v))
				}
				rows[i] = c
			}
			tokens, status, kept := deviceDrawAll(t, s, rows)
			for i, c := range rows {
				if status[i] != 0 {
					t.Fatalf("V=%d %+v row %d: status %d", v, s, i, status[i])
				}
				compared++
				if hostAmbiguous(s, c) {
					ambiguous++
					continue
				}
				sm := newSampler(s, c.history)
				want, err := sm.next(c.logits, c.u)
				if err != nil {
					t.Fatal(err)
				}
				if wantKept := hostKept(s, c.history, c.logits); !slices.Equal(kept[i], wantKept) {
					t.Errorf("V=%d %+v row %d: device kept %d tokens, host %d", v, s, i, len(kept[i]), len(wantKept))
				}
				if int(tokens[i]) != want {
					t.Errorf("V=%d %+v row %d: device drew %d, host %d", v, s, i, tokens[i], want)
				}
			}
		}
	}
	t.Logf("%d rows compared, %d within rounding of a boundary", compared, ambiguous)
	if ambiguous > compared/100 {
		t.Errorf("%d of %d rows were within rounding of a boundary: the test no longer compares much", ambiguous, compared)
	}
}

// TestDeviceSamplerGreedyAndErrors: greedy takes the first largest raw logit (no penalty), and
// a row with a non-finite logit or an overflowing temperature reports it.
func TestDeviceSamplerGreedyAndErrors(t *testing.T) {
	logits := []float32{1, 3, 3, -2}
	tokens, status, _ := deviceDrawAll(t, Greedy, []drawCase{{logits: logits, history: []int{1, 1, 1}}})
	if tokens[0] != 1 || status[0] != 0 {
		t.Errorf("greedy drew %d (status %d), want 1, the first of the tied largest", tokens[0], status[0])
	}
	nan := []float32{1, float32(math.NaN()), float32(math.Inf(1)), 0}
	for _, s := range []Sampling{Greedy, PaperSampling} {
		if _, status, _ := deviceDrawAll(t, s, []drawCase{{logits: nan}}); status[0] != 1 {
			t.Errorf("%+v: status %d for a NaN logit, want 1", s, status[0])
		}
	}
	if _, status, _ := deviceDrawAll(t, Sampling{Temperature: 1e-320}, []drawCase{{logits: logits}}); status[0] != 2 {
		t.Errorf("temperature 1e-320: status %d, want 2 (overflow)", status[0])
	}
}

// TestDeviceSamplerChiSquare draws 20,000 tokens on the device, each row with its own uniform
// from its own stream, from a vocabulary of 8 under top-p 0.8 with a penalty, and tests the
// counts against the host's kept distribution (chi-square, p = 0.001; the seed is fixed, so the
// test is deterministic). No token outside the nucleus may be drawn.
func TestDeviceSamplerChiSquare(t *testing.T) {
	s := Sampling{Temperature: 1.5, TopP: 0.8, FreqPenalty: 0.5, Seed: 7}
	logits := []float32{2, 0.5, 1.7, -1, 0.9, 1.2, -3, 0.1}
	history := []int{2, 2, 5}
	const n = 20000
	rows := make([]drawCase, n)
	for i := range rows {
		rows[i] = drawCase{logits: logits, history: history, u: rowRand(s, uint64(i)).Float64()}
	}
	tokens, _, _ := deviceDrawAll(t, s, rows)
	sm := newSampler(s, history)
	if _, err := sm.weigh(logits); err != nil {
		t.Fatal(err)
	}
	k := sm.filter()
	total := 0.0
	for i, w := range sm.e {
		if k.has(i) {
			total += w
		}
	}
	seen := make([]int, len(logits))
	for _, tok := range tokens {
		seen[tok]++
	}
	chi2, df := 0.0, -1
	for i, w := range sm.e {
		if !k.has(i) {
			if seen[i] > 0 {
				t.Errorf("token %d is outside the nucleus but was drawn %d times", i, seen[i])
			}
			continue
		}
		want := n * w / total
		chi2 += (float64(seen[i]) - want) * (float64(seen[i]) - want) / want
		df++
	}
	limit := distuv.ChiSquared{K: float64(df)}.Quantile(0.999)
	t.Logf("counts %v, chi-square %.2f with %d degrees of freedom (limit %.2f)", seen, chi2, df, limit)
	if df < 2 {
		t.Fatalf("the nucleus holds %d tokens: the test needs several", df+1)
	}
	if chi2 > limit {
		t.Errorf("chi-square %.2f exceeds %.2f: the drawn distribution is not the nucleus's", chi2, limit)
	}
}
