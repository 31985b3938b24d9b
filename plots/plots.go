// Package plots renders the ActAdd experiments' figures with gonum.org/v1/plot, sized for a
// paper's single column, and saves each one as <name>.png, <name>.svg and <name>.pdf with a JSON
// sidecar <name>.json that records how it was made: experiment, model and revision, backend,
// seed, sample sizes, every parameter, the git commit of the code, the Go version, timings, the
// plotted numbers with their 95% intervals, and the SHA-256 of each file of the set (VerifySet).
//
// Every figure title names the model, the backend and the sample size (Heading). Results of the
// offline stand-in model "tiny" are titled "tiny random stand-in, not GPT-2", so that a figure
// can never pass for a GPT-2 result.
//
// Figures are Width wide (a single column of a two-column paper) with text of 6.5–8 points, so
// that they print at their size; the height grows with the title, the legend and the caption.
// Legends sit below the plot, never over data or grid lines. Estimates are drawn with their 95%
// interval as error bars (Series.Lo and Series.Hi), and the interval's method is named in the
// caption and the sidecar.
package plots

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/actadd-go/actadd/interval"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Sizes of every rendered figure: Width wide (a paper's single column), the data area of the
// main plot PlotHeight high and each panel below it PanelHeight high; PNGs at DPI dots per inch.
const (
	Width       = 3.5 * vg.Inch
	PlotHeight  = 2.2 * vg.Inch
	PanelHeight = 0.9 * vg.Inch
	DPI         = 300
)

// Font sizes: titles and axis labels, tick labels and legends, captions.
const (
	LabelSize   = 8
	TickSize    = 7
	CaptionSize = 6.5
)

// A figure's PDF depends on its content alone, as its PNG and SVG do: fpdf would stamp it with
// the time of writing and order its resource catalogs by map iteration. The sidecar records
// when the figure was made.
func init() {
	fixed := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	fpdf.SetDefaultCreationDate(fixed)
	fpdf.SetDefaultModificationDate(fixed)
	fpdf.SetDefaultCatalogSort(true)
}

// textFont is the typeface of every text: Liberation Sans, embedded in PDFs.
var textFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// StandInLabel is how figure titles name the offline stand-in model "tiny".
const StandInLabel = "tiny random stand-in, not GPT-2"

// IsTiny reports whether a model name (lm.Info.Name, or the name given to actadd.Load) is a
// random-weight stand-in: a stand-in's name ("tiny", "tiny-llama", …) or any name that says
// "random-weight", as the descriptions of the stand-ins and of every checkpoint written by
// checkpoint.WriteTiny do.
func IsTiny(model string) bool {
	return model == "tiny" || strings.HasPrefix(model, "tiny-") || strings.Contains(model, "random-weight")
}

