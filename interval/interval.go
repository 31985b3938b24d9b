// Package interval computes the 95% confidence intervals that the experiments' results and
// figures carry, each by a method whose bounds stay within what its quantity can be: Wilson
// score intervals for proportions (a success rate, P@K: within [0, 1], exactly 0 or 1 at 0 or
// n successes), Poisson exact intervals for means of counts (wedding words per completion:
// never below 0), Student t intervals for means of quantities of any sign, t intervals for
// ratios of means by the delta method (a token-weighted mean log-probability difference), and
// the same on the log scale for ratios of positive quantities (a ratio of mean times: never
// below 0, so a premium never below −100%).
//
// An Estimate holds the point value, the interval, the number of observations behind it and the
// method's name, which captions and sidecars print. Where a method cannot give an interval (no
// observation, or a single one for a t interval) Lo and Hi are NaN and JSON writes them as null:
// a figure then draws the point without a bar, never a bar of zero width.
package interval

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of every interval here.
const Level = 0.95

// z is the standard normal quantile of 1 − (1 − Level)/2.
var z = distuv.UnitNormal.Quantile(1 - (1-Level)/2)

// Names of the methods, as captions and sidecars print them.
const (
	Wilson    = "95% Wilson score interval"
	T         = "95% Student t interval"
	RatioT    = "95% t interval of a ratio of means (delta method)"
	LogRatioT = "95% t interval of a ratio of means on the log scale (delta method)"
	Poisson   = "95% Poisson exact interval of a mean count (Garwood), widened for overdispersion"
)

// Estimate is a point estimate with its 95% interval [Lo, Hi] over N observations.
type Estimate struct {
	N      int
	Value  float64
	Lo, Hi float64 // NaN when Method cannot give an interval from N observations
	Method string
}

// String is the estimate as results print it, the value and its interval rounded alike, then
// the sample size and the method's short name (Short):
//
//	0.15 [0.05, 0.36] (n = 20, Wilson)
//	7 (n = 1, t: no interval)
func (e Estimate) String() string {
	name := Short(e.Method)
	if name == "" {
		name = "no method"
	}
	if !e.Defined() {
		return fmt.Sprintf("%s (n = %d, %s: no interval)", e.Numbers(), e.N, name)
	}
	return fmt.Sprintf("%s (n = %d, %s)", e.Numbers(), e.N, name)
}

// Numbers is the value and its interval, "0.15 [0.05, 0.36]", all three with the decimals that
// give the interval's width two significant digits (0.005 [0.000, 0.020]; a perplexity ratio
// 0.99987 [0.99982, 0.99993]); the value alone, to 4 significant digits, where the interval is
// undefined or has no width.
func (e Estimate) Numbers() string {
	w := e.Hi - e.Lo
	if !e.Defined() || !(w > 0) || math.IsInf(w, 0) || math.IsNaN(e.Value) {
		if e.Defined() {
			return fmt.Sprintf("%.4g [%.4g, %.4g]", e.Value, e.Lo, e.Hi)
		}
		return fmt.Sprintf("%.4g", e.Value)
	}
	dec := max(0, 1-int(math.Floor(math.Log10(w))))
	num := func(x float64) string {
		s := strconv.FormatFloat(x, 'f', dec, 64)
		if strings.Trim(s, "-0.") == "" {
			s = strings.TrimPrefix(s, "-") // no "-0.000"
		}
		return s
	}
	return fmt.Sprintf("%s [%s, %s]", num(e.Value), num(e.Lo), num(e.Hi))
}

// Short is the short name of a method (one of this package's names) for tables and String:
// "Wilson", "t", "delta-method t", "log delta-method t", "Poisson exact"; other names unchanged.
func Short(method string) string {
	switch method {
	case Wilson:
		return "Wilson"
	case T:
		return "t"
	case RatioT:
		return "delta-method t"
	case LogRatioT:
		return "log delta-method t"
	case Poisson:
		return "Poisson exact"
	}
	return method
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

// CountMean is the mean of non-negative counts xs (e.g. wedding words per completion) with a
// 95% interval that cannot go below 0: the exact Poisson interval of the total (Garwood 1936:
// the gamma quantiles of the total K, [G(K; α/2), G(K+1; 1−α/2)] / n), widened for counts more
// spread than a Poisson's by the quasi-Poisson dispersion φ = max(1, s²/mean): the interval of
// K/φ events in n/φ trials. A t interval of such counts goes below 0 when most are 0 (0.005
// [−0.0049, 0.015] at 1 of 200); a log-scale interval has no width at a mean of 0. At a total of
// 0 the interval is [0, 3.69/n], at n = 1 the Poisson interval of that one count (no spread to
// measure). A negative or non-finite value gives a NaN interval; no value gives a NaN mean.
func CountMean(xs []float64) Estimate {
	n := len(xs)
	e := Estimate{N: n, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Method: Poisson}
	if n == 0 {
		return e
	}
	for _, x := range xs {
		if !(x >= 0) || math.IsInf(x, 1) {
			return e
		}
	}
	e.Value = stat.Mean(xs, nil)
	phi := 1.0
	if n > 1 && e.Value > 0 {
		phi = math.Max(1, stat.Variance(xs, nil)/e.Value)
	}
	k, trials := e.Value*float64(n)/phi, float64(n)/phi
	e.Lo = 0
	if k > 0 {
		e.Lo = math.Min(e.Value, distuv.Gamma{Alpha: k, Beta: 1}.Quantile((1-Level)/2)/trials)
	}
	e.Hi = math.Max(e.Value, distuv.Gamma{Alpha: k + 1, Beta: 1}.Quantile(1-(1-Level)/2)/trials)
	return e
}

// RatioOfMeansLog is R = Σnum/Σden for positive quantities (e.g. the mean times of two arms
// over seeds) with the delta method's t interval taken on the log scale and transformed back:
// exp(log R ± t(n−1)·SE/R), SE as in RatioOfMeans. Its ends are positive, so a premium R − 1
// never falls below −100% (RatioOfMeans's interval reached −140% for two noisy seeds), and it is
// as wide in ratio terms above R as below. Fewer than two pairs give no interval; a value that
// is not positive and finite gives NaN.
func RatioOfMeansLog(num, den []float64) Estimate {
	n := min(len(num), len(den))
	for i := range n {
		if !(num[i] > 0 && den[i] > 0) || math.IsInf(num[i], 0) || math.IsInf(den[i], 0) {
			return Estimate{N: n, Value: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Method: LogRatioT}
		}
	}
	e := RatioOfMeans(num, den)
	e.Method = LogRatioT
	if !e.Defined() {
		return e
	}
	half := (e.Hi - e.Value) / e.Value // t(n−1)·SE/R, the half-width of log R's interval
	e.Lo, e.Hi = e.Value*math.Exp(-half), e.Value*math.Exp(half)
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
