// Package sweep runs a grid of steering settings through a model and measures each one:
// additions × layers × coefficients × prompts for generation (Generate), additions × layers ×
// coefficients over a set of texts for scoring (Score). Any metric is a Go function of one
// completion or one scored text; a setting's values are summarized as a mean (or a fraction) with
// its 95% interval (package interval). The result is grouped by setting, so no caller ever
// regroups a flat slice by index, and converts to a plot (Plot, Figure) and to a table file
// (WriteCSV, WriteParquet).
//
// A sweep over every layer with a metric, the mean number of wedding words per completion:
//
//	res, err := sweep.Generate(m, sweep.Grid{
//		Additions: []actadd.Addition{actadd.Pair(" weddings", "", 1)},
//		Layers:    sweep.AllLayers(m), // or []int{0, 6}; nil keeps each addition's own layer
//		Prompts:   []string{"I went up to my friend and said"},
//		Unsteered: true,
//	}, sweep.GenerateConfig{Completions: 200, Options: actadd.GenerateOptions{MaxNewTokens: 40, Sampling: actadd.PaperSampling}},
//		sweep.Count("wedding words", datasets.WeddingCount))
//	for _, s := range res.Settings {
//		fmt.Println(s.Setting, s.Stats["wedding words"]) // the setting, its mean and 95% interval
//	}
//
// Random streams are paired by default: completion c of every setting samples from stream
// (Seed, c), as the paper's authors passed one seed to every setting, so that settings differ by
// their steering alone. GenerateConfig.Unpaired gives every setting streams of its own.
//
// # Units of work
//
// The work is done in units, each computed in one place (generateUnit, scoreUnit) as one batch
// of its own: BatchSize completions of one setting, the last unit of a setting taking the
// rest (Generate); the log-probs of a batch of texts under one setting (Score), where the texts are laid out in batches by token length once,
// from the texts alone (scoreBatches). A unit's result therefore depends on its own rows and on
// nothing else in the sweep. That matters: the rounding of a batched forward pass depends on
// the batch's shape (the go backend picks its matmul kernel by size; GPUs pick algorithms by
// shape), so a row scored in a batch of 8 and in a batch of 32 can differ in the last bits, and
// a sampled token can then differ too. A setting's completions and log-probs are thus the same,
// bit for bit, whichever other settings are in the sweep.
//
// # Resuming and growing (run stores)
//
// With GenerateConfig.Store or ScoreConfig.Store set (an open runstore.Store), every unit is
// recorded as it finishes and the units the store already holds are read back instead of
// computed: a sweep run again with one more layer computes that layer's units only; an
// unchanged sweep computes nothing; a sweep killed at any point resumes where it stopped, and
// its results are those of an uninterrupted run. Result.Reused and Result.Computed count the
// units. The default, a nil Store, computes everything and records nothing: a library call
// writes no file unless asked (the notebooks and make targets turn a store on, see
// notebooks/README.md).
//
// A unit's key (runstore.Key) holds everything its result depends on:
//
//   - Kind "sweep/completions" or "sweep/log-probs", and Code, the version of the code path
//     (GenerateCode, ScoreCode: bump it when a change here or in packages actadd or gpt2
//     changes what a unit holds);
//   - Model and Revision (actadd.Model's), and Backend, the backend with the numerics of this
//     build and machine (internal/machine.Numerics: architecture, SIMD kernels, GoMLX
//     versions);
//   - Steering: the setting's addition (prompt pair, coefficient, layer, hook point, position,
//     and the SHA-256 of a given vector; SteeringKey), null when unsteered;
//   - Generate: Sampler (temperature, top-p, top-k, frequency penalty, new tokens, stop at
//     EOS, no cache), Seed, Data (the prompt's checksum) and Unit {First, Count}: the random
//     streams First … First+Count−1, one batch of Count rows;
//   - Score: Data, the checksum of the batch's texts in batch order (Checksum), and Unit
//     {Texts, SkipFirst}.
//
// Values are recorded exactly: a completion's tokens, prompt length and text; log-probs as
// the bits of each float32. Read back, they equal the computed ones bit for bit.
package sweep

import (
	"fmt"
	"math"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/chat"
	"github.com/actadd-go/actadd/interval"
)

