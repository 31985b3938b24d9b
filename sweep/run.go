package sweep

import (
	"fmt"
	"io"

	"github.com/actadd-go/actadd/actadd"
)

// GenerateConfig controls Generate.
type GenerateConfig struct {
	Completions int // completions per setting
	// Options are the generation's: MaxNewTokens, Sampling (its Seed seeds every stream),
	// StopAtEOS, BatchSize (also the size of a unit of work), Progress, Context. Streams must be
	// nil: the sweep assigns them.
	Options actadd.GenerateOptions
	// Unpaired gives every setting random streams of its own (setting k's completion c samples
	// stream k·Completions + c) instead of the paired default (stream c in every setting).
	Unpaired bool
}

// genUnit is a unit of generation work: completions [from, to) of one setting.
type genUnit struct {
	setting, from, to int
}

// Generate continues every prompt of the grid Completions times under every setting and
// measures each completion with the metrics. All settings run as one batched job.
func Generate(m *actadd.Model, g Grid, cfg GenerateConfig, metrics ...Metric[actadd.Completion]) (*Result, error) {
	switch {
	case m == nil:
		return nil, fmt.Errorf("sweep: Generate: nil model: load one with actadd.Load")
	case cfg.Completions < 1:
		return nil, fmt.Errorf("sweep: Generate: Completions = %d: ask for at least one completion per setting", cfg.Completions)
	case len(g.Prompts) == 0:
		return nil, fmt.Errorf("sweep: Generate: the grid has no prompt to continue: give Grid.Prompts")
	case cfg.Options.Streams != nil:
		return nil, fmt.Errorf("sweep: Generate assigns the random streams itself (paired by default, see GenerateConfig.Unpaired): leave Options.Streams nil")
	}
	names, settings, err := prepare(g, metrics)
	if err != nil {
		return nil, err
	}
	size := cfg.Options.BatchSize
	if size <= 0 {
		size = 32
	}
	var units []genUnit
	for k := range settings {
		for from := 0; from < cfg.Completions; from += size {
			units = append(units, genUnit{k, from, min(from+size, cfg.Completions)})
		}
	}
	progress(cfg.Options.Progress, "sweep: %s, %s × %s of %d tokens\n", m.Label(), count(len(settings), "setting"), count(cfg.Completions, "completion"), cfg.Options.MaxNewTokens)
	done, err := generateUnits(m, settings, units, cfg)
	if err != nil {
		return nil, err
	}
	comps := make([][]actadd.Completion, len(settings))
	for i, u := range units {
		comps[u.setting] = append(comps[u.setting], done[i]...)
	}
	res := &Result{Model: m.Name, Revision: m.Revision, Backend: m.BackendName, Metrics: names, Per: "completion",
		Items: cfg.Completions, Sampling: cfg.Options.Sampling, MaxNewTokens: cfg.Options.MaxNewTokens, Paired: !cfg.Unpaired}
	for k, s := range settings {
		sr, err := measure(metrics, comps[k], s)
		if err != nil {
			return nil, err
		}
		sr.Completions = comps[k]
		res.Settings = append(res.Settings, sr)
	}
	return res, nil
}

// prepare checks the metrics and lists the grid's settings.
func prepare[T any](g Grid, metrics []Metric[T]) ([]string, []Setting, error) {
	names, err := checkMetrics(metrics)
	if err != nil {
		return nil, nil, err
	}
	settings, err := g.Settings()
	return names, settings, err
}

// stream is the random stream of completion c of setting k.
func (cfg GenerateConfig) stream(k, c int) uint64 {
	if cfg.Unpaired {
		return uint64(k*cfg.Completions + c)
	}
	return uint64(c)
}

// generateUnits computes the completions of every unit in one GenerateRows job (all settings
// share the compiled programs and fill the batches together): done[i] holds unit i's
// completions, in order. This is the one place where generation work is done.
func generateUnits(m *actadd.Model, settings []Setting, units []genUnit, cfg GenerateConfig) ([][]actadd.Completion, error) {
	var rows []actadd.Row
	var streams []uint64
	for _, u := range units {
		s := settings[u.setting]
		for c := u.from; c < u.to; c++ {
			rows = append(rows, actadd.Row{Prompt: s.Prompt, Adds: s.adds()})
			streams = append(streams, cfg.stream(u.setting, c))
		}
	}
	opts := cfg.Options
	opts.Streams = streams
	out, err := m.GenerateRows(rows, opts)
	if err != nil {
		return nil, fmt.Errorf("sweep: generation: %w", err)
	}
	done := make([][]actadd.Completion, len(units))
	at := 0
	for i, u := range units {
		done[i] = out[at : at+u.to-u.from]
		at += u.to - u.from
	}
	return done, nil
}

