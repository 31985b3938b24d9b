package nbutil

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/plots"
)

func TestModelAndScale(t *testing.T) {
	t.Setenv(ModelEnv, "")
	t.Setenv(ScaleEnv, "")
	if got := ModelName(""); got != DefaultModel {
		t.Errorf("ModelName() = %q, want %q", got, DefaultModel)
	}
	if s, _, err := ScaleFor(ModelName(""), ""); s != Paper || err != nil {
		t.Errorf("ScaleFor() = %q, %v; want paper", s, err)
	}
	t.Setenv(ModelEnv, "tiny")
	if got := ModelName(""); got != "tiny" {
		t.Errorf("ModelName with $%s=tiny = %q", ModelEnv, got)
	}
	if got := ModelName("gpt2-xl"); got != "gpt2-xl" {
		t.Errorf("the flag must win over the environment, got %q", got)
	}
	t.Setenv(ScaleEnv, "quick")
	if s, _, err := ScaleFor("gpt2", ""); s != Quick || err != nil {
		t.Errorf("ScaleFor with $%s=quick = %q, %v", ScaleEnv, s, err)
	}
	if s, _, err := ScaleFor("gpt2", "paper"); s != Paper || err != nil {
		t.Errorf("the flag must win: %q, %v", s, err)
	}
	if _, _, err := ScaleFor("gpt2", "huge"); err == nil {
		t.Error("ScaleFor(huge) gave no error")
	}
}

// configFlags are E2's flags on a fresh flag set, parsed from args.
func configFlags(t *testing.T, args ...string) *experiments.Flags[experiments.WeddingConfig] {
	t.Helper()
	fs := flag.NewFlagSet("cell", flag.ContinueOnError)
	f := experiments.WeddingFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

// Config applies the cell's flags at the scale ScaleFor picks: the tiny stand-in at paper
// scale gets the quick config, any other model the one asked for.
func TestConfigScale(t *testing.T) {
	quick, _ := experiments.WeddingAt(Quick)
	paper, _ := experiments.WeddingAt(Paper)
	for _, c := range []struct {
		model string
		args  []string
		want  experiments.WeddingConfig
	}{
		{"tiny", nil, quick}, {"tiny", []string{"--scale=paper"}, quick}, {"gpt2", nil, paper}, {"gpt2", []string{"--scale=quick"}, quick},
	} {
		t.Setenv(ModelEnv, c.model)
		t.Setenv(ScaleEnv, "")
		cfg, err := Config(configFlags(t, c.args...))
		if err != nil || cfg.Completions != c.want.Completions || cfg.NewTokens != c.want.NewTokens {
			t.Errorf("Config for %s %v: %d completions × %d tokens, %v; want %d × %d", c.model, c.args, cfg.Completions, cfg.NewTokens, err, c.want.Completions, c.want.NewTokens)
		}
	}
	t.Setenv(ModelEnv, "gpt2")
	if _, err := Config(configFlags(t, "--scale=huge")); err == nil {
		t.Error("Config with --scale=huge gave no error")
	}
}

// Config records the units of work in the run store $ACTADD_RUNS names (default .cache/runs at
// the repository root, none with "off"), and --fresh asks for every unit again.
func TestConfigRuns(t *testing.T) {
	t.Setenv(ModelEnv, "gpt2")
	root, _ := filepath.Abs("../..") // the working directory is notebooks/nbutil
	other := t.TempDir()
	for _, c := range []struct {
		env  string
		args []string
		want experiments.RunStore
	}{
		{"", nil, experiments.RunStore{Dir: filepath.Join(root, ".cache", "runs")}},
		{other, []string{"--fresh"}, experiments.RunStore{Dir: other, Fresh: true}},
		{other, []string{"--fresh=false"}, experiments.RunStore{Dir: other}},
		{"off", nil, experiments.RunStore{}},
	} {
		t.Setenv(RunsEnv, c.env)
		cfg, err := Config(configFlags(t, c.args...))
		if err != nil || cfg.Runs != c.want {
			t.Errorf("$%s=%q %v: run store %+v, %v; want %+v", RunsEnv, c.env, c.args, cfg.Runs, err, c.want)
		}
	}
}

// The tiny stand-in never runs the paper's sizes: it switches to quick, with a loud note.
func TestScaleForTiny(t *testing.T) {
	t.Setenv(ScaleEnv, "")
	for _, c := range []struct{ model, flag, want string }{
		{"tiny", "", Quick}, {"tiny", Paper, Quick}, {"tiny", Quick, Quick},
		{"gpt2", "", Paper}, {"gpt2-xl", Quick, Quick}, {"gpt2", Paper, Paper},
	} {
		s, note, err := ScaleFor(c.model, c.flag)
		switchedNote := strings.Contains(note, `running "quick" instead`) && strings.Contains(note, "ACTADD_MODEL=gpt2")
		if err != nil || s != c.want || switchedNote != (c.model == "tiny" && c.flag != Quick) {
			t.Errorf("ScaleFor(%q, %q) = %q, %q, %v; want %q", c.model, c.flag, s, note, err, c.want)
		}
	}
}

func TestFiguresDir(t *testing.T) {
	t.Setenv(FiguresEnv, "")
	root, _ := filepath.Abs("../..") // the working directory is notebooks/nbutil
	for model, want := range map[string]string{
		"gpt2": filepath.Join(root, "figures"),
		"tiny": filepath.Join(root, "figures", StandInFigures),
	} {
		if dir, err := figuresPath(model); err != nil || dir != want {
			t.Errorf("figures of %q go to %s, %v; want %s", model, dir, err, want)
		}
	}
	want := filepath.Join(t.TempDir(), "a", "b")
	t.Setenv(FiguresEnv, want)
	if dir, err := FiguresDirFor("tiny"); err != nil || dir != want {
		t.Errorf("FiguresDirFor with $%s = %s, %v", FiguresEnv, dir, err)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("FiguresDir did not create the folder: %v", err)
	}
	if entries, _ := os.ReadDir(want); len(entries) != 0 {
		t.Errorf("the write check left %v", entries)
	}
	// Not a folder, or not writable: an error naming the folder and the variable, before any
	// work.
	file := filepath.Join(t.TempDir(), "figures.png")
	os.WriteFile(file, nil, 0o644)
	readOnly := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(readOnly, 0o555)
	bad := map[string]string{file: "not a directory", filepath.Join(file, "sub"): "not a directory"}
	if os.Geteuid() != 0 { // root writes anywhere
		bad[readOnly] = "permission denied"
	}
	for dir, msg := range bad {
		t.Setenv(FiguresEnv, dir)
		if _, err := FiguresDir(); err == nil || !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), FiguresEnv) {
			t.Errorf("FiguresDir with $%s=%s: %v, want %q", FiguresEnv, dir, err, msg)
		}
	}
}

