package gpt2_test

import (
	"errors"
	"testing"

	"github.com/actadd-go/actadd/bpe"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/loader"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestRealGPT2GreedyMatchesHuggingFace checks the real gpt2 checkpoint, when it is in the HF
// cache, against the greedy continuation Hugging Face publishes for this prompt (generate with
// max_length=50, prompt tokenized without BOS).
func TestRealGPT2GreedyMatchesHuggingFace(t *testing.T) {
	opts := hfhub.DefaultOptions()
	opts.Offline = true
	opts.Progress = nil
	dir, err := loader.Locate("gpt2", opts)
	if errors.Is(err, hfhub.ErrNotCached) {
		t.Skipf("real gpt2 weights are not in the Hugging Face cache %s, skipping (run once online, or copy a cache that has openai-community/gpt2): %v", opts.CacheDir, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := checkpoint.ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	weights, err := checkpoint.Read(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := gpt2.New(testbackend.Get(t), "gpt2", cfg, weights)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := bpe.New()
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode("I enjoy walking with my cute dog")
	for len(ids) < 50 {
		out, err := m.Run([][]int{ids})
		if err != nil {
			t.Fatal(err)
		}
		logits := tensors.MustCopyFlatData[float32](out.Logits)
		last := logits[(len(ids)-1)*cfg.VocabSize:]
		best := 0
		for i, v := range last {
			if v > last[best] {
				best = i
			}
		}
		ids = append(ids, best)
	}
	got, err := tok.Decode(ids)
	if err != nil {
		t.Fatal(err)
	}
	want := "I enjoy walking with my cute dog, but I'm not sure if I'll ever be able to walk with my dog. I'm not sure if I'll ever be able to walk with my dog.\n\nI'm not sure if I'll"
	if got != want {
		t.Errorf("greedy continuation differs from Hugging Face's:\n got %q\nwant %q", got, want)
	}
}
