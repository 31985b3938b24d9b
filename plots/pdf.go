package plots

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"codeberg.org/go-pdf/fpdf"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
)

// pdfCanvas is a vg.Canvas that draws a one-page PDF through fpdf, its texts set in the figures'
// TrueType fonts embedded as UTF-8 fonts: fpdf subsets them and writes a ToUnicode map, so every
// character of a label ("−", "Δ", "≥", "·", "—") is drawn and reads back as itself (copy, search,
// pdftotext). It is written by hand because gonum/plot's vgpdf encodes every text as Windows-1252
// whatever it holds (its code page is fixed, with no option), which garbles every character
// outside Latin-1 and even the UTF-8 bytes of "·" and "—".
//
// fpdf's page coordinates run downwards from the top left corner; the canvas flips them once at
// the start, so that fpdf's coordinates are gonum/plot's (points, y upwards), and flips them back
// locally for each text, so that glyphs stand upright.
type pdfCanvas struct {
	doc    *fpdf.Fpdf
	w, h   vg.Length
	widths []vg.Length // the line width of each level of Push
	fonts  map[string]bool
	images int // images drawn so far, to name each
}

// newPDFCanvas returns a canvas w × h for one page.
func newPDFCanvas(w, h vg.Length) *pdfCanvas {
	doc := fpdf.NewCustom(&fpdf.InitType{UnitStr: "pt", Size: fpdf.SizeType{Wd: w.Points(), Ht: h.Points()}})
	doc.SetMargins(0, 0, 0)
	doc.SetAutoPageBreak(false, 0)
	doc.AddPage()
	c := &pdfCanvas{doc: doc, w: w, h: h, widths: []vg.Length{0}, fonts: map[string]bool{}}
	c.Push()
	c.Translate(vg.Point{Y: h})
	c.Scale(1, -1)
	vg.Initialize(c)
	return c
}

// Size implements vg.CanvasSizer.
func (c *pdfCanvas) Size() (w, h vg.Length) { return c.w, c.h }

// SetLineWidth implements vg.Canvas.
func (c *pdfCanvas) SetLineWidth(w vg.Length) {
	c.widths[len(c.widths)-1] = w
	c.doc.SetLineWidth(w.Points())
}

// SetLineDash implements vg.Canvas.
func (c *pdfCanvas) SetLineDash(pattern []vg.Length, offset vg.Length) {
	ds := make([]float64, len(pattern))
	for i, d := range pattern {
		ds[i] = d.Points()
	}
	c.doc.SetDashPattern(ds, offset.Points())
}

// SetColor implements vg.Canvas: strokes, fills and texts take the colour, and its alpha.
func (c *pdfCanvas) SetColor(clr color.Color) {
	if clr == nil {
		clr = color.Black
	}
	r, g, b, a := clr.RGBA()
	if a > 0 { // un-premultiply
		r, g, b = r*0xffff/a, g*0xffff/a, b*0xffff/a
	}
	ri, gi, bi := int(r>>8), int(g>>8), int(b>>8)
	c.doc.SetDrawColor(ri, gi, bi)
	c.doc.SetFillColor(ri, gi, bi)
	c.doc.SetTextColor(ri, gi, bi)
	c.doc.SetAlpha(float64(a)/0xffff, "Normal")
}

// Rotate implements vg.Canvas (counter-clockwise, in radians).
func (c *pdfCanvas) Rotate(rad float64) { c.doc.TransformRotate(-rad*180/math.Pi, 0, 0) }

// Translate implements vg.Canvas.
func (c *pdfCanvas) Translate(pt vg.Point) { c.doc.TransformTranslate(pt.X.Points(), pt.Y.Points()) }

// Scale implements vg.Canvas.
func (c *pdfCanvas) Scale(x, y float64) { c.doc.TransformScale(100*x, 100*y, 0, 0) }

// Push implements vg.Canvas.
func (c *pdfCanvas) Push() {
	c.widths = append(c.widths, c.widths[len(c.widths)-1])
	c.doc.TransformBegin()
}

// Pop implements vg.Canvas. PDF restores the whole graphics state with the transformation; the
// line width is kept here too, for Stroke's check.
func (c *pdfCanvas) Pop() {
	c.doc.TransformEnd()
	c.widths = c.widths[:len(c.widths)-1]
}

// Stroke implements vg.Canvas; a line of no width is not drawn.
func (c *pdfCanvas) Stroke(p vg.Path) {
	if c.widths[len(c.widths)-1] > 0 {
		c.path(p, "D")
	}
}

// Fill implements vg.Canvas.
func (c *pdfCanvas) Fill(p vg.Path) { c.path(p, "F") }

