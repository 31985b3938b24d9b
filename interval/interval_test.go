package interval_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/actadd-go/actadd/interval"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Reference values from the textbook formulas, computed by hand (Wilson 1927; Agresti & Coull
// 1998 table values for 95%).
func TestProportion(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 10, 0, 0.2775},
		{10, 10, 0.7225, 1},
		{5, 10, 0.2366, 0.7634},
		{4, 200, 0.0078, 0.0503},
		{190, 200, 0.9104, 0.9725},
	} {
		e := interval.Proportion(c.k, c.n)
		if !near(e.Lo, c.lo, 5e-4) || !near(e.Hi, c.hi, 5e-4) || e.Value != float64(c.k)/float64(c.n) || e.N != c.n {
			t.Errorf("Proportion(%d, %d) = %+v, want [%g, %g]", c.k, c.n, e, c.lo, c.hi)
		}
	}
	if e := interval.Proportion(0, 0); e.Defined() || !math.IsNaN(e.Value) {
		t.Errorf("Proportion(0, 0) = %+v, want NaN", e)
	}
}

func TestMean(t *testing.T) {
	// t(4; 0.975) = 2.776445; mean 3, sd √2.5.
	e := interval.Mean([]float64{1, 2, 3, 4, 5})
	half := 2.776445 * math.Sqrt(2.5) / math.Sqrt(5)
	if !near(e.Value, 3, 1e-12) || !near(e.Lo, 3-half, 1e-5) || !near(e.Hi, 3+half, 1e-5) {
		t.Errorf("Mean = %+v, want 3 ± %g", e, half)
	}
	if e := interval.Mean([]float64{7}); e.Value != 7 || e.Defined() {
		t.Errorf("Mean of one value = %+v, want 7 without an interval", e)
	}
}

// The delta-method interval covers the true ratio about 95% of the time.
func TestRatioOfMeansCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const trials, n, truth = 2000, 40, 0.3
	covered := 0
	for range trials {
		num, den := make([]float64, n), make([]float64, n)
		for i := range n {
			den[i] = 10 + 90*r.Float64()
			num[i] = truth*den[i] + r.NormFloat64()*5
		}
		if e := interval.RatioOfMeans(num, den); e.Lo <= truth && truth <= e.Hi {
			covered++
		}
	}
	if got := float64(covered) / trials; got < 0.93 || got > 0.97 {
		t.Errorf("coverage %.3f, want about 0.95", got)
	}
	if e := interval.RatioOfMeans([]float64{2}, []float64{4}); e.Value != 0.5 || e.Defined() {
		t.Errorf("one pair: %+v, want 0.5 without an interval", e)
	}
}

func TestMapAndJSON(t *testing.T) {
	e := interval.Mean([]float64{0.1, 0.2, 0.3}).Map(func(x float64) float64 { return math.Exp(-x) })
	if !(e.Lo < e.Value && e.Value < e.Hi) {
		t.Errorf("a decreasing map must swap the ends: %+v", e)
	}
	one := interval.Mean([]float64{1})
	raw, err := json.Marshal(one)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"n":1,"value":1,"lo":null,"hi":null,"method":"95% Student t interval"}` {
		t.Errorf("JSON %s", raw)
	}
	var back interval.Estimate
	if err := json.Unmarshal(raw, &back); err != nil || back.Defined() || back.Value != 1 {
		t.Errorf("read back %+v, %v", back, err)
	}
}

// At 0 or n successes the Wilson interval ends exactly at 0 or 1 (the formula's rounding left
// 8.7e-19 at 0 of 395, an interval that did not hold its point), for every n up to 30,000.
func TestProportionExactAtTheEnds(t *testing.T) {
	for n := 1; n <= 30000; n++ {
		for _, k := range []int{0, n} {
			e := interval.Proportion(k, n)
			if !(0 <= e.Lo && e.Lo <= e.Value && e.Value <= e.Hi && e.Hi <= 1) || (k == 0 && e.Lo != 0) || (k == n && e.Hi != 1) {
				t.Fatalf("Proportion(%d, %d) = %+v", k, n, e)
			}
		}
	}
}
