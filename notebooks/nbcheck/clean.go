package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/actadd-go/actadd/internal/repopath"
)

// The kernel the notebooks are committed for, as scripts/notebooks-setup.sh installs it. A
// notebook whose kernelspec or language_info differs from what the kernel reports opens in
// Jupyter as "(unsaved changes)", and its first save rewrites them.
const (
	KernelName        = "gonb"
	KernelDisplayName = "Go (gonb, actadd)"
	KernelLanguage    = "go"
)

// languageInfo is the language_info the GoNB kernel reports: its version is runtime.Version()
// of the gonb binary, which `make jupyter` builds with the toolchain of go.mod's go line
// (scripts/ensure-go.sh) and GOEXPERIMENT=simd.
func languageInfo() (map[string]any, error) {
	root, ok := repopath.Root()
	if !ok {
		return nil, fmt.Errorf("no go.mod at or above the working directory")
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	version := ""
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			version = strings.TrimSpace(v)
			break
		}
	}
	if version == "" {
		return nil, fmt.Errorf("go.mod has no go line")
	}
	return map[string]any{"codemirror_mode": "", "file_extension": ".go", "mimetype": "text/x-go", "name": "go",
		"nbconvert_exporter": "", "pygments_lexer": "", "version": "go" + version + "-X:simd"}, nil
}

// kernelspec is the kernelspec metadata of a committed notebook.
func kernelspec() map[string]any {
	return map[string]any{"display_name": KernelDisplayName, "language": KernelLanguage, "name": KernelName}
}

// clearCommand is what to run to make the notebooks in the working copy clean.
const clearCommand = "make notebooks-clear"

// committedContent is what git would commit of path: the version in git's index when path is
// tracked, else the file. Jupyter's autosave writes outputs into the notebooks a person opens;
// that changes the working copy, not what is committed, and must not fail the tests.
func committedContent(path string) (data []byte, fromIndex bool, err error) {
	if git, lerr := exec.LookPath("git"); lerr == nil {
		cmd := exec.Command(git, "show", ":./"+filepath.Base(path))
		cmd.Dir = filepath.Dir(path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if out, gerr := cmd.Output(); gerr == nil {
			return out, true, nil
		}
	}
	data, err = os.ReadFile(path)
	return data, false, err
}

// checkClean checks that a notebook is as it must be committed: nbformat 4, the GoNB kernel
// (kernelspec and language_info as the kernel reports them), no outputs or execution counts.
// It checks what git would commit (committedContent); a failure names the command that clears
// the working copy.
func checkClean(path string) error {
	data, fromIndex, err := committedContent(path)
	if err != nil {
		return err
	}
	where := path
	if fromIndex {
		where = path + " (as staged for commit)"
	}
	if err := checkCleanData(where, data); err != nil {
		return fmt.Errorf("%w: run `%s` (or `nbcheck clear %s`), then git add the notebook", err, clearCommand, path)
	}
	return nil
}

// checkCleanData is checkClean of a notebook's content; where names it in errors.
func checkCleanData(where string, data []byte) error {
	nb, err := parseNotebook(where, data)
	if err != nil {
		return err
	}
	var meta struct {
		Kernelspec   map[string]any `json:"kernelspec"`
		LanguageInfo map[string]any `json:"language_info"`
	}
	if err := json.Unmarshal(nb.Metadata, &meta); err != nil {
		return fmt.Errorf("%s: metadata: %w", where, err)
	}
	if !reflect.DeepEqual(meta.Kernelspec, kernelspec()) {
		return fmt.Errorf("%s: kernelspec %v, want %v (the kernel spec make jupyter installs)", where, meta.Kernelspec, kernelspec())
	}
	li, err := languageInfo()
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(meta.LanguageInfo, li) {
		return fmt.Errorf("%s: language_info %v, want %v (what the GoNB kernel reports)", where, meta.LanguageInfo, li)
	}
	if len(nb.Cells) == 0 {
		return fmt.Errorf("%s: no cells", where)
	}
	for i, c := range nb.Cells {
		switch c.CellType {
		case "code":
			if len(c.Outputs) > 0 || c.ExecutionCount != nil {
				return fmt.Errorf("%s: cell %d has outputs or an execution count", where, i+1)
			}
		case "markdown", "raw":
		default:
			return fmt.Errorf("%s: cell %d has unknown type %q", where, i+1, c.CellType)
		}
	}
	return nil
}

// clearNotebook rewrites the notebook at path as it must be committed: no outputs, no
// execution counts, the kernelspec and language_info of the kernel (checkClean), in the layout
// Jupyter saves (keys sorted, one-space indent).
func clearNotebook(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := parseNotebook(path, data); err != nil {
		return err
	}
	var nb map[string]any
	if err := json.Unmarshal(data, &nb); err != nil {
		return err
	}
	li, err := languageInfo()
	if err != nil {
		return err
	}
	meta, _ := nb["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["kernelspec"], meta["language_info"] = kernelspec(), li
	nb["metadata"] = meta
	cells, _ := nb["cells"].([]any)
	for _, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok || cell["cell_type"] != "code" {
			continue
		}
		cell["outputs"], cell["execution_count"] = []any{}, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb); err != nil {
		return err
	}
	if bytes.Equal(b.Bytes(), data) {
		return nil
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
