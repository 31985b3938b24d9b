package plots

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/actadd-go/actadd/interval"
	"github.com/google/renameio/v2"
	"gonum.org/v1/plot"
)

// Figure is one rendered figure and its provenance.
type Figure struct {
	// Name is the file name stem: Save writes <Name>.png, <Name>.svg, <Name>.pdf and
	// <Name>.json.
	Name          string
	PNG, SVG, PDF []byte
	Sidecar       Sidecar
}

// Series is one plotted line or set of points, with optional 95% intervals and counts.
type Series struct {
	Name string    `json:"name"`
	X    []float64 `json:"x"`
	Y    []float64 `json:"y"`
	// Lo and Hi are the ends of each point's 95% interval (nil: the series has none; NaN, null
	// in JSON: this point has none), drawn as error bars; the sidecar's Interval names the
	// method.
	Lo []float64 `json:"lo,omitempty"`
	Hi []float64 `json:"hi,omitempty"`
	// N is the number of observations behind each point, where it varies (e.g. documents per
	// relevance bin).
	N []int `json:"n,omitempty"`
	// Labels optionally names each point (e.g. the model shape of each x value).
	Labels []string `json:"labels,omitempty"`
}

// SeriesOf is the series of estimates ests at xs: their values, 95% intervals and counts.
func SeriesOf(name string, xs []float64, ests []interval.Estimate) Series {
	s := Series{Name: name, X: xs}
	for _, e := range ests {
		s.Y, s.Lo, s.Hi, s.N = append(s.Y, e.Value), append(s.Lo, e.Lo), append(s.Hi, e.Hi), append(s.N, e.N)
	}
	return s
}

// seriesJSON is Series as JSON: NaN interval ends are null.
type seriesJSON struct {
	Name   string     `json:"name"`
	X      []float64  `json:"x"`
	Y      []float64  `json:"y"`
	Lo     []*float64 `json:"lo,omitempty"`
	Hi     []*float64 `json:"hi,omitempty"`
	N      []int      `json:"n,omitempty"`
	Labels []string   `json:"labels,omitempty"`
}

