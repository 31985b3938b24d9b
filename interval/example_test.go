package interval_test

import (
	"fmt"

	"github.com/actadd-go/actadd/interval"
)

// An estimate prints as its value and 95% interval, rounded alike, with its sample size and
// method.
func ExampleEstimate_String() {
	fmt.Println(interval.Proportion(3, 20))
	fmt.Println(interval.Proportion(0, 395))
	fmt.Println(interval.Mean([]float64{7}))
	// Output:
	// 0.15 [0.05, 0.36] (n = 20, Wilson)
	// 0.0000 [0.0000, 0.0096] (n = 395, Wilson)
	// 7 (n = 1, t: no interval)
}

// Wedding words in 200 completions, one of which has one: the mean count's interval starts at
// 0, where a t interval would reach below it.
func ExampleCountMean() {
	counts := make([]float64, 200)
	counts[17] = 1
	fmt.Println(interval.CountMean(counts))
	fmt.Println(interval.Mean(counts).Numbers())
	// Output:
	// 0.005 [0.000, 0.028] (n = 200, Poisson exact)
	// 0.005 [-0.005, 0.015]
}
