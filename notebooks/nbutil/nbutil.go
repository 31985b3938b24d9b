// Package nbutil is the plumbing the notebooks share, so that their cells show the ActAdd
// library calls and little else: which model and scale to use (flags, then $ACTADD_MODEL and
// $ACTADD_SCALE; the tiny stand-in always runs quick), where figures go ($ACTADD_FIGURES, else
// figures/ at the repository root, figures/stand-in/ for the tiny stand-in; checked before any
// work), where the experiments record their units of work so that a re-executed cell resumes
// and grows ($ACTADD_RUNS, else .cache/runs at the repository root; RunsDir), failing a cell with a clean message instead of a stack trace, and showing results
// inline through GoNB's gonbui (outside a notebook, as text): tables such as actadd.Comparison
// (Show) and figures, saved and verified as sets before they are shown (ShowFigures, ShowSaved).
package nbutil

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/internal/repopath"
	"github.com/actadd-go/actadd/plots"
	"github.com/janpfeifer/gonb/gonbui"
)

// Environment variables the notebooks read (the Makefile's `notebooks` targets set them).
const (
	ModelEnv   = "ACTADD_MODEL"   // model name; default DefaultModel
	ScaleEnv   = "ACTADD_SCALE"   // "paper" (default) or "quick"
	FiguresEnv = "ACTADD_FIGURES" // folder for exported figures; default FiguresDirFor's
	RunsEnv    = "ACTADD_RUNS"    // the experiments' run store; default RunsDir's, "off" for none
)

// DefaultRuns is the run store's folder under the repository root when $ACTADD_RUNS is unset
// (git-ignored, as all of .cache/).
const DefaultRuns = ".cache/runs"

// DefaultModel is the model the notebooks use when neither a flag nor $ACTADD_MODEL names one.
const DefaultModel = "gpt2"

// StandInFigures is the folder, under the repository's figures/, that receives the figures of
// the tiny stand-in by default. It is git-ignored: running the notebooks offline changes no
// tracked file, and noise never passes for a committed result.
const StandInFigures = "stand-in"

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

// requestedModel is the model a notebook cell runs: ModelName of the cell's --model flag when
// it defines one, else of $ACTADD_MODEL.
func requestedModel() string {
	if f := flag.Lookup("model"); f != nil {
		return ModelName(f.Value.String())
	}
	return ModelName("")
}

// Config is the config of an experiment cell: f.Config() at the scale ScaleFor picks for the
// cell's model (--scale, else $ACTADD_SCALE, else paper; the tiny stand-in runs quick, and
// ScaleFor's note says so on stderr), recording its units of work in the run store RunsDir
// names (--fresh computes them again). Like f.Config, it fails before any model is loaded.
// Its progress and notes go to Info. In a notebook, interrupting the cell (■) stops the
// experiment at its next unit of work and Check reports where it stopped (InterruptedLine).
func Config[C any](f *experiments.Flags[C]) (C, error) {
	var zero C
	scale, note, err := ScaleFor(requestedModel(), f.Scale())
	if err != nil {
		return zero, err
	}
	if note != "" {
		fmt.Fprintln(Info(), note)
	}
	runs, err := RunsDir()
	if err != nil {
		return zero, err
	}
	f.SetScale(scale)
	f.SetRunsDir(runs)
	cfg, err := f.Config()
	if err != nil {
		return cfg, err
	}
	setField(&cfg, "Progress", Info())
	if inNotebook {
		setField(&cfg, "Context", interruptContext(runs == ""))
	}
	return cfg, nil
}

// RunsDir is the folder of the experiments' run store (experiments.RunStore): $ACTADD_RUNS,
// else DefaultRuns in the repository root; "" (no store: every unit is computed, nothing is
// recorded) when $ACTADD_RUNS is "off".
func RunsDir() (string, error) {
	switch dir := os.Getenv(RunsEnv); dir {
	case "off":
		return "", nil
	case "":
		root, err := RepoRoot()
		if err != nil {
			return "", fmt.Errorf("%w (or set $%s to the run store's folder, or to off)", err, RunsEnv)
		}
		return filepath.Join(root, filepath.FromSlash(DefaultRuns)), nil
	default:
		return dir, nil
	}
}