// ModelLabel is the model name as figure titles print it: StandInLabel for the GPT-2-shaped
// stand-in "tiny" (loaded under its description "tiny (…)"), the name itself otherwise (other
// random-weight stand-ins already say what they are).
func ModelLabel(model string) string {
	if model == "tiny" || strings.HasPrefix(model, "tiny (") {
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

// NewPlot returns a plot with the given title and axis labels, in the figures' fonts. Lines of
// the x label after the first are a caption, set under the plot and the legend (Render). Long
// titles, labels and captions are wrapped to the figure's width when it is rendered.
func NewPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = strings.Replace(title, " — ", "\n", 1)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	setFonts(p)
	p.X.Tick.Marker = Ticks{}
	p.Y.Tick.Marker = Ticks{}
	p.Add(plotter.NewGrid())
	return p
}

// setFonts gives every text of p the figures' typeface and sizes.
func setFonts(p *plot.Plot) {
	at := func(sty *text.Style, size float64) { sty.Font = font.From(textFont, vg.Points(size)) }
	at(&p.Title.TextStyle, LabelSize)
	p.Title.Padding = vg.Points(4)
	at(&p.X.Label.TextStyle, LabelSize)
	at(&p.Y.Label.TextStyle, LabelSize)
	at(&p.X.Tick.Label, TickSize)
	at(&p.Y.Tick.Label, TickSize)
	at(&p.Legend.TextStyle, TickSize)
	p.Legend.ThumbnailWidth = vg.Points(16)
	p.Legend.Padding = vg.Points(1.5)
	p.Legend.Left, p.Legend.Top = true, true
}

// Ticks is gonum/plot's default ticker with labels printed with as many decimals as the tick
// spacing needs (the default rounds to at most a few significant digits, so that on a narrow
// range, ratios such as 0.99995 … 1.00002, a tick at 1.00002 reads "1"), and with a labelled
// tick at each reference value Ref in range (the ratio 1 of E1, the premium 0 of E4, see
// AddReference): where the default ticks skip such a value, they are moved to run through it,
// at the same spacing or the largest round step below it (down to a fifth) that leaves about
// as many labelled ticks (at least three, or as many as before) with labels at most a decimal
// longer, unless another reference value is labelled already; otherwise it is added as a tick
// of its own.
type Ticks struct {
	Ref []float64
}

// Ticks implements plot.Ticker.
func (t Ticks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	spacing := labelSpacing(ts)
	if math.IsInf(spacing, 1) || spacing == 0 {
		return ts
	}
	moved := false // a reference is labelled: the ticks stay where they are
	for _, ref := range t.Ref {
		moved = moved || (lo <= ref && ref <= hi && hasLabel(ts, ref, spacing))
	}
	for _, ref := range t.Ref {
		if ref < lo || ref > hi || hasLabel(ts, ref, spacing) {
			continue
		}
		var shifted []plot.Tick
		for _, step := range finerSteps(spacing) {
			c := shiftTicks(ts, lo, hi, ref, step)
			if n := labelCount(c); n >= min(3, labelCount(ts)) && n <= 2*labelCount(ts)+1 && labelDecimals(c, step) <= labelDecimals(ts, spacing)+1 {
				shifted = c
				break
			}
		}
		if !moved && shifted != nil {
			ts, moved = shifted, true
		} else {
			ts = append(ts, plot.Tick{Value: ref, Label: "ref"})
			slices.SortFunc(ts, func(a, b plot.Tick) int { return cmp.Compare(a.Value, b.Value) })
		}
	}
	dec := labelDecimals(ts, labelSpacing(ts))
	for i, tk := range ts {
		if tk.Label != "" {
			ts[i].Label = strconv.FormatFloat(tk.Value, 'f', dec, 64)
			if strings.Trim(ts[i].Label, "-0.") == "" {
				ts[i].Label = strings.TrimPrefix(ts[i].Label, "-")
			}
		}
	}
	return ts
}

// labelSpacing is the smallest distance between two labelled ticks (+Inf with fewer than two).
func labelSpacing(ts []plot.Tick) float64 {
	spacing, last := math.Inf(1), math.NaN()
	for _, t := range ts {
		if t.Label == "" {
			continue
		}
		if !math.IsNaN(last) {
			spacing = math.Min(spacing, math.Abs(t.Value-last))
		}
		last = t.Value
	}
	return spacing
}

// finerSteps are the spacings to try for ticks through a reference value: spacing itself, then
// the round steps (1, 2, 2.5 or 5 times a power of ten) below it down to a fifth of it, largest
// first.
func finerSteps(spacing float64) []float64 {
	out := []float64{spacing}
	e := math.Pow(10, math.Floor(math.Log10(spacing)))
	for _, p := range []float64{e, e / 10} {
		for _, m := range []float64{5, 2.5, 2, 1} {
			if step := m * p; step < spacing*(1-1e-9) && step >= spacing/5*(1-1e-9) {
				out = append(out, step)
			}
		}
	}
	return out
}

// labelCount is the number of labelled ticks of ts.
func labelCount(ts []plot.Tick) int {
	n := 0
	for _, t := range ts {
		if t.Label != "" {
			n++
		}
	}
	return n
}

// hasLabel reports whether a labelled tick sits at v.
func hasLabel(ts []plot.Tick, v, spacing float64) bool {
	for _, t := range ts {
		if t.Label != "" && math.Abs(t.Value-v) <= spacing*1e-9 {
			return true
		}
	}
	return false
}

// shiftTicks is ts moved to run through ref: labelled ticks every spacing, and unlabelled ones
// between them about as close as ts's, within [lo, hi]; nil when fewer than two labelled ticks
// fit.
func shiftTicks(ts []plot.Tick, lo, hi, ref, spacing float64) []plot.Tick {
	minor := spacing
	for i := 1; i < len(ts); i++ {
		if d := math.Abs(ts[i].Value - ts[i-1].Value); d > spacing*1e-9 {
			minor = math.Min(minor, d)
		}
	}
	per := max(1, int(math.Round(spacing/minor))) // ticks per labelled interval
	step := spacing / float64(per)
	var out []plot.Tick
	labels := 0
	for j := int(math.Ceil((lo-ref)/step - 1e-9)); ; j++ {
		v := ref + float64(j)*step
		if v > hi+step*1e-9 {
			break
		}
		if j%per == 0 {
			out = append(out, plot.Tick{Value: v, Label: "ref"})
			labels++
		} else {
			out = append(out, plot.Tick{Value: v})
		}
	}
	if labels < 2 {
		return nil
	}
	return out
}

// labelDecimals is the number of decimals that print every labelled tick of ts exactly (to
// within a millionth of the spacing), at least as many as the spacing needs.
func labelDecimals(ts []plot.Tick, spacing float64) int {
	dec := max(0, int(-math.Floor(math.Log10(spacing))))
	for ; dec < 15; dec++ {
		exact := true
		for _, t := range ts {
			if t.Label != "" {
				r, _ := strconv.ParseFloat(strconv.FormatFloat(t.Value, 'f', dec, 64), 64)
				exact = exact && math.Abs(r-t.Value) <= spacing*1e-6
			}
		}
		if exact {
			break
		}
	}
	return dec
}

// LogX switches the x axis to a log scale with labelled powers of ten. Every x value must
// be positive. Keep the x axis label short: gonum/plot places it at the axis's arithmetic
// midpoint, far to the right on a log scale, and narrows the plot to fit a long one there.
func LogX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
}

