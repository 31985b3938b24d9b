package actadd

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/lm/hookpoint"
)

// Vector is an unscaled steering vector h(p+) − h(p−) taken at one hook point of one model: N
// positions of width D. An Addition scales it by its coefficient.
type Vector struct {
	// Model is the model it was computed with (Model.Name). Only that model applies it: the
	// residual streams of two models are not aligned even when their widths agree. ForModel
	// re-labels a copy for a deliberate exception.
	Model string
	Layer int
	Point string // kind of hook point, e.g. "hook_resid_pre"
	// Pairs are the prompt pairs (p+, p−) it was built from: one for the paper's vector, several
	// for a mean over pairs (MeanDifference).
	Pairs [][2]string
	N, D  int
	Data  []float32 // [N, D], row-major
}

// At returns row i (position i) of the vector.
func (v *Vector) At(i int) []float32 { return v.Data[i*v.D : (i+1)*v.D] }

// ForModel returns a copy of v (sharing its data) recorded as a vector of the model named model,
// so that that model applies it. Use it only on purpose: for the same weights loaded under
// another name (a local copy of a hub model), or to study how a vector transfers between models
// of the same width. Steering a model with another model's vector is otherwise meaningless, and
// applying it without ForModel is an error.
func (v *Vector) ForModel(model string) *Vector {
	w := *v
	w.Model = model
	return &w
}

// String names the vector: its prompt pairs, layer and hook point.
func (v *Vector) String() string {
	return fmt.Sprintf("%s at %s (%s)", pairsString(v.Pairs), hookpoint.Block(v.Layer, v.Point), v.Model)
}

// pairsString is "(p+ − p−)" for one pair, "mean of k pairs (p+ − p−, …)" for several.
func pairsString(pairs [][2]string) string {
	switch len(pairs) {
	case 0:
		return "(a vector without prompt pairs)"
	case 1:
		return fmt.Sprintf("(%q − %q)", pairs[0][0], pairs[0][1])
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = fmt.Sprintf("%q − %q", p[0], p[1])
	}
	return fmt.Sprintf("mean of %d pairs (%s)", len(pairs), strings.Join(parts, ", "))
}

// actsKey identifies the prompt pairs whose activation differences are cached: pairs is the
// list quoted with %q, which no two different lists share.
type actsKey struct{ pairs, point string }

// Vector computes the steering vector of a's prompt pair at a's layer and point (or returns a's
// precomputed Vector). Both prompts get BOS; the shorter is right-padded with the space token
// (id 220) to the longer's length, as the protocol prescribes.
//
// The differences at every layer are computed in one forward pass and cached, so building the
// vectors of a layer sweep costs one pass and one compiled program.
func (m *Model) Vector(a Addition) (*Vector, error) {
	if err := a.check(m.Layers(), m.Width()); err != nil {
		return nil, err
	}
	return m.vector(a)
}

// vector is Vector for an addition already checked (prepareTokens checks each addition once).
func (m *Model) vector(a Addition) (*Vector, error) {
	if a.Chat != nil {
		return m.chatVector(a)
	}
	if v := a.Vector; v != nil {
		if v.Model != m.Name {
			return nil, m.wrongModel(v)
		}
		return v, nil
	}
	return m.meanDifference([][2]string{{a.Plus, a.Minus}}, a.Layer, a.point())
}

// wrongModel is the error for a vector of another model.
func (m *Model) wrongModel(v *Vector) error {
	if v.Model == "" {
		return fmt.Errorf("actadd: the steering vector %s records no model: set its Model to the name of the model it was computed with", v)
	}
	return fmt.Errorf("actadd: the steering vector %s was computed with model %q, not with this model %q: "+
		"the residual streams of different models are not aligned, so rebuild the vector with this model (Model.Vector, Model.MeanDifference); "+
		"to apply it anyway, on purpose, pass v.ForModel(%q)", v, v.Model, m.Name, m.Name)
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
	if err := probe.check(m.Layers(), m.Width()); err != nil {
		return nil, err
	}
	for i, p := range pairs {
		if p[0] == "" && p[1] == "" {
			return nil, fmt.Errorf("actadd: prompt pair %d is empty on both sides", i)
		}
	}
	return m.meanDifference(pairs, layer, point)
}

