package checkpoint_test

import (
	"fmt"
	"log"
	"os"

	"github.com/actadd-go/actadd/checkpoint"
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
