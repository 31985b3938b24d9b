// Package plots renders the ActAdd experiments' figures with gonum.org/v1/plot and saves each
// one as <name>.png, <name>.svg and a JSON sidecar <name>.json that records how it was made:
// experiment, model and revision, backend, seed, sample sizes, every parameter, the git commit
// of the code, the Go version, timings and the plotted numbers themselves.
//
// Every figure title names the model, the backend and the sample size (Heading). Results of the
// offline stand-in model "tiny" are titled "tiny random stand-in, not GPT-2", so that a figure
// can never pass for a GPT-2 result.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The fixed size of every rendered figure: Width × Height, PNGs at DPI dots per inch
// (1080 × 660 pixels).
const (
	Width  = 9 * vg.Inch
	Height = 5.5 * vg.Inch
	DPI    = 120
)

// StandInLabel is how figure titles name the offline stand-in model "tiny".
const StandInLabel = "tiny random stand-in, not GPT-2"

// IsTiny reports whether a model name (gpt2.Model.Name or the name given to actadd.Load) is a
// random-weight stand-in: "tiny", or any checkpoint written by checkpoint.WriteTiny, whose
// name ends in ", not GPT-2".
func IsTiny(model string) bool {
	return model == checkpoint.TinyName || model == checkpoint.TinyDescription || strings.HasSuffix(model, ", not GPT-2")
}

// ModelLabel is the model name as figure titles print it: StandInLabel for the tiny stand-in,
// the name itself otherwise (other random-weight stand-ins already say they are not GPT-2).
func ModelLabel(model string) string {
	if model == checkpoint.TinyName || model == checkpoint.TinyDescription {
		return StandInLabel
	}
	return model
}

// Heading is a figure title: what is plotted, then the model (see ModelLabel), the backend and
// the sample size, e.g.
//
//	E2 wedding words vs layer — gpt2-xl on xla:cuda, 200 completions/setting
//	E2 wedding words vs layer — tiny random stand-in, not GPT-2, on go, 4 completions/setting
func Heading(what, model, backend, sample string) string {
	h := fmt.Sprintf("%s — %s on %s", what, ModelLabel(model), backend)
	if IsTiny(model) {
		h = fmt.Sprintf("%s — %s, on %s", what, ModelLabel(model), backend)
	}
	if sample != "" {
		h += ", " + sample
	}
	return h
}

// NewPlot returns a plot with the given title and axis labels and a legend in the top right.
// A title of the form "what — who" (as Heading makes) is set on two lines, to fit the width.
func NewPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = strings.Replace(title, " — ", "\n", 1)
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	p.X.Tick.Marker = Ticks{}
	p.Y.Tick.Marker = Ticks{}
	p.Add(plotter.NewGrid())
	return p
}

// Ticks is gonum/plot's default ticker with labels printed with as many decimals as the tick
// spacing needs: the default rounds to at most a few significant digits, so that on a narrow
// range (ratios such as 0.99995 … 1.00002) a tick at 1.00002 reads "1".
type Ticks struct{}

// Ticks implements plot.Ticker.
func (Ticks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	var vals []float64
	for _, t := range ts {
		if t.Label != "" {
			vals = append(vals, t.Value)
		}
	}
	spacing := math.Inf(1)
	for i := 1; i < len(vals); i++ {
		spacing = math.Min(spacing, math.Abs(vals[i]-vals[i-1]))
	}
	if math.IsInf(spacing, 1) || spacing == 0 {
		return ts
	}
	dec := max(0, int(-math.Floor(math.Log10(spacing))))
	for ; dec < 15; dec++ {
		exact := true
		for _, v := range vals {
			r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', dec, 64), 64)
			exact = exact && math.Abs(r-v) <= spacing*1e-6
		}
		if exact {
			break
		}
	}
	for i, t := range ts {
		if t.Label != "" {
			ts[i].Label = strconv.FormatFloat(t.Value, 'f', dec, 64)
			if ts[i].Label == "-0" || strings.Trim(ts[i].Label, "-0.") == "" {
				ts[i].Label = strings.TrimPrefix(ts[i].Label, "-")
			}
		}
	}
	return ts
}

// LogX switches the x axis to a log scale with labelled powers of ten. Every x value must
// be positive.
func LogX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
}

// AddLine adds s as a line with point markers, in the i-th style of the palette, with its
// name in the legend.
func AddLine(p *plot.Plot, s Series, i int) error {
	xys, err := s.xys()
	if err != nil {
		return err
	}
	l, sc, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("plots: series %q: %w", s.Name, err)
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	sc.Color = plotutil.Color(i)
	sc.Shape = plotutil.Shape(i)
	p.Add(l, sc)
	if s.Name != "" {
		p.Legend.Add(s.Name, l, sc)
	}
	return nil
}

// AddPoints adds s as markers only (e.g. per-seed measurements), in the i-th palette style.
func AddPoints(p *plot.Plot, s Series, i int) error {
	xys, err := s.xys()
	if err != nil {
		return err
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return fmt.Errorf("plots: series %q: %w", s.Name, err)
	}
	sc.Color = plotutil.Color(i)
	sc.Shape = plotutil.Shape(i)
	p.Add(sc)
	if s.Name != "" {
		p.Legend.Add(s.Name, sc)
	}
	return nil
}

