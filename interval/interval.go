// Package interval computes the 95% confidence intervals that the experiments' results and
// figures carry: Wilson score intervals for proportions (a success rate, P@K), Student t
// intervals for means, and t intervals for ratios of means by the delta method (a token-weighted
// mean log-probability difference, a ratio of mean times).
//
// An Estimate holds the point value, the interval, the number of observations behind it and the
// method's name, which captions and sidecars print. Where a method cannot give an interval (no
// observation, or a single one for a t interval) Lo and Hi are NaN and JSON writes them as null:
// a figure then draws the point without a bar, never a bar of zero width.
package interval

import (
	"encoding/json"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of every interval here.
const Level = 0.95

// z is the standard normal quantile of 1 − (1 − Level)/2.
var z = distuv.UnitNormal.Quantile(1 - (1-Level)/2)

// Names of the methods, as captions and sidecars print them.
const (
	Wilson = "95% Wilson score interval"
	T      = "95% Student t interval"
	RatioT = "95% t interval of a ratio of means (delta method)"
)

// Estimate is a point estimate with its 95% interval [Lo, Hi] over N observations.
type Estimate struct {
	N      int
	Value  float64
	Lo, Hi float64 // NaN when Method cannot give an interval from N observations
	Method string
}

// Defined reports whether the estimate has an interval.
func (e Estimate) Defined() bool { return !math.IsNaN(e.Lo) && !math.IsNaN(e.Hi) }

// Map applies a monotone function to the estimate: value and interval ends are mapped, and the
// ends swapped when f is decreasing (e.g. exp(−x) turns an interval of x into one of exp(−x)).
func (e Estimate) Map(f func(float64) float64) Estimate {
	e.Value, e.Lo, e.Hi = f(e.Value), f(e.Lo), f(e.Hi)
	if e.Lo > e.Hi {
		e.Lo, e.Hi = e.Hi, e.Lo
	}
	return e
}

// Scale multiplies value and interval by c > 0 (e.g. 100 for percentages).
func (e Estimate) Scale(c float64) Estimate {
	return e.Map(func(x float64) float64 { return c * x })
}

// estimateJSON is Estimate as JSON: NaN ends are null.
type estimateJSON struct {
	N      int      `json:"n"`
	Value  float64  `json:"value"`
	Lo     *float64 `json:"lo"`
	Hi     *float64 `json:"hi"`
	Method string   `json:"method"`
}

// MarshalJSON writes NaN interval ends as null.
func (e Estimate) MarshalJSON() ([]byte, error) {
	return json.Marshal(estimateJSON{N: e.N, Value: e.Value, Lo: Nullable(e.Lo), Hi: Nullable(e.Hi), Method: e.Method})
}

// UnmarshalJSON reads null interval ends as NaN.
func (e *Estimate) UnmarshalJSON(b []byte) error {
	var j estimateJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Estimate{N: j.N, Value: j.Value, Lo: FromNullable(j.Lo), Hi: FromNullable(j.Hi), Method: j.Method}
	return nil
}

// Nullable is x, or nil for NaN (JSON cannot hold NaN).
func Nullable(x float64) *float64 {
	if math.IsNaN(x) {
		return nil
	}
	return &x
}

// FromNullable is *p, or NaN for nil.
func FromNullable(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// Proportion is the fraction k/n with its Wilson score interval, which stays inside [0, 1] and
// keeps a sensible width at 0 or n successes (unlike the normal approximation). With n = 0 the
// value and interval are NaN.
func Proportion(k, n int) Estimate {
	e := Estimate{N: n, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Method: Wilson}
	if n <= 0 || k < 0 || k > n {
		return e
	}
	nf, p := float64(n), float64(k)/float64(n)
	den := 1 + z*z/nf
	centre := (p + z*z/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	// The interval holds p and lies in [0, 1]; at k = 0 its lower end is exactly 0 and at k = n
	// its upper end exactly 1, which the formula's rounding misses (centre − half is 8.7e-19 at
	// k = 0, n = 395, so that the interval did not hold its point).
	e.Value, e.Lo, e.Hi = p, math.Min(p, math.Max(0, centre-half)), math.Max(p, math.Min(1, centre+half))
	if k == 0 {
		e.Lo = 0
	}
	if k == n {
		e.Hi = 1
	}
	return e
}

// tQuantile is the Student t quantile of 1 − (1 − Level)/2 with df degrees of freedom.
func tQuantile(df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(1 - (1-Level)/2)
}

// Mean is the mean of xs with its Student t interval, mean ± t(n−1)·s/√n. Fewer than two values
// give no interval (NaN ends); no value gives a NaN mean.
func Mean(xs []float64) Estimate {
	n := len(xs)
	e := Estimate{N: n, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Method: T}
	if n == 0 {
		return e
	}
	e.Value = stat.Mean(xs, nil)
	if n < 2 {
		return e
	}
	half := tQuantile(n-1) * stat.StdDev(xs, nil) / math.Sqrt(float64(n))
	e.Lo, e.Hi = e.Value-half, e.Value+half
	return e
}

// RatioOfMeans is R = Σnum/Σden (the ratio of the means of paired observations num[i], den[i],
// e.g. a token-weighted mean: Σ per-document sums / Σ per-document token counts) with a t
// interval from the delta method: R ± t(n−1)·SE, SE = sd(num[i] − R·den[i]) / (√n·mean(den)).
// Fewer than two pairs give no interval; a zero Σden gives NaN.
func RatioOfMeans(num, den []float64) Estimate {
	n := min(len(num), len(den))
	e := Estimate{N: n, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Method: RatioT}
	var sn, sd float64
	for i := range n {
		sn += num[i]
		sd += den[i]
	}
	if n == 0 || sd == 0 {
		return e
	}
	e.Value = sn / sd
	if n < 2 {
		return e
	}
	resid := make([]float64, n)
	for i := range n {
		resid[i] = num[i] - e.Value*den[i]
	}
	se := stat.StdDev(resid, nil) / (math.Sqrt(float64(n)) * sd / float64(n))
	half := tQuantile(n-1) * math.Abs(se)
	e.Lo, e.Hi = e.Value-half, e.Value+half
	return e
}
