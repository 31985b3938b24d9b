package experiments_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/datasets"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/interval"
	"github.com/actadd-go/actadd/sweep"
)

func TestWeddingSweep(t *testing.T) {
	m := tinyModel(t)
	cfg := quick(t, experiments.WeddingAt)
	cfg.Completions, cfg.NewTokens, cfg.Examples, cfg.Progress = 3, 6, 2, quiet
	builds := m.Builds()
	res, err := experiments.WeddingSweep(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// One batched job: the vectors (one pass for all layers), one prefill, one step program.
	if n := m.Builds() - builds; n > 3 {
		t.Errorf("the sweep built %d graphs, want at most 3", n)
	}
	if b := res.Baseline(); b.Steered || b.Layer != -1 {
		t.Errorf("baseline setting = %+v", b.Setting)
	}
	steered := res.Sweep.Steered()
	if len(steered) != 4 || !reflect.DeepEqual(res.Layers, []int{0, 1, 2, 3}) {
		t.Fatalf("swept %d settings (layers %v), want all 4 layers", len(steered), res.Layers)
	}
	for i, s := range append([]sweep.SettingResult{res.Baseline()}, steered...) {
		if i > 0 && (s.Layer != i-1 || !s.Steered || s.Coeff != 1) {
			t.Errorf("setting %d is %s", i, s.Setting)
		}
		counts := s.Values[experiments.WeddingWords]
		if len(counts) != 3 || len(s.Completions) != 3 {
			t.Fatalf("%s: %d counts, %d completions; want 3", s.Setting, len(counts), len(s.Completions))
		}
		sum, hits := 0.0, 0
		for j, c := range counts {
			if n := datasets.WeddingCount(s.Completions[j].Text); float64(n) != c {
				t.Errorf("%s completion %d: count %g, but the text %q has %d", s.Setting, j, c, s.Completions[j].Text, n)
			}
			sum += c
			if c > 0 {
				hits++
			}
		}
		mean, success := s.Stats[experiments.WeddingWords], s.Stats[experiments.WeddingSuccess]
		if math.Abs(mean.Value-sum/3) > 1e-12 || mean.Method != interval.Poisson || mean.Lo < 0 || success.Value != float64(hits)/3 || success.Method != interval.Wilson ||
			!(success.Lo <= success.Value && success.Value <= success.Hi) || success.Hi > 1 || success.Lo < 0 {
			t.Errorf("%s: mean %+v, success %+v from counts %v", s.Setting, mean, success, counts)
		}
	}
	// Reproducible from the seed.
	again, err := experiments.WeddingSweep(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Sweep.Settings, res.Sweep.Settings) {
		t.Error("the same config gave different completions")
	}

	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, figs, "E2", true, "e2-wedding-count-vs-layer", "e2-success-vs-layer")
	// The success figure's baseline is the unsteered success fraction, not its mean count, and
	// every point carries its interval.
	sc := figs[1].Sidecar
	if b := sc.Series[1]; b.Name == "" || b.X[0] != -1 || b.Y[0] != res.Baseline().Stats[experiments.WeddingSuccess].Value || len(b.Lo) != 1 {
		t.Errorf("success figure baseline = %+v, want %+v", b, res.Baseline().Stats[experiments.WeddingSuccess])
	}
	if len(sc.Series[0].Lo) != 4 || len(sc.Series[0].N) != 4 || sc.Interval != interval.Wilson || figs[0].Sidecar.Interval != interval.Poisson {
		t.Errorf("series %+v, intervals %q and %q", sc.Series[0], figs[0].Sidecar.Interval, sc.Interval)
	}
	if !strings.Contains(sc.XLabel, "Wilson") {
		t.Errorf("the caption does not name the interval: %q", sc.XLabel)
	}
	if figs[0].Sidecar.Seed != cfg.Sampling.Seed || figs[0].Sidecar.SampleSizes["completions_per_setting"] != 3 || figs[0].Sidecar.RunID != res.RunID || res.RunID == "" {
		t.Errorf("sidecar seed %d, sample sizes %v, run %q of %q", figs[0].Sidecar.Seed, figs[0].Sidecar.SampleSizes, figs[0].Sidecar.RunID, res.RunID)
	}
	// The success fraction's axis is about [0, 1.05], not padded beyond.
	if r := sc.YRange; len(r) != 2 || r[0] > 0 || r[0] < -0.03 || r[1] != 1.05 {
		t.Errorf("success axis %v, want about [0, 1.05]", r)
	}

	sum := res.Summary()
	for _, want := range []string{"3 completions × 6 tokens", "unsteered", "layer 3, c=1", "[95% CI]", interval.Wilson,
		fmt.Sprintf("best: layer %d", res.Best().Layer)} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if n := strings.Count(sum, "\n  "+cfg.Prompt); n != 2 {
		t.Errorf("summary shows %d example completions, want 2:\n%s", n, sum)
	}
	paths, err := res.SaveTable(t.TempDir())
	if err != nil || len(paths) != 2 || !strings.HasSuffix(paths[1], "e2-wedding-sweep.parquet") {
		t.Errorf("SaveTable: %v, %v", paths, err)
	}
}