// AddLabels writes each point's label (s.Labels[i]) next to the point (s.X[i], s.Y[i]), a
// little above it, so that points can be told apart in the image (e.g. the model shape of each
// point): to the right of points in the left half of the series' x range, to the left of the
// others, so that labels stay inside the plot.
func AddLabels(p *plot.Plot, s Series) error {
	xys, err := s.xys()
	if err != nil {
		return err
	}
	if len(s.Labels) != len(xys) {
		return fmt.Errorf("plots: series %q has %d points but %d labels", s.Name, len(xys), len(s.Labels))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xy := range xys {
		lo, hi = math.Min(lo, xy.X), math.Max(hi, xy.X)
	}
	var left, right plotter.XYLabels // labels left and right of their points
	for i, xy := range xys {
		side := &right
		if lo < hi && p.X.Scale.Normalize(lo, hi, xy.X) > 0.5 {
			side = &left
		}
		side.XYs = append(side.XYs, xy)
		side.Labels = append(side.Labels, s.Labels[i])
	}
	for _, side := range []struct {
		labels plotter.XYLabels
		dx     vg.Length
		align  text.XAlignment
	}{{right, vg.Points(6), text.XLeft}, {left, vg.Points(-6), text.XRight}} {
		if len(side.labels.XYs) == 0 {
			continue
		}
		l, err := plotter.NewLabels(side.labels)
		if err != nil {
			return fmt.Errorf("plots: labels of series %q: %w", s.Name, err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = side.align
		}
		l.Offset = vg.Point{X: side.dx, Y: vg.Points(4)}
		p.Add(l)
	}
	return nil
}

// AddHLine adds a dashed horizontal line at y across the whole x range, named in the legend
// when name is not empty. The y axis is widened to show it.
func AddHLine(p *plot.Plot, y float64, name string, c color.Color) {
	f := plotter.NewFunction(func(float64) float64 { return y })
	f.Color = c
	f.Width = vg.Points(1.5)
	f.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	h := &hline{Function: f, y: y}
	p.Add(h)
	if name != "" {
		p.Legend.Add(name, h)
	}
}

// hline is a horizontal line that takes part in the y range but not in the x range.
type hline struct {
	*plotter.Function
	y float64
}

func (h *hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.y, h.y
}

// Pad widens the axes' ranges around the data already added to p: 4% of the span on each side
// of x, 5% below y and 25% above it, so that no point sits on the frame and the legend (top)
// has room. A range of a single value is widened around it. Call it after adding every
// plotter and setting any fixed limits, just before NewFigure.
func Pad(p *plot.Plot) {
	PadX(p)
	padAxis(&p.Y, 0.05, 0.25)
}

// PadX is Pad for the x axis only: for plots whose y range is fixed (e.g. a fraction in [0, 1]).
func PadX(p *plot.Plot) { padAxis(&p.X, 0.04, 0.04) }

func padAxis(a *plot.Axis, below, above float64) {
	lo, hi := a.Min, a.Max
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		return
	}
	if _, isLog := a.Scale.(plot.LogScale); isLog {
		if lo <= 0 {
			return // Render reports the bad value
		}
		l, h := math.Log10(lo), math.Log10(hi)
		span := h - l
		if span == 0 {
			span = 1
		}
		a.Min, a.Max = math.Pow(10, l-below*span), math.Pow(10, h+above*span)
		return
	}
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(lo), 1)
	}
	a.Min, a.Max = lo-below*span, hi+above*span
}

// Gray is the colour of reference lines.
var Gray = color.Gray{Y: 96}

// Render draws p at the fixed size (Width × Height) as PNG (at DPI) and SVG. Drawing errors,
// including gonum/plot's panics (e.g. a non-positive value on a log axis), are returned.
func Render(p *plot.Plot) (pngData, svgData []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			pngData, svgData, err = nil, nil, fmt.Errorf("plots: drawing %q failed: %v (check the data: log axes need positive values)", p.Title.Text, r)
		}
	}()
	// gonum/plot shrinks the data area when the x label has lines of different widths, so only
	// the first line stays the axis label and the others are drawn as a caption under the plot.
	label := p.X.Label.Text
	first, caption, _ := strings.Cut(label, "\n")
	p.X.Label.Text = first
	defer func() { p.X.Label.Text = label }()
	drawAll := func(c draw.Canvas) {
		if caption == "" {
			p.Draw(c)
			return
		}
		sty := p.X.Label.TextStyle
		lines := strings.Split(caption, "\n")
		lineH := sty.Font.Size * 1.3
		p.Draw(draw.Crop(c, 0, 0, lineH*vg.Length(len(lines))+vg.Points(4), 0))
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
		for i, l := range lines {
			y := c.Min.Y + vg.Points(2) + lineH*vg.Length(len(lines)-1-i)
			c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: y}, l)
		}
	}
	img := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	drawAll(draw.New(img))
	var pngBuf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pngBuf); err != nil {
		return nil, nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	svg := vgsvg.New(Width, Height)
	drawAll(draw.New(svg))
	var svgBuf bytes.Buffer
	if _, err := svg.WriteTo(&svgBuf); err != nil {
		return nil, nil, fmt.Errorf("plots: encoding SVG: %w", err)
	}
	return pngBuf.Bytes(), svgBuf.Bytes(), nil
}

// xys checks a series and converts it for gonum/plot.
func (s Series) xys() (plotter.XYs, error) {
	if len(s.X) != len(s.Y) {
		return nil, fmt.Errorf("plots: series %q has %d x values but %d y values", s.Name, len(s.X), len(s.Y))
	}
	xys := make(plotter.XYs, len(s.X))
	for i := range s.X {
		if math.IsNaN(s.X[i]) || math.IsNaN(s.Y[i]) || math.IsInf(s.X[i], 0) || math.IsInf(s.Y[i], 0) {
			return nil, fmt.Errorf("plots: series %q has a non-finite point (%v, %v) at %d", s.Name, s.X[i], s.Y[i], i)
		}
		xys[i] = plotter.XY{X: s.X[i], Y: s.Y[i]}
	}
	return xys, nil
}
