package llama

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/repopath"
	"github.com/gomlx/compute"
)

// LoadOptions configure Load.
type LoadOptions struct {
	// Hub says where the Hugging Face cache is and how the hub is reached, with the user's token
	// (HF_TOKEN, or the file `huggingface-cli login` writes) for gated repos.
	Hub hfhub.Options
	// MemoryBytes is the memory the model may take; 0 means what the machine has available now
	// (MemAvailable, bounded by the cgroup's limit).
	MemoryBytes int64
}

// Load finds a checkpoint and puts it on backend. name is a local folder holding config.json
// and model.safetensors (or model.safetensors.index.json and its shards), or a Hugging Face
// repo id such as "HuggingFaceTB/SmolLM2-135M" or "Qwen/Qwen2.5-0.5B", taken from the shared
// Hugging Face cache or downloaded (see hfhub.DefaultOptions for the environment it reads).
//
// The model's Name is the repo id, or the folder's path relative to the repository (its name
// outside it) preceded by the safetensors metadata's "description" where there is one (as
// WriteRandom writes for random weights); its Revision the hub commit, or
// "sha256:<prefix>" of the folder's files (checkpoint.ContentHash).
func Load(backend compute.Backend, name string) (*Model, error) {
	return LoadWith(backend, name, LoadOptions{Hub: hfhub.DefaultOptions()})
}

// LoadWith is Load with options. The config is read and refused or accepted, and the model's
// size checked against memory, before any weight is downloaded or read.
func LoadWith(backend compute.Backend, name string, opts LoadOptions) (*Model, error) {
	dir, hub, err := locate(name, opts)
	if err != nil {
		return nil, err
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	avail := opts.MemoryBytes
	if avail == 0 {
		avail = AvailableMemory()
	}
	// Before downloading: the size at the config's stored dtype.
	if err := CheckMemory(name, cfg, 0, avail); err != nil {
		return nil, err
	}
	if hub {
		if err := downloadWeights(name, dir, opts.Hub); err != nil {
			return nil, err
		}
	}
	info, err := checkpoint.ListTensors(dir)
	if err != nil {
		return nil, err
	}
	stored, err := checkTensors(dir, cfg, info)
	if err != nil {
		return nil, err
	}
	if err := CheckMemory(name, cfg, stored, avail); err != nil {
		return nil, err
	}
	label, revision := repopath.Display(dir), ""
	meta, err := checkpoint.Metadata(dir)
	if err != nil {
		return nil, err
	}
	if hub {
		label, revision = name, filepath.Base(dir)
	} else {
		if d := meta["description"]; d != "" { // random weights say so (WriteRandom)
			label = d + " (" + label + ")"
		}
		sum, err := checkpoint.ContentHash(dir)
		if err != nil {
			return nil, err
		}
		revision = "sha256:" + sum[:16]
	}
	m, err := build(backend, label, cfg, func(names []string) (map[string]checkpoint.Tensor, error) {
		return checkpoint.ReadTensors(dir, names)
	})
	if err != nil {
		return nil, fmt.Errorf("llama: loading %s from %s: %w", name, dir, err)
	}
	m.Revision = revision
	return m, nil
}

// locate returns the folder of name's checkpoint (for a hub repo: its snapshot, holding
// config.json so far) and whether it comes from the hub.
func locate(name string, opts LoadOptions) (dir string, hub bool, err error) {
	fi, err := os.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		if _, err := os.Stat(filepath.Join(name, checkpoint.ConfigFile)); err != nil {
			return "", false, fmt.Errorf("llama: folder %s has no readable %s: a checkpoint folder holds config.json and model.safetensors (or a sharded index) as Hugging Face saves them", name, checkpoint.ConfigFile)
		}
		return name, false, nil
	case err == nil:
		return "", false, fmt.Errorf("llama: %s is a file: give the folder that holds config.json and the weights", name)
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("llama: model %q: %w", name, err)
	}
	parts := strings.Split(name, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" || parts[0] == "." || parts[0] == ".." {
		return "", false, fmt.Errorf("llama: no folder %s, and it is not a Hugging Face repo id (org/name)", name)
	}
	paths, err := hfhub.Download(hfhub.Repo{ID: name}, []string{checkpoint.ConfigFile}, opts.Hub)
	if err != nil {
		return "", false, fmt.Errorf("llama: model %s: %w", name, err)
	}
	return filepath.Dir(paths[0]), true, nil
}