// MarshalJSON writes NaN interval ends as null.
func (s Series) MarshalJSON() ([]byte, error) {
	j := seriesJSON{Name: s.Name, X: s.X, Y: s.Y, N: s.N, Labels: s.Labels}
	for i := range s.Lo {
		j.Lo = append(j.Lo, interval.Nullable(s.Lo[i]))
	}
	for i := range s.Hi {
		j.Hi = append(j.Hi, interval.Nullable(s.Hi[i]))
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads null interval ends as NaN.
func (s *Series) UnmarshalJSON(b []byte) error {
	var j seriesJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Series{Name: j.Name, X: j.X, Y: j.Y, N: j.N, Labels: j.Labels}
	for _, p := range j.Lo {
		s.Lo = append(s.Lo, interval.FromNullable(p))
	}
	for _, p := range j.Hi {
		s.Hi = append(s.Hi, interval.FromNullable(p))
	}
	return nil
}

// Sidecar is the JSON record saved next to a figure: everything needed to know what the figure
// shows and to make it again.
type Sidecar struct {
	Experiment string `json:"experiment"` // "E1" … "E4"
	Title      string `json:"title"`
	// XLabel and YLabel are the axis labels as drawn, XRange and YRange the axes' [min, max]
	// (NewFigure fills them in from the plot).
	XLabel string    `json:"x_label,omitempty"`
	YLabel string    `json:"y_label,omitempty"`
	XRange []float64 `json:"x_range,omitempty"`
	YRange []float64 `json:"y_range,omitempty"`
	// Model is the model's name as loaded (gpt2.Model.Name); Revision pins its weights (the
	// Hugging Face commit, or the tiny model's generated folder).
	Model    string `json:"model"`
	Revision string `json:"revision"`
	// TinyStandIn is true when the model is the random-weight stand-in "tiny", not GPT-2.
	TinyStandIn bool `json:"tiny_stand_in"`
	// RandomWeights is true when the model's weights are random (the tiny stand-in, or the
	// random models of a given shape that the overhead experiment times).
	RandomWeights bool   `json:"random_weights"`
	Backend       string `json:"backend"`
	Seed          uint64 `json:"seed"`
	// SampleSizes counts what was measured, e.g. {"documents": 300000, "tokens": ...}.
	SampleSizes map[string]int `json:"sample_sizes"`
	// Params is the experiment's configuration as a JSON object.
	Params json.RawMessage `json:"params"`
	// DataSource says where the input data came from (a file, a download, the offline sample).
	DataSource string `json:"data_source,omitempty"`
	// Interval names the method of the 95% intervals drawn as error bars and bands (e.g.
	// interval.Wilson); empty when the figure has none.
	Interval string `json:"interval,omitempty"`
	// GitCommit is the repository's HEAD ("unknown" outside a git checkout); GitDirty is true
	// when the working tree had uncommitted changes.
	GitCommit   string    `json:"git_commit"`
	GitDirty    bool      `json:"git_dirty"`
	GoVersion   string    `json:"go_version"`
	WallSeconds float64   `json:"wall_seconds"` // time the experiment took
	Created     time.Time `json:"created"`      // UTC
	Notes       []string  `json:"notes,omitempty"`
	Series      []Series  `json:"series"` // the plotted numbers
	// RunID names the run that made the figure (every figure of one experiment run shares it;
	// Save draws one when it is empty), and Files maps each image file of the set (<name>.png,
	// .svg, .pdf) to its SHA-256: Save writes the sidecar last, so a set whose files do not
	// match it was interrupted or mixed (VerifySet).
	RunID string            `json:"run_id"`
	Files map[string]string `json:"files"`
}

// NewSidecar starts a sidecar for experiment with the given title and parameters (any value
// that encodes to a JSON object, typically the experiment's config), filling in the git
// commit, the Go version and the creation time.
func NewSidecar(experiment, title string, params any) (Sidecar, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return Sidecar{}, fmt.Errorf("plots: encoding the parameters of %s as JSON: %w", experiment, err)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return Sidecar{}, fmt.Errorf("plots: the parameters of %s must encode to a JSON object, got %.40s", experiment, raw)
	}
	commit, dirty := GitState()
	return Sidecar{
		Experiment: experiment, Title: title, Params: raw, SampleSizes: map[string]int{},
		GitCommit: commit, GitDirty: dirty, GoVersion: runtime.Version(), Created: time.Now().UTC().Round(time.Second),
	}, nil
}

// NewFigure renders p and the panels below it (see Render) into a figure named name with the
// sidecar sc, into which it copies p's axis labels and ranges.
func NewFigure(name string, p *plot.Plot, sc Sidecar, below ...*plot.Plot) (*Figure, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	sc.XLabel, sc.YLabel = p.X.Label.Text, p.Y.Label.Text
	sc.XRange, sc.YRange = axisRange(p.X), axisRange(p.Y)
	pngData, svgData, pdfData, err := Render(p, below...)
	if err != nil {
		return nil, err
	}
	return &Figure{Name: name, PNG: pngData, SVG: svgData, PDF: pdfData, Sidecar: sc}, nil
}

// axisRange is a's [min, max], or nil when either is not finite (an axis without data),
// which JSON cannot encode.
func axisRange(a plot.Axis) []float64 {
	if math.IsInf(a.Min, 0) || math.IsInf(a.Max, 0) || math.IsNaN(a.Min) || math.IsNaN(a.Max) {
		return nil
	}
	return []float64{a.Min, a.Max}
}

// checkName rejects names that are not a plain file name stem.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") {
		return fmt.Errorf("plots: figure name %q must be a plain file name without a folder (e.g. \"e2-success-vs-layer\")", name)
	}
	return nil
}

// Extensions of a figure's files: the images, then the sidecar.
var (
	imageExts  = []string{".png", ".svg", ".pdf"}
	sidecarExt = ".json"
)

// Save writes <Name>.png, <Name>.svg, <Name>.pdf and the sidecar <Name>.json into dir (created if
// missing) and returns their paths. It first removes an old sidecar of that name, then writes
// the images, then the sidecar with their SHA-256 and the run id: a save interrupted at any
// point leaves either no sidecar or images that do not match it, which VerifySet reports, never
// files of two runs that pass for one set. Each file is written to a temporary file in dir and
// renamed into place, so a reader never sees a partial file.
func (f *Figure) Save(dir string) ([]string, error) {
	if err := checkName(f.Name); err != nil {
		return nil, err
	}
	if len(f.PNG) == 0 || len(f.SVG) == 0 || len(f.PDF) == 0 {
		return nil, fmt.Errorf("plots: figure %s has no rendered image: build it with NewFigure", f.Name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: creating the figure folder: %w", err)
	}
	sc := f.Sidecar
	if sc.RunID == "" {
		sc.RunID = NewRunID()
	}
	sc.Files = map[string]string{}
	side := filepath.Join(dir, f.Name+sidecarExt)
	if err := os.Remove(side); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("plots: removing the old sidecar %s: %w", side, err)
	}
	var paths []string
	for i, data := range [][]byte{f.PNG, f.SVG, f.PDF} {
		name := f.Name + imageExts[i]
		path := filepath.Join(dir, name)
		if err := renameio.WriteFile(path, data, 0o644); err != nil {
			return paths, fmt.Errorf("plots: saving %s: %w", path, err)
		}
		sc.Files[name] = sha256Hex(data)
		paths = append(paths, path)
	}
	raw, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return paths, fmt.Errorf("plots: encoding the sidecar of %s: %w", f.Name, err)
	}
	if err := renameio.WriteFile(side, append(raw, '\n'), 0o644); err != nil {
		return paths, fmt.Errorf("plots: saving %s: %w", side, err)
	}
	return append(paths, side), nil
}

