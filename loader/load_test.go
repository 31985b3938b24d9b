package loader_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/loader"
)

// Results record a model's Name and Revision: never an absolute path of the machine.
func TestLoadNamesLocalCheckpoints(t *testing.T) {
	b := testbackend.Get(t)
	noAbsolutePath := func(m lm.Info) {
		t.Helper()
		for _, s := range []string{m.Name, m.Revision} {
			if filepath.IsAbs(s) || strings.Contains(s, os.TempDir()) {
				t.Errorf("model %q revision %q: an absolute path", m.Name, m.Revision)
			}
		}
	}
	load := func(name string) (lm.Info, error) {
		m, _, err := loader.Load(b, name)
		if err != nil {
			return lm.Info{}, err
		}
		return m.Info(), nil
	}
	cfg := checkpoint.TinyConfig()
	cfg.NLayer, cfg.NEmbd, cfg.NHead, cfg.NPositions = 2, 16, 2, 32
	// Inside the repository: the path relative to it, pinned by content.
	m, err := load(filepath.Join("..", "gpt2", "testdata", "hf-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := checkpoint.ContentHash(filepath.Join("..", "gpt2", "testdata", "hf-tiny"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "gpt2/testdata/hf-tiny" || m.Revision != "sha256:"+sum[:16] {
		t.Errorf("repository checkpoint: name %q, revision %q; want gpt2/testdata/hf-tiny, sha256:%s", m.Name, m.Revision, sum[:16])
	}
	noAbsolutePath(m)

	// Outside it, by absolute path: the folder's name; the same files give the same revision.
	dir := filepath.Join(t.TempDir(), "my-model")
	if err := checkpoint.Write(dir, cfg, checkpoint.RandomTensors(cfg, 1)); err != nil {
		t.Fatal(err)
	}
	m, err = load(dir)
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
	if m2, err := load(copyDir); err != nil || m2.Revision != m.Revision {
		t.Errorf("a copy of the checkpoint: revision %q, want %q (%v)", m2.Revision, m.Revision, err)
	}

	// A snapshot folder of the Hugging Face cache, given as a path: the repository and commit.
	snap := filepath.Join(t.TempDir(), "models--acme--small-gpt", "snapshots", "0123abcd")
	if err := checkpoint.Write(snap, cfg, checkpoint.RandomTensors(cfg, 1)); err != nil {
		t.Fatal(err)
	}
	if m, err = load(snap); err != nil || m.Name != "acme/small-gpt" || m.Revision != "0123abcd" {
		t.Errorf("snapshot folder: name %q, revision %q, %v", m.Name, m.Revision, err)
	}
}
