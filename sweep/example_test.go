package sweep_test

import (
	"fmt"
	"log"
	"os"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/runstore"
	"github.com/actadd-go/actadd/sweep"
)

// A layer sweep with a metric: the wedding vector at every layer of the model and the unsteered
// model, 4 completions each (paired random streams), the mean number of wedding words and the
// fraction of completions with one, each with its 95% interval. "tiny" is the offline
// random-weight stand-in: its values are noise, so the example prints only what it measured.
func Example() {
	m, err := actadd.Load("tiny")
	if err != nil {
		log.Fatal(err)
	}
	res, err := sweep.Generate(m,
		sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", 4)}, Layers: sweep.AllLayers(m),
			Prompts: []string{"I went up to my friend and said"}, Unsteered: true},
		sweep.GenerateConfig{Completions: 4, Options: actadd.GenerateOptions{MaxNewTokens: 10, Sampling: actadd.PaperSampling}},
		sweep.Count("wedding words", datasets.WeddingCount),
		sweep.Occurs("has a wedding word", datasets.WeddingCount))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Settings {
		e := s.Stats["has a wedding word"]
		fmt.Printf("%s: %d completions, %s\n", s.Setting, e.N, e.Method)
	}
	// Output:
	// unsteered, prompt "I went up to my friend and said": 4 completions, 95% Wilson score interval
	// +4·(" weddings" − "") at layer 0, prompt "I went up to my friend and said": 4 completions, 95% Wilson score interval
	// +4·(" weddings" − "") at layer 1, prompt "I went up to my friend and said": 4 completions, 95% Wilson score interval
	// +4·(" weddings" − "") at layer 2, prompt "I went up to my friend and said": 4 completions, 95% Wilson score interval
	// +4·(" weddings" − "") at layer 3, prompt "I went up to my friend and said": 4 completions, 95% Wilson score interval
}

// Scoring texts under a coefficient sweep: the mean log-probability gain per token of each text,
// whose exp(−·) is the perplexity ratio of E1.
func ExampleScore() {
	m, err := actadd.Load("tiny")
	if err != nil {
		log.Fatal(err)
	}
	texts := []string{"The bride and groom married in June.", "Stocks fell on Monday after the report."}
	res, err := sweep.Score(m, sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", 1).AtLayer(1)}, Coeffs: []float64{1, 2, 4}},
		texts, sweep.ScoreConfig{Options: actadd.ScoreOptions{SkipFirst: 2}},
		sweep.Mean("mean Δ log-prob", sweep.Scored.MeanDiff))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Settings {
		fmt.Printf("c=%g: %d texts\n", s.Coeff, s.Stats["mean Δ log-prob"].N)
	}
	// Output:
	// c=1: 2 texts
	// c=2: 2 texts
	// c=4: 2 texts
}

// A sweep that grows: with a run store, each unit (here 4 completions of one setting) is
// recorded as it finishes, and a sweep run again computes only the units the store lacks.
func ExampleGenerateConfig_store() {
	m, err := actadd.Load("tiny")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "runs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := runstore.Open(dir, runstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	for _, layers := range [][]int{{0, 1}, {0, 1, 2}, {0, 1, 2}} {
		res, err := sweep.Generate(m,
			sweep.Grid{Additions: []actadd.Addition{actadd.Pair(" weddings", "", 4)}, Layers: layers,
				Prompts: []string{"I went up to my friend and said"}, Unsteered: true},
			sweep.GenerateConfig{Completions: 4, Store: st, Options: actadd.GenerateOptions{MaxNewTokens: 10, Sampling: actadd.PaperSampling}},
			sweep.Mean("wedding words", func(c actadd.Completion) float64 { return float64(datasets.WeddingCount(c.Text)) }))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("layers %v: %d units reused, %d computed\n", layers, res.Reused, res.Computed)
	}
	// Output:
	// layers [0 1]: 0 units reused, 3 computed
	// layers [0 1 2]: 3 units reused, 1 computed
	// layers [0 1 2]: 4 units reused, 0 computed
}
