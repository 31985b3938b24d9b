package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/loader"
	"github.com/actadd-go/actadd/notebooks/nbutil"
	"github.com/actadd-go/actadd/plots"
)

// OfflineHint is the command that runs the notebooks with no network, in minutes.
const OfflineHint = "To run the notebooks offline in a few minutes, with the random-weight stand-in (NOT GPT-2; its outputs are noise):\n" +
	"  ACTADD_MODEL=tiny ACTADD_SCALE=quick make notebooks"

// checkModel prepares a `make notebooks` run before any notebook starts: it resolves the scale
// and the figures folder the notebooks will use (nbutil's rules, the folder checked writable),
// makes sure the model can be loaded (fetching it when it is missing), and prints what will
// run on w.
func checkModel(name, scale string, w io.Writer) error {
	s, note, err := nbutil.ScaleFor(name, scale)
	if err != nil {
		return err
	}
	dir, err := nbutil.FiguresDirFor(name)
	if err != nil {
		return err
	}
	if _, err := loader.Locate(name, hfhub.DefaultOptions()); err != nil {
		hint := ""
		if !plots.IsTiny(name) {
			hint = "\n" + OfflineHint
		}
		return fmt.Errorf("model %q is not available:\n%v%s", name, err, hint)
	}
	fmt.Fprintf(w, "notebooks: model %s, scale %s, figures -> %s\n", name, s, dir)
	if note != "" {
		fmt.Fprintln(w, note)
	}
	return nil
}

// notebook is the part of nbformat 4 the checks read.
type notebook struct {
	NBFormat      int             `json:"nbformat"`
	NBFormatMinor int             `json:"nbformat_minor"`
	Metadata      json.RawMessage `json:"metadata"`
	Cells         []cell          `json:"cells"`
}

type cell struct {
	CellType       string          `json:"cell_type"`
	Source         multiline       `json:"source"`
	Outputs        []output        `json:"outputs"`
	ExecutionCount *int            `json:"execution_count"`
	Metadata       json.RawMessage `json:"metadata"`
}

type output struct {
	OutputType string          `json:"output_type"`
	Name       string          `json:"name"` // stream: stdout or stderr
	Text       multiline       `json:"text"`
	EName      string          `json:"ename"`
	EValue     string          `json:"evalue"`
	Traceback  []string        `json:"traceback"`
	Data       json.RawMessage `json:"data"`
}

// multiline is nbformat's string-or-list-of-strings.
type multiline string

func (m *multiline) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = multiline(s)
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("expected a string or a list of strings: %w", err)
	}
	*m = multiline(strings.Join(ss, ""))
	return nil
}

func readNotebook(path string) (*notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseNotebook(path, data)
}

// parseNotebook reads data as a notebook; path names it in errors.
func parseNotebook(path string, data []byte) (*notebook, error) {
	var nb notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		return nil, fmt.Errorf("%s: not a valid notebook: %w", path, err)
	}
	if nb.NBFormat != 4 {
		return nil, fmt.Errorf("%s: nbformat %d, want 4", path, nb.NBFormat)
	}
	return &nb, nil
}

// maxShown bounds the lines of a failing cell's output that checkRun prints.
const maxShown = 40

// checkRun reports the first code cell of an executed notebook that failed or did not run,
// writing its output (the last maxShown lines) to w.
func checkRun(path string, w io.Writer) error {
	nb, err := readNotebook(path)
	if err != nil {
		return err
	}
	for i, c := range nb.Cells {
		if c.CellType != "code" || strings.TrimSpace(string(c.Source)) == "" {
			continue
		}
		var failed *output
		for j := range c.Outputs {
			if c.Outputs[j].OutputType == "error" {
				failed = &c.Outputs[j]
				break
			}
		}
		if failed == nil && c.ExecutionCount != nil {
			continue
		}
		name := filepath.Base(path)
		fmt.Fprintf(w, "---- %s: cell %d failed. Its source begins:\n%s\n---- its output:\n", name, i+1, head(string(c.Source), 6))
		var out strings.Builder
		for _, o := range c.Outputs {
			if o.OutputType == "stream" {
				out.WriteString(string(o.Text))
			}
		}
		fmt.Fprint(w, tail(out.String(), maxShown))
		if failed == nil {
			return fmt.Errorf("%s: cell %d was not executed", name, i+1)
		}
		fmt.Fprintln(w, "----")
		return fmt.Errorf("%s: cell %d failed (%s: %s); the executed notebook is %s", name, i+1, failed.EName, failed.EValue, path)
	}
	return nil
}

