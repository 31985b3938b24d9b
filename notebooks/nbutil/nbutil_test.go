package nbutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/plots"
)

func TestModelAndScale(t *testing.T) {
	t.Setenv(ModelEnv, "")
	t.Setenv(ScaleEnv, "")
	if got := ModelName(""); got != DefaultModel {
		t.Errorf("ModelName() = %q, want %q", got, DefaultModel)
	}
	t.Setenv(ModelEnv, "tiny")
	if got := ModelName(""); got != "tiny" {
		t.Errorf("ModelName with $%s=tiny = %q", ModelEnv, got)
	}
	if got := ModelName("gpt2-xl"); got != "gpt2-xl" {
		t.Errorf("the flag must win over the environment, got %q", got)
	}
	if s, err := Scale(""); s != Paper || err != nil {
		t.Errorf("Scale() = %q, %v; want paper", s, err)
	}
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

func TestFiguresDir(t *testing.T) {
	t.Setenv(FiguresEnv, "")
	dir, err := figuresPath() // the working directory is notebooks/nbutil: the repo root is ../..
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	if dir != filepath.Join(root, "figures") {
		t.Errorf("figuresPath() = %s, want %s/figures", dir, root)
	}
	want := filepath.Join(t.TempDir(), "a", "b")
	t.Setenv(FiguresEnv, want)
	if dir, err := FiguresDir(); err != nil || dir != want {
		t.Errorf("FiguresDir with $%s = %s, %v", FiguresEnv, dir, err)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("FiguresDir did not create the folder: %v", err)
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
