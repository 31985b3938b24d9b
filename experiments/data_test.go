package experiments_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/experiments"
)

// noDownload stands for a machine with no network.
func noDownload[T any]() (T, error) {
	var zero T
	return zero, errors.New("no network")
}

// A data source names the data by checksum and never by an absolute path of the machine.
func checkSource(t *testing.T, source string, want ...string) {
	t.Helper()
	for _, w := range append(want, "sha256 ") {
		if !strings.Contains(source, w) {
			t.Errorf("source %q does not say %q", source, w)
		}
	}
	if wd, _ := os.Getwd(); strings.Contains(source, wd) || strings.Contains(source, os.TempDir()) {
		t.Errorf("source %q holds an absolute path", source)
	}
}

func TestOpenWebTextSampleFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docs.jsonl")
	os.WriteFile(path, []byte("{\"text\": \"The wedding was lovely.\"}\n{\"text\": \"Stocks rose.\"}\n"), 0o644)
	t.Setenv(experiments.EnvOpenWebText, path)
	set, err := experiments.OpenWebTextSample(quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Docs) != 2 || set.Tag != "ACTADD_OWT docs.jsonl" {
		t.Errorf("%d documents from %q (tag %q)", len(set.Docs), set.Source, set.Tag)
	}
	// sha256 of the two lines above.
	checkSource(t, set.Source, "ACTADD_OWT=docs.jsonl (sha256 f8526f64")
	if cfg := set.Config(quick(t, experiments.PerplexityAt)); cfg.Source != set.Source || cfg.SourceTag != set.Tag || cfg.Docs != quick(t, experiments.PerplexityAt).Docs {
		t.Errorf("DocumentSet.Config: source %q, tag %q, docs %d", cfg.Source, cfg.SourceTag, cfg.Docs)
	}
	// A folder: its files are listed, the checksum covers all of them.
	dir := filepath.Dir(path)
	os.WriteFile(filepath.Join(dir, "more.txt"), []byte("A honeymoon."), 0o644)
	t.Setenv(experiments.EnvOpenWebText, dir)
	if set, err = experiments.OpenWebTextSample(quiet); err != nil || len(set.Docs) != 3 {
		t.Fatalf("folder: %v", err)
	}
	checkSource(t, set.Source, "ACTADD_OWT="+filepath.Base(dir), "2 files, sha256 ")
	// A file inside the repository is named relative to it.
	t.Setenv(experiments.EnvOpenWebText, filepath.Join("..", "datasets", "fixtures", "openwebtext", "owt300.jsonl"))
	if set, err = experiments.OpenWebTextSample(quiet); err != nil {
		t.Fatal(err)
	}
	checkSource(t, set.Source, "ACTADD_OWT=datasets/fixtures/openwebtext/owt300.jsonl (sha256 0472c2ca")

	t.Setenv(experiments.EnvOpenWebText, filepath.Join(t.TempDir(), "missing.jsonl"))
	if _, err := experiments.OpenWebTextSample(quiet); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing ACTADD_OWT file: %v", err)
	}
}

// Offline with nothing cached, E1 runs on the embedded sample and says so loudly.
func TestOpenWebTextSampleOfflineFallback(t *testing.T) {
	t.Setenv(experiments.EnvOpenWebText, "")
	var log strings.Builder
	set, err := experiments.OpenWebTextSampleWith(&log, noDownload[[]string])
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Docs) != 300 || set.Tag != "owt300 embedded sample" || !strings.Contains(log.String(), "NOTE: using the 300-document sample") || !strings.Contains(log.String(), "no network") {
		t.Errorf("%d documents, tag %q, log %q", len(set.Docs), set.Tag, log.String())
	}
	checkSource(t, set.Source, "OpenWebTextFixture", "owt300.jsonl", "CC0-1.0")
}

func TestLAMAProbesFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.jsonl")
	os.WriteFile(path, []byte(`{"sub": "bird", "obj": "fly", "pred": "CapableOf", "masked_sentences": ["Birds can [MASK]."], "obj_label": "fly", "uuid": "a"}
{"sub": "x", "obj": "y", "pred": "IsA", "masked_sentences": ["Something is [MASK]."], "obj_label": "unbelievablyrare", "uuid": "b"}
`), 0o644)
	t.Setenv(experiments.EnvLAMA, path)
	set, err := experiments.LAMAProbes(tinyModel(t).Tok, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Probes) != 1 || set.Report.Total != 2 || set.Report.Kept != 1 || set.Tag != "ACTADD_LAMA test.jsonl" {
		t.Errorf("probes %+v, report %s, source %q, tag %q", set.Probes, set.Report, set.Source, set.Tag)
	}
	checkSource(t, set.Source, "ACTADD_LAMA=test.jsonl (sha256 ")
	if cfg := set.Config(quick(t, experiments.ConceptNetAt)); cfg.Source != set.Source || cfg.SourceTag != set.Tag || cfg.Filter == nil || cfg.Filter.Total != 2 {
		t.Errorf("LAMASet.Config: source %q, tag %q, filter %v", cfg.Source, cfg.SourceTag, cfg.Filter)
	}
	// A downloaded file is named by its origin and checksum, not by its place in the cache.
	t.Setenv(experiments.EnvLAMA, "")
	set, err = experiments.LAMAProbesWith(tinyModel(t).Tok, quiet, func() (string, error) { return path, nil })
	if err != nil {
		t.Fatal(err)
	}
	checkSource(t, set.Source, "LAMA ConceptNet test.jsonl from https://dl.fbaipublicfiles.com/LAMA/data.zip (sha256 ")
}

// Offline, LAMAProbes falls back to the hand-written fixture and says loudly that it is not LAMA.
func TestLAMAProbesOfflineFallback(t *testing.T) {
	t.Setenv(experiments.EnvLAMA, "")
	var log strings.Builder
	set, err := experiments.LAMAProbesWith(tinyModel(t).Tok, &log, noDownload[string])
	if err != nil {
		t.Fatal(err)
	}
	if set.Report.Total != 41 || set.Tag != "hand-written LAMA-format fixture, not LAMA" || !strings.Contains(log.String(), "HAND-WRITTEN records") || !strings.Contains(log.String(), "NOT LAMA data") {
		t.Errorf("report %s, tag %q, log %q", set.Report, set.Tag, log.String())
	}
	checkSource(t, set.Source, "LAMAFixture", "NOT LAMA")
}