// AddLine adds s as a line with point markers, in the i-th style of the palette, with its
// name in the legend, and its 95% intervals (s.Lo, s.Hi) as error bars.
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
	l.Width = vg.Points(1)
	sc.Color = plotutil.Color(i)
	sc.Shape = plotutil.Shape(i)
	sc.Radius = vg.Points(2)
	p.Add(l, sc)
	if err := addErrorBars(p, s, i); err != nil {
		return err
	}
	if s.Name != "" {
		p.Legend.Add(s.Name, l, sc)
	}
	return nil
}

// AddPoints adds s as markers only (e.g. per-seed measurements), in the i-th palette style,
// with its intervals as error bars.
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
	sc.Radius = vg.Points(1.5)
	p.Add(sc)
	if err := addErrorBars(p, s, i); err != nil {
		return err
	}
	if s.Name != "" {
		p.Legend.Add(s.Name, sc)
	}
	return nil
}

// errorBars are the points of a series that have an interval.
type errorBars struct {
	plotter.XYs
	lo, hi []float64 // distances below and above the point
}

func (e errorBars) YError(i int) (float64, float64) { return e.lo[i], e.hi[i] }

// addErrorBars draws s's intervals, if it has any, as error bars in the i-th palette colour.
// Points whose interval is undefined (NaN ends) get no bar.
func addErrorBars(p *plot.Plot, s Series, i int) error {
	if s.Lo == nil && s.Hi == nil {
		return nil
	}
	if len(s.Lo) != len(s.X) || len(s.Hi) != len(s.X) {
		return fmt.Errorf("plots: series %q has %d points but %d lower and %d upper interval ends", s.Name, len(s.X), len(s.Lo), len(s.Hi))
	}
	var bars errorBars
	for j := range s.X {
		lo, hi := s.Lo[j], s.Hi[j]
		if math.IsNaN(lo) || math.IsNaN(hi) {
			continue
		}
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo > s.Y[j] || hi < s.Y[j] {
			return fmt.Errorf("plots: series %q: interval [%v, %v] does not hold its point %v at %d", s.Name, lo, hi, s.Y[j], j)
		}
		bars.XYs = append(bars.XYs, plotter.XY{X: s.X[j], Y: s.Y[j]})
		bars.lo, bars.hi = append(bars.lo, s.Y[j]-lo), append(bars.hi, hi-s.Y[j])
	}
	if len(bars.XYs) == 0 {
		return nil
	}
	eb, err := plotter.NewYErrorBars(bars)
	if err != nil {
		return fmt.Errorf("plots: intervals of series %q: %w", s.Name, err)
	}
	eb.Color = plotutil.Color(i)
	eb.Width = vg.Points(0.8)
	eb.CapWidth = vg.Points(4)
	p.Add(eb)
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
			l.TextStyle[i].Font = font.From(textFont, vg.Points(CaptionSize))
		}
		l.Offset = vg.Point{X: side.dx, Y: vg.Points(4)}
		p.Add(l)
	}
	return nil
}

