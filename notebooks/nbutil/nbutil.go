// Package nbutil is the plumbing the notebooks share, so that their cells show the ActAdd
// library calls and little else: which model and scale to use (flags, then $ACTADD_MODEL and
// $ACTADD_SCALE), where figures go ($ACTADD_FIGURES, else figures/ at the repository root),
// failing a cell with a clean message instead of a stack trace, and showing results inline
// through GoNB's gonbui (outside a notebook, as text): tables such as actadd.Comparison (Show)
// and figures, saved and verified as sets before they are shown (ShowFigures, ShowSaved).
package nbutil

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/plots"
	"github.com/janpfeifer/gonb/gonbui"
)

// Environment variables the notebooks read (the Makefile's `notebooks` targets set them).
const (
	ModelEnv   = "ACTADD_MODEL"   // model name; default DefaultModel
	ScaleEnv   = "ACTADD_SCALE"   // "paper" (default) or "quick"
	FiguresEnv = "ACTADD_FIGURES" // folder for exported figures; default <repo>/figures
)

// DefaultModel is the model the notebooks use when neither a flag nor $ACTADD_MODEL names one.
const DefaultModel = "gpt2"

// Scales of an experiment: the paper's sizes, or a quick run for CI and first looks (the
// experiments package's ScalePaper and ScaleQuick; experiments.PerplexityAt etc. pick a config
// by scale).
const (
	Paper = experiments.ScalePaper
	Quick = experiments.ScaleQuick
)

// ModelName returns flagValue if set, else $ACTADD_MODEL, else DefaultModel.
func ModelName(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv(ModelEnv); v != "" {
		return v
	}
	return DefaultModel
}

// Scale returns flagValue if set, else $ACTADD_SCALE, else Paper; anything but Paper or Quick is
// an error.
func Scale(flagValue string) (string, error) {
	s := flagValue
	if s == "" {
		s = os.Getenv(ScaleEnv)
	}
	if s == "" {
		s = Paper
	}
	if s != Paper && s != Quick {
		return "", fmt.Errorf("unknown scale %q (from --scale or $%s): use %q or %q", s, ScaleEnv, Paper, Quick)
	}
	return s, nil
}

// FiguresDir returns the folder figures are exported to, creating it: $ACTADD_FIGURES, else
// figures/ in the repository root (the nearest folder at or above the working directory, the
// notebook's folder under GoNB, that holds a go.mod).
func FiguresDir() (string, error) {
	dir, err := figuresPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating the figures folder: %w (set $%s to a writable folder)", err, FiguresEnv)
	}
	return dir, nil
}

func figuresPath() (string, error) {
	if dir := os.Getenv(FiguresEnv); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "figures"), nil
}

// RepoRoot returns the nearest folder at or above the working directory that holds a go.mod.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod at or above %s: run the notebook from the repository's notebooks/ folder, or set $%s", wd, FiguresEnv)
		}
	}
}

// exit is os.Exit, replaced in tests.
var exit = os.Exit

// Check fails the cell when err is not nil: it prints "error: <err>" on stderr and exits with
// status 1, which GoNB reports as a failed cell (and `make notebooks` as a failed notebook),
// without a Go stack trace.
func Check(err error) {
	if err == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "error: %v\n", err)
	exit(1)
}

// IsTiny reports whether m is the random-weight stand-in model.
func IsTiny(m *actadd.Model) bool { return plots.IsTiny(m.Name) }

// TinyNote is printed with every result of the tiny model.
const TinyNote = "NOTE: this is the tiny model, a random-weight stand-in that is NOT GPT-2. Its text is random " +
	"gibberish and its curves are noise: they only show that the pipeline runs. Use ACTADD_MODEL=gpt2 (or larger) for real results."

// LoadModel loads model name (see actadd.Load), prints its label, and with the tiny model says
// plainly that its outputs mean nothing.
func LoadModel(name string) (*actadd.Model, error) {
	m, err := actadd.Load(name)
	if err != nil {
		return nil, err
	}
	fmt.Printf("model: %s (%d layers, width %d)\n", m.Label(), m.Config.NLayer, m.Config.NEmbd)
	if IsTiny(m) {
		fmt.Println(TinyNote)
	}
	return m, nil
}

// Table is what Show displays: an HTML form for a notebook and a text form elsewhere, such as
// *actadd.Comparison (steered and unsteered completions side by side).
type Table interface {
	HTML() string
	String() string
}

// Show displays t inline in a notebook (as HTML), or prints it as text outside one.
func Show(t Table) {
	if gonbui.IsNotebook {
		gonbui.DisplayHtml(t.HTML())
		return
	}
	fmt.Print(t.String())
}

// ShowHTML displays html inline in a notebook; outside one it does nothing.
func ShowHTML(h string) {
	if gonbui.IsNotebook {
		gonbui.DisplayHtml(h)
	}
}

// Sync waits until everything displayed has reached the notebook; defer it in display cells.
func Sync() { gonbui.Sync() }

// errNoFigures is returned by ShowFigures for an empty list.
var errNoFigures = errors.New("the experiment produced no figures")

// ShowFigures saves every figure (PNG, SVG, PDF and the JSON sidecar, see plots.Figure.Save)
// into dir, the folder FiguresDir gave before the experiment ran, and displays it from there
// (ShowSaved): what the notebook shows is what the folder holds, a verified set. Outside a
// notebook it saves, verifies and prints where each figure went.
func ShowFigures(dir string, figs []*plots.Figure) error {
	if len(figs) == 0 {
		return errNoFigures
	}
	for _, f := range figs {
		if _, err := f.Save(dir); err != nil {
			return err
		}
		if err := ShowSaved(dir, f.Name); err != nil {
			return err
		}
	}
	return nil
}

// ShowSaved displays the figures named in dir after checking that each one's files belong
// together (plots.VerifySet: the PNG, SVG and PDF are those its sidecar records). A set mixed
// from different runs, or left incomplete by an interrupted save, is an error that names the
// files; nothing of it is shown. It prints each figure's title and files.
func ShowSaved(dir string, names ...string) error {
	for _, name := range names {
		sc, err := plots.VerifySet(dir, name)
		if err != nil {
			return err
		}
		if gonbui.IsNotebook {
			data, err := os.ReadFile(filepath.Join(dir, name+".png"))
			if err != nil {
				return err
			}
			gonbui.DisplayPng(data)
		}
		files := slices.Sorted(maps.Keys(sc.Files))
		fmt.Printf("figure %q (run %s): %s and %s.json in %s\n", sc.Title, sc.RunID, strings.Join(files, ", "), name, dir)
	}
	return nil
}

// Figurer is an experiment result that renders its figures (every experiments.XResult).
type Figurer interface {
	Figures() ([]*plots.Figure, error)
}

// ShowFiguresOf renders r's figures and shows them (ShowFigures); an error of Figures (e.g.
// E1 with no bin to plot, which says what to change) is returned as it is.
func ShowFiguresOf(dir string, r Figurer) error {
	figs, err := r.Figures()
	if err != nil {
		return err
	}
	return ShowFigures(dir, figs)
}
