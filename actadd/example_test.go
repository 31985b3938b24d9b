package actadd_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/actadd-go/actadd/actadd"
)

// Steer a prompt with the paper's wedding vector and compare it with the unsteered model (the
// README's example; a test keeps the README's code block equal to this body). "tiny" is the
// offline random-weight stand-in, so its text is gibberish; the example prints only what does
// not depend on it.
func Example() {
	m, err := actadd.Load("tiny") // "gpt2-xl" is the paper's model (downloaded once)
	if err != nil {
		log.Fatal(err)
	}
	// 4·(h(" weddings") − h("")) added at blocks.1.hook_resid_pre; the paper used layer 6 of gpt2-xl's 48.
	weddings := actadd.Pair(" weddings", "", 4).AtLayer(1)
	opts := actadd.GenerateOptions{MaxNewTokens: 20, Sampling: actadd.PaperSampling}
	cmp, err := m.Compare("I went up to my friend and said", 3, opts, weddings)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(weddings)
	fmt.Println(len(cmp.Unsteered), "unsteered and", len(cmp.Steered), "steered completions") // fmt.Print(cmp) shows them side by side
	// Output:
	// +4·(" weddings" − "") at blocks.1.hook_resid_pre (front)
	// 3 unsteered and 3 steered completions
}

// Steered and unsteered completions side by side, row i of both columns from the same random
// stream: fmt.Print shows a text table, Comparison.HTML a table for a notebook.
func ExampleModel_Compare() {
	m, err := actadd.Load("tiny")
	if err != nil {
		log.Fatal(err)
	}
	opts := actadd.GenerateOptions{MaxNewTokens: 30, Sampling: actadd.PaperSampling}
	cmp, err := m.Compare("I hate you because", 4, opts, actadd.Pair("Love", "Hate", 5).AtLayer(2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(cmp)
}

// A vector from several prompt pairs (contrastive activation addition), saved for sharing and
// re-applied with another coefficient. The vector keeps its pairs as a list and records its
// model.
func ExampleModel_MeanDifference() {
	m, err := actadd.Load("tiny")
	if err != nil {
		log.Fatal(err)
	}
	v, err := m.MeanDifference([][2]string{{"Love", "Hate"}, {"I love it", "I hate it"}}, 2, actadd.DefaultPoint)
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), "love-hate.safetensors")
	if err := actadd.SaveVector(path, v, actadd.Apply(v, 3)); err != nil {
		log.Fatal(err)
	}
	loaded, add, err := actadd.LoadVector(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded.N, "positions ×", loaded.D, "from", len(loaded.Pairs), "pairs of", loaded.Model)
	fmt.Println(add.WithCoeff(5))
	// Output:
	// 4 positions × 64 from 2 pairs of tiny (random-weight stand-in, not GPT-2)
	// +5·mean of 2 pairs ("Love" − "Hate", "I love it" − "I hate it") at blocks.2.hook_resid_pre (front)
}
