// Package experiments runs the GPT-2 experiments of the ActAdd paper (Turner et al., arXiv
// 2308.10248) as specified in docs/actadd-protocol.md, one file each:
//
//   - E1 Perplexity: how steering with " weddings" changes the perplexity of OpenWebText
//     documents, binned by their wedding-word frequency (perplexity.go);
//   - E2 WeddingSweep: wedding words in steered completions vs injection layer (wedding.go);
//   - E3 ConceptNet: LAMA ConceptNet P@K with and without steering (conceptnet.go);
//   - E4 Overhead: the inference-time premium of steering vs model size (overhead.go).
//
// Each experiment has a config with the paper's values (PaperX) and a CPU-sized one (QuickX),
// also picked by a scale name (XAt("paper"/"quick")) or from a notebook's flags (XFlags, which
// override single values of the scale's config; scale.go); a function returning a plain
// result struct (numbers, model, revision, backend, wall time) with a Summary method (the
// result as a text table); and a Figures method that renders the paper's plot with a sidecar
// (package plots). OpenWebTextSample and LAMAProbes find the data (data.go). A notebook cell
// runs one experiment like this:
//
//	m, err := actadd.Load("gpt2-xl") // or "tiny", the random stand-in, offline
//	owt, err := experiments.OpenWebTextSample(nil)
//	cfg := experiments.PaperPerplexity() // or QuickPerplexity() on a CPU
//	res, err := experiments.Perplexity(m, owt.Docs, owt.Config(cfg)) // records the data source
//	fmt.Print(res.Summary())
//	figs, err := res.Figures()
//	paths, err := plots.SaveAll("figures", figs...)
//
// # Layers
//
// The paper steers E1 and E3 at layer 16 of GPT-2-XL's 48. A config Layer of ScaledLayer (-1,
// the Paper and Quick default) means that layer scaled to the model's depth,
// round(16·n_layer/48): 16 for gpt2-xl, 12 for gpt2-large, 8 for gpt2-medium, 4 for gpt2, 1 for
// the 4-layer tiny stand-in. Results record the layer actually used, and figures print it.
//
// Long work prints progress lines to the config's Progress writer (os.Stderr when nil; use
// io.Discard for silence). Randomness comes from the configured seeds only: the same model,
// data and config give the same numbers.
package experiments

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/plots"
)

// ScaledLayer is the config Layer value that selects the paper's layer scaled to the model's
// depth (see ResolveLayer).
const ScaledLayer = -1

// The paper's injection layer for E1 and E3, on GPT-2-XL's PaperDepth layers.
const (
	PaperLayer = 16
	PaperDepth = 48
)

// Wedding steering prompts of E1–E3.
const (
	WeddingPlus  = " weddings"
	WeddingMinus = ""
)

// ResolveLayer returns the layer to steer on a model of nLayer layers: layer itself when it is
// in 0..nLayer-1, or for ScaledLayer the paper's layer scaled to the depth,
// round(PaperLayer·nLayer/PaperDepth).
func ResolveLayer(layer, nLayer int) (int, error) {
	if layer == ScaledLayer {
		return min(nLayer-1, int(math.Round(float64(PaperLayer*nLayer)/PaperDepth))), nil
	}
	if layer < 0 || layer >= nLayer {
		return 0, fmt.Errorf("experiments: layer %d is out of range for a model with %d layers: use 0..%d, or %d for the paper's layer %d/%d scaled to the model",
			layer, nLayer, nLayer-1, ScaledLayer, PaperLayer, PaperDepth)
	}
	return layer, nil
}

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
}

func newRunInfo(m *actadd.Model) RunInfo {
	return RunInfo{Model: m.Name, Revision: m.Revision, TinyStandIn: plots.IsTiny(m.Name), Backend: m.BackendName, Started: time.Now().UTC()}
}

func (r *RunInfo) finish() { r.WallSeconds = time.Since(r.Started).Seconds() }

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
	sc.Seed, sc.WallSeconds, sc.DataSource = seed, r.WallSeconds, source
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

// steering builds the addition plus−minus with coefficient coeff at layer (ScaledLayer scales
// the paper's layer to the model's depth) and its vector; it returns the layer actually used.
func steering(m *actadd.Model, layer int, plus, minus string, coeff float64) (actadd.Addition, *actadd.Vector, int, error) {
	l, err := ResolveLayer(layer, m.Config.NLayer)
	if err != nil {
		return actadd.Addition{}, nil, 0, err
	}
	add := actadd.Pair(plus, minus, coeff).AtLayer(l)
	vec, err := m.Vector(add)
	return add, vec, l, err
}