// CountPanel draws, on a panel to go below a figure's plot (NewFigure's below), the number of
// observations behind each point (e.g. documents per relevance bin) as stems on a log axis, each
// labelled with its count. Counts must be positive.
func CountPanel(p *plot.Plot, xs []float64, counts []int) error {
	if len(xs) != len(counts) {
		return fmt.Errorf("plots: %d x values but %d counts", len(xs), len(counts))
	}
	s := Series{X: xs}
	for i, n := range counts {
		if n <= 0 {
			return fmt.Errorf("plots: count %d at x = %g: a log axis needs positive counts", n, xs[i])
		}
		s.Y = append(s.Y, float64(n))
		s.Labels = append(s.Labels, strconv.Itoa(n))
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = countTicks{}
	xys, err := s.xys()
	if err != nil {
		return err
	}
	lo := float64(counts[0])
	for _, n := range counts {
		lo = math.Min(lo, float64(n))
	}
	base := math.Pow(10, math.Floor(math.Log10(lo)))
	for _, xy := range xys {
		stem, err := plotter.NewLine(plotter.XYs{{X: xy.X, Y: base}, xy})
		if err != nil {
			return err
		}
		stem.Color, stem.Width = Gray, vg.Points(1.5)
		p.Add(stem)
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	sc.Color, sc.Radius = Gray, vg.Points(1.5)
	p.Add(sc)
	if err := AddLabels(p, s); err != nil {
		return err
	}
	p.Y.Min = base
	padAxis(&p.Y, 0, 0.45) // room for the labels above the tallest stem
	return nil
}

// countTicks labels the powers of ten of a log axis of counts compactly: 1, 10, 100, 1k, 10k,
// 100k, 1M, …
type countTicks struct{}

// Ticks implements plot.Ticker.
func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		v := math.Pow(10, e)
		if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
			continue
		}
		label := strconv.FormatFloat(v, 'f', -1, 64)
		for _, u := range []struct {
			div    float64
			suffix string
		}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
			if v >= u.div {
				label = strconv.FormatFloat(v/u.div, 'f', -1, 64) + u.suffix
				break
			}
		}
		ts = append(ts, plot.Tick{Value: v, Label: label})
	}
	return ts
}

// AddHLine adds a dashed horizontal line at y across the whole x range, named in the legend
// when name is not empty. The y axis is widened to show it.
func AddHLine(p *plot.Plot, y float64, name string, c color.Color) {
	f := plotter.NewFunction(func(float64) float64 { return y })
	f.Color = c
	f.Width = vg.Points(1)
	f.Dashes = []vg.Length{vg.Points(4), vg.Points(2.5)}
	h := &hline{Function: f, lo: y, hi: y}
	p.Add(h)
	if name != "" {
		p.Legend.Add(name, h)
	}
}

// AddReference adds a dashed horizontal line at a reference value y (a ratio of 1, a premium of
// 0), as AddHLine does, and gives the y axis a labelled tick at y (see Ticks).
func AddReference(p *plot.Plot, y float64, name string, c color.Color) {
	AddHLine(p, y, name, c)
	if t, ok := p.Y.Tick.Marker.(Ticks); ok {
		t.Ref = append(slices.Clone(t.Ref), y)
		p.Y.Tick.Marker = t
	}
}

// AddBand shades the 95% interval of a reference estimate across the whole x range (nothing
// when the interval is undefined). Plotters are drawn in the order they are added: add the band
// before the data, and the estimate's line (AddHLine) after.
func AddBand(p *plot.Plot, e interval.Estimate) {
	if e.Defined() {
		p.Add(&hband{lo: e.Lo, hi: e.Hi, color: color.Gray{Y: 225}})
	}
}

