// Package nbutil is the plumbing the notebooks share, so that their cells show the ActAdd
// library calls and little else: which model and scale to use (flags, then $ACTADD_MODEL and
// $ACTADD_SCALE; the tiny stand-in always runs quick), where figures go ($ACTADD_FIGURES, else
// figures/ at the repository root, figures/stand-in/ for the tiny stand-in; checked before any
// work), failing a cell with a clean message instead of a stack trace, and showing results
// inline through GoNB's gonbui (outside a notebook, as text).
package nbutil

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/checkpoint"
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
)

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

// Scale is the first call of every experiment cell. It returns the scale for the cell's model
// (ScaleFor: flagValue, else $ACTADD_SCALE, else Paper; the tiny stand-in runs Quick), printing
// ScaleFor's note on stderr, and checks the figures folder (FiguresDir), so that a bad
// $ACTADD_FIGURES fails the cell before the experiment's work, not after it.
func Scale(flagValue string) (string, error) {
	scale, note, err := ScaleFor(requestedModel(), flagValue)
	if err != nil {
		return "", err
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, note)
	}
	if _, err := FiguresDir(); err != nil {
		return "", err
	}
	return scale, nil
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
	if s == Paper && model == checkpoint.TinyName {
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
	if model == checkpoint.TinyName {
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
	fmt.Printf("model: %s (%d layers, width %d)\n", m.Label(), m.Config.NLayer, m.Config.NEmbd)
	if IsTiny(m) {
		fmt.Println(TinyNote)
	}
	return m, nil
}

// Layer resolves a --layer flag: -1 means DefaultLayer(m); anything else must be a layer of m.
func Layer(m *actadd.Model, flagValue int) (int, error) {
	n := m.Config.NLayer
	if flagValue == -1 {
		return DefaultLayer(n), nil
	}
	if flagValue < 0 || flagValue >= n {
		return 0, fmt.Errorf("layer %d is out of range: %s has layers 0..%d (-1 picks %d)", flagValue, m.Name, n-1, DefaultLayer(n))
	}
	return flagValue, nil
}

// DefaultLayer is the layer the notebooks steer by default in a model of n layers: 6, where
// the paper's wedding vector works best on GPT-2-XL (and the middle of gpt2), or n/2 when the
// model is shallower (2 for the 4-layer tiny model).
func DefaultLayer(n int) int { return min(6, n/2) }

// Column is one column of a SideBySide table: a heading and one text per row.
type Column struct {
	Heading string
	Texts   []string
}

// Texts returns the generated text of each completion.
func Texts(cs []actadd.Completion) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Text
	}
	return out
}

// SideBySide returns an HTML table with the prompt (in bold) followed by each column's text, one
// row per completion. Texts are escaped; newlines are kept.
func SideBySide(caption, prompt string, cols ...Column) string {
	var b strings.Builder
	b.WriteString(`<table style="border-collapse:collapse;table-layout:fixed;width:100%">`)
	if caption != "" {
		fmt.Fprintf(&b, `<caption style="text-align:left;font-weight:bold;padding:4px">%s</caption>`, html.EscapeString(caption))
	}
	b.WriteString("<tr>")
	for _, c := range cols {
		fmt.Fprintf(&b, `<th style="text-align:left;border:1px solid #ccc;padding:4px">%s</th>`, html.EscapeString(c.Heading))
	}
	b.WriteString("</tr>")
	rows := 0
	for _, c := range cols {
		rows = max(rows, len(c.Texts))
	}
	cell := `<td style="text-align:left;vertical-align:top;white-space:pre-wrap;border:1px solid #ccc;padding:4px"><b>%s</b>%s</td>`
	for r := range rows {
		b.WriteString("<tr>")
		for _, c := range cols {
			text := ""
			if r < len(c.Texts) {
				text = c.Texts[r]
			}
			fmt.Fprintf(&b, cell, html.EscapeString(prompt), html.EscapeString(text))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return b.String()
}

// ShowSideBySide displays the SideBySide table inline in a notebook, or prints the columns as
// text (PrintSideBySide) outside one.
func ShowSideBySide(caption, prompt string, cols ...Column) {
	if gonbui.IsNotebook {
		gonbui.DisplayHtml(SideBySide(caption, prompt, cols...))
		return
	}
	fmt.Println(caption)
	PrintSideBySide(prompt, cols...)
}

// PrintSideBySide writes the columns as plain text.
func PrintSideBySide(prompt string, cols ...Column) {
	for _, c := range cols {
		fmt.Printf("--- %s\n", c.Heading)
		for i, t := range c.Texts {
			fmt.Printf("[%d] %s%s\n", i, prompt, strings.ReplaceAll(t, "\n", `\n`))
		}
	}
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

// ShowFigures saves every figure (PNG, SVG and JSON sidecar) into FiguresDir and displays its
// PNG inline (outside a notebook it only saves). It prints where each figure went.
func ShowFigures(figs []*plots.Figure) error {
	if len(figs) == 0 {
		return errNoFigures
	}
	dir, err := FiguresDir()
	if err != nil {
		return err
	}
	for _, f := range figs {
		paths, err := f.Save(dir)
		if err != nil {
			return err
		}
		if gonbui.IsNotebook {
			gonbui.DisplayPng(f.PNG)
		}
		names := make([]string, len(paths))
		for i, p := range paths {
			names[i] = filepath.Base(p)
		}
		fmt.Printf("figure %q: %s in %s\n", f.Sidecar.Title, strings.Join(names, ", "), dir)
	}
	return nil
}

// Figurer is an experiment result that renders its figures (every experiments.XResult).
type Figurer interface {
	Figures() ([]*plots.Figure, error)
}

// ShowFiguresOf renders r's figures and shows them (ShowFigures); an error of Figures (e.g.
// E1 with no bin to plot, which says what to change) is returned as it is.
func ShowFiguresOf(r Figurer) error {
	figs, err := r.Figures()
	if err != nil {
		return err
	}
	return ShowFigures(figs)
}
