package interval_test

import (
	"encoding/json"
	"fmt"
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

// Every method's interval holds its point and lies within what its quantity can be: a
// proportion in [0, 1], a mean count at or above 0 (exactly 0 below when every count is 0), a
// ratio of positive times above 0; t intervals of quantities of any sign just hold their point.
func TestBoundsWithinRange(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	holds := func(what string, e interval.Estimate, lo, hi float64) {
		t.Helper()
		if !e.Defined() || !(lo <= e.Lo && e.Lo <= e.Value && e.Value <= e.Hi && e.Hi <= hi) {
			t.Fatalf("%s = %+v, want an interval holding its point within [%g, %g]", what, e, lo, hi)
		}
	}
	for n := 1; n <= 300; n++ {
		for k := 0; k <= n; k++ {
			holds(fmt.Sprintf("Proportion(%d, %d)", k, n), interval.Proportion(k, n), 0, 1)
		}
	}
	zeros := make([]float64, 30000)
	for n := 1; n <= len(zeros); n++ {
		e := interval.CountMean(zeros[:n])
		holds(fmt.Sprintf("CountMean of %d zeros", n), e, 0, math.Inf(1))
		if e.Lo != 0 || e.Value != 0 || !near(e.Hi, 3.6888794541139363/float64(n), 1e-12) {
			t.Fatalf("CountMean of %d zeros = %+v, want 0 [0, 3.69/n]", n, e)
		}
	}
	for trial := range 3000 {
		n := 2 + r.IntN(300)
		counts, num, den, any := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			if r.Float64() < 0.02+0.1*float64(trial%5) {
				counts[i] = float64(r.IntN(1 + trial%7))
			}
			den[i] = 1e-3 * (1 + r.Float64())
			num[i] = den[i] * math.Exp(r.NormFloat64()*float64(trial%4)) // ratios spread up to e^±9
			any[i] = r.NormFloat64()
		}
		holds("CountMean", interval.CountMean(counts), 0, math.Inf(1))
		holds("RatioOfMeansLog", interval.RatioOfMeansLog(num, den), math.SmallestNonzeroFloat64, math.Inf(1))
		holds("Mean", interval.Mean(any), math.Inf(-1), math.Inf(1))
		holds("RatioOfMeans", interval.RatioOfMeans(any, den), math.Inf(-1), math.Inf(1))
	}
}

// A ratio of mean times over two noisy seeds: the delta method on the ratio reaches below 0 (a
// premium below −100%); on the log scale it stays above 0, around the same ratio of means.
func TestRatioOfMeansLog(t *testing.T) {
	base, steered := []float64{0.010, 0.011}, []float64{0.006, 0.012}
	lin, log := interval.RatioOfMeans(steered, base), interval.RatioOfMeansLog(steered, base)
	if lin.Lo >= 0 {
		t.Fatalf("the example does not show the problem: %+v", lin)
	}
	if log.Value != lin.Value || !(0 < log.Lo && log.Lo < log.Value && log.Value < log.Hi) || log.Method != interval.LogRatioT {
		t.Errorf("RatioOfMeansLog = %+v (linear %+v)", log, lin)
	}
	// log R's interval is symmetric: Hi/R = R/Lo.
	if !near(log.Hi/log.Value, log.Value/log.Lo, 1e-12) {
		t.Errorf("not symmetric on the log scale: %+v", log)
	}
	for _, bad := range [][2][]float64{{{1, -1}, {1, 1}}, {{1, 1}, {0, 1}}, {{1, math.Inf(1)}, {1, 1}}} {
		if e := interval.RatioOfMeansLog(bad[0], bad[1]); e.Defined() || !math.IsNaN(e.Value) {
			t.Errorf("RatioOfMeansLog(%v, %v) = %+v, want NaN: the quantities must be positive", bad[0], bad[1], e)
		}
	}
	// Coverage of the true ratio of means, about 95%.
	r := rand.New(rand.NewPCG(5, 6))
	const trials, n, truth = 2000, 10, 1.2
	covered := 0
	for range trials {
		num, den := make([]float64, n), make([]float64, n)
		for i := range n {
			den[i] = 1 + 0.2*r.NormFloat64()
			num[i] = truth * den[i] * (1 + 0.1*r.NormFloat64())
		}
		if e := interval.RatioOfMeansLog(num, den); e.Lo <= truth && truth <= e.Hi {
			covered++
		}
	}
	if got := float64(covered) / trials; got < 0.93 || got > 0.97 {
		t.Errorf("coverage %.3f, want about 0.95", got)
	}
}

