package plots

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/renameio/v2"
	"gonum.org/v1/plot"
)

// Figure is one rendered figure and its provenance.
type Figure struct {
	// Name is the file name stem: Save writes <Name>.png, <Name>.svg and <Name>.json.
	Name     string
	PNG, SVG []byte
	Sidecar  Sidecar
}

// Series is one plotted line or set of points.
type Series struct {
	Name string    `json:"name"`
	X    []float64 `json:"x"`
	Y    []float64 `json:"y"`
	// Labels optionally names each point (e.g. the model shape of each x value).
	Labels []string `json:"labels,omitempty"`
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
	// GitCommit is the repository's HEAD ("unknown" outside a git checkout); GitDirty is true
	// when the working tree had uncommitted changes.
	GitCommit   string    `json:"git_commit"`
	GitDirty    bool      `json:"git_dirty"`
	GoVersion   string    `json:"go_version"`
	WallSeconds float64   `json:"wall_seconds"` // time the experiment took
	Created     time.Time `json:"created"`      // UTC
	Notes       []string  `json:"notes,omitempty"`
	Series      []Series  `json:"series"` // the plotted numbers
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

// NewFigure renders p (see Render) into a figure named name with the sidecar sc, into which
// it copies p's axis labels and ranges.
func NewFigure(name string, p *plot.Plot, sc Sidecar) (*Figure, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	sc.XLabel, sc.YLabel = p.X.Label.Text, p.Y.Label.Text
	sc.XRange, sc.YRange = axisRange(p.X), axisRange(p.Y)
	pngData, svgData, err := Render(p)
	if err != nil {
		return nil, err
	}
	return &Figure{Name: name, PNG: pngData, SVG: svgData, Sidecar: sc}, nil
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

// Save writes <Name>.png, <Name>.svg and <Name>.json into dir (created if missing) and returns
// their paths. Each file is written to a temporary file in dir and renamed into place, so a
// reader never sees a partial file and a failed save leaves no temporary file behind.
func (f *Figure) Save(dir string) ([]string, error) {
	if err := checkName(f.Name); err != nil {
		return nil, err
	}
	if len(f.PNG) == 0 || len(f.SVG) == 0 {
		return nil, fmt.Errorf("plots: figure %s has no rendered image: build it with NewFigure", f.Name)
	}
	side, err := json.MarshalIndent(f.Sidecar, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("plots: encoding the sidecar of %s: %w", f.Name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: creating the figure folder: %w", err)
	}
	var paths []string
	for _, file := range []struct {
		ext  string
		data []byte
	}{{".png", f.PNG}, {".svg", f.SVG}, {".json", append(side, '\n')}} {
		path := filepath.Join(dir, f.Name+file.ext)
		if err := renameio.WriteFile(path, file.data, 0o644); err != nil {
			return paths, fmt.Errorf("plots: saving %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
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
