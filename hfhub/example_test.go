package hfhub_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/actadd-go/actadd/hfhub"
)

// Download GPT-2's weights into the shared Hugging Face cache, or find them there offline.
func ExampleDownload() {
	opts := hfhub.DefaultOptions() // HF_HUB_CACHE, HF_ENDPOINT, HF_HUB_OFFLINE, HF_TOKEN
	paths, err := hfhub.Download(hfhub.Repo{ID: "openai-community/gpt2"},
		[]string{"config.json", "model.safetensors"}, opts)
	if errors.Is(err, hfhub.ErrNotCached) {
		log.Fatalf("%v\n(or use a local checkpoint)", err)
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(paths[1])
}