// CountMean covers the mean count at least about 95% of the time, for Poisson counts and for
// counts more spread than a Poisson's (a mixture: most completions 0, some several).
func TestCountMeanCoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	poisson := func(lambda float64) float64 {
		k, p, l := 0, 1.0, math.Exp(-lambda)
		for p *= r.Float64(); p > l; p *= r.Float64() {
			k++
		}
		return float64(k)
	}
	for _, c := range []struct {
		name  string
		n     int
		truth float64
		draw  func() float64
	}{
		{"Poisson 0.05", 200, 0.05, func() float64 { return poisson(0.05) }},
		{"Poisson 1", 20, 1, func() float64 { return poisson(1) }},
		{"Poisson 3", 50, 3, func() float64 { return poisson(3) }},
		{"overdispersed", 100, 0.2 * 4, func() float64 {
			if r.Float64() < 0.2 {
				return poisson(4)
			}
			return 0
		}},
		{"overdispersed, few", 30, 0.3 * 2, func() float64 {
			if r.Float64() < 0.3 {
				return poisson(2)
			}
			return 0
		}},
	} {
		const trials = 2000
		covered := 0
		xs := make([]float64, c.n)
		for range trials {
			for i := range xs {
				xs[i] = c.draw()
			}
			if e := interval.CountMean(xs); e.Lo <= c.truth && c.truth <= e.Hi {
				covered++
			}
		}
		if got := float64(covered) / trials; got < 0.93 {
			t.Errorf("%s: coverage %.3f, want at least about 0.95", c.name, got)
		} else {
			t.Logf("%s: coverage %.3f", c.name, got)
		}
	}
	if e := interval.CountMean([]float64{1, -1}); e.Defined() {
		t.Errorf("negative counts gave %+v", e)
	}
	if e := interval.CountMean([]float64{1, 0, 0, 0}); e.Method != interval.Poisson || !near(e.Value, 0.25, 1e-15) || !(0 < e.Lo && e.Lo < 0.25) {
		t.Errorf("CountMean = %+v", e)
	}
}

// An estimate prints its value and interval rounded alike (two significant digits of the
// interval's width), its sample size and its method.
func TestString(t *testing.T) {
	for _, c := range []struct {
		e    interval.Estimate
		want string
	}{
		{interval.Estimate{N: 20, Value: 0.15, Lo: 0.0524, Hi: 0.3604, Method: interval.Wilson}, "0.15 [0.05, 0.36] (n = 20, Wilson)"},
		{interval.Proportion(3, 20), "0.15 [0.05, 0.36] (n = 20, Wilson)"},
		{interval.Estimate{N: 200, Value: 0.005, Lo: -0.0048598, Hi: 0.01486, Method: interval.T}, "0.005 [-0.005, 0.015] (n = 200, t)"},
		{interval.Proportion(0, 200), "0.000 [0.000, 0.019] (n = 200, Wilson)"},
		{interval.Estimate{N: 7, Value: 0.999872, Lo: 0.999816, Hi: 0.999929, Method: interval.RatioT}, "0.99987 [0.99982, 0.99993] (n = 7, delta-method t)"},
		{interval.Estimate{N: 2, Value: -16.45, Lo: -65.43, Hi: 32.53, Method: interval.LogRatioT}, "-16 [-65, 33] (n = 2, log delta-method t)"},
		{interval.Mean([]float64{7}), "7 (n = 1, t: no interval)"},
		{interval.Mean([]float64{2, 2}), "2 [2, 2] (n = 2, t)"},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("%#v prints %q, want %q", c.e, got, c.want)
		}
	}
	if got := fmt.Sprint(interval.Proportion(3, 20)); got != "0.15 [0.05, 0.36] (n = 20, Wilson)" {
		t.Errorf("fmt prints %q", got)
	}
}
