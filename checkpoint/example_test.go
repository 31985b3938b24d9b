package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
)

// Write a small random GPT-2 in Hugging Face's layout and load it back.
func ExampleWriteTiny() {
	dir, err := os.MkdirTemp("", "tiny")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := checkpoint.TinyConfig()
	cfg.NLayer = 2
	if err := checkpoint.WriteTiny(dir, cfg, 1); err != nil {
		log.Fatal(err)
	}
	cfg, tensors, err := checkpoint.Load(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(tensors), "tensors; wte", tensors["wte.weight"].Shape, "c_attn", tensors["h.0.attn.c_attn.weight"].Shape)
	// Output: 28 tensors; wte [50257 64] c_attn [64 192]
}

// Locate resolves model names ("gpt2", …, a folder); "tiny" is a random stand-in that works
// offline, generated once into a folder beside the Hugging Face cache.
func ExampleLocate() {
	dir, cfg, err := checkpoint.Locate("tiny", hfhub.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(dir)[:5], cfg.NLayer, "layers,", checkpoint.Describe("tiny"))
	// Output: tiny- 4 layers, tiny (random-weight stand-in, not GPT-2)
}
