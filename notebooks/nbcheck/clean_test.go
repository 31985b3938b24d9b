package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The kernel spec make jupyter installs has the display name the committed notebooks carry:
// otherwise every notebook opens as "(unsaved changes)".
func TestKernelSpecMatchesTheNotebooks(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "notebooks-setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`spec\["display_name"\] = "([^"]*)"`).FindSubmatch(script)
	if m == nil {
		t.Fatal(`scripts/notebooks-setup.sh does not set spec["display_name"]`)
	}
	if got := string(m[1]); got != KernelDisplayName {
		t.Errorf("the kernel spec's display name is %q, the notebooks' %q", got, KernelDisplayName)
	}
}

// git runs git in dir.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// Jupyter's autosave writes outputs into the notebooks a person opens: that changes the working
// copy, not what would be committed, and must not fail the check; outputs staged for commit
// fail it with the command that clears them, and clear makes the notebook clean again.
func TestAutosavedOutputsDoNotFailTheCheck(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "05-explorer.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	nb := filepath.Join(dir, "05-explorer.ipynb")
	writeFile(t, nb, string(src))
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "notebook")
	if err := checkClean(nb); err != nil {
		t.Fatalf("the committed notebook: %v", err)
	}
	// What an autosave after running a cell writes: an output, a count, sorted keys.
	withOutputs := strings.Replace(string(src), `"outputs": []`, `"outputs": [{"name": "stdout", "output_type": "stream", "text": ["model: tiny\n"]}]`, 1)
	withOutputs = strings.Replace(withOutputs, `"execution_count": null`, `"execution_count": 3`, 1)
	if withOutputs == string(src) {
		t.Fatal("the test notebook has no empty outputs to fill")
	}
	writeFile(t, nb, withOutputs)
	if err := checkClean(nb); err != nil {
		t.Errorf("autosaved outputs in the working copy fail the check: %v", err)
	}
	git(t, dir, "add", ".")
	err = checkClean(nb)
	if err == nil || !strings.Contains(err.Error(), clearCommand) {
		t.Fatalf("staged outputs: checkClean gave %v, want an error naming %q", err, clearCommand)
	}
	if err := clearNotebook(nb); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", ".")
	if err := checkClean(nb); err != nil {
		t.Errorf("after clear: %v", err)
	}
	cleared, err := os.ReadFile(nb)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cleared, src) {
		t.Errorf("clear did not give back the committed notebook byte for byte")
	}
}

// Clearing a committed notebook changes nothing: they are committed in the layout clear writes
// (Jupyter's: sorted keys, one-space indent).
func TestCommittedNotebooksAreInClearsLayout(t *testing.T) {
	nbs, _ := filepath.Glob("../*.ipynb")
	for _, p := range nbs {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(t.TempDir(), filepath.Base(p))
		writeFile(t, tmp, string(src))
		if err := clearNotebook(tmp); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(tmp); !bytes.Equal(got, src) {
			t.Errorf("%s: nbcheck clear changes it; run it on the notebook", p)
		}
	}
}
