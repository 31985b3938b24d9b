package plots_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/plots"
)

type testParams struct {
	Layer int     `json:"layer"`
	Coeff float64 `json:"coeff"`
	Plus  string  `json:"plus"`
}

func testFigure(t *testing.T) *plots.Figure {
	t.Helper()
	title := plots.Heading("E0 test figure", checkpoint.TinyDescription, "go", "3 points")
	p := plots.NewPlot(title, "x", "y")
	s := plots.Series{Name: "line", X: []float64{1, 2, 3}, Y: []float64{0.5, 0.25, 0.75}}
	if err := plots.AddLine(p, s, 0); err != nil {
		t.Fatal(err)
	}
	plots.AddHLine(p, 1, "reference", plots.Gray)
	sc, err := plots.NewSidecar("E0", title, testParams{Layer: 16, Coeff: 1, Plus: " weddings"})
	if err != nil {
		t.Fatal(err)
	}
	sc.Model, sc.Revision, sc.Backend, sc.TinyStandIn, sc.RandomWeights = checkpoint.TinyDescription, "tiny-abc", "go", true, true
	sc.SampleSizes["points"] = 3
	sc.Series = []plots.Series{s}
	f, err := plots.NewFigure("e0-test", p, sc)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestHeadingNamesTheStandIn(t *testing.T) {
	got := plots.Heading("E2 wedding words vs layer", checkpoint.TinyDescription, "go", "4 completions/setting")
	if !strings.Contains(got, "tiny random stand-in, not GPT-2") || !strings.Contains(got, "on go") || !strings.Contains(got, "4 completions/setting") {
		t.Errorf("Heading = %q", got)
	}
	if got := plots.Heading("E2 wedding words vs layer", "gpt2-xl", "xla:cuda", "200 completions/setting"); got != "E2 wedding words vs layer — gpt2-xl on xla:cuda, 200 completions/setting" {
		t.Errorf("Heading = %q", got)
	}
}

func TestFigureSave(t *testing.T) {
	f := testFigure(t)
	dir := filepath.Join(t.TempDir(), "new", "folder")
	paths, err := f.Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("Save wrote %v, want 3 files", paths)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"e0-test.json", "e0-test.png", "e0-test.svg"}; !reflect.DeepEqual(names, want) {
		t.Errorf("folder holds %v, want exactly %v (no temporary files)", names, want)
	}

	pngData, err := os.ReadFile(filepath.Join(dir, "e0-test.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(pngData))
	if err != nil || format != "png" {
		t.Fatalf("PNG does not decode: %v (format %q)", err, format)
	}
	if b := img.Bounds(); b.Dx() != 1080 || b.Dy() != 660 {
		t.Errorf("PNG is %dx%d, want 1080x660", b.Dx(), b.Dy())
	}

	svgData, err := os.ReadFile(filepath.Join(dir, "e0-test.svg"))
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svgData)

	raw, err := os.ReadFile(filepath.Join(dir, "e0-test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back plots.Sidecar
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	again, err := json.MarshalIndent(back, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if string(append(again, '\n')) != string(raw) {
		t.Errorf("sidecar does not round-trip:\n%s\nvs\n%s", raw, again)
	}
	var params testParams
	if err := json.Unmarshal(back.Params, &params); err != nil || params != (testParams{16, 1, " weddings"}) {
		t.Errorf("params = %+v (%v)", params, err)
	}
	if !back.TinyStandIn || back.Model != checkpoint.TinyDescription || back.GoVersion == "" || back.GitCommit == "" ||
		back.Created.IsZero() || back.Created.Location().String() != "UTC" || len(back.Series) != 1 || back.Series[0].Y[1] != 0.25 {
		t.Errorf("sidecar lost fields: %+v", back)
	}
	if !strings.Contains(back.Title, "tiny random stand-in, not GPT-2") {
		t.Errorf("title %q does not say the model is the stand-in", back.Title)
	}
}

// checkSVG parses data as XML and checks that its root element is <svg>.
func checkSVG(t *testing.T, data []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			if root == "" {
				t.Fatalf("SVG does not parse: %v", err)
			}
			if err.Error() != "EOF" {
				t.Fatalf("SVG does not parse: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("SVG root element is <%s>, want <svg>", root)
	}
}

func TestSaveOverwritesAndRejectsBadNames(t *testing.T) {
	f := testFigure(t)
	dir := t.TempDir()
	if _, err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	f.Sidecar.Notes = []string{"second save"}
	if _, err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "e0-test.json"))
	if !strings.Contains(string(raw), "second save") {
		t.Error("second Save did not replace the sidecar")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("folder holds %d entries after two saves, want 3", len(entries))
	}
	for _, bad := range []string{"", "../x", "a/b"} {
		g := *f
		g.Name = bad
		if _, err := g.Save(dir); err == nil {
			t.Errorf("Save accepted the name %q", bad)
		}
	}
	// A folder that cannot be created: an error, and no temporary file left anywhere.
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, []byte("x"), 0o644)
	if _, err := f.Save(filepath.Join(blocker, "sub")); err == nil {
		t.Error("Save into a path below a file succeeded")
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("folder holds %d entries after a failed save, want 4", len(entries))
	}
}

func TestRenderReportsPanics(t *testing.T) {
	p := plots.NewPlot("bad", "x", "y")
	plots.LogX(p)
	if err := plots.AddLine(p, plots.Series{X: []float64{-1, 2}, Y: []float64{1, 2}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := plots.Render(p); err == nil {
		t.Error("Render of a negative value on a log axis returned no error")
	}
	if err := plots.AddLine(p, plots.Series{X: []float64{1}, Y: []float64{1, 2}}, 0); err == nil {
		t.Error("AddLine accepted a series with mismatched lengths")
	}
}

func TestNewSidecarWantsAnObject(t *testing.T) {
	if _, err := plots.NewSidecar("E0", "t", 3); err == nil {
		t.Error("NewSidecar accepted parameters that are not a JSON object")
	}
}

func TestTicksLabelNarrowRanges(t *testing.T) {
	for _, r := range [][2]float64{{0.99988, 1.00002}, {0, 1}, {-0.3, 0.25}, {12, 480}} {
		seen := map[string]bool{}
		for _, tk := range (plots.Ticks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			if seen[tk.Label] {
				t.Errorf("range %v: label %q appears twice", r, tk.Label)
			}
			seen[tk.Label] = true
			v, err := strconv.ParseFloat(tk.Label, 64)
			if err != nil || math.Abs(v-tk.Value) > 1e-9*math.Max(1, math.Abs(tk.Value)) {
				t.Errorf("range %v: tick %g labelled %q", r, tk.Value, tk.Label)
			}
		}
		if len(seen) < 2 {
			t.Errorf("range %v: %d labelled ticks", r, len(seen))
		}
	}
}

func TestSaveAll(t *testing.T) {
	f := testFigure(t)
	g := *f
	g.Name = "e0-other"
	paths, err := plots.SaveAll(t.TempDir(), f, &g)
	if err != nil || len(paths) != 6 || filepath.Base(paths[3]) != "e0-other.png" {
		t.Errorf("SaveAll wrote %v, %v", paths, err)
	}
}

// NewFigure records the axis labels and ranges in the sidecar.
func TestSidecarAxes(t *testing.T) {
	f := testFigure(t)
	sc := f.Sidecar
	if sc.XLabel != "x" || sc.YLabel != "y" || len(sc.XRange) != 2 || len(sc.YRange) != 2 {
		t.Fatalf("sidecar axes: %q %q %v %v", sc.XLabel, sc.YLabel, sc.XRange, sc.YRange)
	}
	if sc.XRange[0] > 1 || sc.XRange[1] < 3 || sc.YRange[0] > 0.25 || sc.YRange[1] < 1 {
		t.Errorf("ranges %v, %v do not cover the data x 1..3, y 0.25..1", sc.XRange, sc.YRange)
	}
	// An axis without data has infinite limits: left out, so the sidecar still encodes.
	empty, err := plots.NewFigure("e0-empty", plots.NewPlot("empty", "x", "y"), sc)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Sidecar.XRange != nil {
		t.Errorf("empty plot: x range %v", empty.Sidecar.XRange)
	}
	if _, err := empty.Save(t.TempDir()); err != nil {
		t.Errorf("saving a figure without data: %v", err)
	}
}

func TestAddLabelsAndPadX(t *testing.T) {
	p := plots.NewPlot("labels", "x", "y")
	s := plots.Series{Name: "shapes", X: []float64{124, 1558}, Y: []float64{0.1, 0.2}, Labels: []string{"gpt2", "gpt2-xl"}}
	if err := plots.AddLine(p, s, 0); err != nil {
		t.Fatal(err)
	}
	if err := plots.AddLabels(p, s); err != nil {
		t.Fatal(err)
	}
	p.Y.Min, p.Y.Max = 0, 1
	plots.PadX(p)
	if p.Y.Min != 0 || p.Y.Max != 1 || !(p.X.Min < 124) || !(p.X.Max > 1558) {
		t.Errorf("PadX: x [%g, %g], y [%g, %g]; want x padded, y untouched", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
	_, svg, err := plots.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range s.Labels {
		if !bytes.Contains(svg, []byte(">"+l+"<")) {
			t.Errorf("the SVG does not draw the label %q", l)
		}
	}
	s.Labels = s.Labels[:1]
	if err := plots.AddLabels(p, s); err == nil {
		t.Error("AddLabels accepted 2 points with 1 label")
	}
}
