package actadd

import (
	"fmt"

	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/hookpoint"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// This file is where the residual stream is edited: steering.edit, below, is the whole of
// ActAdd's intervention. The rest of the package prepares its inputs or runs steered programs.
//
// A steered program carries K addition slots per row of its batch. It takes three runtime
// inputs after its own, always last:
//
//	vectors   [K, batch, span, d_model] float32  slot k of row b: the unscaled vector h(p+) − h(p−),
//	                                             zero past its length
//	positions [K, batch, span]          int32    the stream positions the vector's rows are added to
//	                                             (front, mid or back, placed on the host)
//	gates     [n_layer, K, batch]       float32  the slot's coefficient at its own layer, 0 elsewhere
//
// At the hook point of every layer l (blocks.{l}.hook_resid_pre unless the additions name another
// kind of point), row b's stream gets gates[l,k,b] · vectors[k,b,j] added at position
// positions[k,b,j], for every slot k and vector row j:
//
//	x[b, positions[k,b,j]] += gates[l,k,b] · vectors[k,b,j]
//
// Only those positions are touched (a ScatterSum; the go backend updates the stream in place), so
// a steered pass costs a few small ops per layer more than an unsteered one. Vectors, positions,
// coefficients and layers are all inputs: a sweep over them reuses one compiled program, and each
// row carries its own configuration (or none: zero gates). Unsteered programs (K = 0) take no
// steering inputs and have no hook.
//
// A program may also build some vectors from prompt pairs in the same pass instead of taking
// them as inputs (pair rows, planned in pairrows.go): those vectors are added to vectors[k,b]
// before the edit. Such a program takes two more steering inputs after vectors, positions and
// gates:
//
//	pairs     [K, batch, 2]    int32    which pair rows are slot k's p+ and p− (0-based among them)
//	pairMask  [K, batch, span] float32  1 for the vector's own rows (j < its length); 0 past it and
//	                                    for slots whose vector is given in vectors

// placedAddition is one addition placed in one row of a batch: what is added, at which layer,
// with which coefficient, from which stream position.
type placedAddition struct {
	vector *Vector // the steering vector; nil when pair rows build it (pair names them)
	pair   int     // the addition's prompt pair in prepared.pairTokens, when vector is nil
	n      int     // positions the vector covers
	layer  int
	coeff  float64
	start  int // the first stream position covered
}

// steering is what a steered program's graph holds of its steering inputs.
type steering struct {
	vectors   *Node // [K, batch, span, d]
	gates     *Node // [n_layer, K, batch]
	indices   *Node // scatter indices (row, position) of every slot and vector row: [K, batch, span, 2]
	pairs     *pairRows
	layerOf   map[string]int // hook point name → layer
	slots, bt int            // K and the batch's own rows
}

// edit is the intervention at layer l's hook point: x [batch, seq, d] (with pair rows, if any,
// after the batch's own rows, which the scatter never touches) plus the gated vectors at their
// positions.
func (s *steering) edit(l int, x *Node) *Node {
	v := s.vectors
	if s.pairs != nil {
		v = s.pairs.addVectors(v, x)
	}
	g := Reshape(SliceAxis(s.gates, 0, AxisElem(l)), s.slots, s.bt, 1, 1)
	return ScatterSum(x, s.indices, Mul(v, g), false, false)
}

// Hook is the lm.Hook that edits every layer's point of the steered kind; nil when unsteered.
func (s *steering) Hook() lm.Hook {
	if s.slots == 0 {
		return nil
	}
	return func(point string, x *Node) *Node {
		if l, ok := s.layerOf[point]; ok {
			return s.edit(l, x)
		}
		return x
	}
}

// Own slices x, whose first axis is the batch with its pair rows (possibly merged with a
// following axis, as the KV cache's [batch·heads, ...]), to the batch's own rows: what the
// caller gets back. x itself without pair rows.
func (s *steering) Own(x *Node) *Node {
	if s.pairs == nil {
		return x
	}
	return s.pairs.own(x, s.bt)
}

// steeringInputCount is the number of steering inputs a program with k slots takes.
func steeringInputCount(k int, pairRows bool) int {
	switch {
	case k == 0:
		return 0
	case pairRows:
		return 3 + pairRowInputs
	}
	return 3
}

// newSteering reads the steering inputs (the last ones of in) of a program with k slots that
// steers every layer's point of the given kind (e.g. "hook_resid_pre"). in[0] is the token rows
// (with pair rows, the batch's own rows then the pair rows).
func newSteering(kind string, k int, pairRows bool, in []*Node) *steering {
	if k == 0 {
		return &steering{}
	}
	st := in[len(in)-steeringInputCount(k, pairRows):]
	vectors, positions, gates := st[0], st[1], st[2]
	dims := vectors.Shape().Dimensions // [K, batch, span, d]
	batch, span := dims[1], dims[2]
	rows := Iota(vectors.Graph(), shapes.Make(dtypes.Int32, k, batch, span, 1), 1)
	s := &steering{
		vectors: vectors, gates: gates, slots: k, bt: batch,
		indices: Concatenate([]*Node{rows, ExpandAxes(positions, -1)}, -1),
		layerOf: map[string]int{},
	}
	for l := range gates.Shape().Dimensions[0] {
		s.layerOf[pointName(kind, l)] = l
	}
	if pairRows {
		s.pairs = newPairRows(st[3:], in[0].Shape().Dimensions[0]-batch, span)
	}
	return s
}

// pointName is the hook point of kind (e.g. "hook_resid_pre") in block l.
func pointName(kind string, l int) string { return hookpoint.Block(l, kind) }

// steeringInputs packs the additions placed in each row of a batch (rows[b]: at most k, possibly
// none, each at most span positions long) as the steering inputs; with pairRows, also the inputs
// that name each slot's pair rows (pairrows.go).
func steeringInputs(rows [][]placedAddition, k, span, nLayer, d int, pairRows bool) []any {
	batch := len(rows)
	vec := make([]float32, k*batch*span*d)
	pos := make([]int32, k*batch*span)
	gat := make([]float32, nLayer*k*batch)
	for b, r := range rows {
		for s, a := range r {
			slot := s*batch + b
			if a.vector != nil {
				copy(vec[slot*span*d:], a.vector.Data)
			}
			for j := range span {
				// Rows past the vector's length are zero; point them at its last position.
				pos[slot*span+j] = int32(a.start + min(j, a.n-1))
			}
			gat[(a.layer*k+s)*batch+b] = float32(a.coeff)
		}
	}
	out := []any{
		tensors.FromFlatDataAndDimensions(vec, k, batch, span, d),
		tensors.FromFlatDataAndDimensions(pos, k, batch, span),
		tensors.FromFlatDataAndDimensions(gat, nLayer, k, batch),
	}
	if pairRows {
		out = append(out, pairRowTensors(rows, k, span)...)
	}
	return out
}

// steeredProgram returns the program named name for calls steering prep's kind of point with
// prep.k slots (one program per name, point, k and use of pair rows; its graph is built once per
// input shape). build receives the steering: its Hook (nil when unsteered), and Own, which drops
// pair rows from the outputs.
func (m *Model) steeredProgram(name string, prep *prepared, build func(w lm.Graph, in []*Node, st *steering) []*Node) (lm.Program, error) {
	k, point, pairRows := prep.k, prep.point, prep.pairRows()
	return m.program(fmt.Sprintf("%s/%s/%d/%t", name, point, k, pairRows), func() (lm.Program, error) {
		return m.compile("actadd."+name, func(w lm.Graph, in []*Node) []*Node {
			return build(w, in, newSteering(point, k, pairRows, in))
		})
	})
}

// SteeringHook serves programs built outside this package, such as timing the steering ops
// apart from the model: it returns the steering inputs that apply addition a to every row of a
// batch of rows × seq positions, and a function that, given those inputs as the graph's nodes,
// returns the hook that edits the stream at every layer's point of a's kind.
func (m *Model) SteeringHook(a Addition, rows, seq int) ([]*tensors.Tensor, func(in []*Node) lm.Hook, error) {
	if rows < 1 || seq < 1 || seq > m.Context() {
		return nil, nil, fmt.Errorf("actadd: SteeringHook: a batch of %d rows × %d positions: give at least one row of 1..%d positions", rows, seq, m.Context())
	}
	v, err := m.Vector(a)
	if err != nil {
		return nil, nil, err
	}
	if v.N > seq {
		return nil, nil, fmt.Errorf("actadd: SteeringHook: the steering vector %s covers %d positions, more than the %d of a row", a, v.N, seq)
	}
	placed := make([][]placedAddition, rows)
	for b := range placed {
		placed[b] = []placedAddition{{vector: v, n: v.N, layer: a.Layer, coeff: a.Coeff, start: a.Position.start(seq, v.N)}}
	}
	var ts []*tensors.Tensor
	for _, t := range steeringInputs(placed, 1, v.N, m.Layers(), m.Width(), false) {
		ts = append(ts, t.(*tensors.Tensor))
	}
	point := a.point()
	hook := func(in []*Node) lm.Hook { return newSteering(point, 1, false, in).Hook() }
	return ts, hook, nil
}

// pairRowInputs is the number of steering inputs pair rows add.
const pairRowInputs = 2

// pairRows is the pair-row part of a steered program's graph.
type pairRows struct {
	pairs, mask *Node
	count, span int // pair rows appended to the batch, and the longest vector
}

func newPairRows(in []*Node, count, span int) *pairRows {
	return &pairRows{pairs: in[0], mask: in[1], count: count, span: span}
}

// addVectors adds to the given vectors [K, batch, span, d] those the pair rows of x (the stream
// [batch + pair rows, seq, d] at one hook point) build.
func (p *pairRows) addVectors(vectors, x *Node) *Node {
	n := x.Shape().Dimensions[0]
	xp := Slice(x, AxisRange(n-p.count, n), AxisRange(0, p.span)) // [P, span, d]
	plus := Gather(xp, SliceAxis(p.pairs, -1, AxisRange(0, 1)))   // [K, batch, span, d]
	minus := Gather(xp, SliceAxis(p.pairs, -1, AxisRange(1, 2)))
	return Add(vectors, Mul(Sub(plus, minus), ExpandAxes(p.mask, -1)))
}

// own slices x, whose first axis is the batch's rows and then the pair rows (possibly merged with
// a following axis), to the first batch rows.
func (p *pairRows) own(x *Node, batch int) *Node {
	n := x.Shape().Dimensions[0]
	return SliceAxis(x, 0, AxisRange(0, n/(batch+p.count)*batch))
}

// pairRowTensors packs the pair-row inputs of a batch's placed additions.
func pairRowTensors(rows [][]placedAddition, k, span int) []any {
	batch := len(rows)
	pairs := make([]int32, k*batch*2)
	mask := make([]float32, k*batch*span)
	for b, r := range rows {
		for s, a := range r {
			if a.vector != nil {
				continue
			}
			slot := s*batch + b
			pairs[2*slot], pairs[2*slot+1] = int32(2*a.pair), int32(2*a.pair+1)
			for j := range a.n {
				mask[slot*span+j] = 1
			}
		}
	}
	return []any{tensors.FromFlatDataAndDimensions(pairs, k, batch, 2), tensors.FromFlatDataAndDimensions(mask, k, batch, span)}
}
