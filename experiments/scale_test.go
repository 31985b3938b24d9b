package experiments_test

import (
	"bytes"
	"flag"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/experiments"
)

func TestConfigAtScale(t *testing.T) {
	paper, err1 := experiments.WeddingAt(experiments.ScalePaper)
	quickCfg, err2 := experiments.WeddingAt(experiments.ScaleQuick)
	if err1 != nil || err2 != nil || paper.Completions != 200 || quickCfg.Completions >= paper.Completions {
		t.Errorf("E2 at paper and quick scale: %+v, %+v (%v, %v)", paper, quickCfg, err1, err2)
	}
	for _, bad := range []string{"", "huge", "Paper"} {
		if _, err := experiments.OverheadAt(bad); err == nil || !strings.Contains(err.Error(), "unknown scale") {
			t.Errorf("OverheadAt(%q): error %v", bad, err)
		}
	}
}

// parse registers an experiment's flags on a fresh flag set and parses args.
func parse[C any](t *testing.T, register func(*flag.FlagSet) *experiments.Flags[C], args ...string) (*experiments.Flags[C], *flag.FlagSet) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(&bytes.Buffer{})
	f := register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return f, fs
}

// Flags change single values of the scale's config; flags not given keep the scale's values.
func TestFlags(t *testing.T) {
	t.Setenv(experiments.EnvScale, "")
	f, _ := parse(t, experiments.WeddingFlags)
	cfg, err := f.Config()
	if want, _ := experiments.WeddingAt(experiments.ScalePaper); err != nil || !reflect.DeepEqual(cfg, want) {
		t.Errorf("no flags: %+v, %v; want the paper's config", cfg, err)
	}
	t.Setenv(experiments.EnvScale, experiments.ScaleQuick)
	f, _ = parse(t, experiments.WeddingFlags, "--layers= 0, 16/48 ,", "--coeffs=1,4", "--seed=3", "--tokens=5")
	cfg, err = f.Config()
	want := quick(t, experiments.WeddingAt)
	want.Layers, want.Coeffs, want.Sampling.Seed, want.NewTokens = experiments.Layers{{At: 0}, {At: 16, Of: 48}}, []float64{1, 4}, 3, 5
	if err != nil || !reflect.DeepEqual(cfg, want) {
		t.Errorf("overrides at $%s=quick:\n%+v, %v\nwant\n%+v", experiments.EnvScale, cfg, err, want)
	}
	// Every layer is said as "all" (experiments.AllLayers, the paper's E2); an empty --layers
	// names no layer, as a nil list never means all layers (nor does a nil sweep.Grid.Layers).
	f, _ = parse(t, experiments.WeddingFlags, "--layers=all")
	if cfg, err := f.Config(); err != nil || !reflect.DeepEqual(cfg.Layers, experiments.AllLayers) {
		t.Errorf("--layers=all: %v, %v; want experiments.AllLayers", cfg.Layers, err)
	}
	if paper, _ := experiments.WeddingAt(experiments.ScalePaper); !reflect.DeepEqual(paper.Layers, experiments.AllLayers) {
		t.Errorf("E2 at the paper's scale sweeps layers %v, want all", paper.Layers)
	}
	f, _ = parse(t, experiments.WeddingFlags, "--layers=")
	if _, err := f.Config(); err == nil || !strings.Contains(err.Error(), "--layers=all") {
		t.Errorf("--layers=: %v; want an error saying how to ask for every layer", err)
	}

	e1, _ := parse(t, experiments.PerplexityFlags, "--scale=paper", "--layers=4,16/48", "--min_bin_docs=0", "--docs=50")
	c1, err := e1.Config()
	if err != nil || c1.Docs != 50 || c1.MinBinDocs != 0 || !reflect.DeepEqual(c1.Layers, experiments.Layers{{At: 4}, {At: 16, Of: 48}}) {
		t.Errorf("E1 flags: %+v, %v", c1, err)
	}
	e3, _ := parse(t, experiments.ConceptNetFlags, "--layer=2", "--max_items=0")
	if c3, err := e3.Config(); err != nil || c3.Layer != (experiments.Layer{At: 2}) || c3.MaxItems != 0 {
		t.Errorf("E3 flags: %+v, %v", c3, err)
	}
	e4, _ := parse(t, experiments.OverheadFlags, "--shapes= gpt2, gpt2-xl ,", "--seeds=3", "--layer=1/2")
	if c4, err := e4.Config(); err != nil || !reflect.DeepEqual(c4.Shapes, []string{"gpt2", "gpt2-xl"}) || c4.Seeds != 3 {
		t.Errorf("E4 flags: %+v, %v", c4, err)
	}

	// Bad values fail in Config, before any model is loaded, naming the flag or the field.
	for name, c := range map[string]struct {
		err  func() error
		want string
	}{
		"not a number": {func() error {
			f, _ := parse(t, experiments.WeddingFlags, "--completions=x")
			_, err := f.Config()
			return err
		}, "--completions"},
		"no completion": {func() error {
			f, _ := parse(t, experiments.WeddingFlags, "--completions=0")
			_, err := f.Config()
			return err
		}, "Completions"},
		"no layer": {func() error {
			f, _ := parse(t, experiments.WeddingFlags, "--layers=,")
			_, err := f.Config()
			return err
		}, "names no layer"},
		"bad layer": {func() error {
			f, _ := parse(t, experiments.PerplexityFlags, "--layers=48/16")
			_, err := f.Config()
			return err
		}, "--layers"},
		"bad shape": {func() error {
			f, _ := parse(t, experiments.OverheadFlags, "--shapes=gpt2,gpt3")
			_, err := f.Config()
			return err
		}, "gpt3"},
		"bad scale": {func() error {
			f, _ := parse(t, experiments.ConceptNetFlags, "--scale=huge")
			_, err := f.Config()
			return err
		}, "unknown scale"},
		"negative docs": {func() error {
			f, _ := parse(t, experiments.PerplexityFlags, "--docs=-1")
			_, err := f.Config()
			return err
		}, "Docs"},
	} {
		if err := c.err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
	// Non-finite and out-of-range values fail in Config too, where the flags are checked (a NaN
	// coefficient used to reach the run store and fail there: "json: unsupported value: NaN").
	wed := func(args ...string) error {
		f, _ := parse(t, experiments.WeddingFlags, args...)
		_, err := f.Config()
		return err
	}
	ppl := func(args ...string) error {
		f, _ := parse(t, experiments.PerplexityFlags, args...)
		_, err := f.Config()
		return err
	}
	cn := func(args ...string) error {
		f, _ := parse(t, experiments.ConceptNetFlags, args...)
		_, err := f.Config()
		return err
	}
	ov := func(args ...string) error {
		f, _ := parse(t, experiments.OverheadFlags, args...)
		_, err := f.Config()
		return err
	}
	for _, c := range []struct {
		name string
		err  error
		want []string
	}{
		{"NaN coefficient", wed("--coeffs=1,NaN"), []string{"--coeffs", "not a finite number"}},
		{"+Inf coefficient", wed("--coeffs=inf"), []string{"--coeffs", "not a finite number"}},
		{"−Inf coefficient, E1", ppl("--coeff=-Infinity"), []string{"--coeff", "not a finite number"}},
		{"NaN coefficient, E3", cn("--coeff=nan"), []string{"--coeff", "not a finite number"}},
		{"coefficient beyond float32", wed("--coeffs=1e39"), []string{"Coeffs[0]", "overflows float32"}},
		{"coefficient beyond float32, E3", cn("--coeff=-4e38"), []string{"Coeff", "overflows float32"}},
		{"coefficient beyond float64", wed("--coeffs=1e999"), []string{"--coeffs", "not a finite number"}},
		{"negative layer", wed("--layers=0,-1"), []string{"--layers", "-1"}},
		{"layer beyond int", wed("--layers=99999999999999999999"), []string{"--layers"}},
		{"scaled layer beyond its model", ppl("--layers=48/48"), []string{"--layers", "48/48"}},
		{"no new tokens", wed("--tokens=0"), []string{"NewTokens"}},
		{"new tokens not whole", wed("--tokens=1e3"), []string{"--tokens", "not a whole number"}},
		{"negative completions", wed("--completions=-5"), []string{"Completions"}},
		{"more completions than memory holds", wed("--completions=1099511627776"), []string{"Completions", "in memory"}},
		{"negative seed", wed("--seed=-1"), []string{"--seed", "≥ 0"}},
		{"negative documents", ppl("--docs=-3"), []string{"Docs"}},
		{"negative probes", cn("--max_items=-1"), []string{"MaxItems"}},
		{"no layer", wed("--layers="), []string{"--layers=all"}},
		{"all and another layer", wed("--layers=all,3"), []string{"--layers", "alone"}},
		{"all for one layer, E3", cn("--layer=all"), []string{"E3", "one layer"}},
		{"all for one layer, E4", ov("--layer=all"), []string{"E4", "one layer"}},
		{"no rows per pass, E4", ov("--batch=0"), []string{"Batch (0)"}},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(c.err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, c.err, w)
			}
		}
	}
	// Sampling settings that E2 would only refuse in its first unit fail in Config.
	for name, s := range map[string]actadd.Sampling{
		"NaN temperature": {Temperature: math.NaN()}, "negative temperature": {Temperature: -1},
		"NaN top-p": {Temperature: 1, TopP: math.NaN()}, "top-p 2": {Temperature: 1, TopP: 2},
		"+Inf frequency penalty": {Temperature: 1, FreqPenalty: math.Inf(1)},
	} {
		cfg := quick(t, experiments.WeddingAt)
		cfg.Sampling = s
		if err := experiments.CheckConfig(&cfg); err == nil || !strings.Contains(err.Error(), "E2") {
			t.Errorf("%s: check: %v", name, err)
		}
	}
}