// NewRunID returns a fresh random run id (16 hex digits) for Sidecar.RunID.
func NewRunID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("t%x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

func sha256Hex(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// VerifySet checks that the files of figure name in dir belong together: the sidecar
// <name>.json exists and lists <name>.png, .svg and .pdf, and each of those files has the
// SHA-256 the sidecar records. It also checks that the PDF's text reads back as drawn (every
// font maps its codes to Unicode; see checkPDFFonts). It returns the sidecar, or an error that
// names every missing, mismatched or garbled file (a save that was interrupted, files of
// different runs side by side, or a PDF from a version that garbled its text).
func VerifySet(dir, name string) (*Sidecar, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	side := filepath.Join(dir, name+sidecarExt)
	raw, err := os.ReadFile(side)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("plots: figure %s in %s has no sidecar %s: its files are not a complete set (an interrupted save?): make the figure again", name, dir, filepath.Base(side))
	}
	if err != nil {
		return nil, fmt.Errorf("plots: reading %s: %w", side, err)
	}
	var sc Sidecar
	if err := json.Unmarshal(raw, &sc); err != nil {
		return nil, fmt.Errorf("plots: %s is not a valid sidecar: %w", side, err)
	}
	var bad []string
	for _, ext := range imageExts {
		file := name + ext
		want, ok := sc.Files[file]
		data, err := os.ReadFile(filepath.Join(dir, file))
		switch {
		case !ok:
			bad = append(bad, file+" is not listed in the sidecar")
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s cannot be read (%v)", file, err))
		case sha256Hex(data) != want:
			bad = append(bad, file+" is not the file the sidecar records (another run's, or changed since)")
		case ext == ".pdf":
			if err := checkPDFFonts(data); err != nil {
				bad = append(bad, file+" "+err.Error())
			}
		}
	}
	if len(bad) > 0 {
		return &sc, fmt.Errorf("plots: figure %s in %s is not one set (run %s): %s: make the figure again", name, dir, sc.RunID, strings.Join(bad, "; "))
	}
	return &sc, nil
}

var (
	pdfObject   = regexp.MustCompile(`(?s)\d+\s+\d+\s+obj\b(.*?)\bendobj`)
	pdfFontDict = regexp.MustCompile(`/Type\s*/Font\b`)
	pdfSubtype  = regexp.MustCompile(`/Subtype\s*/(\w+)`)
	pdfEncoding = regexp.MustCompile(`/Encoding\s*/(\w+)`)
)

// checkPDFFonts reports a PDF whose text does not read back as drawn: a font with a one-byte
// encoding (e.g. /WinAnsiEncoding, as gonum/plot's vgpdf writes, which garbles "−", "Δ", "≥",
// "·"), or a composite font without a ToUnicode map. It reads the font objects written in the
// clear, as the plots package writes them; fonts inside compressed object streams are not seen.
func checkPDFFonts(data []byte) error {
	for _, obj := range pdfObject.FindAllSubmatch(data, -1) {
		dict := obj[1]
		if !pdfFontDict.Match(dict) {
			continue
		}
		sub := ""
		if m := pdfSubtype.FindSubmatch(dict); m != nil {
			sub = string(m[1])
		}
		switch {
		case sub == "CIDFontType0" || sub == "CIDFontType2": // the glyphs of a Type0 font
		case sub == "Type0" && bytes.Contains(dict, []byte("/ToUnicode")):
		default:
			enc := "no Unicode map"
			if m := pdfEncoding.FindSubmatch(dict); m != nil {
				enc = "the one-byte encoding /" + string(m[1])
			}
			return fmt.Errorf("sets its text in a %s font with %s, so characters such as \"−\", \"Δ\", \"≥\" read back wrongly (an older version of the plots package wrote it)", sub, enc)
		}
	}
	return nil
}

// SaveAll saves every figure into dir and returns all the paths written.
func SaveAll(dir string, figs ...*Figure) ([]string, error) {
	var all []string
	for _, f := range figs {
		paths, err := f.Save(dir)
		all = append(all, paths...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

// GitState returns the commit of the git checkout holding the working directory and whether
// its working tree has uncommitted changes, asking git once per process (best effort: the
// commit is "unknown" when git or the checkout is unavailable).
func GitState() (commit string, dirty bool) {
	s := gitState()
	return s.commit, s.dirty
}

var gitState = sync.OnceValue(func() struct {
	commit string
	dirty  bool
} {
	out := struct {
		commit string
		dirty  bool
	}{commit: "unknown"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	head, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return out
	}
	out.commit = strings.TrimSpace(string(head))
	// The figures folder itself does not count: regenerating figures rewrites it.
	status, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--", ":(top)", ":(top,exclude)figures").Output()
	out.dirty = err != nil || len(strings.TrimSpace(string(status))) > 0
	return out
})
