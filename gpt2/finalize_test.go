package gpt2_test

import (
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
)

// A model used after Finalize says so, instead of surfacing GoMLX's internal panic text.
func TestFinalizedModel(t *testing.T) {
	m, _ := newModel(t, testConfigs[0], 1)
	rows := [][]int{{1, 2, 3}}
	if _, err := m.Run(rows); err != nil {
		t.Fatal(err)
	}
	m.Finalize()
	m.Finalize() // twice is fine
	if _, err := m.Run(rows); err == nil || !strings.Contains(err.Error(), "was finalized") || !strings.Contains(err.Error(), "load it again") {
		t.Errorf("Run after Finalize: %v", err)
	}
	if _, err := m.Run(rows, "blocks.0.hook_resid_pre"); err == nil || !strings.Contains(err.Error(), "was finalized") {
		t.Errorf("a new program after Finalize: %v", err)
	}
}

// The config given to New is bounded by the weights given before anything is built from it.
func TestNewBoundsConfigByWeights(t *testing.T) {
	cfg := testConfigs[0]
	w := checkpoint.RandomTensors(cfg, 1)
	for name, mutate := range map[string]func(*checkpoint.Config){
		"n_layer 1e9":      func(c *checkpoint.Config) { c.NLayer = 1_000_000_000 },
		"vocab_size 1e12":  func(c *checkpoint.Config) { c.VocabSize = 1_000_000_000_000 },
		"n_embd 2^20":      func(c *checkpoint.Config) { c.NEmbd, c.NHead = 1<<20, 1 },
		"n_positions 1e12": func(c *checkpoint.Config) { c.NPositions = 1_000_000_000_000 },
	} {
		c := cfg
		mutate(&c)
		_, err := gpt2.New(testbackend.Get(t), "test", c, w)
		if err == nil || !strings.Contains(err.Error(), "do not belong together") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
