package main

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

const nbHead = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "gonb"}}, "cells": [`

func TestCheckClean(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		json string
		ok   bool
	}{
		"clean":   {nbHead + `{"cell_type": "markdown", "source": ["# hi"], "metadata": {}}, {"cell_type": "code", "source": "1", "outputs": [], "execution_count": null, "metadata": {}}]}`, true},
		"output":  {nbHead + `{"cell_type": "code", "source": "1", "outputs": [{"output_type": "stream", "name": "stdout", "text": "x"}], "execution_count": null, "metadata": {}}]}`, false},
		"count":   {nbHead + `{"cell_type": "code", "source": "1", "outputs": [], "execution_count": 3, "metadata": {}}]}`, false},
		"kernel":  {`{"nbformat": 4, "metadata": {"kernelspec": {"name": "python3"}}, "cells": [{"cell_type": "markdown", "source": "x"}]}`, false},
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

func TestCheckFigures(t *testing.T) {
	dir := t.TempDir()
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, image.NewGray(image.Rect(0, 0, 32, 32))); err != nil {
		t.Fatal(err)
	}
	const svg = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>`
	write := func(name, model string, tiny bool) {
		writeFile(t, filepath.Join(dir, name+".png"), pngData.String())
		writeFile(t, filepath.Join(dir, name+".svg"), svg)
		tinyJSON := "false"
		if tiny {
			tinyJSON = "true"
		}
		writeFile(t, filepath.Join(dir, name+".json"), `{"experiment": "E2", "model": "`+model+`", "tiny_stand_in": `+tinyJSON+`}`)
	}
	write("e2-a", "tiny (random-weight stand-in, not GPT-2)", true)
	write("e2-b", "tiny (random-weight stand-in, not GPT-2)", true)
	if n, err := checkFigures(dir, "tiny", nil); err != nil || n != 2 {
		t.Errorf("all figures: n=%d err=%v, want 2, nil", n, err)
	}
	if _, err := checkFigures(dir, "tiny", []string{"e2-a", "e2-missing"}); err == nil || !strings.Contains(err.Error(), "e2-missing") {
		t.Errorf("missing figure: error %v", err)
	}
	if _, err := checkFigures(dir, "gpt2", []string{"e2-a"}); err == nil {
		t.Error("a tiny figure passed as gpt2")
	}

	write("e3", "gpt2", false)
	if _, err := checkFigures(dir, "tiny", []string{"e3"}); err == nil {
		t.Error("a gpt2 figure passed as tiny")
	}
	if _, err := checkFigures(dir, "gpt2", []string{"e3"}); err != nil {
		t.Errorf("gpt2 figure: %v", err)
	}
	writeFile(t, filepath.Join(dir, "e3.json"), `{"experiment": "E3", "model": ""}`)
	if _, err := checkFigures(dir, "", []string{"e3"}); err == nil || !strings.Contains(err.Error(), "does not name the model") {
		t.Errorf("sidecar without model: error %v", err)
	}

	write("bad", "gpt2", false)
	writeFile(t, filepath.Join(dir, "bad.svg"), `<svg><g></svg>`)
	if _, err := checkFigures(dir, "", []string{"bad"}); err == nil || !strings.Contains(err.Error(), "SVG") {
		t.Errorf("malformed SVG: error %v", err)
	}
	writeFile(t, filepath.Join(dir, "bad.svg"), `<html></html>`)
	if _, err := checkFigures(dir, "", []string{"bad"}); err == nil {
		t.Error("an HTML file passed as SVG")
	}
	write("bad", "gpt2", false)
	writeFile(t, filepath.Join(dir, "bad.png"), "not a png")
	if _, err := checkFigures(dir, "", []string{"bad"}); err == nil || !strings.Contains(err.Error(), "PNG") {
		t.Errorf("broken PNG: error %v", err)
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