// Scored is one text scored under one setting: the log-probability of each of its tokens
// (after ScoreOptions.SkipFirst) steered and unsteered, as actadd.Model.LogProbs gives them.
type Scored struct {
	Text                string
	LogProbs, Unsteered []float32
}

// SumDiff is the sum over tokens of LogProbs − Unsteered: the text's log-probability gain
// under the setting.
func (s Scored) SumDiff() float64 {
	var sum float64
	for i := range s.LogProbs {
		sum += float64(s.LogProbs[i]) - float64(s.Unsteered[i])
	}
	return sum
}

// MeanDiff is SumDiff per token (0 without tokens), whose exp(−·) is the text's perplexity
// ratio steered/unsteered.
func (s Scored) MeanDiff() float64 {
	if len(s.LogProbs) == 0 {
		return 0
	}
	return s.SumDiff() / float64(len(s.LogProbs))
}

// ScoreConfig controls Score.
type ScoreConfig struct {
	// Options are the scoring's: SkipFirst, BatchSize, MaxBatchTokens, Progress.
	Options actadd.ScoreOptions
}

// scoreUnit is a unit of scoring work: the log-probs of one text under one setting (setting
// -1: unsteered).
type scoreUnit struct {
	setting, text int
}

// Score scores every text under every setting of the grid (which has no prompts) and the
// unsteered model, and measures each text with the metrics (a Scored carries both). All
// settings run as one batched job; each text is scored unsteered once.
func Score(m *actadd.Model, g Grid, texts []string, cfg ScoreConfig, metrics ...Metric[Scored]) (*Result, error) {
	switch {
	case m == nil:
		return nil, fmt.Errorf("sweep: Score: nil model: load one with actadd.Load")
	case len(texts) == 0:
		return nil, fmt.Errorf("sweep: Score: no texts to score")
	case len(g.Prompts) > 0:
		return nil, fmt.Errorf("sweep: Score sweeps texts, not prompts: pass the texts and leave Grid.Prompts empty")
	}
	names, settings, err := prepare(g, metrics)
	if err != nil {
		return nil, err
	}
	var units []scoreUnit
	for t := range texts {
		units = append(units, scoreUnit{-1, t})
	}
	for k, s := range settings {
		if s.Steered {
			for t := range texts {
				units = append(units, scoreUnit{k, t})
			}
		}
	}
	progress(cfg.Options.Progress, "sweep: %s, %s × %s\n", m.Label(), count(len(settings), "setting"), count(len(texts), "text"))
	lp, err := scoreUnits(m, settings, texts, units, cfg.Options)
	if err != nil {
		return nil, err
	}
	unsteered := make([][]float32, len(texts))
	steered := make([][][]float32, len(settings))
	for i, u := range units {
		if u.setting < 0 {
			unsteered[u.text] = lp[i]
			continue
		}
		if steered[u.setting] == nil {
			steered[u.setting] = make([][]float32, len(texts))
		}
		steered[u.setting][u.text] = lp[i]
	}
	res := &Result{Model: m.Name, Revision: m.Revision, Backend: m.BackendName, Metrics: names, Per: "text", Items: len(texts)}
	for k, s := range settings {
		items := make([]Scored, len(texts))
		for t, text := range texts {
			items[t] = Scored{Text: text, LogProbs: unsteered[t], Unsteered: unsteered[t]}
			if s.Steered {
				items[t].LogProbs = steered[k][t]
			}
		}
		sr, err := measure(metrics, items, s)
		if err != nil {
			return nil, err
		}
		res.Settings = append(res.Settings, sr)
	}
	return res, nil
}

// scoreUnits computes the log-probs of every unit in one LogProbsRows job: lp[i] is unit i's.
// This is the one place where scoring work is done.
func scoreUnits(m *actadd.Model, settings []Setting, texts []string, units []scoreUnit, opts actadd.ScoreOptions) ([][]float32, error) {
	rows := make([]actadd.Row, len(units))
	for i, u := range units {
		rows[i] = actadd.Row{Prompt: texts[u.text]}
		if u.setting >= 0 {
			rows[i].Adds = settings[u.setting].adds()
		}
	}
	lp, err := m.LogProbsRows(rows, opts)
	if err != nil {
		return nil, fmt.Errorf("sweep: scoring: %w", err)
	}
	return lp, nil
}

// count is "1 setting", "2 settings".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// progress prints a line to w unless w is nil.
func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}