// downloadWeights fetches the safetensors of a hub repo: model.safetensors, or the index and
// its shards.
func downloadWeights(name, dir string, opts hfhub.Options) error {
	repo := hfhub.Repo{ID: name, Revision: filepath.Base(dir)}
	files, err := hfhub.ListFiles(repo, opts)
	if err != nil {
		return fmt.Errorf("llama: model %s: %w", name, err)
	}
	switch {
	case slices.Contains(files, checkpoint.WeightsFile):
		_, err = hfhub.Download(repo, []string{checkpoint.WeightsFile}, opts)
	case slices.Contains(files, checkpoint.WeightsIndexFile):
		var paths []string
		paths, err = hfhub.Download(repo, []string{checkpoint.WeightsIndexFile}, opts)
		if err != nil {
			break
		}
		var raw []byte
		raw, err = os.ReadFile(paths[0])
		if err != nil {
			break
		}
		var index struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err = json.Unmarshal(raw, &index); err != nil {
			err = fmt.Errorf("%s is not a safetensors index: %w", paths[0], err)
			break
		}
		var shards []string
		for _, f := range index.WeightMap {
			if !slices.Contains(shards, f) {
				shards = append(shards, f)
			}
		}
		slices.Sort(shards)
		_, err = hfhub.Download(repo, shards, opts)
	default:
		return fmt.Errorf("llama: model %s has neither %s nor %s on the hub: only safetensors checkpoints load", name, checkpoint.WeightsFile, checkpoint.WeightsIndexFile)
	}
	if err != nil {
		return fmt.Errorf("llama: model %s: %w", name, err)
	}
	return nil
}

