package experiments_test

import (
	"fmt"

	"github.com/actadd-go/actadd/experiments"
)

func ExamplePAtKList() {
	fmt.Println(experiments.PAtKList())
	// Output: [1 2 3 4 5 6 7 9 12 15 19 24 30 38 49 62 79 100]
}

// The paper's layer 16 of GPT-2-XL's 48, scaled to other depths.
func ExampleResolveLayer() {
	for _, n := range []int{48, 12, 4} {
		l, _ := experiments.ResolveLayer(experiments.ScaledLayer, n)
		fmt.Printf("%d layers: layer %d\n", n, l)
	}
	// Output:
	// 48 layers: layer 16
	// 12 layers: layer 4
	// 4 layers: layer 1
}

// E1's bins: token-weighted mean log-probability difference X per relevance bin, and the
// perplexity ratio exp(−X).
func ExampleBinByRelevance() {
	docs := []experiments.DocScore{
		{Relevance: 0, Tokens: 100, SumDiff: 0.5},
		{Relevance: 0, Tokens: 300, SumDiff: -0.5},
		{Relevance: 0.012, Tokens: 200, SumDiff: 20},
	}
	bins, _ := experiments.BinByRelevance(docs, 0.005, 1)
	for _, b := range bins {
		fmt.Printf("[%.6f, %.6f): %d docs, X = %.4f, ratio %.4f, shown %v\n", b.Lo, b.Hi, b.Docs, b.MeanDiff, b.Ratio, b.Shown)
	}
	// Output:
	// [-0.000001, 0.004999): 2 docs, X = 0.0000, ratio 1.0000, shown true
	// [0.009999, 0.014999): 1 docs, X = 0.1000, ratio 0.9048, shown false
}
