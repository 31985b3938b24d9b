package actadd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/gomlx/gomlx/core/tensors"
)

// Vector is an unscaled steering vector h(p+) − h(p−) taken at one hook point: N positions of
// width D. An Addition scales it by its coefficient.
type Vector struct {
	Model string // model it was computed with (Model.Name)
	Layer int
	Point string // kind of hook point, e.g. "hook_resid_pre"
	// Plus and Minus are the prompts it was built from; for a mean over several pairs
	// (MeanDifference) they are the pairs' prompts joined with "\x1f" (see Pairs).
	Plus, Minus string
	N, D        int
	Data        []float32 // [N, D], row-major
}

// Pairs returns the prompt pairs the vector was built from.
func (v *Vector) Pairs() [][2]string {
	ps, ms := strings.Split(v.Plus, pairSep), strings.Split(v.Minus, pairSep)
	if len(ps) != len(ms) { // not written by MeanDifference: one pair of the whole strings
		return [][2]string{{v.Plus, v.Minus}}
	}
	out := make([][2]string, len(ps))
	for i := range ps {
		out[i] = [2]string{ps[i], ms[i]}
	}
	return out
}

const pairSep = "\x1f"

// At returns row i (position i) of the vector.
func (v *Vector) At(i int) []float32 { return v.Data[i*v.D : (i+1)*v.D] }

// actsKey identifies the prompt pairs whose activation differences are cached.
type actsKey struct{ plus, minus, point string }

// Vector computes the steering vector of a's prompt pair at a's layer and point (or returns a's
// precomputed Vector). Both prompts get BOS; the shorter is right-padded with the space token
// (id 220) to the longer's length, as the protocol prescribes.
//
// The differences at every layer are computed in one forward pass and cached, so building the
// vectors of a layer sweep costs one pass and one compiled program.
func (m *Model) Vector(a Addition) (*Vector, error) {
	if err := a.check(m.Config.NLayer, m.Config.NEmbd); err != nil {
		return nil, err
	}
	if a.Vector != nil {
		return a.Vector, nil
	}
	return m.MeanDifference([][2]string{{a.Plus, a.Minus}}, a.Layer, a.point())
}

// Vectors returned by Vector and MeanDifference are shared by every call that asks for the same
// prompts and layer: treat their Data as read-only.

// MeanDifference is the steering vector averaged over several prompt pairs (as in contrastive
// activation addition): every prompt gets BOS and is right-padded with the space token to the
// longest prompt's length n, and the vector is the position-wise mean over pairs of
// h(p+) − h(p−), [n, d_model]. With one pair it is the paper's vector.
func (m *Model) MeanDifference(pairs [][2]string, layer int, point string) (*Vector, error) {
	if len(pairs) == 0 {
		return nil, fmt.Errorf("actadd: MeanDifference needs at least one prompt pair")
	}
	if point == "" {
		point = DefaultPoint
	}
	probe := Addition{Plus: "x", Layer: layer, Point: point}
	if err := probe.check(m.Config.NLayer, m.Config.NEmbd); err != nil {
		return nil, err
	}
	var plus, minus []string
	for i, p := range pairs {
		if p[0] == "" && p[1] == "" {
			return nil, fmt.Errorf("actadd: prompt pair %d is empty on both sides", i)
		}
		if strings.Contains(p[0]+p[1], pairSep) {
			return nil, fmt.Errorf("actadd: prompt pair %d contains the reserved separator \\x1f", i)
		}
		plus, minus = append(plus, p[0]), append(minus, p[1])
	}
	key := actsKey{strings.Join(plus, pairSep), strings.Join(minus, pairSep), point}
	diffs, err := m.pairDifferences(key, pairs)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vk := vectorKey{key, layer}
	if v, ok := m.vectors[vk]; ok {
		return v, nil
	}
	n, d := len(diffs[0])/m.Config.NEmbd, m.Config.NEmbd
	v := &Vector{Model: m.Name, Layer: layer, Point: point, Plus: key.plus, Minus: key.minus, N: n, D: d, Data: diffs[layer]}
	m.vectors[vk] = v
	return v, nil
}

// vectorKey identifies a computed vector: its prompt pairs and layer.
type vectorKey struct {
	actsKey
	layer int
}

