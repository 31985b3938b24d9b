package runstore_test

import (
	"fmt"
	"log"
	"os"

	"github.com/actadd-go/actadd/runstore"
)

// A layer sweep records each completion as it finishes. Run again with one more layer, it
// computes only that layer's completions.
func Example() {
	dir, err := os.MkdirTemp("", "runs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	type addition struct {
		Plus, Minus string
		Coeff       float64
		Layer       int
	}
	sweep := func(layers []int) {
		st, err := runstore.Open(dir, runstore.Options{})
		if err != nil {
			log.Fatal(err)
		}
		defer st.Close()
		for _, l := range layers {
			for c := range 3 { // completion c of every layer draws from random stream c
				key := runstore.Key{Kind: "e2/completion", Code: "v1", Model: "gpt2", Revision: "607a30d", Backend: "go",
					Steering: addition{Plus: " weddings", Coeff: 1, Layer: l},
					Sampler:  map[string]float64{"temperature": 1, "top_p": 0.3, "freq_penalty": 1},
					Data:     "prompt:I went up to my friend and said", Seed: 0, Unit: c}
				text, err := runstore.Do(st, key, func() (string, error) {
					return fmt.Sprintf("completion %d at layer %d", c, l), nil // the model's work
				})
				if err != nil {
					log.Fatal(err)
				}
				_ = text
			}
		}
		s := st.Stats()
		fmt.Printf("layers %v: %d reused, %d computed, %d records\n", layers, s.Reused, s.Computed, s.Records)
	}
	sweep([]int{0, 1})
	sweep([]int{0, 1, 2})
	sweep([]int{0, 1, 2})
	// Output:
	// layers [0 1]: 0 reused, 6 computed, 6 records
	// layers [0 1 2]: 6 reused, 3 computed, 9 records
	// layers [0 1 2]: 9 reused, 0 computed, 9 records
}
