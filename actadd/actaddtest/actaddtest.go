// Package actaddtest gives the tests of packages that use actadd (sweep, experiments, explorer)
// the offline stand-in "tiny" built in memory (the config, seed and name actadd.Load("tiny")
// uses), so that they touch no cache folder, once per test binary (Get); the loader's other
// stand-ins, once per test binary (StandIn); and a stand-in of the Llama family with its chat
// template, one per test (WithChatTemplate).
package actaddtest

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/loader"
)

var (
	once  sync.Once
	model *actadd.Model
	err   error
)

// Get returns the tiny stand-in on the tests' backend (testbackend), failing t if it cannot be
// built.
func Get(t testing.TB) *actadd.Model {
	t.Helper()
	once.Do(func() {
		cfg := checkpoint.TinyConfig()
		var g *gpt2.Model
		g, err = gpt2.New(testbackend.Get(t), checkpoint.TinyDescription, cfg, checkpoint.RandomTensors(cfg, checkpoint.TinySeed))
		if err == nil {
			model, err = actadd.Wrap(g, nil, "go")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return model
}

var (
	standInsMu sync.Mutex
	standIns   = map[string]*actadd.Model{}
)

// StandIn returns the loader's offline stand-in called name ("tiny-llama", "tiny-qwen2",
// "tiny-qwen3", …) on the tests' backend, loaded once per test binary from a temporary cache
// folder (never the user's; the model is in memory once loaded), failing t if it cannot be
// loaded.
func StandIn(t testing.TB, name string) *actadd.Model {
	t.Helper()
	standInsMu.Lock()
	defer standInsMu.Unlock()
	if m, ok := standIns[name]; ok {
		return m
	}
	cache := filepath.Join(t.TempDir(), "huggingface", "hub")
	g, tok, err := loader.LoadWith(testbackend.Get(t), name, hfhub.Options{CacheDir: cache, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := actadd.Wrap(g, tok, "go")
	if err != nil {
		t.Fatal(err)
	}
	standIns[name] = m
	return m
}

// WithChatTemplate returns a model of its own of the loader's stand-in called name, loaded by
// actadd.Load from its checkpoint folder in a temporary cache: with the chat template its
// tokenizer files carry (StandIn's models have none), and not shared, so that a test may change
// it (SetChatTemplate). It fails t if the stand-in cannot be loaded.
func WithChatTemplate(t testing.TB, name string) *actadd.Model {
	t.Helper()
	dir, err := loader.Locate(name, hfhub.Options{CacheDir: filepath.Join(t.TempDir(), "huggingface", "hub"), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := actadd.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Finalize)
	return m
}