// meanDifference is MeanDifference for a layer, point and pairs already checked.
func (m *Model) meanDifference(pairs [][2]string, layer int, point string) (*Vector, error) {
	key := actsKey{fmt.Sprintf("%q", pairs), point}
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
	n, d := len(diffs[0])/m.Width(), m.Width()
	v := &Vector{Model: m.Name, Layer: layer, Point: point, Pairs: slices.Clone(pairs), N: n, D: d, Data: diffs[layer]}
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
	acts, err := m.captureLayers(rows, key.point)
	if err != nil {
		return nil, err
	}
	d := m.Width()
	diffs := make([][]float32, m.Layers())
	scale := 1 / float32(len(pairs))
	for l, h := range acts { // h: [2·pairs, n, d]
		diff := make([]float32, n*d)
		for i := range pairs {
			hp, hm := h[(2*i)*n*d:(2*i+1)*n*d], h[(2*i+1)*n*d:(2*i+2)*n*d]
			for j := range diff {
				diff[j] += (hp[j] - hm[j]) * scale
			}
		}
		diffs[l] = diff
	}
	m.mu.Lock()
	m.acts[key] = diffs
	m.mu.Unlock()
	return diffs, nil
}

// captureLayers runs rows and returns the activations at point of every layer, each
// [rows, seq, d] flattened.
func (m *Model) captureLayers(rows [][]int, point string) ([][]float32, error) {
	points := make([]string, m.Layers())
	for l := range points {
		points[l] = pointName(point, l)
	}
	acts, err := m.capture(rows, points)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(acts))
	for l, a := range acts {
		out[l] = take[float32](a)
	}
	return out, nil
}

// pairTokens tokenizes the prompts of pairs (p+, p− for each pair, in order) with BOS and
// right-pads them with the space token to the longest one's length n, as the protocol prescribes.
func (m *Model) pairTokens(pairs [][2]string) (rows [][]int, n int, err error) {
	for _, p := range pairs {
		for _, s := range p {
			ids := m.EncodeWithBOS(s)
			rows = append(rows, ids)
			n = max(n, len(ids))
		}
	}
	if n > m.Context() {
		return nil, 0, fmt.Errorf("actadd: steering prompt of %d tokens (with BOS) exceeds the model's context of %d: shorten the prompt pair", n, m.Context())
	}
	for i := range rows {
		rows[i] = padRight(rows[i], n, m.Tok.Pad())
	}
	return rows, n, nil
}

// Formats of the files SaveVector writes: version 2 records the prompt pairs as a JSON list;
// version 1 (still read) joined several pairs' prompts with "\x1f" in "plus" and "minus".
const (
	vectorFormat   = "actadd-vector/2"
	vectorFormatV1 = "actadd-vector/1"
)

// SaveVector writes v to a safetensors file (tensor "steering_vector" [N, D], float32) whose
// metadata records what is needed to re-apply it: the model, layer, hook point, prompt pairs
// (none for a vector made by hand), and the coefficient and position of the addition a. Every
// vector it saves, LoadVector reads back as it was; what could not be read back as it was is
// refused here: a malformed or non-finite vector, a coefficient that is not a finite number,
// an unknown position, and text (model, point, prompts) that is not valid UTF-8 (the metadata
// is JSON, which would replace such bytes).
func SaveVector(path string, v *Vector, a Addition) error {
	if v == nil {
		return fmt.Errorf("actadd: SaveVector: nil vector")
	}
	if err := v.valid(); err != nil {
		return fmt.Errorf("actadd: SaveVector: %w", err)
	}
	switch {
	case math.IsNaN(a.Coeff) || math.IsInf(a.Coeff, 0):
		return fmt.Errorf("actadd: SaveVector: coefficient %v is not a finite number: give the coefficient the vector is to be applied with", a.Coeff)
	case a.Position < Front || a.Position > Back:
		return fmt.Errorf("actadd: SaveVector: unknown position %v (use Front, Mid or Back)", a.Position)
	}
	texts := []string{v.Model, v.Point}
	for _, p := range v.Pairs {
		texts = append(texts, p[0], p[1])
	}
	for _, t := range texts {
		if !utf8.ValidString(t) {
			return fmt.Errorf("actadd: SaveVector: %q is not valid UTF-8, which the file's metadata (JSON) cannot hold as it is", t)
		}
	}
	pairs := v.Pairs
	if pairs == nil {
		pairs = [][2]string{} // "[]": a vector without prompt pairs, not a missing entry
	}
	pairsJSON, err := json.Marshal(pairs)
	if err != nil {
		return fmt.Errorf("actadd: SaveVector: %w", err)
	}
	meta := map[string]string{
		"format": vectorFormat, "model": v.Model, "layer": strconv.Itoa(v.Layer), "point": v.Point,
		"pairs": string(pairsJSON), "coefficient": strconv.FormatFloat(a.Coeff, 'g', -1, 64), "position": a.Position.String(),
	}
	t := map[string]checkpoint.Tensor{"steering_vector": {Shape: []int{v.N, v.D}, Data: v.Data}}
	return checkpoint.WriteSafetensors(path, t, meta)
}

