package gpt2_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
)

// Results record a model's Name and Revision: never an absolute path of the machine.
func TestLoadNamesLocalCheckpoints(t *testing.T) {
	b := testbackend.Get(t)
	noAbsolutePath := func(m *gpt2.Model) {
		t.Helper()
		for _, s := range []string{m.Name, m.Revision} {
			if filepath.IsAbs(s) || strings.Contains(s, os.TempDir()) {
				t.Errorf("model %q revision %q: an absolute path", m.Name, m.Revision)
			}
		}
	}
	// Inside the repository: the path relative to it, pinned by content.
	m, err := gpt2.Load(b, filepath.Join("testdata", "hf-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := checkpoint.ContentHash(filepath.Join("testdata", "hf-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "gpt2/testdata/hf-tiny" || m.Revision != "sha256:"+sum[:16] {
		t.Errorf("repository checkpoint: name %q, revision %q; want gpt2/testdata/hf-tiny, sha256:%s", m.Name, m.Revision, sum[:16])
	}
	noAbsolutePath(m)

	// Outside it, by absolute path: the folder's name; the same files give the same revision.
	cfg := testConfigs[0]
	dir := filepath.Join(t.TempDir(), "my-model")
	if err := checkpoint.Write(dir, cfg, checkpoint.RandomTensors(cfg, 1)); err != nil {
		t.Fatal(err)
	}
	m, err = gpt2.Load(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "my-model" || !strings.HasPrefix(m.Revision, "sha256:") {
		t.Errorf("outside checkpoint: name %q, revision %q", m.Name, m.Revision)
	}
	noAbsolutePath(m)
	copyDir := filepath.Join(t.TempDir(), "copy")
	if err := checkpoint.Write(copyDir, cfg, checkpoint.RandomTensors(cfg, 1)); err != nil {
		t.Fatal(err)
	}
	if m2, err := gpt2.Load(b, copyDir); err != nil || m2.Revision != m.Revision {
		t.Errorf("a copy of the checkpoint: revision %q, want %q (%v)", m2.Revision, m.Revision, err)
	}

	// A snapshot folder of the Hugging Face cache, given as a path: the repository and commit.
	snap := filepath.Join(t.TempDir(), "models--acme--small-gpt", "snapshots", "0123abcd")
	if err := checkpoint.Write(snap, cfg, checkpoint.RandomTensors(cfg, 1)); err != nil {
		t.Fatal(err)
	}
	if m, err = gpt2.Load(b, snap); err != nil || m.Name != "acme/small-gpt" || m.Revision != "0123abcd" {
		t.Errorf("snapshot folder: name %q, revision %q, %v", m.Name, m.Revision, err)
	}
}

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