// hline is a horizontal line that takes part in the y range but not in the x range.
type hline struct {
	*plotter.Function
	lo, hi float64
}

func (h *hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.lo, h.hi
}

// hband fills the data area between two y values, across the whole x range.
type hband struct {
	lo, hi float64
	color  color.Color
}

func (b *hband) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	lo, hi := max(trY(b.lo), c.Min.Y), min(trY(b.hi), c.Max.Y)
	if hi <= lo {
		return
	}
	var path vg.Path
	path.Move(vg.Point{X: c.Min.X, Y: lo})
	path.Line(vg.Point{X: c.Max.X, Y: lo})
	path.Line(vg.Point{X: c.Max.X, Y: hi})
	path.Line(vg.Point{X: c.Min.X, Y: hi})
	path.Close()
	c.SetColor(b.color)
	c.Fill(path)
}

func (b *hband) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), b.lo, b.hi
}

// Pad widens the axes' ranges around the data already added to p by 4% of the span on each
// side of x and 6% on each side of y, so that no point sits on the frame. A range of a single
// value is widened around it. Call it after adding every plotter and setting any fixed limits,
// just before NewFigure.
func Pad(p *plot.Plot) {
	PadX(p)
	padAxis(&p.Y, 0.06, 0.06)
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

// Render draws p, with the panels below it (sharing its x axis, e.g. the counts behind its
// points), Width wide as PNG (at DPI), SVG and PDF (fonts embedded, every character of every
// text readable from the PDF as itself). Titles, axis labels and
// the caption (the x label's lines after the first) are wrapped to the width; the legend goes
// under the plot, left-aligned, and the caption under the legend. With panels, the x label is
// drawn under the last panel. Drawing errors, including gonum/plot's panics (e.g. a
// non-positive value on a log axis), are returned.
func Render(p *plot.Plot, below ...*plot.Plot) (pngData, svgData, pdfData []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			pngData, svgData, pdfData, err = nil, nil, nil, fmt.Errorf("plots: drawing %q failed: %v (check the data: log axes need positive values)", p.Title.Text, r)
		}
	}()
	l, restore := newLayout(p, below)
	defer restore()
	img := vgimg.NewWith(vgimg.UseWH(Width, l.height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	l.draw(draw.New(img))
	var pngBuf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pngBuf); err != nil {
		return nil, nil, nil, fmt.Errorf("plots: encoding PNG: %w", err)
	}
	svg := vgsvg.New(Width, l.height)
	l.draw(draw.New(svg))
	var svgBuf bytes.Buffer
	if _, err := svg.WriteTo(&svgBuf); err != nil {
		return nil, nil, nil, fmt.Errorf("plots: encoding SVG: %w", err)
	}
	pdf := newPDFCanvas(Width, l.height)
	l.draw(draw.New(pdf))
	var pdfBuf bytes.Buffer
	if _, err := pdf.WriteTo(&pdfBuf); err != nil {
		return nil, nil, nil, fmt.Errorf("plots: encoding PDF: %w", err)
	}
	return pngBuf.Bytes(), svgBuf.Bytes(), pdfBuf.Bytes(), nil
}

// layout is a figure's plots and texts placed on a page Width wide and height high, from the
// top: the main plot (with its title), the panels, the legend, the caption.
type layout struct {
	main    *plot.Plot
	below   []*plot.Plot
	legend  plot.Legend
	caption []string
	capSty  text.Style
	mainH   vg.Length // the main plot's height, title and axes included
	panelH  vg.Length // each panel's height, axes included
	legendH vg.Length
	height  vg.Length
}

// pad is the space between the parts of a figure and around it.
const pad = 4

