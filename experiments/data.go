package experiments

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/filehash"
	"github.com/actadd-go/actadd/internal/repopath"
	"github.com/actadd-go/actadd/lm"
)

// Environment variables that point the data helpers at local files.
const (
	// EnvOpenWebText names OpenWebText documents for E1: a .jsonl/.json file ({"text": ...}
	// per line), a .parquet file, a plain-text file, or a folder of those.
	EnvOpenWebText = "ACTADD_OWT"
	// EnvLAMA names LAMA's data/ConceptNet/test.jsonl for E3.
	EnvLAMA = "ACTADD_LAMA"
)

// DocumentSet is a corpus and where it came from.
type DocumentSet struct {
	Docs []datasets.Document
	// Source names the data by dataset and checksum, with paths relative to the repository
	// (never an absolute path of the machine), e.g. "ACTADD_OWT=data/owt.jsonl (sha256 …)".
	Source string
	// Tag is Source's short form for figures, e.g. "owt300 embedded sample".
	Tag string
}

// Config returns cfg with the set's Source and Tag filled in, for Perplexity.
func (s *DocumentSet) Config(cfg PerplexityConfig) PerplexityConfig {
	cfg.Source, cfg.SourceTag = s.Source, s.Tag
	return cfg
}

// OpenWebTextSample finds OpenWebText documents for E1, in this order:
//
//  1. the path in $ACTADD_OWT (any format datasets.ReadDocuments reads);
//  2. the 10,000-document slice stas/openwebtext-10k from the Hugging Face cache, downloaded
//     there first when online (not tried when HF_HUB_OFFLINE is set and nothing is cached);
//  3. the 300-document sample embedded in package datasets (datasets.OpenWebTextFixture), with
//     a printed NOTE saying that it is a pipeline check only.
//
// The paper sampled 300k documents of the full corpus: point ACTADD_OWT at parquet files from
// datasets.DownloadOpenWebText(datasets.OpenWebTextRepo, ...) for that. progress receives a
// line saying which source is used (nil means os.Stderr).
func OpenWebTextSample(progress io.Writer) (*DocumentSet, error) {
	progress = progressTo(progress)
	return openWebTextSample(progress, func() ([]string, error) {
		opts := hfhub.DefaultOptions()
		opts.Progress = progress
		return datasets.DownloadOpenWebText(datasets.OpenWebText10kRepo, 0, opts)
	})
}

// openWebTextSample is OpenWebTextSample with the download step given.
func openWebTextSample(progress io.Writer, download func() ([]string, error)) (*DocumentSet, error) {
	load := func(source, tag string, files []string) (*DocumentSet, error) {
		docs, err := datasets.LoadDocuments(files...)
		if err != nil {
			return nil, fmt.Errorf("experiments: OpenWebText from %s: %w", source, err)
		}
		if len(docs) == 0 {
			return nil, fmt.Errorf("experiments: OpenWebText from %s holds no documents", source)
		}
		fmt.Fprintf(progress, "OpenWebText: %d documents from %s\n", len(docs), source)
		return &DocumentSet{Docs: docs, Source: source, Tag: tag}, nil
	}
	if p := os.Getenv(EnvOpenWebText); p != "" {
		files, err := datasets.DocumentFiles(p)
		if err != nil {
			return nil, fmt.Errorf("experiments: %s=%s: %w", EnvOpenWebText, p, err)
		}
		sum, err := filesChecksum(files)
		if err != nil {
			return nil, fmt.Errorf("experiments: %s=%s: %w", EnvOpenWebText, p, err)
		}
		return load(fmt.Sprintf("%s=%s (%s)", EnvOpenWebText, repopath.Display(p), sum), EnvOpenWebText+" "+filepath.Base(p), files)
	}
	files, err := download()
	if err == nil {
		sum, err := filesChecksum(files)
		if err != nil {
			return nil, fmt.Errorf("experiments: %s: %w", datasets.OpenWebText10kRepo, err)
		}
		source := fmt.Sprintf("%s%s (Hugging Face hub, parquet conversion; %s)", datasets.OpenWebText10kRepo, hubCommit(files[0]), sum)
		return load(source, datasets.OpenWebText10kRepo+" (hub)", files)
	}
	docs, fx, ferr := datasets.OpenWebTextFixture()
	if ferr != nil {
		return nil, fmt.Errorf("experiments: no OpenWebText documents: %w, and %w", err, ferr)
	}
	fmt.Fprintf(progress, "OpenWebText: %s is not available (%v)\n"+
		"OpenWebText: NOTE: using the %d-document sample embedded in package datasets, a pipeline check only, far from the paper's 300,000 documents"+
		" (set %s to OpenWebText .jsonl/.parquet files, or go online, for the real experiment)\n",
		datasets.OpenWebText10kRepo, err, len(docs), EnvOpenWebText)
	return &DocumentSet{Docs: docs, Source: "datasets.OpenWebTextFixture: " + fx.String(), Tag: strings.TrimSuffix(fx.Name, ".jsonl") + " embedded sample"}, nil
}

