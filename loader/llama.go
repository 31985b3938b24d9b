package loader

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/hftok"
	"github.com/actadd-go/actadd/llama"
	"github.com/actadd-go/actadd/lm"
	"github.com/gomlx/compute"
)

// llamaFamily loads the Llama family (model_type llama, mistral, qwen2, qwen3; SmolLM2 is a
// llama) with package llama, and its tokenizer from tokenizer.json with package hftok.
var llamaFamily = family{
	load: func(b compute.Backend, dir, label, revision string) (lm.Model, error) {
		m, err := llama.LoadWith(b, dir, llama.LoadOptions{})
		if err != nil {
			return nil, err
		}
		m.Name, m.Revision = label, revision
		return m, nil
	},
	tokenizer:      func(dir string) (lm.Tokenizer, error) { return hftok.Load(dir) },
	hubFiles:       llamaHubFiles,
	tokenizerFiles: llamaTokenizerFiles,
}

// llamaTokenizerFiles are the files hftok reads besides config.json.
var llamaTokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "generation_config.json"}

var (
	_ lm.Model     = (*llama.Model)(nil)
	_ lm.Tokenizer = (*hftok.Tokenizer)(nil)
)

func init() {
	for _, t := range llama.Families {
		families[t] = llamaFamily
	}
}

// llamaHubFiles lists what to fetch of a Llama-family repository whose config.json is in dir:
// the weights (model.safetensors, or the index and its shards) and the tokenizer files, after
// checking the model's size against the memory available, before any of them is downloaded.
func llamaHubFiles(dir string, repo hfhub.Repo, opts hfhub.Options) ([]string, error) {
	cfg, err := llama.ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if err := llama.CheckMemory(repo.ID, cfg, 0, llama.AvailableMemory()); err != nil {
		return nil, err
	}
	repo.Revision = filepath.Base(dir)
	listed, err := hfhub.ListFiles(repo, opts)
	if err != nil {
		return nil, err
	}
	var files []string
	switch {
	case slices.Contains(listed, checkpoint.WeightsFile):
		files = append(files, checkpoint.WeightsFile)
	case slices.Contains(listed, checkpoint.WeightsIndexFile):
		paths, err := hfhub.Download(repo, []string{checkpoint.WeightsIndexFile}, opts)
		if err != nil {
			return nil, err
		}
		shards, err := indexShards(paths[0])
		if err != nil {
			return nil, err
		}
		files = append(append(files, checkpoint.WeightsIndexFile), shards...)
	default:
		return nil, fmt.Errorf("loader: Hugging Face repo %s has neither %s nor %s: it holds no safetensors weights this library reads", repo.ID, checkpoint.WeightsFile, checkpoint.WeightsIndexFile)
	}
	if !slices.Contains(listed, "tokenizer.json") {
		return nil, fmt.Errorf("loader: Hugging Face repo %s has no tokenizer.json: its tokenizer cannot be read", repo.ID)
	}
	for _, f := range llamaTokenizerFiles {
		if slices.Contains(listed, f) {
			files = append(files, f)
		}
	}
	return files, nil
}

