package plots_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/plots"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgpdf"
)

// pdfText is the text of a PDF file as poppler's pdftotext reads it, in the order it is drawn,
// with every run of white space made one space; the test is skipped where pdftotext is missing.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (Debian's poppler-utils) is not installed, so the PDF's text cannot be read back: " +
			"install it (make unit does) to run this test")
	}
	out, err := exec.Command(bin, "-raw", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// Every text of a figure, with characters outside Latin-1 ("−", "Δ", "≥") and the UTF-8 of
// Latin-1 ones ("·", "—", "µ"), reads back out of its PDF as drawn.
func TestPDFTextReadsBack(t *testing.T) {
	title := plots.Heading("E9 Δ logprob · words ≥ 1", checkpoint.TinyDescription, "go", "3 points")
	xLabel := "injection coefficient c (−4 … 4)\nCaption: fraction with ≥ 1 wedding word; \" weddings\" − \"\"; 95% Wilson score interval; 3·10² µs"
	yLabel := "Δ mean log-prob (nats/token)"
	p := plots.NewPlot(title, xLabel, yLabel)
	s := plots.Series{Name: "Δ ≥ 0 · steered − unsteered", X: []float64{-4, 0, 4}, Y: []float64{-0.5, 0.25, 0.75}}
	if err := plots.AddLine(p, s, 0); err != nil {
		t.Fatal(err)
	}
	plots.AddHLine(p, 0, "no change (Δ = 0)", plots.Gray)
	sc, err := plots.NewSidecar("E9", title, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := plots.NewFigure("e9-text", p, sc)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // the embedded font subset and every table come out in a fixed order
		again, err := plots.NewFigure("e9-text", p, sc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.PDF, f.PDF) {
			t.Fatal("the same figure rendered twice gives two different PDFs")
		}
	}
	dir := t.TempDir()
	if _, err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	got := pdfText(t, filepath.Join(dir, "e9-text.pdf"))
	for _, want := range append(strings.Split(xLabel, "\n"), title, yLabel, s.Name, "no change (Δ = 0)") {
		// The title is drawn with its model on a line of its own, and long texts wrap.
		want = strings.Join(strings.Fields(strings.Replace(want, " — ", " ", 1)), " ")
		if !strings.Contains(got, want) {
			t.Errorf("the PDF's text lacks %q; it reads:\n%s", want, got)
		}
	}
	if dir := os.Getenv("PLOTS_KEEP"); dir != "" {
		f.Save(dir)
	}
}

// VerifySet notices a PDF whose text is garbled: one written by gonum/plot's vgpdf, whose font
// encodes text as Windows-1252, even when the sidecar records that file.
func TestVerifySetNoticesGarbledPDF(t *testing.T) {
	dir := t.TempDir()
	f := testFigure(t)
	if _, err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := plots.VerifySet(dir, f.Name); err != nil {
		t.Fatalf("a fresh set: %v", err)
	}
	p := mustPlot(t, plots.Series{Name: "Δ ≥ 0", X: []float64{1, 2}, Y: []float64{1, 2}})
	c := vgpdf.New(plots.Width, plots.PlotHeight)
	p.Draw(draw.New(c))
	var old bytes.Buffer
	if _, err := c.WriteTo(&old); err != nil {
		t.Fatal(err)
	}
	f.PDF = old.Bytes()
	if _, err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	_, err := plots.VerifySet(dir, f.Name)
	if err == nil || !strings.Contains(err.Error(), "e0-test.pdf sets its text in a TrueType font with the one-byte encoding /WinAnsiEncoding") {
		t.Errorf("VerifySet of a garbled PDF: %v", err)
	}
}
