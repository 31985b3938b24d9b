package experiments

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/actadd-go/actadd/bpe"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/shareddata"
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
	Docs   []datasets.Document
	Source string // e.g. "ACTADD_OWT=/data/owt", "offline sample ...", "stas/openwebtext-10k (hub)"
	// Tag is Source's short form for figures, e.g. "owt1000 offline sample".
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
//  2. the offline sample ../shared/data/openwebtext-sample/owt1000.jsonl (1,000 real documents)
//     on machines that have it;
//  3. the 10,000-document slice stas/openwebtext-10k from the Hugging Face hub (online only;
//     cached in the HF cache).
//
// The paper sampled 300k documents of the full corpus: point ACTADD_OWT at parquet files from
// datasets.DownloadOpenWebText(datasets.OpenWebTextRepo, ...) for that. progress receives a
// line saying which source is used (nil means os.Stderr).
func OpenWebTextSample(progress io.Writer) (*DocumentSet, error) {
	progress = progressTo(progress)
	load := func(source, tag string, paths ...string) (*DocumentSet, error) {
		docs, err := datasets.LoadDocuments(paths...)
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
		return load(EnvOpenWebText+"="+p, EnvOpenWebText+" "+filepath.Base(p), p)
	}
	if p, ok := shareddata.Path("openwebtext-sample", "owt1000.jsonl"); ok {
		return load("offline sample "+p+" (first 1,000 documents of stas/openwebtext-10k)", "owt1000 offline sample", p)
	}
	opts := hfhub.DefaultOptions()
	opts.Progress = progress
	paths, err := datasets.DownloadOpenWebText(datasets.OpenWebText10kRepo, 0, opts)
	if err != nil {
		return nil, fmt.Errorf("experiments: no OpenWebText documents: set %s to a .jsonl/.parquet file or folder of documents, or go online to download %s (%w)",
			EnvOpenWebText, datasets.OpenWebText10kRepo, err)
	}
	return load(datasets.OpenWebText10kRepo+" (Hugging Face hub, parquet conversion)", datasets.OpenWebText10kRepo+" (hub)", paths...)
}

// LAMASet is E3's probes: LAMA ConceptNet records whose label is one GPT-2 token.
type LAMASet struct {
	Probes []datasets.LAMAProbe
	Report datasets.LAMAFilterReport // what datasets.SingleTokenProbes kept and dropped
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
//     downloaded when online; skipped when HF_HUB_OFFLINE is set);
//  3. the offline sample ../shared/data/lama-conceptnet/test.head5.jsonl, with a printed note
//     that only its 5 records are used.
//
// progress receives which source is used and the filter report (nil means os.Stderr).
func LAMAProbes(tok *bpe.Tokenizer, progress io.Writer) (*LAMASet, error) {
	return lamaProbes(tok, progressTo(progress), func() (string, error) {
		if hfhub.DefaultOptions().Offline {
			return "", errors.New("offline (HF_HUB_OFFLINE is set)")
		}
		return datasets.DownloadLAMAConceptNet(datasets.LAMAOptions{Progress: progress})
	})
}

// lamaProbes is LAMAProbes with the download step given.
func lamaProbes(tok *bpe.Tokenizer, progress io.Writer, download func() (string, error)) (*LAMASet, error) {
	if tok == nil {
		return nil, fmt.Errorf("experiments: LAMAProbes: nil tokenizer: pass the model's (m.Tok)")
	}
	var path, source, tag string
	if p := os.Getenv(EnvLAMA); p != "" {
		path, source, tag = p, EnvLAMA+"="+p, EnvLAMA+" "+filepath.Base(p)
	} else if p, err := download(); err == nil {
		path, source, tag = p, "LAMA ConceptNet test.jsonl from "+datasets.LAMAURL+" ("+p+")", "LAMA ConceptNet test.jsonl"
	} else if p, ok := shareddata.Path("lama-conceptnet", "test.head5.jsonl"); ok {
		fmt.Fprintf(progress, "LAMA: the full ConceptNet file is not available (%v); NOTE: using the offline sample %s: only 5 records are used (set %s to LAMA's data/ConceptNet/test.jsonl for the real experiment)\n",
			err, p, EnvLAMA)
		path, source, tag = p, "offline sample "+p+" (first 5 LAMA ConceptNet records only)", "LAMA 5-record offline sample"
	} else {
		return nil, fmt.Errorf("experiments: no LAMA ConceptNet data: set %s to LAMA's data/ConceptNet/test.jsonl (in %s), or go online to download it (%w)",
			EnvLAMA, datasets.LAMAURL, err)
	}
	recs, err := datasets.LoadLAMA(path)
	if err != nil {
		return nil, fmt.Errorf("experiments: %w", err)
	}
	probes, rep := datasets.SingleTokenProbes(recs, tok)
	fmt.Fprintf(progress, "LAMA: %s from %s\n", rep, source)
	if len(probes) == 0 {
		return nil, fmt.Errorf("experiments: LAMA: no single-token probes in %s (%s)", source, rep)
	}
	return &LAMASet{Probes: probes, Report: rep, Source: source, Tag: tag}, nil
}
