package experiments_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/experiments"
)

func TestOpenWebTextSampleFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docs.jsonl")
	os.WriteFile(path, []byte("{\"text\": \"The wedding was lovely.\"}\n{\"text\": \"Stocks rose.\"}\n"), 0o644)
	t.Setenv(experiments.EnvOpenWebText, path)
	set, err := experiments.OpenWebTextSample(quiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Docs) != 2 || !strings.Contains(set.Source, path) || set.Tag != "ACTADD_OWT docs.jsonl" {
		t.Errorf("%d documents from %q (tag %q)", len(set.Docs), set.Source, set.Tag)
	}
	if cfg := set.Config(quick(t, experiments.PerplexityAt)); cfg.Source != set.Source || cfg.SourceTag != set.Tag || cfg.Docs != quick(t, experiments.PerplexityAt).Docs {
		t.Errorf("DocumentSet.Config: source %q, tag %q, docs %d", cfg.Source, cfg.SourceTag, cfg.Docs)
	}
	t.Setenv(experiments.EnvOpenWebText, filepath.Join(t.TempDir(), "missing.jsonl"))
	if _, err := experiments.OpenWebTextSample(quiet); err == nil {
		t.Error("a missing ACTADD_OWT file gave no error")
	}
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
	if len(set.Probes) != 1 || set.Report.Total != 2 || set.Report.Kept != 1 || !strings.Contains(set.Source, path) || set.Tag != "ACTADD_LAMA test.jsonl" {
		t.Errorf("probes %+v, report %s, source %q, tag %q", set.Probes, set.Report, set.Source, set.Tag)
	}
	if cfg := set.Config(quick(t, experiments.ConceptNetAt)); cfg.Source != set.Source || cfg.SourceTag != set.Tag || cfg.Filter == nil || cfg.Filter.Total != 2 {
		t.Errorf("LAMASet.Config: source %q, tag %q, filter %v", cfg.Source, cfg.SourceTag, cfg.Filter)
	}
}

// Offline, LAMAProbes falls back to the 5-record sample and says so.
func TestLAMAProbesOfflineFallback(t *testing.T) {
	t.Setenv(experiments.EnvLAMA, "")
	var log strings.Builder
	set, err := experiments.LAMAProbesWith(tinyModel(t).Tok, &log, func() (string, error) { return "", errors.New("no network") })
	if _, ok := experiments.SharedDataPath("lama-conceptnet", "test.head5.jsonl"); !ok {
		if err == nil {
			t.Error("no shared data and no download, yet no error")
		}
		t.Skip("no ../shared/data on this machine")
	}
	if err != nil {
		t.Fatal(err)
	}
	if set.Report.Total != 5 || !strings.Contains(set.Source, "5 LAMA ConceptNet records only") || set.Tag != "LAMA 5-record offline sample" || !strings.Contains(log.String(), "only 5 records are used") {
		t.Errorf("report %s, source %q, log %q", set.Report, set.Source, log.String())
	}
}
