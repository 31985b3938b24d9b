package llama

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
		Prefix:  "llama",
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
		Layers:         m.Config.NumHiddenLayers,
		Context:        m.Config.MaxPositionEmbeddings,
		Vocab:          m.Config.VocabSize,
	}
}

// NewProgram wraps fn, which builds the graph given the model's weights and the caller's input
// nodes, into a Program. Errors raised while building (GoMLX panics) are returned by Call.
func (m *Model) NewProgram(name string, fn func(w *Weights, inputs []*Node) []*Node) (*Program, error) {
	return m.family().NewProgram(name, fn)
}

// NewPackedProgram is NewProgram for a program called many times on few rows, as a decoding
// step whose logits come from Weights.LogitsByToken. On the go backend, the LM head is built
// into each of its graphs as a constant instead of being passed on every call, so that the
// backend packs it into its matmul kernel's layout once (see gpt2.Model.NewPackedProgram).
// With Model.PackBlocks, the blocks' matrices are built in too. Each graph holds its own copy
// of what is built in and of its packed form, so the caller should call it with few shapes. On
// other backends it is NewProgram.
func (m *Model) NewPackedProgram(name string, fn func(w *Weights, inputs []*Node) []*Node) (*Program, error) {
	return m.family().NewPackedProgram(name, fn)
}

// Packs reports whether NewPackedProgram builds the LM head into its graphs: on the go
// backend.
func (m *Model) Packs() bool { return m.Backend().String() == "go" }

// packedParams marks the weights NewPackedProgram builds in: the LM head as LogitsByToken uses
// it (embed_tokens when tied, lm_head otherwise).
func (m *Model) packedParams() []bool {
	head := kHead
	if m.Config.TieWordEmbeddings {
		head = kEmbed
	}
	out := make([]bool, len(m.Params()))
	for i, k := range m.kinds {
		out[i] = (k.layer < 0 && k.what == head) || (m.PackBlocks && k.layer >= 0 && len(m.Params()[i].Shape().Dimensions) == 2)
	}
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

// PositionsTensor is the int32 [batch, seq] tensor of positions start, start+1, ... in every row
// (as gpt2.PositionsTensor).
func PositionsTensor(batch, seq, start int) *tensors.Tensor {
	return lm.PositionsTensor(batch, seq, start)
}