// A flag's help gives its value at both scales.
func TestFlagsHelp(t *testing.T) {
	_, fs := parse(t, experiments.WeddingFlags)
	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	for _, want := range []string{"-completions", "(paper: 200; quick: 8)", "-layers", "(paper: all; quick: all)", "-scale"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, help.String())
		}
	}
}

func TestLayers(t *testing.T) {
	for _, c := range []struct {
		l            experiments.Layer
		nLayer, want int
	}{
		{experiments.Layer{At: 16, Of: 48}, 48, 16}, {experiments.Layer{At: 16, Of: 48}, 12, 4}, {experiments.Layer{At: 16, Of: 48}, 4, 1},
		{experiments.Layer{At: 16, Of: 48}, 1, 0}, {experiments.Layer{At: 1, Of: 2}, 12, 6}, {experiments.Layer{At: 1, Of: 2}, 5, 2},
		{experiments.Layer{At: 3}, 4, 3},
		// At·n_layer overflows int64 unless the product is taken in 128 bits.
		{experiments.Layer{At: 1 << 62, Of: 1<<62 + 1}, 48, 47}, {experiments.Layer{At: math.MaxInt64 - 1, Of: math.MaxInt64}, 1 << 40, 1<<40 - 1},
	} {
		if got, err := c.l.Resolve(c.nLayer); err != nil || got != c.want {
			t.Errorf("%s of %d layers = %d, %v; want %d", c.l, c.nLayer, got, err, c.want)
		}
	}
	if _, err := (experiments.Layer{At: 4}).Resolve(4); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("layer 4 of 4: %v", err)
	}
	for in, want := range map[string]experiments.Layers{"": nil, "  ": nil, "3": {{At: 3}}, "0,6, 16/48 ": {{At: 0}, {At: 6}, {At: 16, Of: 48}}, "1,,2,": {{At: 1}, {At: 2}}} {
		got, err := experiments.ParseLayers(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseLayers(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	for _, bad := range []string{",", " , ", "x", "1,-2", "1.5", "48/16", "3/0", "/4", "all,2", "1/all"} {
		if got, err := experiments.ParseLayers(bad); err == nil {
			t.Errorf("ParseLayers(%q) = %v, want an error", bad, got)
		}
	}
	if all, err := experiments.AllLayers.Resolve(3); err != nil || !reflect.DeepEqual(all, []int{0, 1, 2}) {
		t.Errorf("all layers of a 3-layer model: %v, %v", all, err)
	}
	if got, err := experiments.Layers(nil).Resolve(3); err == nil || !strings.Contains(err.Error(), "AllLayers") {
		t.Errorf("nil layers of a 3-layer model: %v, %v; want an error naming AllLayers", got, err)
	}
	if got, err := experiments.ParseLayers(" all "); err != nil || !reflect.DeepEqual(got, experiments.AllLayers) || got.String() != "all" {
		t.Errorf("ParseLayers(\"all\") = %v, %v", got, err)
	}
	if b, _ := (experiments.Layers{{At: 16, Of: 48}, {At: 2}}).MarshalText(); string(b) != "16/48,2" {
		t.Errorf("layers as text: %q", b)
	}
}
