package actadd

import (
	"fmt"
	"slices"

	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/hookpoint"
	. "github.com/gomlx/gomlx/core/graph"
)

// EveryPosition is an addition of another kind than ActAdd's: a fixed vector added to the
// residual stream at every position of the sequence, prompt and generated tokens alike, as
// llama.cpp applies a control vector (package controlvector builds one from a GGUF file). ActAdd
// instead adds a prompt pair's position-wise difference to a few positions of the prompt
// (Addition).
type EveryPosition struct {
	// Point is the kind of hook point added to (DefaultPoint when empty); llama.cpp adds at a
	// block's output, "hook_resid_post".
	Point string
	// Vectors maps a block l to the vector, already scaled, added at blocks.{l}.{Point}: one
	// value per model dimension. Blocks not listed are left alone.
	Vectors map[int][]float32
}

func (e EveryPosition) point() string {
	if e.Point == "" {
		return DefaultPoint
	}
	return e.Point
}

// check refuses what cannot apply to a model with nLayer blocks of width d.
func (e EveryPosition) check(nLayer, d int) error {
	if !hookpoint.IsBlockKind(e.point()) {
		return fmt.Errorf("actadd: unknown hook point kind %q (use hook_resid_pre, hook_attn_out, hook_resid_mid, hook_mlp_out or hook_resid_post)", e.Point)
	}
	for l, v := range e.Vectors {
		switch {
		case l < 0 || l >= nLayer:
			return fmt.Errorf("actadd: every-position vector at block %d: this model has blocks 0..%d", l, nLayer-1)
		case len(v) != d:
			return fmt.Errorf("actadd: every-position vector at block %d has width %d, this model has width %d: it was made for another model", l, len(v), d)
		case nonFinite(v) >= 0:
			return fmt.Errorf("actadd: every-position vector at block %d holds %v", l, v[nonFinite(v)])
		}
	}
	return nil
}

// offsets packs the vectors as one [n_layer, d] table, zero for blocks not listed.
func (e EveryPosition) offsets(nLayer, d int) []float32 {
	out := make([]float32, nLayer*d)
	for l, v := range e.Vectors {
		copy(out[l*d:], v)
	}
	return out
}

// everyPositionProgram returns the program mapping tokens [1, seq] and offsets [n_layer, d] to
// logits [1, seq, vocab], with offsets[l] added at blocks.{l}.{point} at every position. The
// offsets are an input: one compiled graph per sequence length serves every vector.
func (m *Model) everyPositionProgram(point string) (lm.Program, error) {
	nLayer, d := m.Layers(), m.Width()
	return m.program("actadd.every_position."+point, func() (lm.Program, error) {
		return m.compile("actadd.every_position."+point, func(w lm.Graph, in []*Node) []*Node {
			tokens, offsets := in[0], in[1]
			seq := tokens.Shape().Dimensions[1]
			positions := Iota(tokens.Graph(), tokens.Shape(), 1)
			layerOf := map[string]int{}
			for l := range nLayer {
				layerOf[pointName(point, l)] = l
			}
			hook := func(p string, x *Node) *Node {
				l, ok := layerOf[p]
				if !ok {
					return x
				}
				row := Reshape(SliceAxis(offsets, 0, AxisElem(l)), 1, 1, d)
				return Add(x, BroadcastToDims(row, 1, seq, d))
			}
			return []*Node{w.Logits(w.Forward(tokens, positions, hook))}
		})
	})
}

// LogitsEveryPosition returns the logits [len(tokens)][vocab] of one row of token ids (used as
// given: add BOS yourself) with e added at every position.
func (m *Model) LogitsEveryPosition(tokens []int, e EveryPosition) ([][]float32, error) {
	if err := e.check(m.Layers(), m.Width()); err != nil {
		return nil, err
	}
	if len(tokens) == 0 || len(tokens) > m.Context() {
		return nil, fmt.Errorf("actadd: LogitsEveryPosition: %d tokens: give 1..%d", len(tokens), m.Context())
	}
	for _, t := range tokens {
		if t < 0 || t >= m.VocabSize() {
			return nil, fmt.Errorf("actadd: LogitsEveryPosition: token id %d is outside the vocabulary 0..%d", t, m.VocabSize()-1)
		}
	}
	return m.logitsEveryPosition(tokens, e.point(), e.offsets(m.Layers(), m.Width()), len(tokens))
}

// logitsEveryPosition runs the program on tokens right-padded with the padding token to width
// (positions past len(tokens) never affect earlier ones: attention is causal) and returns the
// logits of the real positions.
func (m *Model) logitsEveryPosition(tokens []int, point string, offsets []float32, width int) ([][]float32, error) {
	p, err := m.everyPositionProgram(point)
	if err != nil {
		return nil, err
	}
	row := make([]int32, width)
	for i := range row {
		row[i] = int32(m.Tok.Pad())
		if i < len(tokens) {
			row[i] = int32(tokens[i])
		}
	}
	nLayer, d := m.Layers(), m.Width()
	table := make([][]float32, nLayer)
	for l := range table {
		table[l] = offsets[l*d : (l+1)*d]
	}
	outs, err := p.Call([][]int32{row}, table)
	if err != nil {
		return nil, err
	}
	flat := take[float32](outs[0])
	if i := nonFinite(flat); i >= 0 {
		return nil, fmt.Errorf("actadd: the every-position addition made the logits non-finite (%v): use a smaller strength", flat[i])
	}
	v := m.VocabSize()
	out := make([][]float32, len(tokens))
	for t := range out {
		out[t] = flat[t*v : (t+1)*v]
	}
	return out, nil
}

// GenerateEveryPosition continues prompt (BOS prepended) greedily for maxNew tokens with e added
// at every position, the prompt's and each generated token's, as llama.cpp does with a control
// vector. It recomputes the whole sequence at each step (no KV cache), on sequences padded to a
// multiple of 16 positions so that few graphs are compiled: meant for checking a vector's
// effect on short continuations, not for sampling at scale.
func (m *Model) GenerateEveryPosition(prompt string, maxNew int, e EveryPosition) (Completion, error) {
	if err := e.check(m.Layers(), m.Width()); err != nil {
		return Completion{}, err
	}
	toks, err := m.tokenize(prompt)
	if err != nil {
		return Completion{}, err
	}
	if maxNew < 1 || len(toks)+maxNew > m.Context() {
		return Completion{}, fmt.Errorf("actadd: GenerateEveryPosition: %d new tokens after a prompt of %d: give 1..%d", maxNew, len(toks), m.Context()-len(toks))
	}
	offsets := e.offsets(m.Layers(), m.Width())
	promptLen := len(toks)
	for range maxNew {
		width := min(roundUp(len(toks), 16), m.Context())
		logits, err := m.logitsEveryPosition(toks, e.point(), offsets, width)
		if err != nil {
			return Completion{}, err
		}
		last := logits[len(toks)-1]
		toks = append(toks, slices.Index(last, slices.Max(last)))
	}
	text, err := m.Tok.Decode(toks[promptLen:])
	if err != nil {
		return Completion{}, err
	}
	return Completion{Row: Row{Prompt: prompt}, Tokens: toks, PromptLen: promptLen, Text: text, Sampler: SamplerHost}, nil
}
