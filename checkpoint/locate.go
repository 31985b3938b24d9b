package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/actadd-go/actadd/hfhub"
)

// hubRepos maps the published model names to their Hugging Face repositories.
var hubRepos = map[string]string{
	"gpt2":        "openai-community/gpt2",
	"gpt2-medium": "openai-community/gpt2-medium",
	"gpt2-large":  "openai-community/gpt2-large",
	"gpt2-xl":     "openai-community/gpt2-xl",
	"distilgpt2":  "distilbert/distilgpt2",
}

// Names lists the model names Locate accepts besides a local folder.
func Names() []string {
	return []string{"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2", TinyName}
}

// HubRepo returns the Hugging Face repository of a published model name.
func HubRepo(name string) (hfhub.Repo, bool) {
	id, ok := hubRepos[name]
	return hfhub.Repo{ID: id}, ok
}

// Describe returns how results of model name must be labelled: TinyDescription for "tiny",
// the name and repository for the published models, the name itself otherwise.
func Describe(name string) string {
	if name == TinyName {
		return TinyDescription
	}
	if id, ok := hubRepos[name]; ok {
		return fmt.Sprintf("%s (%s)", name, id)
	}
	return name
}

// Locate finds the checkpoint folder (config.json + model.safetensors) of a model and reads its
// config. name is one of:
//
//   - gpt2, gpt2-medium, gpt2-large, gpt2-xl (repos openai-community/<name>) or distilgpt2
//     (distilbert/distilgpt2): taken from the Hugging Face cache, downloaded when missing unless
//     opts.Offline; with the hub unreachable the error matches hfhub.ErrNotCached;
//   - tiny: the random-weight stand-in (TinyConfig, TinySeed; see TinyDescription), generated
//     once into <hub cache>/../actadd/tiny-<hash of config, seed, generator> (by default
//     ~/.cache/huggingface/actadd/, beside the hub cache so one copy of ~/.cache/huggingface
//     carries everything) and reused;
//   - a local folder holding config.json and model.safetensors (or a sharded index).
func Locate(name string, opts hfhub.Options) (dir string, cfg Config, err error) {
	if name == TinyName {
		dir, err = ensureTiny(opts)
		if err != nil {
			return "", Config{}, err
		}
		cfg, err = ReadConfig(dir)
		return dir, cfg, err
	}
	if id, ok := hubRepos[name]; ok {
		repo := hfhub.Repo{ID: id}
		paths, err := hfhub.Download(repo, []string{ConfigFile, WeightsFile}, opts)
		if err != nil {
			advice := ""
			if errors.Is(err, hfhub.ErrNotCached) {
				advice = fmt.Sprintf("; to work offline, load %q instead, a random-weight stand-in that is not GPT-2", TinyName)
			}
			return "", Config{}, fmt.Errorf("checkpoint: model %s (Hugging Face repo %s) is not available: %w%s", name, id, err, advice)
		}
		dir = filepath.Dir(paths[0])
		cfg, err = ReadConfig(dir)
		return dir, cfg, err
	}
	fi, err := os.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		if _, err := os.Stat(filepath.Join(name, ConfigFile)); errors.Is(err, fs.ErrNotExist) {
			return "", Config{}, fmt.Errorf("checkpoint: folder %s has no %s: a checkpoint folder holds config.json and model.safetensors in Hugging Face's GPT-2 layout", name, ConfigFile)
		} else if err != nil {
			return "", Config{}, fmt.Errorf("checkpoint: model folder %s: %w", name, err)
		}
		if _, err := weightFiles(name); err != nil {
			return "", Config{}, err
		}
		cfg, err := ReadConfig(name)
		return name, cfg, err
	case err == nil:
		return "", Config{}, fmt.Errorf("checkpoint: %s is a file: give the folder that holds config.json and model.safetensors", name)
	case !errors.Is(err, fs.ErrNotExist):
		// Permission denied, a symlink loop, …: say so rather than "unknown model".
		return "", Config{}, fmt.Errorf("checkpoint: model %q: %w", name, err)
	case strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator):
		return "", Config{}, fmt.Errorf("checkpoint: no checkpoint folder %s: %w", name, err)
	}
	return "", Config{}, fmt.Errorf("checkpoint: unknown model %q: use one of %s, or the path of a folder holding config.json and model.safetensors",
		name, strings.Join(Names(), ", "))
}

// TinyDir returns the folder where Locate keeps the tiny model for opts (it may not exist yet).
func TinyDir(opts hfhub.Options) string {
	cache := opts.CacheDir
	if cache == "" {
		cache = hfhub.DefaultCacheDir()
	}
	if abs, err := filepath.Abs(cache); err == nil {
		cache = abs
	}
	cfg, _ := json.Marshal(TinyConfig())
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%s", cfg, TinySeed, generatorVersion))
	return filepath.Join(filepath.Dir(cache), "actadd", "tiny-"+hex.EncodeToString(sum[:6]))
}

// ensureTiny generates the tiny model unless a complete copy exists. It writes into a
// temporary sibling folder and renames it into place, so concurrent runs never see a partial
// model (the loser of a race discards its copy).
func ensureTiny(opts hfhub.Options) (string, error) {
	dir := TinyDir(opts)
	complete := func() bool {
		_, e1 := os.Stat(filepath.Join(dir, ConfigFile))
		_, e2 := os.Stat(filepath.Join(dir, WeightsFile))
		return e1 == nil && e2 == nil
	}
	if complete() {
		return dir, nil
	}
	base := filepath.Dir(dir)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: creating %s for the tiny model: %w (set HF_HUB_CACHE or Options.CacheDir to a writable place)", base, err)
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "checkpoint: generating %s in %s\n", TinyDescription, dir)
	}
	tmp, err := os.MkdirTemp(base, filepath.Base(dir)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w (set HF_HUB_CACHE or Options.CacheDir to a writable place)", err)
	}
	defer os.RemoveAll(tmp) // a no-op after a successful rename
	if err := WriteTiny(tmp, TinyConfig(), TinySeed); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := os.Stat(dir); err == nil && !complete() {
		// An incomplete folder (e.g. a file deleted by hand): replace it.
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("checkpoint: removing the incomplete tiny model %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if complete() { // another process finished first
			return dir, nil
		}
		return "", fmt.Errorf("checkpoint: moving the tiny model into %s: %w", dir, err)
	}
	return dir, nil
}
