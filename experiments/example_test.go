package experiments_test

import (
	"flag"
	"fmt"
	"log"

	"github.com/actadd-go/actadd/experiments"
)

func ExamplePAtKList() {
	fmt.Println(experiments.PAtKList())
	// Output: [1 2 3 4 5 6 7 9 12 15 19 24 30 38 49 62 79 100]
}

// The paper's layer 16 of GPT-2-XL's 48, scaled to other depths, and a plain layer number.
func ExampleLayer_Resolve() {
	for _, s := range []string{"16/48", "6"} {
		l, err := experiments.ParseLayer(s)
		if err != nil {
			log.Fatal(err)
		}
		for _, n := range []int{48, 12, 4} {
			if at, err := l.Resolve(n); err != nil {
				fmt.Printf("%s of %d layers: %v\n", l, n, err)
			} else {
				fmt.Printf("%s of %d layers: layer %d\n", l, n, at)
			}
		}
	}
	// Output:
	// 16/48 of 48 layers: layer 16
	// 16/48 of 12 layers: layer 4
	// 16/48 of 4 layers: layer 1
	// 6 of 48 layers: layer 6
	// 6 of 12 layers: layer 6
	// 6 of 4 layers: experiments: layer 6 is out of range for a model with 4 layers: use 0..3, or a scaled layer such as 16/48
}

// A program's flags change single values of an experiment's config at the scale --scale picks,
// the same way for every experiment: here E2 at the quick scale, swept at two layers and two
// coefficients.
func ExampleWeddingFlags() {
	fs := flag.NewFlagSet("e2", flag.ExitOnError)
	e2 := experiments.WeddingFlags(fs)
	if err := fs.Parse([]string{"--scale=quick", "--layers=0,16/48", "--coeffs=1,4"}); err != nil {
		log.Fatal(err)
	}
	cfg, err := e2.Config()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Completions, "completions of", cfg.NewTokens, "tokens at layers", cfg.Layers, "with c in", cfg.Coeffs)
	// Output:
	// 8 completions of 12 tokens at layers 0,16/48 with c in [1 4]
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
