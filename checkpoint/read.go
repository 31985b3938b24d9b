package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/actadd-go/actadd/internal/filehash"
)

// File names of a checkpoint folder, as on the Hugging Face hub.
const (
	ConfigFile       = "config.json"
	WeightsFile      = "model.safetensors"
	WeightsIndexFile = "model.safetensors.index.json"
)

// ignoredName matches tensors that hold no weights of their own: the attention mask buffers
// and the output layer, which GPT-2 ties to wte.
var ignoredName = regexp.MustCompile(`^(h\.\d+\.attn\.(bias|masked_bias)|lm_head\.weight)$`)

// blockName matches the tensors of a transformer block.
var blockName = regexp.MustCompile(`^h\.\d+\.`)

// crossAttentionName matches the cross-attention weights of a config with add_cross_attention,
// unused without encoder states (Config).
var crossAttentionName = regexp.MustCompile(`^h\.\d+\.(crossattention|ln_cross_attn)\.`)

// canonicalName strips the "transformer." prefix that GPT2LMHeadModel checkpoints carry.
func canonicalName(name string) string { return strings.TrimPrefix(name, "transformer.") }

// Load reads dir/config.json and the weights in dir (see Read).
func Load(dir string) (Config, map[string]Tensor, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return cfg, nil, err
	}
	t, err := Read(dir, cfg)
	return cfg, t, err
}

