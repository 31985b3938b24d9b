// Package experiments runs the GPT-2 experiments of the ActAdd paper (Turner et al., arXiv
// 2308.10248) as specified in docs/actadd-protocol.md, one file each:
//
//   - E1 Perplexity: how steering with " weddings" changes the perplexity of OpenWebText
//     documents, binned by their wedding-word frequency, at one or more layers (perplexity.go);
//   - E2 WeddingSweep: wedding words in steered completions vs injection layer, a sweep.Generate
//     with the wedding metric (wedding.go);
//   - E3 ConceptNet: LAMA ConceptNet P@K with and without steering (conceptnet.go);
//   - E4 Overhead: the inference-time premium of steering vs model size (overhead.go).
//
// Every experiment has the same shape: a config XConfig, which comes from one place, XAt(scale)
// with scale ScalePaper (the paper's sizes) or ScaleQuick (a CPU-sized run), and whose single
// values a program's or notebook's flags change through XFlags (scale.go); a function
// X(m, cfg) returning a plain result (numbers with 95% intervals, model, revision, backend, wall
// time) with a Summary method (the result as a text table) and a Figures method (the paper's
// plots with sidecars, package plots). A notebook cell runs one experiment like this:
//
//	cfg, err := experiments.PerplexityAt(experiments.ScalePaper) // or e1.Config() from flags
//	m, err := actadd.Load("gpt2-xl")                             // or "tiny", the random stand-in, offline
//	res, err := experiments.Perplexity(m, cfg)                   // finds its data itself (cfg.Data)
//	fmt.Print(res.Summary())
//	figs, err := res.Figures()
//	paths, err := plots.SaveAll("figures", figs...)
//
// # Layers
//
// A Layer is a layer number ("6") or a layer of a deeper model scaled to the model at hand
// ("16/48": the paper steers E1 and E3 at layer 16 of GPT-2-XL's 48, which is 4 on gpt2 and 1
// on the 4-layer tiny stand-in). A list of layers may be "all" (AllLayers: every layer of the
// model, E2's default); an empty or nil list is no layer, never all of them (as a nil
// sweep.Grid.Layers keeps each addition's own layer). Configs, flags and sidecars all write
// layers this way; results record the layer actually used, and figures print it.
//
// Long work prints progress lines to the config's Progress writer (os.Stderr when nil; use
// io.Discard for silence): every experiment has a meter over all of its work (done/total, rate,
// time left), shown in place in a notebook. Randomness comes from the configured seeds only:
// the same model, data and config give the same numbers.
//
// # Resuming and growing
//
// With Runs.Dir set in its config (RunStore), an experiment records each unit of work in that
// run store (package runstore) as it finishes, and reads back the units the store holds
// instead of computing them: re-executed with one more layer it computes that layer only;
// unchanged, it computes nothing and re-plots at once; killed at any point, it resumes where it
// stopped, and its results are those of an uninterrupted run, bit for bit. Runs.Fresh (the
// --fresh flag) computes every unit again. The result reports the store's size and what the run
// reused and computed (RunInfo.Store, the last line of Summary, a note in the sidecars). The
// zero RunStore records nothing: a Go program opts in; the notebooks and make targets use
// $ACTADD_RUNS, by default .cache/runs in the repository (notebooks/README.md).
//
// The units, each computed as one batch of its own (so that nothing else in the run changes its
// rounding; package sweep says why that matters):
//
//   - E1: the log-probs of a batch of sentences (all sampled documents' sentences, sorted by
//     length into batches of BatchSize) unsteered or at one layer: sweep.Score's units;
//   - E2: BatchSize completions of one setting: sweep.Generate's units;
//   - E3: the label ranks of BatchSize probes (in probe order) unsteered or steered, and the
//     ranks of each probe shorter than the steering vector;
//   - E4: the timed passes of one (shape, seed), and one shape's steering-ops timing.
//
// A unit's key (runstore.Key) holds what its result depends on: the model and revision; the
// backend with the numerics of the build and machine (internal/machine.Numerics); the steering
// (prompt pair, coefficient, layer, position); the sampler and seed (E2); a checksum of the
// unit's data (its texts, prompts and labels); and the version of the code that computes it
// (sweep.GenerateCode, sweep.ScoreCode, and conceptNetCode and overheadCode in store.go: bump
// one when a change of that code changes its results). E4's timings also hold the CPU model
// and core counts (internal/machine.CPU): timings are not portable between machines.
package experiments

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/interval"
	"github.com/actadd-go/actadd/plots"
)

// paperLayer is the paper's injection layer for E1 and E3: layer 16 of GPT-2-XL's 48, scaled
// to other depths.
var paperLayer = Layer{At: 16, Of: 48}

// Wedding steering prompts of E1–E3.
const (
	WeddingPlus  = " weddings"
	WeddingMinus = ""
)

