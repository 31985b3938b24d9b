package actadd_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/actadd-go/actadd/actadd"
)

// Steer a prompt with the paper's wedding vector and compare against the unsteered model. With
// real weights use actadd.Load("gpt2-xl") and layer 6; "tiny" is the offline random stand-in, so
// its text is gibberish (it is named as such in Label).
func Example() {
	m, err := actadd.Load("tiny")
	if err != nil {
		log.Fatal(err)
	}
	weddings := actadd.Pair(" weddings", "", 4).AtLayer(1)
	opts := actadd.GenerateOptions{MaxNewTokens: 10, Sampling: actadd.PaperSampling}
	prompt := []string{"I went up to my friend and said"}

	plain, err := m.Generate(prompt, opts)
	if err != nil {
		log.Fatal(err)
	}
	steered, err := m.Generate(prompt, opts, weddings)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Label())
	fmt.Println(len(plain[0].Generated()), "unsteered tokens,", len(steered[0].Generated()), "steered tokens")
	// Output:
	// tiny (random-weight stand-in, not GPT-2) on go
	// 10 unsteered tokens, 10 steered tokens
}

// A vector from several prompt pairs (contrastive activation addition), saved for sharing and
// re-applied with another coefficient.
func ExampleModel_MeanDifference() {
	m, err := actadd.Load("tiny")
	if err != nil {
		log.Fatal(err)
	}
	v, err := m.MeanDifference([][2]string{{"Love", "Hate"}, {"I love it", "I hate it"}}, 2, actadd.DefaultPoint)
	if err != nil {
		log.Fatal(err)
	}
	if err := actadd.SaveVector(filepath.Join(os.TempDir(), "love-hate.safetensors"), v, actadd.Apply(v, 3)); err != nil {
		log.Fatal(err)
	}
	loaded, add, err := actadd.LoadVector(filepath.Join(os.TempDir(), "love-hate.safetensors"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded.N, "positions ×", loaded.D, "at", add.WithCoeff(5))
	// Output:
	// 4 positions × 64 at +5·("Love\x1fI love it" − "Hate\x1fI hate it") at blocks.2.hook_resid_pre (front)
}