// pairDifferences returns, for every layer, the mean over pairs of h(p+) − h(p−) at the point,
// [n·d] each, computing them once per set of pairs.
func (m *Model) pairDifferences(key actsKey, pairs [][2]string) ([][]float32, error) {
	m.mu.Lock()
	cached, ok := m.acts[key]
	m.mu.Unlock()
	if ok {
		return cached, nil
	}
	rows, n, err := m.pairTokens(pairs)
	if err != nil {
		return nil, err
	}
	points := make([]string, m.Config.NLayer)
	for l := range points {
		points[l] = pointName(key.point, l)
	}
	out, err := m.Run(rows, points...)
	if err != nil {
		return nil, err
	}
	d := m.Config.NEmbd
	diffs := make([][]float32, m.Config.NLayer)
	scale := 1 / float32(len(pairs))
	for l, p := range points {
		h := tensors.MustCopyFlatData[float32](out.Activations[p]) // [2·pairs, n, d]
		diff := make([]float32, n*d)
		for i := range pairs {
			hp, hm := h[(2*i)*n*d:(2*i+1)*n*d], h[(2*i+1)*n*d:(2*i+2)*n*d]
			for j := range diff {
				diff[j] += (hp[j] - hm[j]) * scale
			}
		}
		diffs[l] = diff
	}
	out.Logits.FinalizeAll()
	for _, t := range out.Activations {
		t.FinalizeAll()
	}
	m.mu.Lock()
	m.acts[key] = diffs
	m.mu.Unlock()
	return diffs, nil
}

// pairTokens tokenizes the prompts of pairs (p+, p− for each pair, in order) with BOS and
// right-pads them with the space token to the longest one's length n, as the protocol prescribes.
func (m *Model) pairTokens(pairs [][2]string) (rows [][]int, n int, err error) {
	for _, p := range pairs {
		for _, s := range p {
			ids := m.Tok.EncodeWithBOS(s)
			rows = append(rows, ids)
			n = max(n, len(ids))
		}
	}
	if n > m.Config.NPositions {
		return nil, 0, fmt.Errorf("actadd: steering prompt of %d tokens (with BOS) exceeds the model's context of %d: shorten the prompt pair", n, m.Config.NPositions)
	}
	for i := range rows {
		rows[i] = padRight(rows[i], n)
	}
	return rows, n, nil
}

// vectorFormat tags files written by SaveVector.
const vectorFormat = "actadd-vector/1"

// SaveVector writes v to a safetensors file (tensor "steering_vector" [N, D], float32) whose
// metadata records what is needed to re-apply it: the model, layer, hook point, prompts, and
// the coefficient and position of the addition a.
func SaveVector(path string, v *Vector, a Addition) error {
	if v == nil {
		return fmt.Errorf("actadd: SaveVector: nil vector")
	}
	if err := v.valid(); err != nil {
		return fmt.Errorf("actadd: SaveVector: %w", err)
	}
	meta := map[string]string{
		"format": vectorFormat, "model": v.Model, "layer": strconv.Itoa(v.Layer), "point": v.Point,
		"plus": v.Plus, "minus": v.Minus, "coefficient": strconv.FormatFloat(a.Coeff, 'g', -1, 64),
		"position": a.Position.String(),
	}
	t := map[string]checkpoint.Tensor{"steering_vector": {Shape: []int{v.N, v.D}, Data: v.Data}}
	return checkpoint.WriteSafetensors(path, t, meta)
}

// LoadVector reads a vector written by SaveVector, with the addition it was saved with (apply
// it as is, or change its coefficient or layer).
func LoadVector(path string) (*Vector, Addition, error) {
	ts, meta, err := checkpoint.ReadSafetensors(path)
	if err != nil {
		return nil, Addition{}, err
	}
	t, ok := ts["steering_vector"]
	if !ok || meta["format"] != vectorFormat || len(t.Shape) != 2 {
		return nil, Addition{}, fmt.Errorf("actadd: %s is not a steering vector written by SaveVector (format %q)", path, meta["format"])
	}
	layer, err1 := strconv.Atoi(meta["layer"])
	coeff, err2 := strconv.ParseFloat(meta["coefficient"], 64)
	if err := errors.Join(err1, err2); err != nil {
		return nil, Addition{}, fmt.Errorf("actadd: %s: bad metadata: %w", path, err)
	}
	pos := Front
	for _, p := range []Position{Front, Mid, Back} {
		if p.String() == meta["position"] {
			pos = p
		}
	}
	v := &Vector{Model: meta["model"], Layer: layer, Point: meta["point"], Plus: meta["plus"], Minus: meta["minus"],
		N: t.Shape[0], D: t.Shape[1], Data: t.Data}
	return v, Apply(v, coeff).AtPosition(pos), nil
}
