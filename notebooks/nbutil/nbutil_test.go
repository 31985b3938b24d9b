package nbutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/plots"
)

func TestModelAndScale(t *testing.T) {
	t.Setenv(ModelEnv, "")
	t.Setenv(ScaleEnv, "")
	t.Setenv(FiguresEnv, t.TempDir())
	if got := ModelName(""); got != DefaultModel {
		t.Errorf("ModelName() = %q, want %q", got, DefaultModel)
	}
	if s, err := Scale(""); s != Paper || err != nil {
		t.Errorf("Scale() = %q, %v; want paper", s, err)
	}
	t.Setenv(ModelEnv, "tiny")
	if got := ModelName(""); got != "tiny" {
		t.Errorf("ModelName with $%s=tiny = %q", ModelEnv, got)
	}
	if got := ModelName("gpt2-xl"); got != "gpt2-xl" {
		t.Errorf("the flag must win over the environment, got %q", got)
	}
	t.Setenv(ModelEnv, "gpt2")
	t.Setenv(ScaleEnv, "quick")
	if s, err := Scale(""); s != Quick || err != nil {
		t.Errorf("Scale with $%s=quick = %q, %v", ScaleEnv, s, err)
	}
	if s, err := Scale("paper"); s != Paper || err != nil {
		t.Errorf("the flag must win: %q, %v", s, err)
	}
	if _, err := Scale("huge"); err == nil {
		t.Error("Scale(huge) gave no error")
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
	// Through the environment, as `ACTADD_MODEL=tiny make notebooks` runs the notebooks.
	t.Setenv(ModelEnv, "tiny")
	t.Setenv(ScaleEnv, Paper)
	t.Setenv(FiguresEnv, t.TempDir())
	if s, err := Scale(""); s != Quick || err != nil {
		t.Errorf("Scale() with $%s=tiny and $%s=paper = %q, %v; want quick", ModelEnv, ScaleEnv, s, err)
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
	// work (Scale checks it too).
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
		if _, err := Scale(Quick); err == nil {
			t.Errorf("Scale with $%s=%s gave no error", FiguresEnv, dir)
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

func TestDefaultLayer(t *testing.T) {
	for n, want := range map[int]int{4: 2, 12: 6, 24: 6, 48: 6, 1: 0} {
		if got := DefaultLayer(n); got != want {
			t.Errorf("DefaultLayer(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestSideBySide(t *testing.T) {
	h := SideBySide("cap <1>", "I said", Column{"plain", []string{" a & b", " c"}}, Column{"steered", []string{" <wed>"}})
	for _, want := range []string{"cap &lt;1&gt;", "<th", "plain", "steered", "<b>I said</b> a &amp; b", "<b>I said</b> &lt;wed&gt;", "<b>I said</b></td>"} {
		if !strings.Contains(h, want) {
			t.Errorf("table lacks %q:\n%s", want, h)
		}
	}
	if n := strings.Count(h, "<tr>"); n != 3 {
		t.Errorf("%d rows, want 3 (heading + 2)", n)
	}
}

type figurer struct {
	figs []*plots.Figure
	err  error
}

func (f figurer) Figures() ([]*plots.Figure, error) { return f.figs, f.err }

func TestShowFiguresOf(t *testing.T) {
	boom := errors.New("no bin has more than 1000 documents")
	if err := ShowFiguresOf(figurer{err: boom}); !errors.Is(err, boom) {
		t.Errorf("ShowFiguresOf returned %v, want the Figures error", err)
	}
	if err := ShowFiguresOf(figurer{}); !errors.Is(err, errNoFigures) {
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
	t.Setenv(FiguresEnv, dir)
	if err := ShowFiguresOf(figurer{figs: []*plots.Figure{f}}); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".png", ".svg", ".json"} {
		if _, err := os.Stat(filepath.Join(dir, "e0-show"+ext)); err != nil {
			t.Errorf("figure not saved: %v", err)
		}
	}
}