// RunInfo says what an experiment ran on and how long it took.
type RunInfo struct {
	// Model is the model's name (gpt2.Model.Name); for the offline stand-in it says "tiny
	// (random-weight stand-in, not GPT-2)". Revision pins its weights.
	Model, Revision string
	// TinyStandIn is true when the model is the random-weight stand-in "tiny", not GPT-2.
	TinyStandIn bool
	Backend     string
	Started     time.Time
	WallSeconds float64
	// RunID names this run; every figure of it carries the id in its sidecar (plots.VerifySet).
	RunID string
	// Store is what the run did with its run store (Config.Runs): nil without one.
	Store *StoreUse `json:",omitempty"`
}

func newRunInfo(m *actadd.Model) RunInfo {
	return RunInfo{Model: m.Name, Revision: m.Revision, TinyStandIn: plots.IsTiny(m.Name), Backend: m.BackendName,
		Started: time.Now().UTC(), RunID: plots.NewRunID()}
}

func (r *RunInfo) finish() { r.WallSeconds = time.Since(r.Started).Seconds() }

// notes are a sidecar's notes, with the run store's note (storeNote) when there is one.
func (r RunInfo) notes(notes ...string) []string {
	if n := r.storeNote(); n != "" {
		notes = append(notes, n)
	}
	return notes
}

// Label is the model and backend as printed in results, e.g. "gpt2-xl on xla:cuda".
func (r RunInfo) Label() string { return plots.ModelLabel(r.Model) + " on " + r.Backend }

// sidecar starts a figure's sidecar with the run's details.
func (r RunInfo) sidecar(experiment, title string, params any, seed uint64, source string) (plots.Sidecar, error) {
	sc, err := plots.NewSidecar(experiment, title, params)
	if err != nil {
		return sc, err
	}
	sc.Model, sc.Revision, sc.Backend = r.Model, r.Revision, r.Backend
	sc.TinyStandIn, sc.RandomWeights = r.TinyStandIn, r.TinyStandIn
	sc.Seed, sc.WallSeconds, sc.DataSource, sc.RunID = seed, r.WallSeconds, source, r.RunID
	return sc, nil
}

// progressTo returns w, or os.Stderr when w is nil.
func progressTo(w io.Writer) io.Writer {
	if w == nil {
		return os.Stderr
	}
	return w
}

// checkModel rejects a nil model.
func checkModel(m *actadd.Model, what string) error {
	if m == nil {
		return fmt.Errorf("experiments: %s: nil model: load one with actadd.Load(\"gpt2-xl\") (or \"tiny\" offline)", what)
	}
	return nil
}

// checkCoeff reports a coefficient no model can apply (one that is not a finite number, or
// beyond float32, the models' precision), naming the field it came from.
func checkCoeff(experiment, field string, c float64) error {
	switch {
	case math.IsNaN(c) || math.IsInf(c, 0):
		return fmt.Errorf("experiments: %s: %s = %v is not a finite number: give finite coefficients (paper: 1)", experiment, field, c)
	case math.Abs(c) > math.MaxFloat32:
		return fmt.Errorf("experiments: %s: %s = %v overflows float32, the model's precision: use |c| ≤ %g", experiment, field, c, math.MaxFloat32)
	}
	return nil
}

// plural formats n with a noun, e.g. "1 document", "3 documents".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// dataTag is the short data-source note of a figure, "data: <tag>" (source when tag is empty).
func dataTag(tag, source string) string {
	switch {
	case tag != "":
		return "data: " + tag
	case source != "":
		return "data: " + source
	}
	return "data: source not recorded"
}

// steering builds the addition plus−minus with coefficient coeff at each layer (resolved for
// the model) and returns the additions, the layers used and the steering vector's length.
func steering(m *actadd.Model, layers Layers, plus, minus string, coeff float64) ([]actadd.Addition, []int, int, error) {
	ls, err := layers.Resolve(m.Layers())
	if err != nil {
		return nil, nil, 0, err
	}
	adds := make([]actadd.Addition, len(ls))
	n := 0
	for i, l := range ls {
		adds[i] = actadd.Pair(plus, minus, coeff).AtLayer(l)
		v, err := m.Vector(adds[i])
		if err != nil {
			return nil, nil, 0, err
		}
		n = v.N
	}
	return adds, ls, n, nil
}

// estimate formats a value with its 95% interval, all rounded alike to the interval's precision
// (interval.Estimate.Numbers), "0.13 [0.03, 0.40]", or "0.125 (n=1, no interval)" where the
// interval is undefined.
func estimate(e interval.Estimate) string {
	if !e.Defined() {
		return fmt.Sprintf("%s (n=%d, no interval)", e.Numbers(), e.N)
	}
	return e.Numbers()
}