// ScaleFor returns the scale to run model at: flagValue if set, else $ACTADD_SCALE, else Paper;
// anything but Paper or Quick is an error. The tiny stand-in at paper scale runs at Quick
// instead, and note says so in one loud line: hours of the paper's sample sizes on a
// random-weight model show nothing that minutes do not. This is the one place that rule lives;
// the make targets apply it through `nbcheck model`.
func ScaleFor(model, flagValue string) (scale, note string, err error) {
	s := cmp.Or(flagValue, os.Getenv(ScaleEnv), Paper)
	if s != Paper && s != Quick {
		return "", "", fmt.Errorf("unknown scale %q (from --scale or $%s): use %q or %q", s, ScaleEnv, Paper, Quick)
	}
	if s == Paper && plots.IsTiny(model) {
		return Quick, fmt.Sprintf("NOTE: scale %q asked for the tiny random-weight stand-in: running %q instead (minutes, not hours; the stand-in's numbers are noise at any size). Use a real model, e.g. %s=gpt2, for the paper's sizes.",
			Paper, Quick, ModelEnv), nil
	}
	return s, "", nil
}

// FiguresDir returns the folder the cell's figures go to (FiguresDirFor the cell's model).
func FiguresDir() (string, error) { return FiguresDirFor(requestedModel()) }

// FiguresDirFor returns the folder figures of model are exported to, after making sure it is a
// folder this process can write to (it is created when missing): $ACTADD_FIGURES, else figures/
// in the repository root (the nearest folder at or above the working directory, the notebook's
// folder under GoNB, that holds a go.mod), or figures/stand-in/ there for the tiny stand-in.
func FiguresDirFor(model string) (string, error) {
	dir, err := figuresPath(model)
	if err != nil {
		return "", err
	}
	if err := writableDir(dir); err != nil {
		return "", fmt.Errorf("figures folder %s: %w (set $%s to a writable folder)", dir, err, FiguresEnv)
	}
	return dir, nil
}

// figuresPath is FiguresDirFor without the check.
func figuresPath(model string) (string, error) {
	if dir := os.Getenv(FiguresEnv); dir != "" {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	if plots.IsTiny(model) {
		return filepath.Join(root, "figures", StandInFigures), nil
	}
	return filepath.Join(root, "figures"), nil
}

// writableDir creates dir when missing and checks that it is a folder a file can be written to.
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return errors.New("not a folder")
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// RepoRoot returns the nearest folder at or above the working directory that holds a go.mod.
func RepoRoot() (string, error) {
	root, ok := repopath.Root()
	if !ok {
		wd, _ := os.Getwd()
		return "", fmt.Errorf("no go.mod at or above %s: run the notebook from the repository's notebooks/ folder, or set $%s", wd, FiguresEnv)
	}
	return root, nil
}

// exit is os.Exit, replaced in tests.
var exit = os.Exit

// Check fails the cell when err is not nil: it prints "error: <err>" on stderr and exits with
// status 1, which GoNB reports as a failed cell (and `make notebooks` as a failed notebook),
// without a Go stack trace. An experiment stopped by the cell's interrupt (see Config) is not
// an error: Check prints InterruptedLine and ends the cell.
func Check(err error) {
	if err == nil {
		return
	}
	if wasInterrupted() {
		endInterrupted()
		return
	}
	fmt.Fprintf(os.Stderr, "error: %v\n", err)
	exit(1)
}

// IsTiny reports whether m is the random-weight stand-in model.
func IsTiny(m *actadd.Model) bool { return plots.IsTiny(m.Name) }

// TinyNote is printed with every result of the tiny model.
const TinyNote = "NOTE: this is the tiny model, a random-weight stand-in that is NOT GPT-2. Its text is random " +
	"gibberish and its curves are noise: they only show that the pipeline runs. For real results use GPT-2: ACTADD_MODEL=gpt2 (with ACTADD_SCALE=quick, minutes once downloaded)."

// LoadModel loads model name (see actadd.Load), prints its label, and with the tiny model says
// plainly that its outputs mean nothing.
func LoadModel(name string) (*actadd.Model, error) {
	m, err := actadd.Load(name)
	if errors.Is(err, hfhub.ErrNotCached) {
		return nil, fmt.Errorf("%w\nTo run offline with the random-weight stand-in (NOT GPT-2), in minutes: %s=tiny %s=quick make notebooks (or --model=tiny in this cell)", err, ModelEnv, ScaleEnv)
	}
	if err != nil {
		return nil, err
	}
	fmt.Printf("model: %s (%d layers, width %d)\n", m.Label(), m.Layers(), m.Width())
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