// Grid is the settings of a sweep: every addition at every layer with every coefficient, for
// every prompt, and optionally the unsteered model.
type Grid struct {
	// Additions are what is swept; each setting steers with one of them.
	Additions []actadd.Addition
	// Layers and Coeffs override each addition's own layer and coefficient; nil keeps them
	// (nil never means "every layer": say that with AllLayers(m)).
	Layers []int
	Coeffs []float64
	// Prompts are the prompts to continue (Generate only; Score sweeps texts instead).
	Prompts []string
	// Chats are prompts given as chat messages, continued after the model's chat template
	// renders them with the generation prompt (Generate only; see chat.go). A grid has
	// Prompts or Chats, not both.
	Chats [][]chat.Message
	// Unsteered adds the unsteered setting (one per prompt), listed first.
	Unsteered bool
}

// Setting is one point of a sweep: a prompt (for generation) and the addition steering it, or
// none.
type Setting struct {
	Prompt string `json:"prompt,omitempty"`
	// Chat is the prompt as chat messages (Grid.Chats); Prompt then labels it: the content of a
	// chat that is one user message, else every message as "role: content" joined by " | ".
	Chat    []chat.Message `json:"chat,omitempty"`
	Steered bool           `json:"steered"`
	// Addition names the addition by its prompt pairs (actadd.Addition.Name); "" unsteered.
	Addition string  `json:"addition,omitempty"`
	Layer    int     `json:"layer"` // -1 unsteered
	Coeff    float64 `json:"coeff"` // 0 unsteered
	// Add is the addition applied (its Layer and Coeff are the setting's).
	Add actadd.Addition `json:"-"`
}

// String describes the setting, e.g. `+1·(" weddings" − "") at layer 6` or "unsteered".
func (s Setting) String() string {
	what := "unsteered"
	if s.Steered {
		what = fmt.Sprintf("%+g·%s at layer %d", s.Coeff, s.Addition, s.Layer)
	}
	if s.Prompt != "" {
		what += fmt.Sprintf(", prompt %q", s.Prompt)
	}
	return what
}

// adds is the setting's additions as a row's (none when unsteered).
func (s Setting) adds() []actadd.Addition {
	if !s.Steered {
		return nil
	}
	return []actadd.Addition{s.Add}
}

// Settings lists the grid's settings: for each prompt (one empty prompt when there are none),
// the unsteered setting when asked for, then each addition × layer × coefficient in that order.
func (g Grid) Settings() ([]Setting, error) {
	if len(g.Additions) == 0 && !g.Unsteered {
		return nil, fmt.Errorf("sweep: the grid has no addition and no unsteered setting: give Grid.Additions (e.g. actadd.Pair(\" weddings\", \"\", 1)) or set Unsteered")
	}
	if len(g.Additions) == 0 && (g.Layers != nil || g.Coeffs != nil) {
		return nil, fmt.Errorf("sweep: the grid sweeps layers or coefficients but has no addition to place there: give Grid.Additions")
	}
	if g.Layers != nil && len(g.Layers) == 0 || g.Coeffs != nil && len(g.Coeffs) == 0 {
		return nil, fmt.Errorf("sweep: an empty, non-nil list of layers or coefficients sweeps nothing: give at least one value, or nil to keep each addition's own")
	}
	for i, l := range g.Layers {
		if l < 0 {
			return nil, fmt.Errorf("sweep: layer %d (Grid.Layers[%d]) is negative: layers are 0 … n_layer−1 (sweep.AllLayers(m) lists them all)", l, i)
		}
	}
	for i, c := range g.Coeffs {
		if err := checkCoeff(c); err != nil {
			return nil, fmt.Errorf("sweep: coefficient %v (Grid.Coeffs[%d]) %w", c, i, err)
		}
	}
	for i, a := range g.Additions {
		if err := checkCoeff(a.Coeff); g.Coeffs == nil && err != nil {
			return nil, fmt.Errorf("sweep: the coefficient %v of Grid.Additions[%d] %w", a.Coeff, i, err)
		}
		if g.Layers == nil && a.Layer < 0 {
			return nil, fmt.Errorf("sweep: the layer %d of Grid.Additions[%d] is negative: layers are 0 … n_layer−1", a.Layer, i)
		}
	}
	prompts, err := g.prompts()
	if err != nil {
		return nil, err
	}
	var out []Setting
	for _, p := range prompts {
		if g.Unsteered {
			out = append(out, Setting{Prompt: p.text, Chat: p.chat, Layer: -1})
		}
		for _, a := range g.Additions {
			layers, coeffs := g.Layers, g.Coeffs
			if layers == nil {
				layers = []int{a.Layer}
			}
			if coeffs == nil {
				coeffs = []float64{a.Coeff}
			}
			for _, l := range layers {
				for _, c := range coeffs {
					add := a.AtLayer(l).WithCoeff(c)
					out = append(out, Setting{Prompt: p.text, Chat: p.chat, Steered: true, Addition: add.Name(), Layer: l, Coeff: c, Add: add})
				}
			}
		}
	}
	return out, nil
}

