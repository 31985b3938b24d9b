package plots

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// The PDF canvas draws images, arcs of either direction and quadratic curves into a valid PDF.
func TestPDFCanvasShapes(t *testing.T) {
	c := newPDFCanvas(2*vg.Inch, 2*vg.Inch)
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: 10, Y: 10}, Max: vg.Point{X: 50, Y: 50}}, img)
	var p vg.Path
	p.Move(vg.Point{X: 60, Y: 60})
	p.Arc(vg.Point{X: 80, Y: 80}, 10, 0, 2*math.Pi)
	p.Arc(vg.Point{X: 100, Y: 80}, 10, math.Pi, -3*math.Pi/2)
	p.QuadTo(vg.Point{X: 120, Y: 120}, vg.Point{X: 130, Y: 60})
	p.Close()
	c.SetColor(color.RGBA{G: 128, A: 128})
	c.Fill(p)
	c.SetLineWidth(0)
	c.Stroke(p) // no width: not drawn
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("PLOTS_KEEP"); dir != "" {
		os.WriteFile(dir+"/shapes.pdf", buf.Bytes(), 0o644)
	}
	pdf := buf.String()
	if !strings.HasPrefix(pdf, "%PDF-") || !strings.Contains(pdf, "/Subtype /Image") || !strings.Contains(pdf, "%%EOF") {
		t.Errorf("not a PDF with an image: %.200q", pdf)
	}
}