// LAMASet is E3's probes: LAMA ConceptNet records whose label is one token of the model's tokenizer.
type LAMASet struct {
	Probes []datasets.LAMAProbe
	Report datasets.LAMAFilterReport // what datasets.SingleTokenProbes kept and dropped
	// Source names the data by dataset and checksum, as DocumentSet.Source does.
	Source string
	// Tag is Source's short form for figures, e.g. "LAMA ConceptNet test.jsonl".
	Tag string
}

// Config returns cfg with the set's Source, Tag and Filter report filled in, for ConceptNet.
func (s *LAMASet) Config(cfg ConceptNetConfig) ConceptNetConfig {
	cfg.Source, cfg.SourceTag = s.Source, s.Tag
	rep := s.Report
	cfg.Filter = &rep
	return cfg
}

// LAMAProbes finds LAMA ConceptNet for E3 and keeps the single-token probes (tok is the model's
// tokenizer, m.Tok), in this order:
//
//  1. the file in $ACTADD_LAMA (LAMA's data/ConceptNet/test.jsonl);
//  2. the full file from LAMA's official archive (datasets.DownloadLAMAConceptNet: cached, or
//     downloaded when online; only the cache is looked at when HF_HUB_OFFLINE is set);
//  3. the hand-written LAMA-format records embedded in package datasets
//     (datasets.LAMAFixture), which are NOT LAMA, with a printed NOTE saying so.
//
// progress receives which source is used and the filter report (nil means os.Stderr).
func LAMAProbes(tok lm.Tokenizer, progress io.Writer) (*LAMASet, error) {
	progress = progressTo(progress)
	return lamaProbes(tok, progress, func() (string, error) {
		return datasets.DownloadLAMAConceptNet(datasets.LAMAOptions{Progress: progress, Offline: hfhub.DefaultOptions().Offline})
	})
}

// lamaProbes is LAMAProbes with the download step given.
func lamaProbes(tok lm.Tokenizer, progress io.Writer, download func() (string, error)) (*LAMASet, error) {
	if tok == nil {
		return nil, fmt.Errorf("experiments: LAMAProbes: nil tokenizer: pass the model's (m.Tok)")
	}
	var recs []datasets.LAMARecord
	var source, tag string
	fromFile := func(what, path string) error {
		sum, err := filesChecksum([]string{path})
		if err == nil {
			recs, err = datasets.LoadLAMA(path)
		}
		if err != nil {
			return fmt.Errorf("experiments: %s: %w", what, err)
		}
		source = fmt.Sprintf("%s (%s)", what, sum)
		return nil
	}
	if p := os.Getenv(EnvLAMA); p != "" {
		if err := fromFile(EnvLAMA+"="+repopath.Display(p), p); err != nil {
			return nil, err
		}
		tag = EnvLAMA + " " + filepath.Base(p)
	} else if p, err := download(); err == nil {
		if err := fromFile("LAMA ConceptNet test.jsonl from "+datasets.LAMAURL, p); err != nil {
			return nil, err
		}
		tag = "LAMA ConceptNet test.jsonl"
	} else {
		var fx datasets.Fixture
		var ferr error
		if recs, fx, ferr = datasets.LAMAFixture(); ferr != nil {
			return nil, fmt.Errorf("experiments: no LAMA ConceptNet data: %w, and %w", err, ferr)
		}
		fmt.Fprintf(progress, "LAMA: the ConceptNet file is not available (%v)\n"+
			"LAMA: NOTE: using %d HAND-WRITTEN records in LAMA's format embedded in package datasets, NOT LAMA data: a pipeline check only"+
			" (set %s to LAMA's data/ConceptNet/test.jsonl, from %s, or go online, for the real experiment)\n",
			err, len(recs), EnvLAMA, datasets.LAMAURL)
		source, tag = "datasets.LAMAFixture: "+fx.String(), "hand-written LAMA-format fixture, not LAMA"
	}
	probes, rep := datasets.SingleTokenProbes(recs, tok)
	fmt.Fprintf(progress, "LAMA: %s from %s\n", rep, source)
	if len(probes) == 0 {
		return nil, fmt.Errorf("experiments: LAMA: no single-token probes in %s (%s)", source, rep)
	}
	return &LAMASet{Probes: probes, Report: rep, Source: source, Tag: tag}, nil
}

// filesChecksum names the data in files by checksum: "sha256 <hex>" of the file when there is
// one, else "<n> files, sha256 <hex> of their sha256sum listing" (filehash.Files).
func filesChecksum(files []string) (string, error) {
	if len(files) == 1 {
		sum, err := filehash.File(files[0])
		return "sha256 " + sum, err
	}
	sum, err := filehash.Files(files)
	return fmt.Sprintf("%d files, sha256 %s of their sha256sum listing", len(files), sum), err
}

// hubCommit returns "@<commit>" for a file in the Hugging Face cache (…/snapshots/<commit>/…),
// or "".
func hubCommit(path string) string {
	parts := strings.Split(filepath.ToSlash(path), "/")
	for i := len(parts) - 2; i > 0; i-- {
		if parts[i-1] == "snapshots" {
			return "@" + parts[i]
		}
	}
	return ""
}
