package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/plots"
)

// The committed notebooks must be clean: nbformat 4, GoNB kernel, no outputs.
func TestCommittedNotebooksAreClean(t *testing.T) {
	nbs, err := filepath.Glob("../*.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if len(nbs) == 0 {
		t.Fatal("no notebooks in notebooks/")
	}
	for _, nb := range nbs {
		if err := checkClean(nb); err != nil {
			t.Error(err)
		}
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

const nbHead = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"display_name": "Go (gonb, actadd)", "language": "go", "name": "gonb"},
 "language_info": {"codemirror_mode": "", "file_extension": ".go", "mimetype": "text/x-go", "name": "go", "nbconvert_exporter": "", "pygments_lexer": "", "version": "go1.27.4-X:simd"}}, "cells": [`

func TestCheckClean(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		json string
		ok   bool
	}{
		"clean":  {nbHead + `{"cell_type": "markdown", "source": ["# hi"], "metadata": {}}, {"cell_type": "code", "source": "1", "outputs": [], "execution_count": null, "metadata": {}}]}`, true},
		"output": {nbHead + `{"cell_type": "code", "source": "1", "outputs": [{"output_type": "stream", "name": "stdout", "text": "x"}], "execution_count": null, "metadata": {}}]}`, false},
		"count":  {nbHead + `{"cell_type": "code", "source": "1", "outputs": [], "execution_count": 3, "metadata": {}}]}`, false},
		"kernel": {`{"nbformat": 4, "metadata": {"kernelspec": {"name": "python3"}}, "cells": [{"cell_type": "markdown", "source": "x"}]}`, false},
		// Jupyter marks a notebook "(unsaved changes)" when these differ from the kernel's.
		"display": {strings.Replace(nbHead, "Go (gonb, actadd)", "Go (gonb)", 1) + `{"cell_type": "markdown", "source": "x"}]}`, false},
		"version": {strings.Replace(nbHead, "go1.27.4-X:simd", "go1.26", 1) + `{"cell_type": "markdown", "source": "x"}]}`, false},
		"format3": {`{"nbformat": 3, "metadata": {}, "cells": []}`, false},
		"broken":  {`{"nbformat": 4, `, false},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name+".ipynb")
		writeFile(t, p, c.json)
		if err := checkClean(p); (err == nil) != c.ok {
			t.Errorf("%s: checkClean error %v, want ok=%v", name, err, c.ok)
		}
	}
}

func TestCheckRun(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.ipynb")
	writeFile(t, ok, nbHead+`{"cell_type": "code", "source": "1", "outputs": [{"output_type": "stream", "name": "stdout", "text": ["fine\n"]}], "execution_count": 1, "metadata": {}}]}`)
	var out bytes.Buffer
	if err := checkRun(ok, &out); err != nil {
		t.Errorf("ok notebook: %v", err)
	}

	bad := filepath.Join(dir, "bad.ipynb")
	writeFile(t, bad, nbHead+`{"cell_type": "code", "source": "1", "outputs": [], "execution_count": 1, "metadata": {}},
		{"cell_type": "code", "source": ["%%\n", "m, err := actadd.Load(\"gpt2\")\n"], "execution_count": 2, "metadata": {}, "outputs": [
		 {"output_type": "stream", "name": "stderr", "text": ["error: model gpt2 is not available; set ACTADD_MODEL=tiny\n"]},
		 {"output_type": "error", "ename": "ERROR", "evalue": "exit status 1", "traceback": ["exit status 1"]}]},
		{"cell_type": "code", "source": "2", "outputs": [], "execution_count": 3, "metadata": {}}]}`)
	out.Reset()
	err := checkRun(bad, &out)
	if err == nil || !strings.Contains(err.Error(), "cell 2 failed") {
		t.Errorf("bad notebook: error %v, want cell 2 failed", err)
	}
	if !strings.Contains(out.String(), "ACTADD_MODEL=tiny") || !strings.Contains(out.String(), `actadd.Load("gpt2")`) {
		t.Errorf("bad notebook: the report lacks the cell's source or its error message:\n%s", out.String())
	}

	unrun := filepath.Join(dir, "unrun.ipynb")
	writeFile(t, unrun, nbHead+`{"cell_type": "code", "source": "1", "outputs": [], "execution_count": null, "metadata": {}}]}`)
	if err := checkRun(unrun, &out); err == nil || !strings.Contains(err.Error(), "not executed") {
		t.Errorf("unexecuted notebook: error %v", err)
	}
}

// writeSet writes a figure as plots.Figure.Save does: images, then a sidecar with their SHA-256.
func writeSet(t *testing.T, dir, name, model string, tiny bool) {
	t.Helper()
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, image.NewGray(image.Rect(0, 0, 32, 32))); err != nil {
		t.Fatal(err)
	}
	const svg = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>`
	const pdf = "%PDF-1.3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
	files := map[string]string{}
	for ext, data := range map[string]string{".png": pngData.String(), ".svg": svg, ".pdf": pdf} {
		writeFile(t, filepath.Join(dir, name+ext), data)
		files[name+ext] = fmt.Sprintf("%x", sha256.Sum256([]byte(data)))
	}
	sc := plots.Sidecar{Experiment: "E2", Model: model, TinyStandIn: tiny, RunID: "test", Files: files, Interval: "95% Wilson score interval",
		Series: []plots.Series{{Name: "s", X: []float64{1}, Y: []float64{0.5}, Lo: []float64{0.2}, Hi: []float64{0.8}}}}
	raw, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, name+".json"), string(raw))
}

