package loader

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
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

// Names lists the model names Locate accepts besides a local folder or a hub repository id.
func Names() []string {
	names := []string{"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2"}
	return append(names, StandIns()...)
}

// HubRepo returns the Hugging Face repository of a published model name.
func HubRepo(name string) (hfhub.Repo, bool) {
	id, ok := hubRepos[name]
	return hfhub.Repo{ID: id}, ok
}

// Describe returns how results of model name must be labelled: its description for a stand-in,
// the name and repository for the published models, the name itself otherwise.
func Describe(name string) string {
	if st, ok := standIns[name]; ok {
		return st.description
	}
	if id, ok := hubRepos[name]; ok {
		return fmt.Sprintf("%s (%s)", name, id)
	}
	return name
}

// Locate finds the checkpoint folder (config.json + weights) of a model. name is one of:
//
//   - gpt2, gpt2-medium, gpt2-large, gpt2-xl (repos openai-community/<name>) or distilgpt2
//     (distilbert/distilgpt2), or a Hugging Face repository id ("owner/name") of a family Load
//     implements: taken from the Hugging Face cache, downloaded when missing unless
//     opts.Offline; with the hub unreachable the error matches hfhub.ErrNotCached;
//   - a random-weight stand-in (StandIns: "tiny" is GPT-2-shaped; see its description), generated
//     once into <hub cache>/../actadd/<name>-<hash of its recipe> (by default
//     ~/.cache/huggingface/actadd/, beside the hub cache so one copy of ~/.cache/huggingface
//     carries everything) and reused;
//   - a local folder holding config.json and model.safetensors (or a sharded index).
//
// A local folder wins over a repository id of the same spelling.
func Locate(name string, opts hfhub.Options) (dir string, err error) {
	if st, ok := standIns[name]; ok {
		return ensureStandIn(st, opts)
	}
	if id, ok := hubRepos[name]; ok {
		return locateHub(name, id, opts)
	}
	fi, err := os.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		if _, err := os.Stat(filepath.Join(name, checkpoint.ConfigFile)); errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("loader: folder %s has no %s: a checkpoint folder holds config.json and model.safetensors in Hugging Face's layout", name, checkpoint.ConfigFile)
		} else if err != nil {
			return "", fmt.Errorf("loader: model folder %s: %w", name, err)
		}
		if _, err := checkpoint.WeightFiles(name); err != nil {
			return "", err
		}
		return name, nil
	case err == nil:
		return "", fmt.Errorf("loader: %s is a file: give the folder that holds config.json and model.safetensors", name)
	case !errors.Is(err, fs.ErrNotExist):
		// Permission denied, a symlink loop, …: say so rather than "unknown model".
		return "", fmt.Errorf("loader: model %q: %w", name, err)
	case isRepoID(name):
		return locateHub(name, name, opts)
	case strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator):
		return "", fmt.Errorf("loader: no checkpoint folder %s: %w", name, err)
	}
	return "", fmt.Errorf("loader: unknown model %q: use one of %s, a Hugging Face repository id (owner/name), or the path of a folder holding config.json and model.safetensors",
		name, strings.Join(Names(), ", "))
}

// isRepoID reports whether name is spelled as a hub repository id, "owner/name", and not as a
// path.
func isRepoID(name string) bool {
	owner, repo, ok := strings.Cut(name, "/")
	return ok && owner != "" && repo != "" && !strings.ContainsAny(repo, "/\\") && owner != "." && owner != ".." &&
		!filepath.IsAbs(name) && !strings.HasPrefix(name, "~")
}

