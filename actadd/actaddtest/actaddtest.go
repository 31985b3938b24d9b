// Package actaddtest gives the tests of packages that use actadd (sweep, experiments, explorer)
// the offline stand-in "tiny" built in memory (the config, seed and name actadd.Load("tiny")
// uses), so that they touch no cache folder, once per test binary.
package actaddtest

import (
	"sync"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
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
