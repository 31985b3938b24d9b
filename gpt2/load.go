package gpt2

import (
	"fmt"
	"path/filepath"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/gomlx/compute"
)

// Load finds a checkpoint by name and puts it on backend. name is a published model (gpt2,
// gpt2-medium, gpt2-large, gpt2-xl, distilgpt2: fetched from the Hugging Face hub into the
// shared HF cache, honouring HF_ENDPOINT, HF_HUB_CACHE/HF_HOME and HF_HUB_OFFLINE), a local
// checkpoint directory (config.json + model.safetensors), or "tiny": a small random-weight
// model, generated offline, that stands in for GPT-2 in tests and demos and is named as such.
func Load(backend compute.Backend, name string) (*Model, error) {
	dir, cfg, err := checkpoint.Locate(name, hfhub.DefaultOptions())
	if err != nil {
		return nil, err
	}
	weights, err := checkpoint.Read(dir, cfg)
	if err != nil {
		return nil, err
	}
	label := name
	if cfg.ActaddDescription != "" { // a random-weight checkpoint (tiny, by name or by folder)
		label = cfg.ActaddDescription
	}
	m, err := New(backend, label, cfg, weights)
	if err != nil {
		return nil, fmt.Errorf("gpt2: loading %s from %s: %w", name, dir, err)
	}
	m.Revision = dir
	if filepath.Base(filepath.Dir(dir)) == "snapshots" || name == checkpoint.TinyName {
		m.Revision = filepath.Base(dir) // the commit sha, or tiny-<hash>
	}
	return m, nil
}
