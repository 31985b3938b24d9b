package benchmarks

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/backend"
	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/loader"
)

// PaperRun times one of the paper's experiments end to end (compilation included) with the
// project's own code path (package experiments).
type PaperRun struct {
	Experiment string `json:"experiment"` // "E2 wedding sweep" or "E1 scoring"
	Model      string `json:"model"`      // the model's name: a checkpoint, or a random-weight shape
	// RandomWeights says the model was a random-weight stand-in of the named shape (no weights
	// given): the timings hold, the experiment's outcome means nothing.
	RandomWeights bool    `json:"random_weights"`
	Backend       string  `json:"backend"`
	Settings      int     `json:"settings,omitempty"`    // E2: baseline + layers
	Completions   int     `json:"completions,omitempty"` // E2: per setting
	NewTokens     int     `json:"new_tokens,omitempty"`  // E2: per completion
	Documents     int     `json:"documents,omitempty"`   // E1
	Tokens        int     `json:"tokens"`                // E2: generated; E1: scored (baseline and steered counted once)
	Seconds       float64 `json:"seconds"`               // end to end, compilation included
	Compiles      int64   `json:"compiles"`
	// TokensPerSecond is Tokens / Seconds (E1: scored tokens, each scored baseline and steered).
	TokensPerSecond float64 `json:"tokens_per_second"`
}

// paperModel returns the model spec names: a checkpoint folder (with config.json), loaded on b,
// or else a model shape (gpt2-xl …) with random weights, built once per run (r.load); random
// says which.
func (r *run) paperModel(spec string) (m *actadd.Model, random bool, err error) {
	if _, err := os.Stat(filepath.Join(spec, "config.json")); err == nil {
		g, tok, err := loader.Load(r.b, spec)
		if err != nil {
			return nil, false, err
		}
		m, err := actadd.Wrap(g, tok, backend.Describe(r.b))
		if err == nil {
			r.models["checkpoint "+spec] = m
		}
		return m, false, err
	}
	if _, err := experiments.ShapeConfig(spec); err != nil {
		return nil, false, fmt.Errorf("%q is neither a checkpoint folder (with config.json) nor a model shape: %w", spec, err)
	}
	m, err = r.load(spec, r.b)
	return m, true, err
}

// RunE2 runs E2 (experiments.WeddingSweep) on m at the paper's size, or with completions and
// newTokens when positive, and times it end to end; random says m has random weights.
func RunE2(m *actadd.Model, random bool, completions, newTokens int, log io.Writer) (*PaperRun, error) {
	cfg, err := experiments.WeddingAt(experiments.ScalePaper)
	if err != nil {
		return nil, err
	}
	if completions > 0 {
		cfg.Completions = completions
	}
	if newTokens > 0 {
		cfg.NewTokens = newTokens
	}
	cfg.Progress = log
	r := &PaperRun{Experiment: "E2 wedding sweep", Model: m.Name, RandomWeights: random, Backend: m.BackendName,
		Settings: 1 + m.Layers(), Completions: cfg.Completions, NewTokens: cfg.NewTokens}
	if random && log != nil {
		fmt.Fprintf(log, "bench: E2 on a %s (no weights given): the timing holds, the wedding counts mean nothing\n", m.Name)
	}
	r.Seconds, r.Compiles, err = timed(m, func() error { _, err := experiments.WeddingSweep(m, cfg); return err })
	if err != nil {
		return nil, err
	}
	r.Tokens = r.Settings * r.Completions * r.NewTokens
	r.TokensPerSecond = float64(r.Tokens) / r.Seconds
	return r, nil
}

// RunE1 runs E1's scoring (experiments.Perplexity: each sentence scored unsteered and steered)
// on docs synthetic documents on m, and times it end to end. The documents are seeded random
// sentences of common words, some with wedding words, of OpenWebText-like lengths: scoring
// costs the same whatever the words.
func RunE1(m *actadd.Model, random bool, docs int, log io.Writer) (*PaperRun, error) {
	if random && log != nil {
		fmt.Fprintf(log, "bench: E1 on a %s (no weights given): the timing holds, the scores mean nothing\n", m.Name)
	}
	cfg, err := experiments.PerplexityAt(experiments.ScalePaper)
	if err != nil {
		return nil, err
	}
	cfg.Docs, cfg.MinBinDocs, cfg.Progress = docs, 0, log
	cfg.Data = &experiments.DocumentSet{Docs: syntheticDocuments(docs, 1), Source: "synthetic documents (benchmark)", Tag: "synthetic"}
	r := &PaperRun{Experiment: "E1 scoring", Model: m.Name, RandomWeights: random, Backend: m.BackendName, Documents: docs}
	var res *experiments.PerplexityResult
	r.Seconds, r.Compiles, err = timed(m, func() (err error) { res, err = experiments.Perplexity(m, cfg); return err })
	if err != nil {
		return nil, err
	}
	r.Tokens = res.Tokens
	r.TokensPerSecond = float64(r.Tokens) / r.Seconds
	return r, nil
}

// syntheticDocuments makes n documents of 4 to 12 sentences of 8 to 40 words; every fourth
// document mentions weddings.
func syntheticDocuments(n int, seed uint64) []datasets.Document {
	words := strings.Fields("the a of to and in that it was for on with as he she they we you at by this from but " +
		"not or have had were are which one all there their would could about when time people new year day work " +
		"city school house family water world life state day night music game story friend country")
	wedding := strings.Fields("wedding weddings bride groom marriage married ceremony")
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]datasets.Document, n)
	for i := range out {
		var sb strings.Builder
		for range 4 + rng.IntN(9) {
			k := 8 + rng.IntN(33)
			for w := range k {
				word := words[rng.IntN(len(words))]
				if i%4 == 0 && rng.IntN(10) == 0 {
					word = wedding[rng.IntN(len(wedding))]
				}
				if w == 0 {
					word = strings.ToUpper(word[:1]) + word[1:]
				}
				sb.WriteString(word)
				if w < k-1 {
					sb.WriteByte(' ')
				}
			}
			sb.WriteString(". ")
		}
		out[i] = datasets.Document{Text: strings.TrimSpace(sb.String())}
	}
	return out
}