// newLayout wraps p's texts to the width, takes its legend and caption out of it, and sizes the
// parts; restore puts p and the panels back as they were.
func newLayout(p *plot.Plot, below []*plot.Plot) (*layout, func()) {
	l := &layout{main: p, below: below, legend: p.Legend}
	title, xLabel, yLabel := p.Title.Text, p.X.Label.Text, p.Y.Label.Text
	lastX := p.X.Label.Text
	if len(below) > 0 {
		lastX = below[len(below)-1].X.Label.Text
	}
	restore := func() {
		p.Title.Text, p.X.Label.Text, p.Y.Label.Text, p.Legend = title, xLabel, yLabel, l.legend
		if len(below) > 0 {
			below[len(below)-1].X.Label.Text = lastX
		}
	}
	// The PNG rasterizer rounds each glyph's advance to whole pixels, which can make a line a few
	// percent wider than the font's metrics say: wrap with that much to spare.
	inner := (Width - 2*vg.Points(pad)) * 0.94
	p.Title.Text = wrapPhrases(p.Title.TextStyle, title, inner)
	axis, caption, _ := strings.Cut(xLabel, "\n")
	p.X.Label.Text = wrapPhrases(p.X.Label.TextStyle, axis, inner)
	p.Y.Label.Text = wrapPhrases(p.Y.Label.TextStyle, yLabel, PlotHeight)
	for _, b := range below { // panels share the main plot's x axis
		setFonts(b)
		b.X.Min, b.X.Max, b.X.Scale, b.X.Tick.Marker = p.X.Min, p.X.Max, p.X.Scale, p.X.Tick.Marker
		b.Y.Label.Text = wrapPhrases(b.Y.Label.TextStyle, b.Y.Label.Text, PanelHeight)
	}
	if len(below) > 0 { // the x label goes under the last panel
		below[len(below)-1].X.Label.Text, p.X.Label.Text = p.X.Label.Text, ""
	}
	l.capSty = p.X.Label.TextStyle
	l.capSty.Font.Size = vg.Points(CaptionSize)
	if caption != "" {
		l.caption = strings.Split(wrap(l.capSty, caption, inner), "\n")
	}
	p.Legend = plot.Legend{TextStyle: l.legend.TextStyle, ThumbnailWidth: l.legend.ThumbnailWidth} // no entries: drawn apart
	l.legendH = l.legend.Rectangle(draw.Canvas{}).Size().Y
	if l.legendH > 0 {
		l.legendH += vg.Points(pad)
	}
	axisH := func(q *plot.Plot) vg.Length { // what a plot needs besides its data area
		c := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: Width, Y: 10 * vg.Inch}}}
		return c.Max.Y - q.DataCanvas(c).Size().Y
	}
	l.mainH = PlotHeight + axisH(p)
	if len(below) > 0 {
		l.panelH = PanelHeight + axisH(below[len(below)-1])
	}
	l.height = 2*vg.Points(pad) + l.mainH + vg.Length(len(below))*l.panelH + l.legendH + l.captionH()
	return l, restore
}

func (l *layout) captionH() vg.Length {
	if len(l.caption) == 0 {
		return 0
	}
	return vg.Length(len(l.caption))*l.lineH() + vg.Points(pad)
}

func (l *layout) lineH() vg.Length { return l.capSty.FontExtents().Height }

// draw draws the figure on c.
func (l *layout) draw(c draw.Canvas) {
	pl := l.place(c)
	for i, q := range pl.plots {
		q.Draw(pl.canvases[i])
	}
	if l.legendH > 0 {
		l.legend.Draw(pl.legend)
	}
	sty := l.capSty
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	for i, line := range l.caption {
		pl.caption.FillText(sty, vg.Point{X: pl.caption.Min.X, Y: pl.caption.Max.Y - vg.Points(pad) - vg.Length(i)*l.lineH()}, line)
	}
}

// placement is where the parts of a figure go on a canvas.
type placement struct {
	plots           []*plot.Plot
	canvases        []draw.Canvas // each plot's, cropped so that all data areas span the same x range
	legend, caption draw.Canvas
}

