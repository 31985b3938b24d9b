package explorer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image/color"
	"strings"

	"github.com/actadd-go/actadd/plots"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ColumnsHTML renders both columns as a table: the prompt in bold, then the text so far, row i
// of both columns drawn from the same random stream. label names the model and backend.
func ColumnsHTML(label string, c Columns) string {
	var b strings.Builder
	state := fmt.Sprintf("%d/%d tokens", c.Step, c.Settings.Tokens)
	if c.Done {
		state = fmt.Sprintf("%d tokens in %s", c.Settings.Tokens, c.Elapsed.Round(1e6))
	}
	fmt.Fprintf(&b, `<table class="actadd-explorer-columns" data-step="%d" data-done="%t" style="border-collapse:collapse;table-layout:fixed;width:100%%">`, c.Step, c.Done)
	fmt.Fprintf(&b, `<caption style="text-align:left;padding:4px">%s — seed %d, %s</caption>`, html.EscapeString(label), c.Settings.Seed, state)
	th := `<th style="text-align:left;border:1px solid #ccc;padding:4px">%s</th>`
	b.WriteString("<tr>")
	fmt.Fprintf(&b, th, "unsteered")
	fmt.Fprintf(&b, th, html.EscapeString("steered: "+c.Settings.Addition().String()))
	b.WriteString("</tr>")
	td := `<td class="%s" style="text-align:left;vertical-align:top;white-space:pre-wrap;border:1px solid #ccc;padding:4px"><b>%s</b>%s</td>`
	prompt := html.EscapeString(c.Settings.Prompt)
	for i := range c.Unsteered {
		b.WriteString("<tr>")
		fmt.Fprintf(&b, td, "unsteered", prompt, html.EscapeString(c.Unsteered[i]))
		fmt.Fprintf(&b, td, "steered", prompt, html.EscapeString(c.Steered[i]))
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return b.String()
}

// Plot size: small, beside the columns.
const (
	plotWidth  = 6 * vg.Inch
	plotHeight = 3.4 * vg.Inch
	plotDPI    = 96
)

// CurvePNG draws the curve's metric (Settings.Metric) against the layer, the steered means
// as a line with the current layer marked, the unsteered mean as a horizontal line. The title
// names the model and backend (label) and the sample.
func CurvePNG(model, backend string, c Curve) ([]byte, error) {
	metric := MetricByName(c.Settings.Metric)
	if metric == nil {
		return nil, fmt.Errorf("explorer: unknown metric %q", c.Settings.Metric)
	}
	means, base := c.Means(metric)
	sample := fmt.Sprintf("%d completions × %d tokens per layer", c.Settings.N, c.Settings.Tokens)
	if !c.Done {
		sample += fmt.Sprintf(" (%d/%d tokens so far)", c.Step, c.Settings.Tokens)
	}
	title := plots.Heading(fmt.Sprintf("%s vs layer, %+g·(%q − %q)", metric.Name, c.Settings.Coeff, c.Settings.Plus, c.Settings.Minus), model, backend, sample)
	p := plots.NewPlot(title, "layer", metric.Label)
	p.Title.TextStyle.Font.Size = vg.Points(10)
	xs := make([]float64, len(c.Layers))
	for i, l := range c.Layers {
		xs[i] = float64(l)
	}
	if err := plots.AddLine(p, plots.Series{Name: "steered", X: xs, Y: means}, 0); err != nil {
		return nil, err
	}
	for i, l := range c.Layers {
		if l == c.Settings.Layer {
			mark, err := plotter.NewScatter(plotter.XYs{{X: xs[i], Y: means[i]}})
			if err != nil {
				return nil, err
			}
			mark.Shape = draw.PyramidGlyph{}
			mark.Radius = vg.Points(6)
			mark.Color = color.RGBA{B: 200, A: 255}
			p.Add(mark)
			p.Legend.Add(fmt.Sprintf("layer %d (the columns)", l), mark)
		}
	}
	plots.AddHLine(p, base, "unsteered", plots.Gray)
	plots.Pad(p)
	p.Y.Min = 0 // counts per completion
	if p.Y.Max < 1 {
		p.Y.Max = 1
	}
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	return renderPNG(p.Draw)
}

// renderPNG draws at the explorer's plot size; gonum/plot's panics become errors.
func renderPNG(drawFn func(draw.Canvas)) (data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("explorer: drawing the plot failed: %v", r)
		}
	}()
	img := vgimg.NewWith(vgimg.UseWH(plotWidth, plotHeight), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))
	drawFn(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("explorer: encoding the plot: %w", err)
	}
	return buf.Bytes(), nil
}

// CurveHTML is the curve's plot as an inline image (data: URL), whose alt text holds the
// numbers.
func CurveHTML(model, backend string, c Curve) (string, error) {
	png, err := CurvePNG(model, backend, c)
	if err != nil {
		return "", err
	}
	metric := MetricByName(c.Settings.Metric)
	means, base := c.Means(metric)
	alt := fmt.Sprintf("%s per layer %v, unsteered %.3g", metric.Name, roundAll(means), base)
	return fmt.Sprintf(`<img class="actadd-explorer-plot" data-layer="%d" data-done="%t" alt="%s" src="data:image/png;base64,%s"/>`,
		c.Settings.Layer, c.Done, html.EscapeString(alt), base64.StdEncoding.EncodeToString(png)), nil
}

func roundAll(xs []float64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%.3g", x)
	}
	return out
}