// checkTensors checks every tensor of WeightShapes(cfg) against the checkpoint's headers
// (present, its shape, a float dtype) and returns the bytes they take as stored. Tensors the
// table does not list are refused, except lm_head.weight stored beside tied embeddings equal
// to it (some tools save both) and rotary buffers.
func checkTensors(dir string, cfg Config, info map[string]checkpoint.TensorInfo) (int64, error) {
	want := WeightShapes(cfg)
	var stored int64
	var missing []string
	for name, shape := range want {
		t, ok := info[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		if !slices.Equal(t.Shape, shape) {
			return 0, fmt.Errorf("llama: %s: tensor %s has shape %v, but %s/config.json makes it %v", t.File, name, t.Shape, dir, shape)
		}
		switch t.DType {
		case "F32", "F16", "BF16":
		default:
			return 0, fmt.Errorf("llama: %s: tensor %s has dtype %s: only F32, F16 and BF16 checkpoints load (quantized ones do not)", t.File, name, t.DType)
		}
		stored += t.Bytes()
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return 0, fmt.Errorf("llama: the checkpoint in %s lacks %d of the %d tensors its config.json (%s) implies, e.g. %s: config and weights do not belong together",
			dir, len(missing), len(want), cfg.ModelType, strings.Join(missing[:min(3, len(missing))], ", "))
	}
	var extra []string
	for name := range info {
		if _, ok := want[name]; ok {
			continue
		}
		if strings.HasSuffix(name, "rotary_emb.inv_freq") || (name == "lm_head.weight" && cfg.TieWordEmbeddings) {
			continue
		}
		extra = append(extra, name)
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		return 0, fmt.Errorf("llama: the checkpoint in %s holds %d tensors its config.json (%s) does not account for, e.g. %s: refusing to load a model that is not the one configured",
			dir, len(extra), cfg.ModelType, strings.Join(extra[:min(3, len(extra))], ", "))
	}
	return stored, nil
}

// Memory needs: the float32 copy of every weight, the transposed LM head, and one block's
// weights decoded while it is packed.
func memoryNeeded(cfg Config) int64 {
	perBlock := int64(0)
	for name, s := range WeightShapes(cfg) {
		if strings.HasPrefix(name, layerPrefix(0)) {
			perBlock += int64(product(s))
		}
	}
	return 4 * (cfg.ParamCount() + int64(cfg.VocabSize)*int64(cfg.HiddenSize) + perBlock)
}

// CheckMemory says whether model name with config cfg fits in avail bytes when computed in
// float32, before anything is allocated. stored is the checkpoint's size as stored (0 if not
// known yet: then the config's torch_dtype gives it).
func CheckMemory(name string, cfg Config, stored, avail int64) error {
	need := memoryNeeded(cfg)
	if avail <= 0 || need <= avail {
		return nil
	}
	params := cfg.ParamCount()
	storedText := ""
	if bytes, ok := map[string]int64{"float32": 4, "float16": 2, "bfloat16": 2}[cfg.TorchDType]; ok && stored == 0 {
		storedText = fmt.Sprintf(", %s as stored in %s", gib(params*bytes), cfg.TorchDType)
	}
	if stored > 0 {
		storedText = fmt.Sprintf(", %s as stored", gib(stored))
	}
	overhead := need - 4*params
	fits := (avail - overhead) / 4
	advice := "no model of this shape fits"
	if fits > 0 {
		advice = fmt.Sprintf("models of up to about %.2g B parameters fit", float64(fits)/1e9)
		var examples []string
		for _, k := range knownSizes {
			if k.params <= float64(fits)/1e9 {
				examples = append(examples, k.name)
			}
		}
		if n := len(examples); n > 0 {
			advice += " (e.g. " + strings.Join(examples[max(0, n-3):], ", ") + ")"
		}
	}
	return fmt.Errorf("llama: %s (%s, %.3g B parameters%s) needs %s of memory to run in float32 (the weights as float32 %s, the transposed LM head, one block being packed), but %s is available: %s; free memory or use a smaller model",
		name, cfg.ModelType, float64(params)/1e9, storedText, gib(need), gib(4*params), gib(avail), advice)
}

// knownSizes are published models of these families by size (billions of parameters), for
// CheckMemory's advice.
var knownSizes = []struct {
	name   string
	params float64
}{
	{"HuggingFaceTB/SmolLM2-135M", 0.135}, {"HuggingFaceTB/SmolLM2-360M", 0.362}, {"Qwen/Qwen2.5-0.5B", 0.494},
	{"Qwen/Qwen3-0.6B", 0.596}, {"meta-llama/Llama-3.2-1B", 1.24}, {"Qwen/Qwen2.5-1.5B", 1.54},
	{"HuggingFaceTB/SmolLM2-1.7B", 1.71}, {"Qwen/Qwen3-1.7B", 2.03}, {"Qwen/Qwen2.5-3B", 3.09},
	{"meta-llama/Llama-3.2-3B", 3.21}, {"Qwen/Qwen3-4B", 4.02}, {"mistralai/Mistral-7B-v0.3", 7.25},
	{"Qwen/Qwen2.5-7B", 7.62}, {"meta-llama/Llama-3.1-8B", 8.03},
}

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// AvailableMemory is the memory this process may still allocate: Linux's MemAvailable, lowered
// to the cgroup (v2) limit's headroom where one is set; 0 when it cannot be read.
func AvailableMemory() int64 {
	var avail int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "MemAvailable:" {
				kb, _ := strconv.ParseInt(fields[1], 10, 64)
				avail = kb << 10
			}
		}
		f.Close()
	}
	limit, err1 := readInt("/sys/fs/cgroup/memory.max")
	used, err2 := readInt("/sys/fs/cgroup/memory.current")
	if err1 == nil && err2 == nil && limit > used && (avail == 0 || limit-used < avail) {
		avail = limit - used
	}
	return avail
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