// checkCoeff says what is wrong with a coefficient that no model can apply (completing a
// sentence that starts with it), or returns nil.
func checkCoeff(c float64) error {
	switch {
	case math.IsNaN(c) || math.IsInf(c, 0):
		return fmt.Errorf("is not a finite number: give finite coefficients")
	case math.Abs(c) > math.MaxFloat32:
		return fmt.Errorf("overflows float32, the model's precision: use |c| ≤ %g", math.MaxFloat32)
	}
	return nil
}

// checkLayers reports a steered setting whose layer the model lacks, before any work (the run
// store's keys included) is done.
func checkLayers(m *actadd.Model, settings []Setting) error {
	n := m.Layers()
	for _, s := range settings {
		if s.Steered && s.Layer >= n {
			return fmt.Errorf("sweep: layer %d is out of range for %s, which has layers 0 … %d (sweep.AllLayers(m) lists them all)", s.Layer, m.Name, n-1)
		}
	}
	return nil
}

// AllLayers lists every layer of the model, 0 … n_layer−1: Grid.Layers for a sweep over all
// of them (a nil Grid.Layers keeps each addition's own layer).
func AllLayers(m *actadd.Model) []int {
	if m == nil {
		return nil
	}
	out := make([]int, m.Layers())
	for l := range out {
		out[l] = l
	}
	return out
}

// Metric measures one completion (Metric[actadd.Completion]) or one scored text
// (Metric[Scored]). A setting's values are summarized by their mean with a 95% Student t
// interval, or, for a Proportion (values 0 or 1), by their fraction with a Wilson interval, or,
// for a Count (whole numbers ≥ 0), by their mean with a Poisson exact interval, which never
// goes below 0 (interval.CountMean).
type Metric[T any] struct {
	Name       string
	Value      func(T) float64
	Proportion bool
	Count      bool
}

// Mean is a metric summarized by its mean and a t interval.
func Mean[T any](name string, f func(T) float64) Metric[T] {
	return Metric[T]{Name: name, Value: f}
}

// Fraction is a yes/no metric summarized by the fraction of yes and a Wilson interval.
func Fraction[T any](name string, f func(T) bool) Metric[T] {
	return Metric[T]{Name: name, Proportion: true, Value: func(x T) float64 {
		if f(x) {
			return 1
		}
		return 0
	}}
}

// Count is a metric that counts something in generated text: count(c.Text) of each completion c
// (the generated text, without the prompt), summarized by its mean count with a Poisson exact
// interval, which never goes below 0 (interval.CountMean), e.g.
// sweep.Count("wedding words", datasets.WeddingCount).
func Count(name string, count func(text string) int) Metric[actadd.Completion] {
	return Metric[actadd.Completion]{Name: name, Count: true, Value: func(c actadd.Completion) float64 { return float64(count(c.Text)) }}
}

// Occurs is the yes/no companion of Count: the fraction of completions whose generated text
// holds at least one of what count counts, with a Wilson interval, e.g.
// sweep.Occurs("has a wedding word", datasets.WeddingCount).
func Occurs(name string, count func(text string) int) Metric[actadd.Completion] {
	return Fraction(name, func(c actadd.Completion) bool { return count(c.Text) > 0 })
}

// estimate summarizes a setting's values of the metric.
func (mt Metric[T]) estimate(vals []float64) interval.Estimate {
	if mt.Count {
		return interval.CountMean(vals)
	}
	if !mt.Proportion {
		return interval.Mean(vals)
	}
	k := 0
	for _, v := range vals {
		if v != 0 {
			k++
		}
	}
	return interval.Proportion(k, len(vals))
}

// checkMetrics rejects no metric, unnamed or repeated names, and nil functions.
func checkMetrics[T any](metrics []Metric[T]) ([]string, error) {
	if len(metrics) == 0 {
		return nil, fmt.Errorf("sweep: no metric: give at least one, e.g. sweep.Mean(\"words\", func(c actadd.Completion) float64 { … })")
	}
	seen := map[string]bool{}
	var names []string
	for i, mt := range metrics {
		switch {
		case strings.TrimSpace(mt.Name) == "":
			return nil, fmt.Errorf("sweep: metric %d has no name: name it (tables and plots print it)", i)
		case seen[mt.Name]:
			return nil, fmt.Errorf("sweep: two metrics are named %q: give each its own name", mt.Name)
		case mt.Value == nil:
			return nil, fmt.Errorf("sweep: metric %q has no function", mt.Name)
		}
		seen[mt.Name] = true
		names = append(names, mt.Name)
	}
	return names, nil
}