// indexShards returns the shard files a model.safetensors.index.json names, sorted.
func indexShards(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loader: %w", err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("loader: parsing %s: %w", path, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range idx.WeightMap {
		if f != filepath.Base(f) || f == "" {
			return nil, fmt.Errorf("loader: %s names shard %q, not a file of the repository's top folder", path, f)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Llama-family stand-ins: random weights in the exact Hugging Face layout of each family,
// written by llama.WriteRandom, with the small tokenizer of the family's layout that package
// hftok writes (hftok.WriteTiny: Llama 3's byte-level BPE with BOS, Qwen's without, Llama 2's
// and Mistral's SentencePiece-style BPE with byte fallback). They are not trained models: their
// text is noise.
func init() {
	base := llama.Config{HiddenSize: 64, IntermediateSize: 128, NumHiddenLayers: 4, NumAttentionHeads: 4,
		NumKeyValueHeads: 2, HeadDim: 16, MaxPositionEmbeddings: 1024, RMSNormEps: 1e-6, HiddenAct: "silu"}
	add := func(name, what string, kind hftok.TinyKind, edit func(c *llama.Config)) {
		desc := fmt.Sprintf("%s (random-weight %s stand-in, not a trained model)", name, what)
		// config is the stand-in's config, with the tokenizer's vocabulary and special tokens.
		config := sync.OnceValues(func() (llama.Config, error) {
			tok, err := hftok.Tiny(kind)
			if err != nil {
				return llama.Config{}, err
			}
			cfg := base
			cfg.VocabSize = tok.VocabSize()
			cfg.EosTokenID = []int{tok.EOS()}
			cfg.BosTokenID = []int{tok.EOS()}
			if bos, ok := tok.BOS(); ok {
				cfg.BosTokenID = []int{bos}
			}
			edit(&cfg)
			return cfg, nil
		})
		shapes[name] = config
		standIns[name] = standIn{
			name: name, description: desc,
			recipe: sync.OnceValues(func() ([]byte, error) {
				cfg, err := config()
				if err != nil {
					return nil, err
				}
				cj, err := llama.ConfigJSON(cfg, "F32")
				if err != nil {
					return nil, err
				}
				tmp, err := os.MkdirTemp("", "actadd-standin-*")
				if err != nil {
					return nil, fmt.Errorf("loader: %w", err)
				}
				defer os.RemoveAll(tmp)
				if _, err := hftok.WriteTiny(tmp, kind); err != nil {
					return nil, err
				}
				recipe := fmt.Appendf(nil, "%s\x00seed %d\x00v1", cj, standInSeed)
				for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
					b, err := os.ReadFile(filepath.Join(tmp, f))
					if err != nil {
						return nil, fmt.Errorf("loader: %w", err)
					}
					recipe = append(append(recipe, 0), b...)
				}
				return recipe, nil
			}),
			write: func(dir string) error {
				cfg, err := config()
				if err != nil {
					return err
				}
				if err := llama.WriteRandom(dir, cfg, llama.RandomOptions{Seed: standInSeed, Description: desc}); err != nil {
					return err
				}
				if _, err := hftok.WriteTiny(dir, kind); err != nil {
					return err
				}
				readme := fmt.Sprintf("# %s\n\nRANDOM weights in the exact Hugging Face %s layout (config.json, model.safetensors),\n"+
					"written by github.com/actadd-go/actadd/loader with llama.WriteRandom (seed %d), and hftok's tiny %s tokenizer\n"+
					"(tokenizer.json, tokenizer_config.json; hftok.WriteTiny). It is not a trained model: its outputs carry no\n"+
					"meaning about language. It lets code and tests run offline.\n", desc, what, standInSeed, kind)
				return os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644)
			},
		}
	}
	add("tiny-llama", "Llama-3-shaped", hftok.TinyByteLevel, func(c *llama.Config) {
		c.ModelType, c.Architectures, c.RopeTheta = "llama", []string{"LlamaForCausalLM"}, 500000
	})
	add("tiny-mistral", "Mistral-shaped", hftok.TinySentencePiece, func(c *llama.Config) {
		c.ModelType, c.Architectures, c.RopeTheta, c.SlidingWindow = "mistral", []string{"MistralForCausalLM"}, 10000, 64
	})
	add("tiny-qwen2", "Qwen2-shaped", hftok.TinyByteLevelNoBOS, func(c *llama.Config) {
		c.ModelType, c.Architectures, c.RopeTheta, c.TieWordEmbeddings = "qwen2", []string{"Qwen2ForCausalLM"}, 1000000, true
	})
	add("tiny-qwen3", "Qwen3-shaped", hftok.TinyByteLevelNoBOS, func(c *llama.Config) {
		c.ModelType, c.Architectures, c.RopeTheta, c.HeadDim = "qwen3", []string{"Qwen3ForCausalLM"}, 1000000, 32
	})
}

// standInSeed is the seed of the Llama-family stand-ins' weights.
const standInSeed = 1

// shapes are the Llama-family shapes RandomShape builds random-weight models of: the
// stand-ins' and those of published models (their config.json's sizes), by name.
var shapes = map[string]func() (llama.Config, error){}