// locateHub fetches (or finds in the cache) config.json and the weights its family needs.
func locateHub(name, id string, opts hfhub.Options) (string, error) {
	repo := hfhub.Repo{ID: id}
	fail := func(err error) (string, error) {
		advice := ""
		if errors.Is(err, hfhub.ErrNotCached) {
			advice = fmt.Sprintf("; to work offline, load one of the random-weight stand-ins %s instead (they are not the model)", strings.Join(quoted(StandIns()), ", "))
			if _, gpt := hubRepos[name]; gpt {
				advice = fmt.Sprintf("; to work offline, load %q instead, a random-weight stand-in that is not GPT-2", "tiny")
			}
		}
		if _, short := hubRepos[name]; !short {
			advice += fmt.Sprintf("; no local folder %s exists either", name)
		}
		return "", fmt.Errorf("loader: model %s (Hugging Face repo %s) is not available: %w%s", name, id, err, advice)
	}
	paths, err := hfhub.Download(repo, []string{checkpoint.ConfigFile}, opts)
	if err != nil {
		return fail(err)
	}
	dir := filepath.Dir(paths[0])
	head, err := ReadHead(dir)
	if err != nil {
		return "", err
	}
	f, err := familyOf(head.ModelType, dir)
	if err != nil {
		return "", err
	}
	files, err := f.hubFiles(dir, repo, opts)
	if err != nil {
		return fail(err)
	}
	if _, err := hfhub.Download(repo, files, opts); err != nil {
		return fail(err)
	}
	return dir, nil
}

func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// standIn is an offline random-weight model: its name, the description that labels its
// results, a recipe (hashed into its folder's name, so that a new recipe gets a new folder) and
// the function that writes it.
type standIn struct {
	name, description string
	recipe            func() ([]byte, error)
	write             func(dir string) error
}

// standIns are the stand-ins by name.
var standIns = map[string]standIn{
	checkpoint.TinyName: {
		name: checkpoint.TinyName, description: checkpoint.TinyDescription, recipe: func() ([]byte, error) { return checkpoint.TinyRecipe(), nil },
		write: func(dir string) error { return checkpoint.WriteTiny(dir, checkpoint.TinyConfig(), checkpoint.TinySeed) },
	},
}

// StandIns lists the names of the offline random-weight stand-ins.
func StandIns() []string {
	var out []string
	for n := range standIns {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// StandInDir returns the folder where Locate keeps the stand-in called name for opts (it may
// not exist yet).
func StandInDir(name string, opts hfhub.Options) (string, error) {
	st, ok := standIns[name]
	if !ok {
		return "", fmt.Errorf("loader: %q is not one of the stand-ins %s", name, strings.Join(StandIns(), ", "))
	}
	recipe, err := st.recipe()
	if err != nil {
		return "", err
	}
	cache := opts.CacheDir
	if cache == "" {
		cache = hfhub.DefaultCacheDir()
	}
	if abs, err := filepath.Abs(cache); err == nil {
		cache = abs
	}
	sum := sha256.Sum256(recipe)
	return filepath.Join(filepath.Dir(cache), "actadd", st.name+"-"+hex.EncodeToString(sum[:6])), nil
}

// ensureStandIn generates a stand-in unless a complete copy exists. It writes into a temporary
// sibling folder and renames it into place, so concurrent runs never see a partial model (the
// loser of a race discards its copy).
func ensureStandIn(st standIn, opts hfhub.Options) (string, error) {
	dir, err := StandInDir(st.name, opts)
	if err != nil {
		return "", err
	}
	complete := func() bool {
		_, e1 := os.Stat(filepath.Join(dir, checkpoint.ConfigFile))
		_, e2 := checkpoint.WeightFiles(dir)
		return e1 == nil && e2 == nil
	}
	if complete() {
		return dir, nil
	}
	base := filepath.Dir(dir)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("loader: creating %s for the stand-in %s: %w (set HF_HUB_CACHE or Options.CacheDir to a writable place)", base, st.name, err)
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "loader: generating %s in %s\n", st.description, dir)
	}
	tmp, err := os.MkdirTemp(base, filepath.Base(dir)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("loader: %w (set HF_HUB_CACHE or Options.CacheDir to a writable place)", err)
	}
	defer os.RemoveAll(tmp) // a no-op after a successful rename
	if err := st.write(tmp); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("loader: %w", err)
	}
	if _, err := os.Stat(dir); err == nil && !complete() {
		// An incomplete folder (e.g. a file deleted by hand): replace it.
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("loader: removing the incomplete stand-in %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if complete() { // another process finished first
			return dir, nil
		}
		return "", fmt.Errorf("loader: moving the stand-in into %s: %w", dir, err)
	}
	return dir, nil
}