// Read loads the GPT-2 weights of the checkpoint folder dir: model.safetensors, or the shards
// listed in model.safetensors.index.json. Names may carry a "transformer." prefix; the
// returned map uses the names of ExpectedShapes (no prefix). The attention buffers
// h.{i}.attn.bias / h.{i}.attn.masked_bias, the tied lm_head.weight, the cross-attention
// weights of a config with add_cross_attention and any other extra tensors are skipped. F32, F16, BF16 (and F64) data are decoded to float32.
//
// Every tensor of ExpectedShapes(cfg) must be present with its shape; the file is checked
// against its header before any data is read, so a truncated file gives an error, not a crash.
func Read(dir string, cfg Config) (map[string]Tensor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	files, err := weightFiles(dir)
	if err != nil {
		return nil, err
	}
	type location struct {
		st    *stFile
		entry stEntry
		raw   string
	}
	found := map[string]location{}
	for _, path := range files {
		st, err := openSafetensors(path)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		for raw, e := range st.entries {
			name := canonicalName(raw)
			if ignoredName.MatchString(name) || cfg.AddCrossAttention && crossAttentionName.MatchString(name) {
				continue
			}
			if prev, dup := found[name]; dup {
				return nil, fmt.Errorf("checkpoint: tensor %s is stored twice (as %s in %s and as %s in %s); keep one",
					name, prev.raw, prev.st.path, raw, path)
			}
			found[name] = location{st, e, raw}
		}
	}

	// Bound every size of the config by what the weights hold before anything is allocated from
	// it (ExpectedShapes makes 12 entries per layer): each value takes at least 2 bytes.
	var available int64
	opened := map[*stFile]bool{}
	for _, loc := range found {
		if !opened[loc.st] {
			opened[loc.st] = true
			available += loc.st.dataLen
		}
	}
	if n, _ := cfg.ParamCount(); n > available/2 {
		return nil, fmt.Errorf("checkpoint: the config in %s (n_layer=%d n_embd=%d n_positions=%d vocab_size=%d) describes %d values, but the weights (%s) hold %d bytes of data, room for at most %d:"+
			" config.json does not belong to these weights; download or write both again",
			filepath.Join(dir, ConfigFile), cfg.NLayer, cfg.NEmbd, cfg.NPositions, cfg.VocabSize, n, strings.Join(files, ", "), available, available/2)
	}
	expected := ExpectedShapes(cfg)
	var missing []string
	for name := range expected {
		if _, ok := found[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		more := ""
		if len(missing) > 5 {
			more = fmt.Sprintf(" and %d more", len(missing)-5)
			missing = missing[:5]
		}
		return nil, fmt.Errorf("checkpoint: %s lacks tensor %s%s (of %d expected for n_layer=%d): is this a GPT-2 checkpoint matching %s?",
			strings.Join(files, ", "), strings.Join(missing, ", "), more, len(expected), cfg.NLayer, filepath.Join(dir, ConfigFile))
	}
	// Blocks beyond the config's n_layer mean the config and the weights disagree: loading only
	// the first n_layer blocks would quietly make another model.
	var extra []string
	for name := range found {
		if _, ok := expected[name]; !ok && blockName.MatchString(name) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, fmt.Errorf("checkpoint: %s holds tensor %s, beyond the n_layer=%d blocks that %s declares: fix n_layer there to match the weights",
			found[extra[0]].st.path, found[extra[0]].raw, cfg.NLayer, filepath.Join(dir, ConfigFile))
	}
	// Check every shape before the (long) decoding.
	names := make([]string, 0, len(expected))
	for name, want := range expected {
		loc := found[name]
		if !slices.Equal(loc.entry.Shape, want) {
			return nil, fmt.Errorf("checkpoint: %s: tensor %s has shape %v, expected %v for the config in %s (n_embd=%d, vocab_size=%d, n_positions=%d)",
				loc.st.path, loc.raw, loc.entry.Shape, want, filepath.Join(dir, ConfigFile), cfg.NEmbd, cfg.VocabSize, cfg.NPositions)
		}
		switch loc.entry.DType {
		case "F32", "F16", "BF16", "F64":
		default:
			return nil, fmt.Errorf("checkpoint: %s: tensor %s has dtype %q; only F32, F16, BF16 and F64 can be loaded", loc.st.path, loc.raw, loc.entry.DType)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(map[string]Tensor, len(names))
	for _, name := range names {
		loc := found[name]
		data, err := loc.st.readFloat32(loc.raw, loc.entry)
		if err != nil {
			return nil, err
		}
		out[name] = Tensor{Shape: slices.Clone(expected[name]), Data: data}
	}
	return out, nil
}

// ContentHash identifies the checkpoint in dir by content: the hex sha256 of the sha256sum
// listing of its config.json and weight files (`sha256sum config.json model.safetensors |
// sha256sum`). Two folders with the same files have the same hash wherever they are; it reads
// every file once.
func ContentHash(dir string) (string, error) {
	files, err := weightFiles(dir)
	if err != nil {
		return "", err
	}
	sum, err := filehash.Files(append([]string{filepath.Join(dir, ConfigFile)}, files...))
	if err != nil {
		return "", fmt.Errorf("checkpoint: hashing %s: %w", dir, err)
	}
	return sum, nil
}

// maxIndexBytes bounds model.safetensors.index.json: gpt2-xl's would be about 40 KB.
const maxIndexBytes = 16 << 20

// weightFiles lists the safetensors files of dir: model.safetensors, else the shards of
// model.safetensors.index.json.
func weightFiles(dir string) ([]string, error) {
	single := filepath.Join(dir, WeightsFile)
	if _, err := os.Stat(single); err == nil {
		return []string{single}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	indexPath := filepath.Join(dir, WeightsIndexFile)
	raw, err := readBounded(indexPath, maxIndexBytes)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("checkpoint: %s has neither %s nor %s: a GPT-2 checkpoint in safetensors format is needed"+
			" (convert pytorch_model.bin with Python's safetensors, or download model.safetensors)", dir, WeightsFile, WeightsIndexFile)
	} else if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &index); err != nil || len(index.WeightMap) == 0 {
		return nil, fmt.Errorf("checkpoint: %s is not a valid safetensors index (want {\"weight_map\": {tensor: file}}): %v", indexPath, err)
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range index.WeightMap {
		if f == "" || filepath.IsAbs(f) || strings.Contains(f, "..") || strings.ContainsAny(f, `/\`) {
			return nil, fmt.Errorf("checkpoint: %s names shard %q: shards must be plain file names in %s", indexPath, f, dir)
		}
		if !seen[f] {
			seen[f] = true
			files = append(files, filepath.Join(dir, f))
		}
	}
	sort.Strings(files)
	return files, nil
}
