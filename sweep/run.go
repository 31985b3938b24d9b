package sweep

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/internal/repopath"
	"github.com/actadd-go/actadd/progress"
	"github.com/actadd-go/actadd/runstore"
)

// GenerateConfig controls Generate.
type GenerateConfig struct {
	Completions int // completions per setting
	// Options are the generation's: MaxNewTokens, Sampling (its Seed seeds every stream),
	// StopAtEOS, NoCache, BatchSize (the most rows in a unit of work), Progress (Generate's own
	// meter), Context (checked between units and at every decoding step) and Stream (called
	// with index k·Completions + c for completion c of setting k, for the units computed).
	// Streams must be nil: the sweep assigns them.
	Options actadd.GenerateOptions
	// Unpaired gives every setting random streams of its own (setting k's completion c samples
	// stream k·Completions + c) instead of the paired default (stream c in every setting).
	Unpaired bool
	// Store, when set, records every unit as it finishes and hands back the units it already
	// holds (package runstore): a sweep run again computes only the units it lacks. nil
	// computes every unit and records nothing.
	Store *runstore.Store
}

// genUnit is a unit of generation work: completions [from, to) of one setting, generated
// together in one batch of to−from rows.
type genUnit struct {
	setting, from, to int
}

// Generate continues every prompt of the grid Completions times under every setting and
// measures each completion with the metrics. The work is done in units of up to BatchSize
// completions of one setting, each one batch of its own (see the package doc), as many at once
// as the model decodes batches at once (actadd.Model.BatchesInFlight).
func Generate(m *actadd.Model, g Grid, cfg GenerateConfig, metrics ...Metric[actadd.Completion]) (*Result, error) {
	switch {
	case m == nil:
		return nil, fmt.Errorf("sweep: Generate: nil model: load one with actadd.Load")
	case cfg.Completions < 1:
		return nil, fmt.Errorf("sweep: Generate: Completions = %d: ask for at least one completion per setting", cfg.Completions)
	case len(g.Prompts) == 0 && len(g.Chats) == 0:
		return nil, fmt.Errorf("sweep: Generate: the grid has no prompt to continue: give Grid.Prompts (or Grid.Chats)")
	case cfg.Options.Streams != nil:
		return nil, fmt.Errorf("sweep: Generate assigns the random streams itself (paired by default, see GenerateConfig.Unpaired): leave Options.Streams nil")
	}
	if err := checkOptions(m, cfg.Options); err != nil {
		return nil, err
	}
	if err := checkChats(m, g); err != nil {
		return nil, err
	}
	names, settings, err := prepare(m, g, metrics)
	if err != nil {
		return nil, err
	}
	if cfg.Completions > MaxCompletions/len(settings) {
		return nil, fmt.Errorf("sweep: Generate: %d settings × %d completions is more than the %d completions a sweep can hold in memory: ask for fewer, or split the sweep",
			len(settings), cfg.Completions, MaxCompletions)
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
	done := make([][]actadd.Completion, len(units))
	keys := make([]runstore.Key, len(units))
	var missing []int
	rows := 0
	for i, u := range units {
		keys[i] = cfg.unitKey(m, settings[u.setting], u)
		var rec []storedCompletion
		ok, err := cfg.Store.Get(keys[i], &rec)
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		if !ok {
			missing = append(missing, i)
			rows += u.to - u.from
			continue
		}
		if done[i], err = restore(rec, settings[u.setting], u); err != nil {
			return nil, err
		}
	}
	say(cfg.Options.Progress, "sweep: %s, %s × %s of %d tokens in %s%s\n", m.Label(), count(len(settings), "setting"), count(cfg.Completions, "completion"),
		cfg.Options.MaxNewTokens, count(len(units), "unit"), reuseNote(cfg.Store, len(units)-len(missing)))
	meter := progress.New(cfg.Options.Progress, "sweep: generate "+m.Label(), "completions", rows)
	if err := generateUnits(m, settings, units, missing, keys, done, cfg, meter); err != nil {
		return nil, err
	}
	comps := make([][]actadd.Completion, len(settings))
	for i, u := range units {
		comps[u.setting] = append(comps[u.setting], done[i]...)
	}
	res := &Result{Model: m.Name, Revision: m.Revision, Backend: m.BackendName, Metrics: names, Per: "completion",
		Items: cfg.Completions, Sampling: cfg.Options.Sampling, MaxNewTokens: cfg.Options.MaxNewTokens, Paired: !cfg.Unpaired,
		Reused: len(units) - len(missing), Computed: len(missing)}
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

// MaxCompletions bounds a sweep's completions (settings × Completions): a sweep keeps every
// completion in memory, and far fewer would take years to generate on any machine.
const MaxCompletions = 1 << 24

// checkOptions reports generation options that Generate would refuse in every unit, before any
// work is done: the options are part of every unit's run-store key, which cannot hold a NaN.
func checkOptions(m *actadd.Model, o actadd.GenerateOptions) error {
	switch {
	case o.MaxNewTokens < 1:
		return fmt.Errorf("sweep: Generate: MaxNewTokens = %d: ask for at least one new token per completion", o.MaxNewTokens)
	case o.MaxNewTokens > m.Context():
		return fmt.Errorf("sweep: Generate: MaxNewTokens = %d exceeds the context of %s (%d positions): ask for fewer new tokens", o.MaxNewTokens, m.Name, m.Context())
	}
	if err := o.Sampling.Check(); err != nil {
		return fmt.Errorf("sweep: Generate: %w", err)
	}
	return nil
}

// prepare checks the metrics, lists the grid's settings and checks their layers against the
// model's.
func prepare[T any](m *actadd.Model, g Grid, metrics []Metric[T]) ([]string, []Setting, error) {
	names, err := checkMetrics(metrics)
	if err != nil {
		return nil, nil, err
	}
	settings, err := g.Settings()
	if err != nil {
		return nil, nil, err
	}
	return names, settings, checkLayers(m, settings)
}

// stream is the random stream of completion c of setting k.
func (cfg GenerateConfig) stream(k, c int) uint64 {
	if cfg.Unpaired {
		return uint64(k*cfg.Completions + c)
	}
	return uint64(c)
}

// unitKey is the run-store key of a generation unit: everything its completions depend on.
// The unit is one batch of exactly its own rows, so nothing else in the sweep affects them.
func (cfg GenerateConfig) unitKey(m *actadd.Model, s Setting, u genUnit) runstore.Key {
	o := cfg.Options
	k := keyBase(m, generateKind, GenerateCode)
	k.Steering = settingKey(s)
	place := o.Sampler
	if place == "" {
		place = m.DefaultSampler(o.Sampling)
	}
	k.Sampler = generateSampler{Temperature: o.Temperature, TopP: o.TopP, TopK: o.TopK, FreqPenalty: o.FreqPenalty,
		MaxNewTokens: o.MaxNewTokens, StopAtEOS: o.StopAtEOS, NoCache: o.NoCache, Place: place}
	k.Data = promptData(m, s)
	k.Seed = o.Seed
	k.Unit = generateUnitKey{First: cfg.stream(u.setting, u.from), Count: u.to - u.from}
	return k
}

// generateUnits computes the missing units into done, recording each in the store as it
// finishes, m.BatchesInFlight() units at a time (on the go backend two batches decoded at once
// keep both cores busy; each unit is still a batch of its own, so its completions are those
// it would have alone). After an error, or once the context is done, no unit is started; the
// units under way finish and are recorded.
func generateUnits(m *actadd.Model, settings []Setting, units []genUnit, missing []int, keys []runstore.Key, done [][]actadd.Completion, cfg GenerateConfig, meter *progress.Meter) error {
	if stream := cfg.Options.Stream; stream != nil {
		var mu sync.Mutex // the units decoded at once call Stream one at a time
		cfg.Options.Stream = func(i int, c actadd.Completion) {
			mu.Lock()
			defer mu.Unlock()
			stream(i, c)
		}
	}
	next := make(chan int, len(missing))
	for _, i := range missing {
		next <- i
	}
	close(next)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	failed := func(err error) bool {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
		return firstErr != nil
	}
	for range min(len(missing), m.BatchesInFlight()) {
		wg.Go(func() {
			for i := range next {
				if failed(contextErr(cfg.Options.Context)) {
					return
				}
				u := units[i]
				cs, err := generateUnit(m, settings[u.setting], u, cfg)
				if err == nil {
					if err = cfg.Store.Put(keys[i], stored(cs)); err != nil {
						err = fmt.Errorf("sweep: %w", err)
					}
				}
				if failed(err) {
					return
				}
				done[i] = cs
				meter.Add(u.to - u.from)
			}
		})
	}
	wg.Wait()
	return firstErr
}

// generateUnit generates the completions of one unit in one GenerateRows call of exactly its
// rows (one batch). This is the one place where generation work is done.
func generateUnit(m *actadd.Model, s Setting, u genUnit, cfg GenerateConfig) ([]actadd.Completion, error) {
	n := u.to - u.from
	rows := make([]actadd.Row, n)
	streams := make([]uint64, n)
	for j := range rows {
		rows[j] = s.row()
		streams[j] = cfg.stream(u.setting, u.from+j)
	}
	opts := cfg.Options
	opts.Streams, opts.BatchSize, opts.Progress = streams, n, nil
	if stream := cfg.Options.Stream; stream != nil {
		opts.Stream = func(j int, c actadd.Completion) { stream(u.setting*cfg.Completions+u.from+j, c) }
	}
	out, err := m.GenerateRows(rows, opts)
	if err != nil {
		return nil, fmt.Errorf("sweep: generating completions %d–%d of %s: %w", u.from, u.to-1, s, err)
	}
	return out, nil
}

// stored is what a run store records of a unit's completions.
func stored(cs []actadd.Completion) []storedCompletion {
	out := make([]storedCompletion, len(cs))
	for i, c := range cs {
		out[i] = storedCompletion{Tokens: c.Tokens, PromptLen: c.PromptLen, Text: []byte(c.Text), Sampler: c.Sampler}
	}
	return out
}

// restore turns a unit's record back into its completions.
func restore(rec []storedCompletion, s Setting, u genUnit) ([]actadd.Completion, error) {
	if len(rec) != u.to-u.from {
		return nil, fmt.Errorf("sweep: the run store holds %d completions for a unit of %d (%s): a damaged record; run with a fresh store", len(rec), u.to-u.from, s)
	}
	out := make([]actadd.Completion, len(rec))
	for i, c := range rec {
		out[i] = actadd.Completion{Row: s.row(), Tokens: c.Tokens, PromptLen: c.PromptLen, Text: string(c.Text), Sampler: c.Sampler}
	}
	return out, nil
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
	// Options are the scoring's: SkipFirst, BatchSize and MaxBatchTokens (which lay the texts
	// out in batches, the units of work), Progress (Score's own meter).
	Options actadd.ScoreOptions
	// Store, when set, records every unit as it finishes and hands back the units it already
	// holds (package runstore); nil computes every unit and records nothing.
	Store *runstore.Store
	// Context, when set, is checked before every unit: once it is done, Score returns its
	// error (the units finished before stay recorded).
	Context context.Context
}

// Score scores every text under every setting of the grid (which has no prompts) and the
// unsteered model, and measures each text with the metrics (a Scored carries both). The texts
// are laid out in batches by token length once (scoreBatches); a unit is one batch under one
// setting, scored in one call of its own, and each text is scored unsteered once.
func Score(m *actadd.Model, g Grid, texts []string, cfg ScoreConfig, metrics ...Metric[Scored]) (*Result, error) {
	switch {
	case m == nil:
		return nil, fmt.Errorf("sweep: Score: nil model: load one with actadd.Load")
	case len(texts) == 0:
		return nil, fmt.Errorf("sweep: Score: no texts to score")
	case len(g.Prompts) > 0 || len(g.Chats) > 0:
		return nil, fmt.Errorf("sweep: Score sweeps texts, not prompts: pass the texts and leave Grid.Prompts and Grid.Chats empty")
	case cfg.Options.SkipFirst < 0:
		return nil, fmt.Errorf("sweep: Score: SkipFirst must be ≥ 0, got %d", cfg.Options.SkipFirst)
	}
	names, settings, err := prepare(m, g, metrics)
	if err != nil {
		return nil, err
	}
	lens := make([]int, len(texts))
	for t, text := range texts {
		lens[t] = len(m.EncodeWithBOS(text))
		switch {
		case lens[t] < 2:
			return nil, fmt.Errorf("sweep: Score: text %d (%q) has no token to score after BOS", t, text)
		case lens[t] > m.Context():
			return nil, fmt.Errorf("sweep: Score: text %d has %d tokens (with BOS), more than the model's context of %d: shorten it", t, lens[t], m.Context())
		}
	}
	batches := scoreBatches(lens, cfg.Options.BatchSize, cfg.Options.MaxBatchTokens, m.Context())
	// Setting -1 is the unsteered scoring every setting is compared with; col[k] is setting k's
	// place in scored (0 for the unsteered setting).
	scored := []int{-1}
	col := make([]int, len(settings))
	for k, s := range settings {
		if s.Steered {
			col[k] = len(scored)
			scored = append(scored, k)
		}
	}
	type unit struct {
		batch, setting int
		key            runstore.Key
		stored         bool
	}
	var units []unit
	toScore := 0
	for b, batch := range batches {
		bt := make([]string, len(batch))
		for j, t := range batch {
			bt[j] = texts[t]
		}
		data := Checksum(bt)
		for _, k := range scored {
			u := unit{batch: b, setting: k, key: keyBase(m, scoreKind, ScoreCode)}
			if k >= 0 {
				u.key.Steering = settingKey(settings[k])
			}
			u.key.Data, u.key.Unit = data, scoreUnitKey{Texts: len(batch), SkipFirst: cfg.Options.SkipFirst}
			if u.stored, err = cfg.Store.Has(u.key); err != nil {
				return nil, fmt.Errorf("sweep: %w", err)
			}
			if !u.stored {
				toScore += len(batch)
			}
			units = append(units, u)
		}
	}
	reused := 0
	for _, u := range units {
		if u.stored {
			reused++
		}
	}
	say(cfg.Options.Progress, "sweep: %s, %s × %s in %s%s\n", m.Label(), count(len(settings), "setting"), count(len(texts), "text"),
		count(len(units), "unit"), reuseNote(cfg.Store, reused))
	meter := progress.New(cfg.Options.Progress, "sweep: score "+m.Label(), "texts", toScore)
	res := &Result{Model: m.Name, Revision: m.Revision, Backend: m.BackendName, Metrics: names, Per: "text", Items: len(texts),
		Reused: reused, Computed: len(units) - reused}
	for _, s := range settings {
		res.Settings = append(res.Settings, newSettingResult(s, metrics, len(texts)))
	}
	// Units go batch by batch, so that a batch's log-probs are measured and dropped at once.
	for i := 0; i < len(units); i += len(scored) {
		batch := batches[units[i].batch]
		lps := make([][][]float32, len(scored))
		for j, u := range units[i : i+len(scored)] {
			var add []actadd.Addition
			if u.setting >= 0 {
				add = settings[u.setting].adds()
			}
			if lps[j], err = scoreUnit(m, texts, batch, add, u.key, u.stored, cfg); err != nil {
				return nil, err
			}
			if !u.stored {
				meter.Add(len(batch))
			}
		}
		for k := range settings {
			lp := lps[col[k]]
			for j, t := range batch {
				item := Scored{Text: texts[t], LogProbs: lp[j], Unsteered: lps[0][j]}
				if err := measureItem(metrics, &res.Settings[k], t, item); err != nil {
					return nil, err
				}
			}
		}
	}
	for k := range res.Settings {
		summarize(metrics, &res.Settings[k])
	}
	return res, nil
}

// scoreUnit returns the log-probs of one batch of texts under the additions add: read from
// the store when it holds them, else computed in one LogProbsRows call of exactly the batch's
// rows (one batch, whatever the options) and recorded. This is the one place where scoring
// work is done.
func scoreUnit(m *actadd.Model, texts []string, batch []int, add []actadd.Addition, key runstore.Key, stored bool, cfg ScoreConfig) ([][]float32, error) {
	if stored {
		var rec []float32s
		ok, err := cfg.Store.Get(key, &rec)
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		if ok && len(rec) == len(batch) {
			out := make([][]float32, len(rec))
			for i, r := range rec {
				out[i] = r
			}
			return out, nil
		}
		if ok {
			return nil, fmt.Errorf("sweep: the run store holds log-probs of %d texts for a batch of %d: a damaged record; run with a fresh store", len(rec), len(batch))
		}
	}
	if err := contextErr(cfg.Context); err != nil {
		return nil, err
	}
	rows := make([]actadd.Row, len(batch))
	for j, t := range batch {
		rows[j] = actadd.Row{Prompt: texts[t], Adds: add}
	}
	opts := cfg.Options
	opts.BatchSize, opts.MaxBatchTokens, opts.Progress = len(batch), math.MaxInt, nil
	lp, err := m.LogProbsRows(rows, opts)
	if err != nil {
		return nil, fmt.Errorf("sweep: scoring texts %v: %w", batch, err)
	}
	rec := make([]float32s, len(lp))
	for i, l := range lp {
		rec[i] = l
	}
	if err := cfg.Store.Put(key, rec); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	return lp, nil
}

// scoreBatches lays texts of the given token lengths (BOS included) out in batches: sorted by
// length (ties in text order), cut into batches of size texts (0 means 32), or of size/2,
// size/4, … where size rows of the batch's padded length would exceed maxTokens (0 means
// actadd.DefaultMaxBatchTokens), as actadd's scoring does. The layout depends on the texts
// alone, so a setting added to a sweep scores its texts in the same batches as the others.
func scoreBatches(lens []int, size, maxTokens, context int) [][]int {
	if size <= 0 {
		size = 32
	}
	if maxTokens <= 0 {
		maxTokens = actadd.DefaultMaxBatchTokens
	}
	order := make([]int, len(lens))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lens[order[a]] < lens[order[b]] })
	padded := func(n int) int {
		if r := (n + 15) / 16 * 16; r <= context {
			return r
		}
		return n
	}
	var out [][]int
	for s := 0; s < len(order); {
		width := min(size, len(order)-s)
		for width > 1 && width*padded(lens[order[s+width-1]]) > maxTokens {
			width /= 2
		}
		out = append(out, order[s:s+width])
		s += width
	}
	return out
}

// reuseNote says how many units came from the store, e.g. "; 3 from the run store".
func reuseNote(st *runstore.Store, reused int) string {
	if st == nil {
		return ""
	}
	return fmt.Sprintf("; %d from the run store %s", reused, repopath.Display(st.Dir()))
}

// contextErr is ctx's error, nil for a nil or live context.
func contextErr(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	return ctx.Err()
}

// count is "1 setting", "2 settings".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// say prints a line to w unless w is nil.
func say(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}
