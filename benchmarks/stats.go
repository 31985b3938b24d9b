package benchmarks

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is an estimate with its 95% confidence interval. Lo and Hi equal Value when there
// are too few pairs for an interval (N < 2).
type Interval struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo95"`
	Hi    float64 `json:"hi95"`
	N     int     `json:"pairs"`
}

// t975 is the 97.5% quantile of Student's t with n−1 degrees of freedom.
func t975(n int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
}

// meanInterval is the mean of xs with Student's t interval.
func meanInterval(xs []float64) Interval {
	iv := Interval{Value: stat.Mean(xs, nil), N: len(xs)}
	iv.Lo, iv.Hi = iv.Value, iv.Value
	if n := len(xs); n > 1 {
		h := t975(n) * stat.StdDev(xs, nil) / math.Sqrt(float64(n))
		iv.Lo, iv.Hi = iv.Value-h, iv.Value+h
	}
	return iv
}

// ratioInterval estimates a/b from paired measurements: the geometric mean of the per-pair
// ratios a[i]/b[i], with the t interval of their logarithms taken back to ratios. Pairing
// removes what the machine's drift does to both sides of a pair alike.
func ratioInterval(a, b []float64) Interval {
	logs := make([]float64, len(a))
	for i := range a {
		logs[i] = math.Log(a[i] / b[i])
	}
	iv := meanInterval(logs)
	return Interval{Value: math.Exp(iv.Value), Lo: math.Exp(iv.Lo), Hi: math.Exp(iv.Hi), N: iv.N}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}