// Completion c of every setting draws from stream c: a layer's result does not depend on the
// other layers of the sweep, and the baseline is the same in every sweep.
func TestWeddingSweepSettingsArePaired(t *testing.T) {
	m := tinyModel(t)
	cfg := quick(t, experiments.WeddingAt)
	cfg.Completions, cfg.NewTokens, cfg.Examples, cfg.Progress = 3, 5, 3, quiet
	cfg.Sampling.TopP = 0.9 // wider nuclei than the paper's 0.3: the random stream matters more
	full, err := experiments.WeddingSweep(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []int{0, 2} {
		cfg.Layers = experiments.Layers{{At: l}}
		one, err := experiments.WeddingSweep(m, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one.Sweep.Steered()[0], full.Sweep.Steered()[l]) {
			t.Errorf("layer %d alone differs from the layer within the full sweep", l)
		}
		if !reflect.DeepEqual(one.Baseline(), full.Baseline()) {
			t.Error("the baseline depends on the layers swept")
		}
	}
	// Within one setting the completions use different streams.
	if c := full.Baseline().Completions; c[0].Text == c[1].Text && c[1].Text == c[2].Text {
		t.Errorf("the baseline's 3 completions are identical: %q", c[0].Text)
	}
}

func TestWeddingSweepLayersAndCoeffs(t *testing.T) {
	m := tinyModel(t)
	cfg := quick(t, experiments.WeddingAt)
	cfg.Completions, cfg.NewTokens, cfg.Progress = 2, 2, quiet
	cfg.Layers, cfg.Coeffs = experiments.Layers{{At: 3}, {At: 16, Of: 48}}, []float64{1, 4}
	res, err := experiments.WeddingSweep(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range res.Sweep.Steered() {
		got = append(got, fmt.Sprintf("%d/%g", s.Layer, s.Coeff))
	}
	if want := []string{"3/1", "3/4", "1/1", "1/4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("settings %v, want %v (16/48 is layer 1 of 4)", got, want)
	}
	figs, err := res.Figures()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(figs[0].Sidecar.Series); n != 3 {
		t.Errorf("%d series, want one per coefficient and the baseline", n)
	}
	for name, bad := range map[string]func(*experiments.WeddingConfig){
		"layer 4 of 4": func(c *experiments.WeddingConfig) { c.Layers = experiments.Layers{{At: 4}} },
		"empty layers": func(c *experiments.WeddingConfig) { c.Layers = experiments.Layers{} },
		"no coeffs":    func(c *experiments.WeddingConfig) { c.Coeffs = nil },
		// nil is no layer, never every layer (that is experiments.AllLayers).
		"nil layers":           func(c *experiments.WeddingConfig) { c.Layers = nil },
		"NaN coefficient":      func(c *experiments.WeddingConfig) { c.Coeffs = []float64{1, math.NaN()} },
		"−Inf coefficient":     func(c *experiments.WeddingConfig) { c.Coeffs = []float64{math.Inf(-1)} },
		"NaN temperature":      func(c *experiments.WeddingConfig) { c.Sampling.Temperature = math.NaN() },
		"top-p above 1":        func(c *experiments.WeddingConfig) { c.Sampling.TopP = 1.5 },
		"no new tokens":        func(c *experiments.WeddingConfig) { c.NewTokens = 0 },
		"more tokens than ctx": func(c *experiments.WeddingConfig) { c.NewTokens = 1 << 40 },
		"no prompt":            func(c *experiments.WeddingConfig) { c.Prompt = "" },
	} {
		c := cfg
		bad(&c)
		if _, err := experiments.WeddingSweep(m, c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