func init() {
	smol := llama.Config{ModelType: "llama", Architectures: []string{"LlamaForCausalLM"}, VocabSize: 49152,
		MaxPositionEmbeddings: 8192, RMSNormEps: 1e-5, RopeTheta: 100000, TieWordEmbeddings: true, HiddenAct: "silu",
		BosTokenID: []int{0}, EosTokenID: []int{0}}
	sized := func(c llama.Config, hidden, inter, layers, heads, kv int) func() (llama.Config, error) {
		c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads = hidden, inter, layers, heads, kv
		c.HeadDim = hidden / heads
		return func() (llama.Config, error) { return c, nil }
	}
	shapes["smollm2-135m"] = sized(smol, 576, 1536, 30, 9, 3)
	shapes["smollm2-360m"] = sized(smol, 960, 2560, 32, 15, 5)
	big := smol
	big.RopeTheta = 130000
	shapes["smollm2-1.7b"] = sized(big, 2048, 8192, 24, 32, 32)
	qwen := llama.Config{ModelType: "qwen2", Architectures: []string{"Qwen2ForCausalLM"}, VocabSize: 151936,
		MaxPositionEmbeddings: 32768, RMSNormEps: 1e-6, RopeTheta: 1e6, TieWordEmbeddings: true, HiddenAct: "silu",
		BosTokenID: []int{151643}, EosTokenID: []int{151643}}
	shapes["qwen2.5-0.5b"] = sized(qwen, 896, 4864, 24, 14, 2)
}

// Shape is a model shape of the Llama family that RandomShape builds random-weight models of.
type Shape struct {
	Name   string
	Family string // config.json's model_type
	Dims   lm.Dims
	Params int64
	// Config is the shape's config.json, as the run store's keys record it.
	Config json.RawMessage
}

// RandomShapes lists the names RandomShape accepts: the Llama-family stand-ins' shapes and
// those of smollm2-135m, smollm2-360m, smollm2-1.7b and qwen2.5-0.5b.
func RandomShapes() []string {
	var out []string
	for n := range shapes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ShapeOf describes the shape called name (RandomShapes); false when there is none.
func ShapeOf(name string) (Shape, bool) {
	config, ok := shapes[name]
	if !ok {
		return Shape{}, false
	}
	c, err := config()
	if err != nil {
		return Shape{}, false
	}
	cj, _ := llama.ConfigJSON(c, "F32")
	return Shape{Name: name, Family: c.ModelType, Params: c.ParamCount(), Config: cj,
		Dims: lm.Dims{Layers: c.NumHiddenLayers, Width: c.HiddenSize, Context: c.MaxPositionEmbeddings, Vocab: c.VocabSize}}, true
}

// RandomShape builds a model of the shape called name with random weights (seed), named label,
// in memory, with a tokenizer of the family's layout: hftok's tiny one (whose ids are the first
// of the shape's vocabulary), for timing a shape (E4), not for reading its text.
func RandomShape(b compute.Backend, name, label string, seed uint64) (lm.Model, lm.Tokenizer, error) {
	config, ok := shapes[name]
	if !ok {
		return nil, nil, fmt.Errorf("loader: unknown model shape %q: use one of %s", name, strings.Join(RandomShapes(), ", "))
	}
	cfg, err := config()
	if err != nil {
		return nil, nil, err
	}
	kind := hftok.TinyByteLevel
	if cfg.ModelType == "qwen2" || cfg.ModelType == "qwen3" {
		kind = hftok.TinyByteLevelNoBOS
	} else if cfg.ModelType == "mistral" {
		kind = hftok.TinySentencePiece
	}
	tok, err := hftok.Tiny(kind)
	if err != nil {
		return nil, nil, err
	}
	if tok.VocabSize() > cfg.VocabSize {
		return nil, nil, fmt.Errorf("loader: shape %s has a vocabulary of %d, smaller than the tiny tokenizer's %d", name, cfg.VocabSize, tok.VocabSize())
	}
	m, err := llama.New(b, label, cfg, llama.RandomTensors(cfg, seed))
	if err != nil {
		return nil, nil, err
	}
	return m, tok, nil
}
