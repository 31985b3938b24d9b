package explorer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image/color"
	"strings"

	"github.com/actadd-go/actadd/plots"
	"gonum.org/v1/plot"
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
	td := `<td class="%s" style="text-align:left;vertical-align:top;white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid #ccc;padding:4px"><b>%s</b>%s</td>`
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

// Plot size: small enough to sit beside the columns on a notebook's page (Layout).
const (
	plotWidth  = 4.8 * vg.Inch
	plotHeight = 3.2 * vg.Inch
	plotDPI    = 96
)

// CurvePNG draws the curve's metric (Settings.Metric) against the layer, the steered means
// as a line with the current layer marked, the unsteered mean as a horizontal line. The title
// names the model and backend (label) and the sample.
func CurvePNG(model, backend string, c Curve) ([]byte, error) {
	p, err := curvePlot(model, backend, c)
	if err != nil {
		return nil, err
	}
	return renderPNG(p.Draw)
}

// curvePlot is CurvePNG's plot. Its title is the same while the curve is computed as when it is
// done (CurveHTML says how far it is), wrapped to the plot's width.
func curvePlot(model, backend string, c Curve) (*plot.Plot, error) {
	metric := MetricByName(c.Settings.Metric)
	if metric == nil {
		return nil, fmt.Errorf("explorer: unknown metric %q", c.Settings.Metric)
	}
	means, base := c.Means(metric)
	sample := fmt.Sprintf("%d completions × %d tokens per layer", c.Settings.N, c.Settings.Tokens)
	title := plots.Heading(fmt.Sprintf("%s vs layer, %+g·(%q − %q)", metric.Name, c.Settings.Coeff, c.Settings.Plus, c.Settings.Minus), model, backend, sample)
	p := plots.NewPlot(title, "layer", metric.Label)
	p.Title.TextStyle.Font.Size = vg.Points(10)
	p.Title.Text = wrap(p.Title.Text, plotWidth-2*vg.Points(titleMargin), p.Title.TextStyle.Width)
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
	return p, nil
}

// titleMargin is the room left on each side of the title.
const titleMargin = 6 // points

// wrap breaks each line of s at spaces so that no line is wider than width (as measured by
// widthOf), except a single word wider than that. gonum/plot draws a title as given, clipped
// at the canvas's edges; the figures of package plots wrap theirs when they are saved, which
// the explorer's live plot is not.
func wrap(s string, width vg.Length, widthOf func(string) vg.Length) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		cur := ""
		for _, w := range strings.Fields(line) {
			switch next := cur + " " + w; {
			case cur == "":
				cur = w
			case widthOf(next) <= width:
				cur = next
			default:
				out = append(out, cur)
				cur = w
			}
		}
		out = append(out, cur)
	}
	return strings.Join(out, "\n")
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
// numbers, with a line under it saying how far the curve is computed.
func CurveHTML(model, backend string, c Curve) (string, error) {
	png, err := CurvePNG(model, backend, c)
	if err != nil {
		return "", err
	}
	metric := MetricByName(c.Settings.Metric)
	means, base := c.Means(metric)
	alt := fmt.Sprintf("%s per layer %v, unsteered %.3g", metric.Name, roundAll(means), base)
	state := fmt.Sprintf("every layer: %d/%d tokens so far", c.Step, c.Settings.Tokens)
	if c.Done {
		state = fmt.Sprintf("every layer: %d tokens, done", c.Settings.Tokens)
	}
	return fmt.Sprintf(`<div class="actadd-explorer-plot-box"><img class="actadd-explorer-plot" data-layer="%d" data-done="%t" alt="%s" src="data:image/png;base64,%s" style="display:block"/>`+
		`<div class="actadd-explorer-plot-state" style="font-family:monospace;font-size:90%%">%s</div></div>`,
		c.Settings.Layer, c.Done, html.EscapeString(alt), base64.StdEncoding.EncodeToString(png), html.EscapeString(state)), nil
}

// Layout is where the live explorer's parts go on the page: the controls and, under them, the
// columns (their height bounded: they scroll), with the plot beside both; on a page too
// narrow for both, the plot goes under the columns. Its fields are the elements' ids.
type Layout struct {
	Root, Controls, Columns, Plot string
}

// ColumnsMaxHeight bounds the columns' height (CSS), so that the controls and the plot stay
// on screen together, whatever the number and length of the completions.
const ColumnsMaxHeight = "55vh"

// HTML is the layout's elements, empty.
func (l Layout) HTML() string {
	return fmt.Sprintf(`<div id="%s" class="actadd-explorer" style="display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-start">`+
		`<div style="flex:1 1 440px;min-width:0">`+
		`<div id="%s" class="actadd-explorer-controls" style="display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 12px;align-items:center"></div>`+
		`<div id="%s" class="actadd-explorer-columns-box" style="max-height:%s;overflow:auto;margin-top:8px"></div>`+
		`</div>`+
		`<div id="%s" class="actadd-explorer-plot-area" style="flex:0 0 auto;width:%dpx"></div>`+
		`</div>`, l.Root, l.Controls, l.Columns, ColumnsMaxHeight, l.Plot, int(plotWidth.Points()/vg.Inch.Points()*plotDPI+0.5))
}
func roundAll(xs []float64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%.3g", x)
	}
	return out
}