// LoadVector reads a vector written by SaveVector (either format version), with the addition
// it was saved with (apply it as is, or change its coefficient or layer). The vector still
// records the model it was computed with: applying it to another model is an error (see
// Vector.ForModel). A vector without prompt pairs (made by hand) loads with none.
func LoadVector(path string) (*Vector, Addition, error) {
	ts, meta, err := checkpoint.ReadSafetensors(path)
	if err != nil {
		return nil, Addition{}, err
	}
	t, ok := ts["steering_vector"]
	format := meta["format"]
	if !ok || (format != vectorFormat && format != vectorFormatV1) || len(t.Shape) != 2 {
		return nil, Addition{}, fmt.Errorf("actadd: %s is not a steering vector written by SaveVector (format %q)", path, format)
	}
	layer, err1 := strconv.Atoi(meta["layer"])
	coeff, err2 := strconv.ParseFloat(meta["coefficient"], 64)
	if err2 == nil && (math.IsNaN(coeff) || math.IsInf(coeff, 0)) {
		err2 = fmt.Errorf("coefficient %v is not a finite number", coeff)
	}
	var pairs [][2]string
	var err3 error
	if format == vectorFormatV1 {
		pairs = splitPairsV1(meta["plus"], meta["minus"])
	} else if text, ok := meta["pairs"]; !ok {
		err3 = errors.New("no entry \"pairs\"")
	} else if err3 = json.Unmarshal([]byte(text), &pairs); err3 == nil && len(pairs) == 0 {
		pairs = nil // a vector made by hand, saved with "[]" (or "null")
	}
	pos, err4 := parsePosition(meta["position"])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, Addition{}, fmt.Errorf("actadd: %s: bad metadata: %w", path, err)
	}
	v := &Vector{Model: meta["model"], Layer: layer, Point: meta["point"], Pairs: pairs, N: t.Shape[0], D: t.Shape[1], Data: t.Data}
	// Refuse what SaveVector cannot have written, rather than apply it with a default or a NaN.
	bad := v.valid()
	if layer < 0 {
		bad = fmt.Errorf("layer %d is negative", layer)
	}
	if bad != nil {
		return nil, Addition{}, fmt.Errorf("actadd: %s: bad steering vector file: %w; save the vector again with SaveVector", path, bad)
	}
	return v, Apply(v, coeff).AtPosition(pos), nil
}

// parsePosition reads a position as Position.String writes it.
func parsePosition(s string) (Position, error) {
	for _, p := range []Position{Front, Mid, Back} {
		if p.String() == s {
			return p, nil
		}
	}
	return Front, fmt.Errorf("unknown position %q (front, mid or back)", s)
}

// splitPairsV1 reads the prompt pairs of a version-1 file: several pairs' prompts were joined
// with "\x1f"; any other plus and minus are one pair.
func splitPairsV1(plus, minus string) [][2]string {
	const sep = "\x1f"
	ps, ms := strings.Split(plus, sep), strings.Split(minus, sep)
	if len(ps) != len(ms) {
		return [][2]string{{plus, minus}}
	}
	out := make([][2]string, len(ps))
	for i := range ps {
		out[i] = [2]string{ps[i], ms[i]}
	}
	return out
}
