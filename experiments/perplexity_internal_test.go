package experiments

import "testing"

// E1's bins use the authors' edges, np.arange(-1e-6, …, width), and np.digitize's rule. The
// expected values are numpy 1.24's: edges = np.arange(-1e-6, 1.01, w), bin = np.digitize(x,
// edges) − 1, for values on, just below and between edges (float64 literals as Python's repr
// prints them).
func TestRelevanceBinMatchesNumpy(t *testing.T) {
	for _, c := range []struct {
		width float64
		edges map[int]float64
		xs    []float64
		bins  []int
	}{
		{0.005, map[int]float64{0: -1e-6, 1: 0.004999, 2: 0.009999000000000001, 3: 0.014999, 60: 0.299999},
			[]float64{0.0, 1e-07, 0.004999, 0.004998999999999999, 0.005, 0.009999000000000001, 0.009999, 0.01, 0.015, 0.014999, 0.014998999999999998, 0.0199, 0.3, 0.299999, 0.29999899999999996, 1.0},
			[]int{0, 0, 1, 0, 1, 2, 1, 2, 3, 3, 2, 3, 60, 60, 59, 200}},
		{0.003, map[int]float64{1: 0.002999, 2: 0.005999, 3: 0.008999000000000002, 60: 0.179999},
			[]float64{0.0, 1e-07, 0.002999, 0.0029989999999999995, 0.005, 0.005999, 0.005998999999999999, 0.01, 0.015, 0.008999000000000002, 0.008999, 0.0199, 0.3, 0.179999, 0.17999899999999996, 1.0},
			[]int{0, 0, 1, 0, 1, 2, 1, 3, 5, 3, 2, 6, 100, 60, 59, 333}},
		{0.01, map[int]float64{1: 0.009999000000000001, 2: 0.019999, 3: 0.029998999999999998, 60: 0.599999},
			[]float64{0.0, 1e-07, 0.009999000000000001, 0.009999, 0.005, 0.019999, 0.019998999999999996, 0.01, 0.015, 0.029998999999999998, 0.029998999999999994, 0.0199, 0.3, 0.599999, 0.5999989999999998, 1.0},
			[]int{0, 0, 1, 0, 0, 2, 1, 1, 1, 3, 2, 1, 30, 60, 59, 100}},
	} {
		for k, want := range c.edges {
			if got := binEdge(k, c.width); got != want {
				t.Errorf("width %g: edge %d = %v, numpy's is %v", c.width, k, got, want)
			}
		}
		for i, x := range c.xs {
			if got := relevanceBin(x, c.width); got != c.bins[i] {
				t.Errorf("width %g: relevance %v in bin %d, numpy's digitize puts it in bin %d", c.width, x, got, c.bins[i])
			}
		}
	}
}
