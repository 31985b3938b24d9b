// Package loader loads a language model and its tokenizer by name, whatever its family: it finds
// the checkpoint (a published model's name, a Hugging Face repository id, a local folder, or an
// offline random-weight stand-in), reads config.json's model_type, and hands the folder to that
// family's package. A family is one entry of the table families; docs/adding-a-model-family.md
// says how to add one.
package loader

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/actadd-go/actadd/bpe"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/repopath"
	"github.com/actadd-go/actadd/lm"
	"github.com/gomlx/compute"
)

// family is how one architecture is loaded.
type family struct {
	// load puts the checkpoint in dir on backend, named label and pinned by revision.
	load func(b compute.Backend, dir, label, revision string) (lm.Model, error)
	// tokenizer reads the checkpoint's tokenizer from dir.
	tokenizer func(dir string) (lm.Tokenizer, error)
	// hubFiles lists the files to fetch from a hub repository besides config.json, which is
	// in dir. It checks what it can (the model's size against memory) before anything else is
	// downloaded.
	hubFiles func(dir string, repo hfhub.Repo, opts hfhub.Options) ([]string, error)
	// tokenizerFiles are the files besides config.json and the weights that the tokenizer
	// reads: a local checkpoint's revision covers them too.
	tokenizerFiles []string
}

var _ lm.Tokenizer = (*bpe.Tokenizer)(nil)

// families maps config.json's model_type to its family.
var families = map[string]family{
	gpt2.Family: {
		load: func(b compute.Backend, dir, label, revision string) (lm.Model, error) {
			cfg, err := checkpoint.ReadConfig(dir)
			if err != nil {
				return nil, err
			}
			weights, err := checkpoint.Read(dir, cfg)
			if err != nil {
				return nil, err
			}
			m, err := gpt2.New(b, label, cfg, weights)
			if err != nil {
				return nil, err
			}
			m.Revision = revision
			return m, nil
		},
		tokenizer: func(string) (lm.Tokenizer, error) { return bpe.New() },
		hubFiles: func(string, hfhub.Repo, hfhub.Options) ([]string, error) {
			return []string{checkpoint.WeightsFile}, nil
		},
	},
}

// Families lists the model_type values Load accepts.
func Families() []string {
	var out []string
	for f := range families {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Load finds the model called name (see Locate) and puts it on backend, with its tokenizer.
func Load(b compute.Backend, name string) (lm.Model, lm.Tokenizer, error) {
	return LoadWith(b, name, hfhub.DefaultOptions())
}

// LoadWith is Load with the hub options given.
func LoadWith(b compute.Backend, name string, opts hfhub.Options) (lm.Model, lm.Tokenizer, error) {
	dir, err := Locate(name, opts)
	if err != nil {
		return nil, nil, err
	}
	head, err := ReadHead(dir)
	if err != nil {
		return nil, nil, err
	}
	f, err := familyOf(head.ModelType, dir)
	if err != nil {
		return nil, nil, err
	}
	standIn := head.ActaddDescription
	if st, ok := standIns[name]; ok {
		standIn = st.description
	} else if standIn == "" && !isHubSnapshot(dir) {
		// Random weights written by llama.WriteRandom say so in their safetensors metadata.
		meta, err := checkpoint.Metadata(dir)
		if err != nil {
			return nil, nil, err
		}
		if d := meta["description"]; d != "" {
			standIn = d + " (" + repopath.Display(dir) + ")"
		}
	}
	label, revision, err := describe(name, dir, standIn, f.tokenizerFiles)
	if err != nil {
		return nil, nil, err
	}
	tok, err := f.tokenizer(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("loader: the tokenizer of %s: %w", name, err)
	}
	m, err := f.load(b, dir, label, revision)
	if err != nil {
		return nil, nil, fmt.Errorf("loader: loading %s from %s: %w", name, dir, err)
	}
	return m, tok, nil
}

// familyOf returns the family of model_type.
func familyOf(modelType, dir string) (family, error) {
	if modelType == "" {
		modelType = gpt2.Family // GPT-2 checkpoints written before model_type was required
	}
	f, ok := families[modelType]
	if !ok {
		return family{}, fmt.Errorf("loader: %s: model_type %q is not supported: the families this library implements are %s (docs/adding-a-model-family.md says how to add one)",
			filepath.Join(dir, checkpoint.ConfigFile), modelType, strings.Join(Families(), ", "))
	}
	return f, nil
}

// Head is the part of config.json every family shares.
type Head struct {
	ModelType string `json:"model_type"`
	// ActaddDescription is set in the checkpoints of random-weight stand-ins: the model's name.
	ActaddDescription string `json:"actadd_description"`
}

// ReadHead reads the fields of dir/config.json that say which family loads it.
func ReadHead(dir string) (Head, error) {
	var h Head
	path := filepath.Join(dir, checkpoint.ConfigFile)
	f, err := os.Open(path)
	if err != nil {
		return h, fmt.Errorf("loader: reading config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return h, fmt.Errorf("loader: reading config: %w", err)
	}
	if fi.Size() > maxConfigBytes {
		return h, fmt.Errorf("loader: %s has %d bytes, more than a config.json can need: it is not the file it should be", path, fi.Size())
	}
	if err := json.NewDecoder(f).Decode(&h); err != nil {
		return h, fmt.Errorf("loader: parsing %s: %w; the file is damaged: delete it (in the Hugging Face cache, its snapshot link and blob) and download or write it again", path, err)
	}
	return h, nil
}

// maxConfigBytes bounds config.json.
const maxConfigBytes = 1 << 20

// BuiltinTokenizer returns the tokenizer of a family that needs no files (GPT-2's BPE), for
// models built in memory.
func BuiltinTokenizer(modelType string) (lm.Tokenizer, error) {
	if modelType == gpt2.Family {
		return bpe.New()
	}
	return nil, fmt.Errorf("family %q has no built-in tokenizer: read the checkpoint's with loader.Tokenizer(dir)", modelType)
}

// Tokenizer reads the tokenizer of the checkpoint in dir, by its config.json's model_type.
func Tokenizer(dir string) (lm.Tokenizer, error) {
	head, err := ReadHead(dir)
	if err != nil {
		return nil, err
	}
	f, err := familyOf(head.ModelType, dir)
	if err != nil {
		return nil, err
	}
	return f.tokenizer(dir)
}

// isHubSnapshot reports whether dir is a snapshot folder of the Hugging Face cache.
func isHubSnapshot(dir string) bool { return filepath.Base(filepath.Dir(dir)) == "snapshots" }
