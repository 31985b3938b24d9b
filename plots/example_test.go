package plots_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/actadd-go/actadd/plots"
)

// A figure is a gonum plot rendered at a fixed size, plus a sidecar that records how it was
// made; Save writes the PNG, the SVG, the PDF and the sidecar (last, with the files' SHA-256,
// which VerifySet checks). The point values carry 95% intervals, drawn as error bars.
func Example() {
	title := plots.Heading("E2 wedding words vs layer", "tiny", "go", "4 completions/setting")
	p := plots.NewPlot(title, "injection layer", "mean wedding words per completion")
	s := plots.Series{Name: "ActAdd", X: []float64{0, 1, 2, 3}, Y: []float64{0.5, 1.25, 0.75, 0.25},
		Lo: []float64{0.2, 0.9, 0.5, 0.1}, Hi: []float64{0.8, 1.6, 1.0, 0.4}}
	if err := plots.AddLine(p, s, 0); err != nil {
		fmt.Println(err)
		return
	}
	plots.AddHLine(p, 0.1, "baseline (no steering)", plots.Gray)

	sc, err := plots.NewSidecar("E2", title, map[string]any{"coeff": 1.0, "plus": " weddings"})
	if err != nil {
		fmt.Println(err)
		return
	}
	sc.Model, sc.Backend, sc.TinyStandIn = "tiny", "go", true
	sc.Series = []plots.Series{s}
	sc.Interval = "95% Student t interval"
	fig, err := plots.NewFigure("e2-example", p, sc)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "plots-example")
	defer os.RemoveAll(dir)
	paths, err := fig.Save(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(title)
	for _, path := range paths {
		fmt.Println(filepath.Base(path))
	}
	if _, err := plots.VerifySet(dir, "e2-example"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// E2 wedding words vs layer — tiny random stand-in, not GPT-2, on go, 4 completions/setting
	// e2-example.png
	// e2-example.svg
	// e2-example.pdf
	// e2-example.json
}
