package gpt2

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/repopath"
	"github.com/gomlx/compute"
)

// Load finds a checkpoint by name and puts it on backend. name is a published model (gpt2,
// gpt2-medium, gpt2-large, gpt2-xl, distilgpt2: fetched from the Hugging Face hub into the
// shared HF cache, honouring HF_ENDPOINT, HF_HUB_CACHE/HF_HOME and HF_HUB_OFFLINE), a local
// checkpoint directory (config.json + model.safetensors), or "tiny": a small random-weight
// model, generated offline, that stands in for GPT-2 in tests and demos and is named as such.
//
// The model's Name and Revision never hold an absolute path of the machine (results record
// them): a local checkpoint is named by its path relative to the repository, or its folder's
// name, and pinned by checkpoint.ContentHash.
func Load(backend compute.Backend, name string) (*Model, error) {
	dir, cfg, err := checkpoint.Locate(name, hfhub.DefaultOptions())
	if err != nil {
		return nil, err
	}
	weights, err := checkpoint.Read(dir, cfg)
	if err != nil {
		return nil, err
	}
	label, revision, err := describe(name, dir, cfg)
	if err != nil {
		return nil, err
	}
	m, err := New(backend, label, cfg, weights)
	if err != nil {
		return nil, fmt.Errorf("gpt2: loading %s from %s: %w", name, dir, err)
	}
	m.Revision = revision
	return m, nil
}

// describe returns the Name and Revision of the model loaded as name from dir.
func describe(name, dir string, cfg checkpoint.Config) (label, revision string, err error) {
	parent := filepath.Dir(dir)
	switch {
	case cfg.ActaddDescription != "": // a random-weight checkpoint (tiny, by name or by folder)
		label = cfg.ActaddDescription
	case filepath.Base(parent) == "snapshots":
		label = name
		if _, ok := checkpoint.HubRepo(name); !ok { // a snapshot folder given as a path
			label = hubRepoID(filepath.Base(filepath.Dir(parent)))
		}
	default:
		label = repopath.Display(dir)
	}
	switch {
	case filepath.Base(parent) == "snapshots", name == checkpoint.TinyName:
		return label, filepath.Base(dir), nil // the commit sha, or tiny-<hash of its recipe>
	}
	sum, err := checkpoint.ContentHash(dir)
	if err != nil {
		return "", "", err
	}
	return label, "sha256:" + sum[:16], nil
}

// hubRepoID turns a hub cache folder name such as "models--openai-community--gpt2" into the
// repository id "openai-community/gpt2".
func hubRepoID(folder string) string {
	_, rest, ok := strings.Cut(folder, "--")
	if !ok {
		return folder
	}
	return strings.ReplaceAll(rest, "--", "/")
}