// place cuts c into the parts of the figure, from the top: the main plot, the panels, the
// legend (left-aligned with the data areas), the caption.
func (l *layout) place(c draw.Canvas) placement {
	c = draw.Crop(c, vg.Points(pad), -vg.Points(pad), vg.Points(pad), -vg.Points(pad))
	top := c.Max.Y
	slot := func(h vg.Length) draw.Canvas {
		s := c
		s.Max.Y, s.Min.Y = top, top-h
		top -= h
		return s
	}
	pl := placement{plots: []*plot.Plot{l.main}, canvases: []draw.Canvas{slot(l.mainH)}}
	for _, b := range l.below {
		pl.plots, pl.canvases = append(pl.plots, b), append(pl.canvases, slot(l.panelH))
	}
	// gonum/plot pads a data area for the glyphs at its edges, by amounts that depend on the
	// canvas: a few rounds of cropping bring every data area to the common one.
	left, right := c.Min.X, c.Max.X
	for range 4 {
		for i, q := range pl.plots {
			d := q.DataCanvas(pl.canvases[i])
			left, right = max(left, d.Min.X), min(right, d.Max.X)
		}
		for i, q := range pl.plots {
			d := q.DataCanvas(pl.canvases[i])
			pl.canvases[i].Min.X += left - d.Min.X
			pl.canvases[i].Max.X -= d.Max.X - right
		}
	}
	pl.legend = slot(l.legendH)
	pl.legend.Min.X = left
	pl.legend.Max.Y -= vg.Points(pad)
	pl.caption = slot(l.captionH())
	return pl
}

// wrap breaks s into lines no wider than width in style sty, at spaces (keeping its own line
// breaks), filling each line before the next (for captions); a word wider than width stays
// whole on its line. gonum/plot draws text as given.
func wrap(sty text.Style, s string, width vg.Length) string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case sty.Width(line+" "+w) <= width:
				line += " " + w
			default:
				out = append(out, line)
				line = w
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// wrapPhrases breaks s as wrap does, for titles and axis labels: into as few lines as wrap
// would, then, among the ways of doing so, breaking between phrases (after ",", ";" or ":",
// around a dash, before "vs" or a closing parenthetical such as a unit, "(%)") rather than
// inside one ("… X = mean Δ | log-prob per token"), and with lines of even width.
func wrapPhrases(sty text.Style, s string, width vg.Length) string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, breakPhrases(sty, strings.Fields(para), width)...)
	}
	return strings.Join(out, "\n")
}

// breakPhrases is wrapPhrases for one paragraph of words, by dynamic programming over the
// break points: the best way to set words[:j] is the best way to set words[:i] and a line
// words[i:j], for the best i.
func breakPhrases(sty text.Style, words []string, width vg.Length) []string {
	if len(words) == 0 {
		return []string{""}
	}
	type cost struct {
		lines, inPhrase int
		ragged          float64 // Σ (width − line width)², in points²
	}
	less := func(a, b cost) bool {
		if a.lines != b.lines {
			return a.lines < b.lines
		}
		if a.inPhrase != b.inPhrase {
			return a.inPhrase < b.inPhrase
		}
		return a.ragged < b.ragged
	}
	n := len(words)
	unit := -1 // where a closing parenthetical starts, e.g. "(%)" or "(nats/token)"
	if strings.HasSuffix(words[n-1], ")") {
		for i := n - 1; i >= 0; i-- {
			if strings.HasPrefix(words[i], "(") {
				unit = i
				break
			}
		}
	}
	between := func(j int) bool { // a break before words[j] falls between phrases
		prev, next := words[j-1], words[j]
		return strings.HasSuffix(prev, ",") || strings.HasSuffix(prev, ";") || strings.HasSuffix(prev, ":") ||
			j == unit || next == "vs" || next == "—" || next == "–" || prev == "—" || prev == "–"
	}
	best, from := make([]cost, n+1), make([]int, n+1)
	for j := 1; j <= n; j++ {
		best[j] = cost{lines: math.MaxInt}
		for i := j - 1; i >= 0; i-- {
			w := sty.Width(strings.Join(words[i:j], " "))
			if w > width && i < j-1 {
				break // longer lines are wider still
			}
			c := best[i]
			c.lines++
			if i > 0 && !between(i) {
				c.inPhrase++
			}
			slack := math.Max(0, (width - w).Points())
			c.ragged += slack * slack
			if best[j].lines == math.MaxInt || less(c, best[j]) {
				best[j], from[j] = c, i
			}
		}
	}
	var lines []string
	for j := n; j > 0; j = from[j] {
		lines = append([]string{strings.Join(words[from[j]:j], " ")}, lines...)
	}
	return lines
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
