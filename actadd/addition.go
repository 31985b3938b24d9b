package actadd

import (
	"fmt"
	"math"
	"strings"

	"github.com/actadd-go/actadd/lm/hookpoint"
)

// Position says where in a prompt of T tokens a steering vector of n positions is added.
type Position int

const (
	// Front adds at positions [0, n): the paper's choice (BOS cancels at position 0).
	Front Position = iota
	// Mid adds at [T/2 - n/2, T/2 - n/2 + n) (integer division, as the authors' code).
	Mid
	// Back adds at the prompt's last n positions [T-n, T).
	Back
)

func (p Position) String() string {
	switch p {
	case Front:
		return "front"
	case Mid:
		return "mid"
	case Back:
		return "back"
	}
	return fmt.Sprintf("Position(%d)", int(p))
}

// start is the first position covered by a vector of n positions in a prompt of t tokens.
func (p Position) start(t, n int) int {
	switch p {
	case Mid:
		return t/2 - n/2
	case Back:
		return t - n
	}
	return 0
}

// DefaultPoint is the kind of hook point ActAdd steers: the residual stream entering a block.
const DefaultPoint = hookpoint.KindResidPre

// Addition is one activation addition: the steering vector of a prompt pair (or a given
// Vector), scaled by Coeff and added to the hook point Point of block Layer at Position.
// Build one with Pair and refine it with the With/At methods:
//
//	actadd.Pair(" weddings", "", 1.0).AtLayer(6)
type Addition struct {
	Plus, Minus string   // the prompt pair; ignored when Vector is set
	Coeff       float64  // c in S = c·(h+ − h−)
	Layer       int      // block whose hook point is steered, 0..n_layer-1
	Point       string   // kind of hook point: "hook_resid_pre" (default), "hook_resid_mid", ...
	Position    Position // where in the prompt the vector goes
	Vector      *Vector  // a precomputed vector (from MeanDifference or LoadVector); nil: use Plus/Minus
	// Chat, when set, gives the prompt pair as chat messages rendered through the model's chat
	// template, and where the vector is taken and added (ChatPair); Position is then unused.
	Chat *ChatSides
}

// Pair is the addition c·(h(plus) − h(minus)) at layer 0's resid_pre, front positions; choose the
// layer with AtLayer.
func Pair(plus, minus string, coeff float64) Addition {
	return Addition{Plus: plus, Minus: minus, Coeff: coeff, Point: DefaultPoint}
}

// Apply is the addition of a precomputed vector with coefficient coeff, at the layer and point
// the vector was taken from. A vector of one prompt pair also sets Plus and Minus to that pair.
func Apply(v *Vector, coeff float64) Addition {
	if v == nil { // an addition of nothing, which every call rejects with a clear error
		return Addition{Coeff: coeff, Point: DefaultPoint}
	}
	a := Addition{Coeff: coeff, Layer: v.Layer, Point: v.Point, Vector: v}
	if len(v.Pairs) == 1 {
		a.Plus, a.Minus = v.Pairs[0][0], v.Pairs[0][1]
	}
	return a
}

// AtLayer returns a copy of a steering block l.
func (a Addition) AtLayer(l int) Addition { a.Layer = l; return a }

// WithCoeff returns a copy of a with coefficient c.
func (a Addition) WithCoeff(c float64) Addition { a.Coeff = c; return a }

// AtPoint returns a copy of a steering another kind of hook point, e.g. "hook_resid_post".
func (a Addition) AtPoint(kind string) Addition { a.Point = kind; return a }

// AtPosition returns a copy of a placed at Front, Mid or Back.
func (a Addition) AtPosition(p Position) Addition { a.Position = p; return a }

// String describes the addition, e.g. +4·(" weddings" − "") at blocks.6.hook_resid_pre (front).
func (a Addition) String() string {
	if a.Chat != nil {
		return fmt.Sprintf("%+g·%s at %s (chat, %s)", a.Coeff, a.Name(), hookpoint.Block(a.Layer, a.point()), a.Chat.Where)
	}
	return fmt.Sprintf("%+g·%s at %s (%s)", a.Coeff, a.Name(), hookpoint.Block(a.Layer, a.point()), a.Position)
}

// Name names the addition by its prompt pairs, without coefficient or place: (" weddings" − "")
// for one pair, or "mean of 2 pairs (…)" for a vector built from several (MeanDifference).
func (a Addition) Name() string {
	if a.Vector != nil {
		return pairsString(a.Vector.Pairs)
	}
	return pairsString([][2]string{{a.Plus, a.Minus}})
}

func (a Addition) point() string {
	if a.Point == "" {
		return DefaultPoint
	}
	return a.Point
}

// check reports an addition that cannot apply to a model with nLayer blocks of width d.
func (a Addition) check(nLayer, d int) error {
	switch {
	case math.IsNaN(a.Coeff) || math.IsInf(a.Coeff, 0):
		return fmt.Errorf("actadd: coefficient %v of %s is not a finite number", a.Coeff, a)
	case math.Abs(a.Coeff) > math.MaxFloat32:
		return fmt.Errorf("actadd: coefficient %v of %s overflows float32, the model's precision: use |c| ≤ %g", a.Coeff, a, math.MaxFloat32)
	case a.Layer < 0 || a.Layer >= nLayer:
		return fmt.Errorf("actadd: layer %d is out of range: this model has layers 0..%d", a.Layer, nLayer-1)
	case !hookpoint.IsBlockKind(a.point()):
		return fmt.Errorf("actadd: unknown hook point kind %q (use %s)", a.Point, strings.Join(hookpoint.BlockKinds(), ", "))
	case a.Position < Front || a.Position > Back:
		return fmt.Errorf("actadd: unknown position %v (use Front, Mid or Back)", a.Position)
	case a.Vector == nil && a.Plus == "" && a.Minus == "":
		return fmt.Errorf("actadd: addition has neither a prompt pair nor a vector: give Pair(plus, minus, c) at least one non-empty prompt")
	}
	if v := a.Vector; v != nil {
		if err := v.valid(); err != nil {
			return fmt.Errorf("actadd: %w", err)
		}
		if v.D != d {
			return fmt.Errorf("actadd: vector was built for a model of width %d (%s), this model has width %d", v.D, v.Model, d)
		}
	}
	return nil
}

// valid checks that v holds N × D finite values. The shape is checked by division, which
// cannot overflow: N·D can wrap around to len(Data) (N = 2⁵⁸+1, D = 64 gives 64).
func (v *Vector) valid() error {
	if v.N < 1 || v.D < 1 || len(v.Data)/v.D != v.N || len(v.Data)%v.D != 0 {
		return fmt.Errorf("vector (%s) is malformed: %d values for %d positions × width %d", v.Model, len(v.Data), v.N, v.D)
	}
	if i := nonFinite(v.Data); i >= 0 {
		return fmt.Errorf("vector (%s) holds %v at position %d, dimension %d: rebuild it from its prompts", v.Model, v.Data[i], i/v.D, i%v.D)
	}
	return nil
}

// nonFinite returns the index of the first NaN or ±Inf in xs, or -1.
func nonFinite(xs []float32) int {
	for i, x := range xs {
		if x-x != 0 { // NaN − NaN and Inf − Inf are NaN
			return i
		}
	}
	return -1
}
