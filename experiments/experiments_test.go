package experiments_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image"
	_ "image/png"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/actadd/actaddtest"
	"github.com/actadd-go/actadd/experiments"
	"github.com/actadd-go/actadd/plots"
)

// tinyModel is the offline stand-in "tiny", built in memory.
func tinyModel(t testing.TB) *actadd.Model { return actaddtest.Get(t) }

// checkFigures checks that figs have the wanted names, decode as PNG and SVG, and carry
// sidecars naming the experiment, the model and the backend; saved (into the test's artifact
// folder: go test -artifacts keeps them), they make complete sets whose PDFs read back with the
// sidecar's title and labels (where poppler's pdftotext is installed).
func checkFigures(t *testing.T, figs []*plots.Figure, experiment string, tiny bool, names ...string) {
	t.Helper()
	var got []string
	dir := t.ArtifactDir()
	for _, f := range figs {
		got = append(got, f.Name)
		if _, err := f.Save(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := plots.VerifySet(dir, f.Name); err != nil {
			t.Error(err)
		}
		checkPDFText(t, filepath.Join(dir, f.Name+".pdf"), f.Sidecar)
		if _, format, err := image.Decode(bytes.NewReader(f.PNG)); err != nil || format != "png" {
			t.Errorf("%s: PNG does not decode: %v", f.Name, err)
		}
		var root struct {
			XMLName xml.Name
		}
		if err := xml.Unmarshal(f.SVG, &root); err != nil || root.XMLName.Local != "svg" {
			t.Errorf("%s: SVG does not parse or has root <%s>: %v", f.Name, root.XMLName.Local, err)
		}
		raw, err := json.Marshal(f.Sidecar)
		if err != nil {
			t.Fatal(err)
		}
		var sc plots.Sidecar
		if err := json.Unmarshal(raw, &sc); err != nil {
			t.Fatal(err)
		}
		if sc.Experiment != experiment || sc.Model == "" || sc.Backend != "go" || len(sc.Series) == 0 || len(sc.Params) == 0 || len(sc.SampleSizes) == 0 {
			t.Errorf("%s: incomplete sidecar: %s", f.Name, raw)
		}
		if tiny && (!sc.TinyStandIn || !strings.Contains(sc.Title, plots.StandInLabel)) {
			t.Errorf("%s: title %q or sidecar does not say the model is the tiny stand-in", f.Name, sc.Title)
		}
	}
	if !slices.Equal(got, names) {
		t.Errorf("figures %v, want %v", got, names)
	}
}

// checkPDFText checks that the text of the PDF at path holds the title and axis labels of sc
// (line breaks and runs of spaces aside), as poppler's pdftotext reads it; without pdftotext
// it says so and checks nothing.
func checkPDFText(t *testing.T, path string, sc plots.Sidecar) {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Logf("pdftotext (Debian's poppler-utils) is not installed: the text of %s is not checked", filepath.Base(path))
		return
	}
	out, err := exec.Command(bin, "-raw", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	// The title's model goes on a line of its own (plots.NewPlot); an x label's lines after
	// the first are the caption.
	for _, want := range append([]string{strings.Replace(sc.Title, " — ", " ", 1), sc.YLabel}, strings.Split(sc.XLabel, "\n")...) {
		if want = strings.Join(strings.Fields(want), " "); !strings.Contains(text, want) {
			t.Errorf("%s: the PDF's text lacks %q; pdftotext reads:\n%s", filepath.Base(path), want, text)
		}
	}
}

// quick is an experiment's quick config.
func quick[C any](t testing.TB, at func(string) (C, error)) C {
	t.Helper()
	cfg, err := at(experiments.ScaleQuick)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestPAtKList(t *testing.T) {
	want := []int{1, 2, 3, 4, 5, 6, 7, 9, 12, 15, 19, 24, 30, 38, 49, 62, 79, 100}
	if got := experiments.PAtKList(); !slices.Equal(got, want) {
		t.Errorf("PAtKList() = %v, want %v", got, want)
	}
	// Independently: numpy's linspace(0, 2, 20) steps by 2/19; ceil of 10^x, deduplicated.
	seen := map[int]bool{}
	var ref []int
	for i := 0; i < 20; i++ {
		k := int(math.Ceil(math.Pow(10, float64(i)*(2.0/19))))
		if !seen[k] {
			seen[k] = true
			ref = append(ref, k)
		}
	}
	if !slices.Equal(ref, want) {
		t.Errorf("recomputed list %v differs from %v", ref, want)
	}
}

func TestPAtK(t *testing.T) {
	ranks := []int{0, 1, 5, 100}
	for _, c := range []struct {
		k    int
		want float64
	}{{1, 0.25}, {2, 0.5}, {6, 0.75}, {100, 0.75}, {101, 1}} {
		if got := experiments.PAtK(ranks, c.k); got != c.want {
			t.Errorf("PAtK(%v, %d) = %g, want %g", ranks, c.k, got, c.want)
		}
	}
}

// quiet silences progress lines in tests.
var quiet io.Writer = io.Discard
