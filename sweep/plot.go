package sweep

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/actadd-go/actadd/interval"
	"github.com/actadd-go/actadd/plots"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
)

// Axis is what a plot of a sweep puts on its x axis.
type Axis int

const (
	ByLayer Axis = iota // the injection layer
	ByCoeff             // the coefficient
)

func (a Axis) String() string {
	if a == ByCoeff {
		return "coefficient c"
	}
	return "injection layer"
}

// x is a setting's value on the axis.
func (a Axis) x(s Setting) float64 {
	if a == ByCoeff {
		return s.Coeff
	}
	return float64(s.Layer)
}

// spacing is the smallest gap between two values on the axis (1 with fewer than two).
func (a Axis) spacing(settings []SettingResult) float64 {
	var xs []float64
	for _, s := range settings {
		if s.Steered {
			xs = append(xs, a.x(s.Setting))
		}
	}
	slices.Sort(xs)
	gap := math.Inf(1)
	for i := 1; i < len(xs); i++ {
		if d := xs[i] - xs[i-1]; d > 0 {
			gap = math.Min(gap, d)
		}
	}
	if math.IsInf(gap, 1) {
		return 1
	}
	return gap
}

// line is a setting's line in a plot by a: the other swept values.
func (a Axis) line(s Setting) string {
	other := fmt.Sprintf("layer %d", s.Layer)
	if a == ByLayer {
		other = fmt.Sprintf("c=%g", s.Coeff)
	}
	return fmt.Sprintf("%s, %s\x00%s", s.Addition, other, s.Prompt)
}

// Plot draws metric against the layer or the coefficient: one line per combination of the
// other swept values (addition, coefficient or layer, prompt), each point with its 95% interval
// as an error bar (lines offset sideways when there are several), and each prompt's unsteered
// setting as a dashed line over a band of its interval. It returns the plot and the plotted
// series (at their true x; the baselines as single points at x = -1), for a figure's sidecar.
// The title names the model and the sample size; the caption (the x label's second line) names
// the interval's method and the offset.
func (r *Result) Plot(metric string, by Axis) (*plot.Plot, []plots.Series, error) {
	if err := r.checkMetric(metric); err != nil {
		return nil, nil, err
	}
	var keys []string
	lines := map[string]*plots.Series{}
	method := ""
	for _, s := range r.Settings {
		if !s.Steered {
			continue
		}
		k := by.line(s.Setting)
		if lines[k] == nil {
			name, prompt, _ := strings.Cut(k, "\x00")
			if len(r.promptList()) > 1 {
				name += fmt.Sprintf(", prompt %q", prompt)
			}
			lines[k] = &plots.Series{Name: name}
			keys = append(keys, k)
		}
		e := s.Stats[metric]
		l := lines[k]
		l.X, l.Y, l.Lo, l.Hi, l.N = append(l.X, by.x(s.Setting)), append(l.Y, e.Value), append(l.Lo, e.Lo), append(l.Hi, e.Hi), append(l.N, e.N)
		method = e.Method
	}
	title := plots.Heading(fmt.Sprintf("%s vs %s", metric, by), r.Model, r.Backend, fmt.Sprintf("%d %ss/setting", r.Items, r.Per))
	p := plots.NewPlot(title, by.String(), metric)
	prompts := r.promptList()
	for _, prompt := range prompts { // bands first, under the data
		if u := r.Unsteered(prompt); u != nil {
			plots.AddBand(p, u.Stats[metric])
		}
	}
	// Several lines are offset sideways, so that their bars do not hide each other.
	step := 0.0
	if len(keys) > 1 {
		step = 0.06 * by.spacing(r.Settings)
	}
	var series []plots.Series
	for i, k := range keys {
		drawn := *lines[k]
		drawn.X = make([]float64, len(drawn.X))
		for j, x := range lines[k].X {
			drawn.X[j] = x + step*(float64(i)-float64(len(keys)-1)/2)
		}
		if err := plots.AddLine(p, drawn, i); err != nil {
			return nil, nil, err
		}
		series = append(series, *lines[k])
	}
	for i, prompt := range prompts {
		u := r.Unsteered(prompt)
		if u == nil {
			continue
		}
		e := u.Stats[metric]
		name := fmt.Sprintf("unsteered (%.3g)", e.Value)
		if len(prompts) > 1 {
			name = fmt.Sprintf("unsteered, prompt %q (%.3g)", prompt, e.Value)
		}
		var c color.Color = plots.Gray
		if i > 0 {
			c = plotutil.Color(len(keys) + i)
		}
		plots.AddHLine(p, e.Value, name, c)
		series = append(series, plots.SeriesOf(name, []float64{-1}, []interval.Estimate{e}))
		method = e.Method
	}
	var caption []string
	if method != "" {
		caption = append(caption, "bars and band: "+method)
	}
	if step > 0 {
		caption = append(caption, fmt.Sprintf("lines offset sideways by %.3g for legibility", step))
	}
	if len(caption) > 0 {
		p.X.Label.Text += "\n" + strings.Join(caption, "; ")
	}
	plots.Pad(p)
	return p, series, nil
}

// promptList is the result's prompts in grid order.
func (r *Result) promptList() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range r.Settings {
		if !seen[s.Prompt] {
			seen[s.Prompt] = true
			out = append(out, s.Prompt)
		}
	}
	return out
}

// Figure renders Plot as a figure named name with a sidecar recording the model, the result's
// table of settings and the plotted series, ready for plots.Figure.Save.
func (r *Result) Figure(name, metric string, by Axis) (*plots.Figure, error) {
	p, series, err := r.Plot(metric, by)
	if err != nil {
		return nil, err
	}
	params := map[string]any{"metric": metric, "per": r.Per, "items_per_setting": r.Items, "table": r.Table()}
	if r.Per == "completion" {
		params["sampling"], params["max_new_tokens"], params["paired_streams"] = r.Sampling, r.MaxNewTokens, r.Paired
	}
	sc, err := plots.NewSidecar("sweep", p.Title.Text, params)
	if err != nil {
		return nil, err
	}
	sc.Title = strings.Replace(p.Title.Text, "\n", " — ", 1)
	sc.Model, sc.Revision, sc.Backend = r.Model, r.Revision, r.Backend
	sc.TinyStandIn = plots.IsTiny(r.Model)
	sc.RandomWeights = sc.TinyStandIn
	sc.Seed = r.Sampling.Seed
	sc.SampleSizes = map[string]int{"settings": len(r.Settings), r.Per + "s_per_setting": r.Items}
	sc.Series = series
	if len(series) > 0 && series[0].Lo != nil {
		sc.Interval = r.Settings[0].Stats[metric].Method
	}
	return plots.NewFigure(name, p, sc)
}