// path adds p to the page and strokes ("D") or fills ("F") it.
func (c *pdfCanvas) path(p vg.Path, style string) {
	if len(p) == 0 {
		return
	}
	var cur vg.Point // the current point, valid when has
	has := false
	for _, comp := range p {
		switch comp.Type {
		case vg.MoveComp:
			c.doc.MoveTo(comp.Pos.X.Points(), comp.Pos.Y.Points())
		case vg.LineComp:
			c.doc.LineTo(comp.Pos.X.Points(), comp.Pos.Y.Points())
		case vg.ArcComp:
			c.arc(comp, has)
			comp.Pos = vg.Point{
				X: comp.Pos.X + comp.Radius*vg.Length(math.Cos(comp.Start+comp.Angle)),
				Y: comp.Pos.Y + comp.Radius*vg.Length(math.Sin(comp.Start+comp.Angle)),
			}
		case vg.CurveComp:
			switch len(comp.Control) {
			case 1: // a quadratic curve, raised to the cubic that PDF draws
				q := comp.Control[0]
				c.doc.CurveBezierCubicTo(
					(cur.X + 2*(q.X-cur.X)/3).Points(), (cur.Y + 2*(q.Y-cur.Y)/3).Points(),
					(comp.Pos.X + 2*(q.X-comp.Pos.X)/3).Points(), (comp.Pos.Y + 2*(q.Y-comp.Pos.Y)/3).Points(),
					comp.Pos.X.Points(), comp.Pos.Y.Points())
			case 2:
				c.doc.CurveBezierCubicTo(comp.Control[0].X.Points(), comp.Control[0].Y.Points(),
					comp.Control[1].X.Points(), comp.Control[1].Y.Points(), comp.Pos.X.Points(), comp.Pos.Y.Points())
			default:
				c.doc.SetErrorf("plots: a curve with %d control points", len(comp.Control))
			}
		case vg.CloseComp:
			c.doc.ClosePath()
			continue
		}
		cur, has = comp.Pos, true
	}
	c.doc.DrawPath(style)
}

// arc adds the circular arc comp (centre Pos, from angle Start through Angle radians,
// counter-clockwise when Angle is positive) as cubic Béziers of at most 90° each, joined by a
// line from the current point when the path has one (joined says so), as vg.Path.Arc defines.
func (c *pdfCanvas) arc(comp vg.PathComp, joined bool) {
	r := comp.Radius.Points()
	cx, cy := comp.Pos.X.Points(), comp.Pos.Y.Points()
	at := func(a float64) (float64, float64) { return cx + r*math.Cos(a), cy + r*math.Sin(a) }
	if x0, y0 := at(comp.Start); joined {
		c.doc.LineTo(x0, y0)
	} else {
		c.doc.MoveTo(x0, y0)
	}
	n := max(1, int(math.Ceil(math.Abs(comp.Angle)/(math.Pi/2)-1e-9)))
	step := comp.Angle / float64(n)
	k := 4.0 / 3 * math.Tan(step/4) * r // the control arm of a Bézier arc of step radians
	a := comp.Start
	for range n {
		b := a + step
		sa, ca := math.Sincos(a)
		sb, cb := math.Sincos(b)
		xa, ya := at(a)
		xb, yb := at(b)
		c.doc.CurveBezierCubicTo(xa-k*sa, ya+k*ca, xb+k*sb, yb-k*cb, xb, yb)
		a = b
	}
}

// FillString implements vg.Canvas: str, in fnt, with its baseline's left end at pt.
func (c *pdfCanvas) FillString(fnt font.Face, pt vg.Point, str string) {
	if fnt.Font.Size == 0 || str == "" {
		return
	}
	family := fnt.Name()
	if !c.fonts[family] {
		var ttf bytes.Buffer
		if _, err := fnt.Face.WriteSourceTo(nil, &ttf); err != nil {
			c.doc.SetErrorf("plots: reading the font %s to embed it: %v", family, err)
			return
		}
		c.doc.AddUTF8FontFromBytes(family, "", ttf.Bytes())
		c.fonts[family] = true
	}
	c.doc.SetFont(family, "", fnt.Font.Size.Points())
	c.Push()
	defer c.Pop()
	c.Translate(pt)
	c.Scale(1, -1)
	c.doc.Text(0, 0, str)
}

// DrawImage implements vg.Canvas.
func (c *pdfCanvas) DrawImage(rect vg.Rectangle, img image.Image) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		c.doc.SetErrorf("plots: encoding an image for the PDF: %v", err)
		return
	}
	c.images++
	name := fmt.Sprintf("image-%d", c.images)
	opts := fpdf.ImageOptions{ImageType: "png"}
	c.doc.RegisterImageOptionsReader(name, opts, &buf)
	size := rect.Size()
	c.Push()
	defer c.Pop()
	// fpdf places an image by its top left corner, downwards: flip locally, as for text.
	c.Translate(vg.Point{X: rect.Min.X, Y: rect.Max.Y})
	c.Scale(1, -1)
	c.doc.ImageOptions(name, 0, 0, size.X.Points(), size.Y.Points(), false, opts, 0, "")
}

// WriteTo writes the PDF to w; the canvas cannot be drawn on afterwards.
func (c *pdfCanvas) WriteTo(w io.Writer) (int64, error) {
	c.Pop()
	var buf bytes.Buffer
	if err := c.doc.Output(&buf); err != nil {
		return 0, fmt.Errorf("plots: writing the PDF: %w", err)
	}
	return buf.WriteTo(w)
}