func head(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	if len(lines) == 1 && lines[0] == "" {
		return "(no output)\n"
	}
	return strings.Join(lines, "\n") + "\n"
}

// checkFigures checks every named figure in dir (every figure found when names is empty) and
// returns how many it checked.
func checkFigures(dir, model string, names []string) (int, error) {
	if len(names) == 0 {
		found, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return 0, err
		}
		for _, f := range found {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
		if len(names) == 0 {
			return 0, fmt.Errorf("no figures (NAME.json sidecars) in %s", dir)
		}
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		if err := checkFigure(dir, n, model); err != nil {
			errs = append(errs, fmt.Errorf("figure %s: %w", n, err))
		}
	}
	return len(names), errors.Join(errs...)
}

// checkFigure checks one figure: its files are one set (plots.VerifySet: the PNG, SVG and PDF
// its sidecar records, not files of another run), each decodes as its format, the sidecar names
// the model (with -model tiny, marked as the stand-in), and its estimates carry 95% intervals
// whose method it names.
func checkFigure(dir, name, model string) error {
	sc, err := plots.VerifySet(dir, name)
	if err != nil {
		return err
	}
	base := filepath.Join(dir, name)
	data, err := os.ReadFile(base + ".png")
	if err != nil {
		return err
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s.png is not a valid PNG: %w", base, err)
	}
	if b := img.Bounds(); b.Dx() < 16 || b.Dy() < 16 {
		return fmt.Errorf("%s.png is only %dx%d pixels", base, b.Dx(), b.Dy())
	}
	if err := checkSVG(base + ".svg"); err != nil {
		return err
	}
	if err := checkPDF(base + ".pdf"); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(sc.Model) == "":
		return fmt.Errorf("%s.json does not name the model", base)
	case model == checkpoint.TinyName && !sc.TinyStandIn:
		return fmt.Errorf("%s.json names model %q but is not marked tiny_stand_in", base, sc.Model)
	case model == checkpoint.TinyName && !strings.Contains(sc.Model, checkpoint.TinyName):
		return fmt.Errorf("%s.json names model %q, want the tiny stand-in", base, sc.Model)
	case model != "" && model != checkpoint.TinyName && !strings.Contains(sc.Model, model):
		return fmt.Errorf("%s.json names model %q, want %q", base, sc.Model, model)
	}
	withIntervals := false
	for _, s := range sc.Series {
		withIntervals = withIntervals || len(s.Lo) > 0
	}
	switch {
	case !withIntervals:
		return fmt.Errorf("%s.json: no plotted series carries a 95%% interval (series lo and hi)", base)
	case strings.TrimSpace(sc.Interval) == "":
		return fmt.Errorf("%s.json does not name the method of its intervals (interval)", base)
	}
	return nil
}

// checkPDF checks that path is a complete PDF file: its header, and the end-of-file marker a
// truncated file lacks.
func checkPDF(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(data, []byte("%PDF-")) || !bytes.Contains(data[max(0, len(data)-64):], []byte("%%EOF")) {
		return fmt.Errorf("%s is not a complete PDF file", path)
	}
	return nil
}

// checkSVG checks that path is well-formed XML whose root element is <svg>.
func checkSVG(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	d.Strict = true
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s is not well-formed SVG: %w", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return fmt.Errorf("%s has root element %q, want svg", path, root)
	}
	return nil
}