func TestCheckFigures(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, "e2-a", "tiny (random-weight stand-in, not GPT-2)", true)
	writeSet(t, dir, "e2-b", "tiny (random-weight stand-in, not GPT-2)", true)
	if n, err := checkFigures(dir, "tiny", nil); err != nil || n != 2 {
		t.Errorf("all figures: n=%d err=%v, want 2, nil", n, err)
	}
	if _, err := checkFigures(dir, "tiny", []string{"e2-a", "e2-missing"}); err == nil || !strings.Contains(err.Error(), "e2-missing") {
		t.Errorf("missing figure: error %v", err)
	}
	if _, err := checkFigures(dir, "gpt2", []string{"e2-a"}); err == nil {
		t.Error("a tiny figure passed as gpt2")
	}

	writeSet(t, dir, "e3", "gpt2", false)
	if _, err := checkFigures(dir, "tiny", []string{"e3"}); err == nil {
		t.Error("a gpt2 figure passed as tiny")
	}
	if _, err := checkFigures(dir, "gpt2", []string{"e3"}); err != nil {
		t.Errorf("gpt2 figure: %v", err)
	}
	writeSet(t, dir, "e3", "", false)
	if _, err := checkFigures(dir, "", []string{"e3"}); err == nil || !strings.Contains(err.Error(), "does not name the model") {
		t.Errorf("sidecar without model: error %v", err)
	}

	// Files of another run: the PNG of e2-b beside e2-a's sidecar.
	other := t.TempDir()
	writeSet(t, other, "e2-a", "tiny (random-weight stand-in, not GPT-2)", true)
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 40, 40)))
	writeFile(t, filepath.Join(other, "e2-a.png"), img.String())
	if _, err := checkFigures(other, "tiny", []string{"e2-a"}); err == nil || !strings.Contains(err.Error(), "e2-a.png is not the file the sidecar records") {
		t.Errorf("a PNG of another run: error %v", err)
	}
	os.Remove(filepath.Join(other, "e2-a.json"))
	if _, err := checkFigures(other, "tiny", []string{"e2-a"}); err == nil || !strings.Contains(err.Error(), "no sidecar") {
		t.Errorf("an interrupted save (no sidecar): error %v", err)
	}

	// Each file decodes as its format (a sidecar that records broken files is still refused).
	for ext, bad := range map[string]string{".svg": `<svg><g></svg>`, ".png": "not a png", ".pdf": "%PDF-1.3 cut"} {
		d := t.TempDir()
		writeSet(t, d, "bad", "gpt2", false)
		writeFile(t, filepath.Join(d, "bad"+ext), bad)
		var sc plots.Sidecar
		raw, _ := os.ReadFile(filepath.Join(d, "bad.json"))
		json.Unmarshal(raw, &sc)
		sc.Files["bad"+ext] = fmt.Sprintf("%x", sha256.Sum256([]byte(bad)))
		raw, _ = json.Marshal(sc)
		writeFile(t, filepath.Join(d, "bad.json"), string(raw))
		if _, err := checkFigures(d, "", []string{"bad"}); err == nil || !strings.Contains(err.Error(), strings.ToUpper(ext[1:])) {
			t.Errorf("broken %s: error %v", ext, err)
		}
	}

	// Estimates without intervals, or intervals without their method, are refused.
	d := t.TempDir()
	writeSet(t, d, "e0", "gpt2", false)
	var sc plots.Sidecar
	raw, _ := os.ReadFile(filepath.Join(d, "e0.json"))
	json.Unmarshal(raw, &sc)
	sc.Interval = ""
	raw, _ = json.Marshal(sc)
	writeFile(t, filepath.Join(d, "e0.json"), string(raw))
	if _, err := checkFigures(d, "", []string{"e0"}); err == nil || !strings.Contains(err.Error(), "method") {
		t.Errorf("intervals without a method: error %v", err)
	}
	sc.Interval, sc.Series[0].Lo, sc.Series[0].Hi = "t", nil, nil
	raw, _ = json.Marshal(sc)
	writeFile(t, filepath.Join(d, "e0.json"), string(raw))
	if _, err := checkFigures(d, "", []string{"e0"}); err == nil || !strings.Contains(err.Error(), "95% interval") {
		t.Errorf("no intervals: error %v", err)
	}

	if _, err := checkFigures(t.TempDir(), "", nil); err == nil {
		t.Error("an empty folder passed")
	}
}

// `nbcheck model` checks the figures folder first, switches tiny to quick, and offline names a
// command that works.
func TestCheckModel(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", filepath.Join(t.TempDir(), "hub"))
	t.Setenv("ACTADD_SCALE", "")
	figs := t.TempDir()
	t.Setenv("ACTADD_FIGURES", figs)
	var out bytes.Buffer
	if err := checkModel("tiny", "paper", &out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "model tiny, scale quick, figures -> "+figs) || !strings.Contains(s, `running "quick" instead`) {
		t.Errorf("tiny at paper scale printed %q", s)
	}
	err := checkModel("gpt2", "", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ACTADD_MODEL=tiny ACTADD_SCALE=quick make notebooks") {
		t.Errorf("gpt2 offline: %v", err)
	}
	file := filepath.Join(figs, "file")
	writeFile(t, file, "")
	t.Setenv("ACTADD_FIGURES", file)
	if err := checkModel("gpt2", "", io.Discard); err == nil || !strings.Contains(err.Error(), "figures folder") {
		t.Errorf("a file as the figures folder: %v (want it reported before the model)", err)
	}
}