func TestCheck(t *testing.T) {
	code := -1
	exit = func(c int) { code = c }
	defer func() { exit = os.Exit }()
	Check(nil)
	if code != -1 {
		t.Fatal("Check(nil) exited")
	}
	Check(os.ErrNotExist)
	if code != 1 {
		t.Errorf("Check(err) exit code %d, want 1", code)
	}
}

type table struct{}

func (table) HTML() string   { return "<table></table>" }
func (table) String() string { return "a table\n" }

func TestShowPrintsOutsideANotebook(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	Show(table{})
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if string(out) != "a table\n" {
		t.Errorf("Show printed %q, want the text form", out)
	}
}

type figurer struct {
	figs []*plots.Figure
	err  error
}

func (f figurer) Figures() ([]*plots.Figure, error) { return f.figs, f.err }

func TestShowFiguresOf(t *testing.T) {
	boom := errors.New("no bin has more than 1000 documents")
	if err := ShowFiguresOf(t.TempDir(), figurer{err: boom}); !errors.Is(err, boom) {
		t.Errorf("ShowFiguresOf returned %v, want the Figures error", err)
	}
	if err := ShowFiguresOf(t.TempDir(), figurer{}); !errors.Is(err, errNoFigures) {
		t.Errorf("ShowFiguresOf with no figures: %v", err)
	}
	p := plots.NewPlot("t", "x", "y")
	if err := plots.AddLine(p, plots.Series{Name: "s", X: []float64{1, 2}, Y: []float64{1, 2}}, 0); err != nil {
		t.Fatal(err)
	}
	sc, err := plots.NewSidecar("E0", "t", struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := plots.NewFigure("e0-show", p, sc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ShowFiguresOf(dir, figurer{figs: []*plots.Figure{f}}); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".png", ".svg", ".pdf", ".json"} {
		if _, err := os.Stat(filepath.Join(dir, "e0-show"+ext)); err != nil {
			t.Errorf("figure not saved: %v", err)
		}
	}
	// A set whose files do not belong together is reported, not shown.
	if err := ShowSaved(dir, "e0-show"); err != nil {
		t.Errorf("a verified set: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "e0-show.png"), []byte("another run's image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ShowSaved(dir, "e0-show"); err == nil || !strings.Contains(err.Error(), "e0-show.png is not the file the sidecar records") {
		t.Errorf("a mismatched set: error %v", err)
	}
}
