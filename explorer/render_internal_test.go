package explorer

import (
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// The plot's title fits its width, and does not change while the curve is computed (it used to
// grow by the progress and be clipped at the edges).
func TestCurveTitleFits(t *testing.T) {
	s := Settings{Plus: " weddings", Minus: "", Prompt: "I went up to my friend and said", Layer: 1, Coeff: 4,
		N: 16, Tokens: 200, Seed: 5, Metric: "wedding words"}
	long := s
	long.Plus, long.Minus, long.Coeff = " a wedding with many guests and a long speech", " a funeral on a grey morning", -17.5
	for _, st := range []Settings{s, long} {
		var titles []string
		for _, done := range []bool{false, true} {
			c := Curve{Settings: st, Layers: []int{0, 1, 2, 3}, Texts: make([][]string, 4), Step: 37, Done: done}
			p, err := curvePlot("tiny", "go", c)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(p.Title.Text, "\n") {
				if w := p.Title.TextStyle.Width(line); w > plotWidth-2*vg.Points(titleMargin) {
					t.Errorf("title line %q is %.0f pt wide, the plot %.0f pt", line, w.Points(), plotWidth.Points())
				}
			}
			titles = append(titles, p.Title.Text)
		}
		if titles[0] != titles[1] {
			t.Errorf("the title changes when the curve is done:\n%q\n%q", titles[0], titles[1])
		}
	}
}

func TestWrap(t *testing.T) {
	width := func(s string) vg.Length { return vg.Length(len(s)) }
	for _, c := range []struct{ in, want string }{
		{"a bb ccc dddd", "a bb\nccc\ndddd"},
		{"short\nline two here", "short\nline\ntwo\nhere"},
		{"averyveryverylongword x", "averyveryverylongword\nx"},
	} {
		if got := wrap(c.in, 5, width); got != c.want {
			t.Errorf("wrap(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The live layout bounds the columns' height (they scroll) and puts the plot beside them.
func TestLayoutBoundsTheColumns(t *testing.T) {
	h := Layout{Root: "r", Controls: "c", Columns: "k", Plot: "p"}.HTML()
	for _, want := range []string{`id="k" class="actadd-explorer-columns-box" style="max-height:` + ColumnsMaxHeight + `;overflow:auto`, `display:flex`, `id="p"`, `id="c"`} {
		if !strings.Contains(h, want) {
			t.Errorf("layout lacks %q: %s", want, h)
		}
	}
	if strings.Index(h, `id="p"`) < strings.Index(h, `id="k"`) {
		t.Error("the plot comes before the columns")
	}
}
