package loader_test

import (
	"fmt"
	"log"
	"path/filepath"

	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/loader"
)

// Locate resolves model names ("gpt2", …, a repository id, a folder); "tiny" is a random
// stand-in that works offline, generated once into a folder beside the Hugging Face cache.
func ExampleLocate() {
	dir, err := loader.Locate("tiny", hfhub.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	head, err := loader.ReadHead(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.Base(dir)[:5], head.ModelType+",", loader.Describe("tiny"))
	// Output: tiny- gpt2, tiny (random-weight stand-in, not GPT-2)
}
