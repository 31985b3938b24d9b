package gpt2

import (
	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/lmrun"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Program is a compiled GoMLX program over a model's weights: the weights are its leading
// inputs, supplied on every call, followed by the caller's inputs. Its graph is built (and
// compiled) once per distinct shape of the inputs.
type Program = lmrun.Program

// Output of Model.Run: the logits [batch, seq, vocab] and the captured activations.
type Output = lmrun.Output

// family describes the model to the code the families share.
func (m *Model) family() lmrun.Family[*Weights] {
	return lmrun.Family[*Weights]{
		Prefix:  "gpt2",
		Backend: m.Backend(),
		Params:  m.Params(),
		Usable:  m.usable,
		Weights: m.Weights,
		Packed: func() []bool {
			if !m.Packs() {
				return nil
			}
			return m.packedParams()
		},
		ParseHookPoint: ParseHookPoint,
		Layers:         m.Config.NLayer,
		Context:        m.Config.NPositions,
		Vocab:          m.Config.VocabSize,
		EmptyRowHint:   " (prepend BOS 50256)",
	}
}

// NewProgram wraps fn, which builds the graph given the model's weights and the caller's input
// nodes, into a Program. Errors raised while building (GoMLX panics) are returned by Call.
func (m *Model) NewProgram(name string, fn func(w *Weights, inputs []*Node) []*Node) (*Program, error) {
	return m.family().NewProgram(name, fn)
}

// NewPackedProgram is NewProgram for a program called many times on few rows, as a decoding
// step whose logits come from Weights.LogitsByToken. On the go backend, the token embedding is
// built into each of its graphs as a constant instead of being passed on every call: the
// backend then packs it into its matmul kernel's layout once, on the first call, rather than on
// every call (as it must for the left operand of a matmul). Each graph holds its own copy of
// the embedding and of its packed form, twice its size, so the caller should call it with few
// shapes. On other backends it is NewProgram.
func (m *Model) NewPackedProgram(name string, fn func(w *Weights, inputs []*Node) []*Node) (*Program, error) {
	return m.family().NewPackedProgram(name, fn)
}

// Packs reports whether NewPackedProgram builds the token embedding into its graphs: on the go
// backend.
func (m *Model) Packs() bool { return m.Backend().String() == "go" }

// packedParams marks the weights NewPackedProgram builds in: the matrix LogitsByToken
// multiplies by.
func (m *Model) packedParams() []bool {
	out := make([]bool, len(m.Params()))
	out[m.byToken] = true
	return out
}

// Run does a plain forward pass on a batch of token rows of equal length (positions 0..seq-1)
// and returns the logits and the activations of the requested hook points.
func (m *Model) Run(tokens [][]int, capture ...string) (*Output, error) {
	return m.family().Run(&m.runs, tokens, capture...)
}

// TokensTensor checks a batch of token rows (equal lengths, ids in the vocabulary, within the
// context) and packs it as an int32 [batch, seq] tensor.
func (m *Model) TokensTensor(rows [][]int) (*tensors.Tensor, error) {
	return m.family().TokensTensor(rows)
}

// PositionsTensor is the int32 [batch, seq] tensor of positions start, start+1, ... in every row.
func PositionsTensor(batch, seq, start int) *tensors.Tensor {
	return lm.PositionsTensor(batch, seq, start)
}