// measure applies the metrics to every item of one setting; a non-finite value is an error
// naming it.
func measure[T any](metrics []Metric[T], items []T, s Setting) (SettingResult, error) {
	out := newSettingResult(s, metrics, len(items))
	for i, it := range items {
		if err := measureItem(metrics, &out, i, it); err != nil {
			return out, err
		}
	}
	summarize(metrics, &out)
	return out, nil
}

// newSettingResult is a setting's result with room for n values of every metric.
func newSettingResult[T any](s Setting, metrics []Metric[T], n int) SettingResult {
	out := SettingResult{Setting: s, Stats: map[string]interval.Estimate{}, Values: map[string][]float64{}}
	for _, mt := range metrics {
		out.Values[mt.Name] = make([]float64, n)
	}
	return out
}

// measureItem sets the metrics' values of item i; a non-finite value is an error naming it.
func measureItem[T any](metrics []Metric[T], sr *SettingResult, i int, it T) error {
	for _, mt := range metrics {
		v := mt.Value(it)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("sweep: metric %q gave %v for item %d of setting %s: a metric must be a finite number", mt.Name, v, i, sr.Setting)
		}
		if mt.Count && (v < 0 || v != math.Trunc(v)) {
			return fmt.Errorf("sweep: count metric %q gave %v for item %d of setting %s: a count must be a whole number ≥ 0 (use sweep.Mean for other values)", mt.Name, v, i, sr.Setting)
		}
		sr.Values[mt.Name][i] = v
	}
	return nil
}

// summarize estimates every metric from its values.
func summarize[T any](metrics []Metric[T], sr *SettingResult) {
	for _, mt := range metrics {
		sr.Stats[mt.Name] = mt.estimate(sr.Values[mt.Name])
	}
}

// Result is a sweep's outcome, grouped by setting.
type Result struct {
	// Model, Revision and Backend say what ran (Backend as actadd.Model.BackendName).
	Model, Revision, Backend string
	Metrics                  []string // metric names, in the order given (tables and plots follow it)
	Settings                 []SettingResult
	// Per is what one value measures ("completion" or "text"), Items how many there are per
	// setting.
	Per   string
	Items int
	// Sampling and MaxNewTokens are the generation's (Generate only).
	Sampling     actadd.Sampling `json:",omitzero"`
	MaxNewTokens int             `json:",omitempty"`
	Paired       bool            // every setting drew the same random streams (Generate)
	// Reused units were read from the run store (GenerateConfig.Store, ScoreConfig.Store),
	// Computed ones were computed (and recorded there). A unit is a batch of completions of
	// one setting (Generate) or the log-probs of a batch of texts under one setting (Score).
	Reused, Computed int
}

// SettingResult is one setting's measurements.
type SettingResult struct {
	Setting
	// Stats[name] is the named metric's mean (or fraction) with its 95% interval.
	Stats map[string]interval.Estimate
	// Values[name][i] is the named metric of completion (or text) i.
	Values map[string][]float64
	// Completions are the setting's completions (Generate only): completion i sampled stream i
	// (paired) or one of the setting's own.
	Completions []actadd.Completion `json:"-"`
}

// checkMetric reports a metric the result does not have, naming those it has.
func (r *Result) checkMetric(metric string) error {
	for _, name := range r.Metrics {
		if name == metric {
			return nil
		}
	}
	return fmt.Errorf("sweep: no metric %q in this result: it has %q", metric, r.Metrics)
}

// Unsteered returns the unsteered setting of a prompt ("" for a scoring sweep), or nil when the
// grid had none.
func (r *Result) Unsteered(prompt string) *SettingResult {
	for i, s := range r.Settings {
		if !s.Steered && s.Prompt == prompt {
			return &r.Settings[i]
		}
	}
	return nil
}

// Steered returns the steered settings, in grid order.
func (r *Result) Steered() []SettingResult {
	var out []SettingResult
	for _, s := range r.Settings {
		if s.Steered {
			out = append(out, s)
		}
	}
	return out
}

// Best returns the steered setting with the highest value of metric (the first among ties),
// or nil when there is none.
func (r *Result) Best(metric string) (*SettingResult, error) {
	if err := r.checkMetric(metric); err != nil {
		return nil, err
	}
	var best *SettingResult
	for i, s := range r.Settings {
		if s.Steered && (best == nil || s.Stats[metric].Value > best.Stats[metric].Value) {
			best = &r.Settings[i]
		}
	}
	return best, nil
}
