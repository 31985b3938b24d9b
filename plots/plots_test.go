package plots_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/interval"
	"github.com/actadd-go/actadd/plots"
	"gonum.org/v1/plot"
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
	if len(paths) != 4 {
		t.Fatalf("Save wrote %v, want 4 files", paths)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"e0-test.json", "e0-test.pdf", "e0-test.png", "e0-test.svg"}; !reflect.DeepEqual(names, want) {
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
	// A single column (3.5 in) at 300 dpi; the height follows the texts.
	if b := img.Bounds(); b.Dx() != 1050 || b.Dy() < 700 || b.Dy() > 1300 {
		t.Errorf("PNG is %dx%d, want 1050 wide and 700–1300 high", b.Dx(), b.Dy())
	}
	pdfData, err := os.ReadFile(filepath.Join(dir, "e0-test.pdf"))
	if err != nil || !bytes.HasPrefix(pdfData, []byte("%PDF-")) || !bytes.Contains(pdfData, []byte("/FontFile")) {
		t.Errorf("the PDF is not a PDF with embedded fonts (%v)", err)
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
	if len(entries) != 4 {
		t.Errorf("folder holds %d entries after two saves, want 4", len(entries))
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
	if len(entries) != 5 {
		t.Errorf("folder holds %d entries after a failed save, want 5", len(entries))
	}
}

func TestRenderReportsPanics(t *testing.T) {
	p := plots.NewPlot("bad", "x", "y")
	plots.LogX(p)
	if err := plots.AddLine(p, plots.Series{X: []float64{-1, 2}, Y: []float64{1, 2}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := plots.Render(p); err == nil {
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
	if err != nil || len(paths) != 8 || filepath.Base(paths[4]) != "e0-other.png" {
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
	_, svg, _, err := plots.Render(p)
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

// The files of a figure are one set: VerifySet finds a file from another run, a changed file,
// a missing one and a missing sidecar, and names them.
func TestVerifySet(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	f := testFigure(t)
	if _, err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	sc, err := plots.VerifySet(dir, "e0-test")
	if err != nil {
		t.Fatal(err)
	}
	if sc.RunID == "" || len(sc.Files) != 3 || len(sc.Files["e0-test.pdf"]) != 64 {
		t.Errorf("sidecar run id %q, files %v", sc.RunID, sc.Files)
	}
	// Another run of the same figure (other numbers) in another folder.
	g := testFigure(t)
	g.Sidecar.Series[0].Y[0] = 0.6
	if g, err = plots.NewFigure("e0-test", mustPlot(t, g.Sidecar.Series[0]), g.Sidecar); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Save(other); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".png", ".svg", ".pdf"} {
		swapped := t.TempDir()
		for _, e := range []string{".png", ".svg", ".pdf", ".json"} {
			from := dir
			if e == ext {
				from = other
			}
			copyFile(t, filepath.Join(from, "e0-test"+e), filepath.Join(swapped, "e0-test"+e))
		}
		_, err := plots.VerifySet(swapped, "e0-test")
		if err == nil || !strings.Contains(err.Error(), "e0-test"+ext+" is not the file the sidecar records") {
			t.Errorf("%s of another run: error %v", ext, err)
		}
	}
	os.Remove(filepath.Join(other, "e0-test.pdf"))
	if _, err := plots.VerifySet(other, "e0-test"); err == nil || !strings.Contains(err.Error(), "e0-test.pdf cannot be read") {
		t.Errorf("missing PDF: error %v", err)
	}
	os.Remove(filepath.Join(other, "e0-test.json"))
	if _, err := plots.VerifySet(other, "e0-test"); err == nil || !strings.Contains(err.Error(), "no sidecar") {
		t.Errorf("missing sidecar: error %v", err)
	}
}

func mustPlot(t *testing.T, s plots.Series) *plot.Plot {
	t.Helper()
	p := plots.NewPlot("E0 test figure", "x", "y")
	if err := plots.AddLine(p, s, 0); err != nil {
		t.Fatal(err)
	}
	return p
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A process killed at any moment of a save never leaves files of two runs that pass for one
// set: a child saves two versions of a figure in turn until it is killed (SIGKILL); whenever
// the files on disk come from different versions, VerifySet must report it.
func TestSaveKilledMidway(t *testing.T) {
	if dir := os.Getenv("PLOTS_SAVE_LOOP_DIR"); dir != "" { // the child
		figs := twoVersions(t)
		for i := 0; ; i++ {
			if _, err := figs[i%2].Save(dir); err != nil {
				t.Fatal(err)
			}
		}
	}
	if testing.Short() {
		t.Skip("kills child processes")
	}
	figs := twoVersions(t)
	version := map[string]int{} // sha256 of each file → its version
	for v, f := range figs {
		for _, data := range [][]byte{f.PNG, f.SVG, f.PDF} {
			version[fmt.Sprintf("%x", sha256.Sum256(data))] = v
		}
	}
	const kills = 6
	mixed, caught := 0, 0
	for i := range kills {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestSaveKilledMidway$")
		cmd.Env = append(os.Environ(), "PLOTS_SAVE_LOOP_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the first set is complete, then a little more, varying with i.
		for j := 0; j < 500; j++ {
			if _, err := os.Stat(filepath.Join(dir, "e0-kill.json")); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(i) * 30 * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		seen := map[int]bool{}
		for _, ext := range []string{".png", ".svg", ".pdf"} {
			data, err := os.ReadFile(filepath.Join(dir, "e0-kill"+ext))
			if err != nil {
				t.Fatal(err)
			}
			seen[version[fmt.Sprintf("%x", sha256.Sum256(data))]] = true
		}
		_, err := plots.VerifySet(dir, "e0-kill")
		if len(seen) > 1 {
			mixed++
			if err == nil {
				t.Errorf("kill %d: files of both versions pass VerifySet", i)
			} else {
				caught++
			}
		}
	}
	t.Logf("%d of %d kills left files of two versions; VerifySet reported %d of them", mixed, kills, caught)
}

// twoVersions are two renderings of one figure with different numbers.
func twoVersions(t *testing.T) [2]*plots.Figure {
	var out [2]*plots.Figure
	for v := range out {
		s := plots.Series{Name: "line", X: []float64{1, 2, 3}, Y: []float64{0.5, float64(v), 0.75}}
		sc, err := plots.NewSidecar("E0", "kill test", struct{}{})
		if err != nil {
			t.Fatal(err)
		}
		if out[v], err = plots.NewFigure("e0-kill", mustPlot(t, s), sc); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Intervals are drawn as error bars; an interval that does not hold its point is refused, and
// NaN ends (no interval) are kept as null in the sidecar.
func TestIntervals(t *testing.T) {
	p := plots.NewPlot("t", "x", "y")
	s := plots.Series{Name: "s", X: []float64{1, 2}, Y: []float64{1, 2}, Lo: []float64{0.5, math.NaN()}, Hi: []float64{1.5, math.NaN()}, N: []int{3, 1}}
	if err := plots.AddLine(p, s, 0); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"lo":[0.5,null]`) || !strings.Contains(string(raw), `"n":[3,1]`) {
		t.Errorf("series JSON %s", raw)
	}
	var back plots.Series
	if err := json.Unmarshal(raw, &back); err != nil || !math.IsNaN(back.Hi[1]) || back.Hi[0] != 1.5 {
		t.Errorf("read back %+v, %v", back, err)
	}
	bad := s
	bad.Lo = []float64{1.2, math.NaN()}
	if err := plots.AddLine(plots.NewPlot("t", "x", "y"), bad, 0); err == nil {
		t.Error("an interval above its point was drawn")
	}
	bad.Lo = []float64{0.5}
	if err := plots.AddLine(plots.NewPlot("t", "x", "y"), bad, 0); err == nil {
		t.Error("a series with fewer interval ends than points was drawn")
	}
}

func TestIsTinyNamesEveryStandIn(t *testing.T) {
	for _, name := range []string{checkpoint.TinyName, checkpoint.TinyDescription, "tiny-llama",
		"random-weight GPT-2-shaped model (n_layer=2 n_embd=16 n_head=2 vocab_size=50257), not GPT-2"} {
		if !plots.IsTiny(name) {
			t.Errorf("IsTiny(%q) = false", name)
		}
	}
	for _, name := range []string{"gpt2", "gpt2-xl", "Qwen/Qwen2.5-0.5B", "HuggingFaceTB/SmolLM2-135M"} {
		if plots.IsTiny(name) || plots.ModelLabel(name) != name {
			t.Errorf("%q taken for a stand-in", name)
		}
	}
	if plots.ModelLabel(checkpoint.TinyDescription) != plots.StandInLabel {
		t.Errorf("ModelLabel(%q) = %q", checkpoint.TinyDescription, plots.ModelLabel(checkpoint.TinyDescription))
	}
}

// A proportion of 0 or n successes plots: its Wilson interval holds its point exactly (at
// 0 of 395 it ended at 8.7e-19, and the figure was refused).
func TestProportionAtTheEndsPlots(t *testing.T) {
	for _, n := range []int{1, 7, 200, 395, 30000} {
		s := plots.SeriesOf("p", []float64{0, 1}, []interval.Estimate{interval.Proportion(0, n), interval.Proportion(n, n)})
		if err := plots.AddLine(plots.NewPlot("t", "x", "y"), s, 0); err != nil {
			t.Errorf("n = %d: %v", n, err)
		}
	}
}

// A reference value (E1's ratio 1, E4's premium 0) gets a labelled tick whatever the range,
// among at least two labelled ticks with distinct labels, where gonum/plot's default ticks
// often skip it.
func TestTicksLabelTheReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	skipped, uneven := 0, 0
	for trial := range 4000 {
		ref := []float64{0, 1}[trial%2]
		scale := math.Pow(10, -5+7*r.Float64())
		lo, hi := ref-scale*(0.05+r.Float64()), ref+scale*(0.05+r.Float64())
		if !hasTick(plot.DefaultTicks{}.Ticks(lo, hi), ref) {
			skipped++
		}
		ts := plots.Ticks{Ref: []float64{ref}}.Ticks(lo, hi)
		seen := map[string]bool{}
		for _, tk := range ts {
			if tk.Label != "" {
				if seen[tk.Label] || tk.Value < lo-1e-9*scale || tk.Value > hi+1e-9*scale {
					t.Fatalf("range [%g, %g]: ticks %v: label %q twice or out of range", lo, hi, ts, tk.Label)
				}
				seen[tk.Label] = true
			}
		}
		if !hasTick(ts, ref) || len(seen) < 2 {
			t.Fatalf("range [%g, %g]: ticks %v lack the reference %g or a second label", lo, hi, ts, ref)
		}
		var vals []float64
		for _, tk := range ts {
			if tk.Label != "" {
				vals = append(vals, tk.Value)
			}
		}
		for i := 2; i < len(vals); i++ {
			if math.Abs((vals[i]-vals[i-1])-(vals[1]-vals[0])) > 1e-6*(vals[1]-vals[0]) {
				uneven++
				break
			}
		}
	}
	t.Logf("gonum/plot's default ticks skipped the reference in %d of 4000 ranges; labelled ticks are unevenly spaced in %d", skipped, uneven)
	if uneven > 40 {
		t.Errorf("labelled ticks unevenly spaced in %d of 4000 ranges", uneven)
	}
	// AddReference sets it up.
	p := plots.NewPlot("t", "x", "y")
	plots.AddReference(p, 1, "ratio 1", plots.Gray)
	if tk, ok := p.Y.Tick.Marker.(plots.Ticks); !ok || len(tk.Ref) != 1 || tk.Ref[0] != 1 {
		t.Errorf("AddReference left the ticker %#v", p.Y.Tick.Marker)
	}
}

// hasTick reports whether ts labels v (to within rounding).
func hasTick(ts []plot.Tick, v float64) bool {
	for _, tk := range ts {
		if tk.Label != "" && math.Abs(tk.Value-v) <= 1e-9*math.Max(1, math.Abs(v)) {
			if f, err := strconv.ParseFloat(tk.Label, 64); err == nil && f == v {
				return true
			}
		}
	}
	return false
}
