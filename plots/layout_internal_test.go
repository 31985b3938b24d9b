package plots

import (
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The legend and the caption sit below every plot's canvas (so never over data or grid lines),
// the data areas of a plot and its panel span the same x range, and every text is at least
// CaptionSize points at the figure's single-column width.
func TestLayout(t *testing.T) {
	p := NewPlot("E0 a title long enough to be wrapped onto a second line — tiny random stand-in, not GPT-2, on go",
		"x\na caption that is long enough to wrap onto more than one line at the width of a single column of a paper", "y")
	for i := range 3 {
		if err := AddLine(p, Series{Name: "a series with a long name", X: []float64{1, 2, 30}, Y: []float64{float64(i), 2, 3}}, i); err != nil {
			t.Fatal(err)
		}
	}
	AddHLine(p, 1, "reference", Gray)
	Pad(p)
	panel := NewPlot("", "", "n")
	if err := CountPanel(panel, []float64{1, 2, 30}, []int{10, 2000, 3}); err != nil {
		t.Fatal(err)
	}
	l, restore := newLayout(p, []*plot.Plot{panel})
	defer restore()
	if len(l.caption) < 2 {
		t.Errorf("caption not wrapped: %q", l.caption)
	}
	img := vgimg.New(Width, l.height)
	pl := l.place(draw.New(img))
	for i, c := range pl.canvases {
		if pl.legend.Max.Y > c.Min.Y || pl.caption.Max.Y > pl.legend.Min.Y {
			t.Errorf("plot %d spans y %v..%v; the legend %v..%v and the caption %v..%v must lie below it, in that order",
				i, c.Min.Y, c.Max.Y, pl.legend.Min.Y, pl.legend.Max.Y, pl.caption.Min.Y, pl.caption.Max.Y)
		}
	}
	d0, d1 := pl.plots[0].DataCanvas(pl.canvases[0]), pl.plots[1].DataCanvas(pl.canvases[1])
	if diff := max(abs(d0.Min.X-d1.Min.X), abs(d0.Max.X-d1.Max.X)); diff > vg.Points(0.5) {
		t.Errorf("data areas span x %v..%v and %v..%v: not aligned", d0.Min.X, d0.Max.X, d1.Min.X, d1.Max.X)
	}
	if Width != 3.5*vg.Inch {
		t.Errorf("figures are %v wide, want a single column (3.5 in)", Width)
	}
	for name, size := range map[string]vg.Length{"title": p.Title.TextStyle.Font.Size, "x label": p.X.Label.TextStyle.Font.Size,
		"ticks": p.X.Tick.Label.Font.Size, "legend": l.legend.TextStyle.Font.Size, "caption": l.capSty.Font.Size} {
		if size < vg.Points(CaptionSize) {
			t.Errorf("%s text is %v, below %v pt", name, size, CaptionSize)
		}
	}
}

func abs(x vg.Length) vg.Length {
	if x < 0 {
		return -x
	}
	return x
}

// Titles and axis labels wrap between phrases where the same number of lines allows it.
func TestWrapPhrases(t *testing.T) {
	p := NewPlot("t", "x", "y")
	sty := p.Y.Label.TextStyle
	for _, c := range []struct {
		s     string
		width vg.Length
		want  string
	}{
		{"perplexity ratio exp(−X), X = mean Δ log-prob per token", PlotHeight, "perplexity ratio exp(−X),\nX = mean Δ log-prob per token"},
		{"premium: mean t_ActAdd / mean t_baseline − 1 (%)", PlotHeight, "premium:\nmean t_ActAdd / mean t_baseline − 1 (%)"},
		{"short label", PlotHeight, "short label"},
		{"one\ntwo three", PlotHeight, "one\ntwo three"},
	} {
		got := wrapPhrases(sty, c.s, c.width)
		if got != c.want {
			t.Errorf("wrapPhrases(%q) =\n%q, want\n%q (greedy: %q)", c.s, got, c.want, wrap(sty, c.s, c.width))
		}
		for _, line := range strings.Split(got, "\n") {
			if sty.Width(line) > c.width && strings.Contains(line, " ") {
				t.Errorf("line %q is wider than %v", line, c.width)
			}
		}
		if len(strings.Split(got, "\n")) != len(strings.Split(wrap(sty, c.s, c.width), "\n")) {
			t.Errorf("%q: %d lines, greedy wrapping needs %d", c.s, len(strings.Split(got, "\n")), len(strings.Split(wrap(sty, c.s, c.width), "\n")))
		}
	}
}
