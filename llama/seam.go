package llama

import (
	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/lmrun"
	. "github.com/gomlx/gomlx/core/graph"
)

// Info says what the weights are (lm.Model). The Llama family has no learned position
// embedding, so no hook_pos_embed.
func (m *Model) Info() lm.Info {
	return lm.Info{Name: m.Name, Revision: m.Revision, Family: m.Config.ModelType}
}

// Dims are the model's sizes (lm.Model).
func (m *Model) Dims() lm.Dims {
	c := m.Config
	return lm.Dims{Layers: c.NumHiddenLayers, Width: c.HiddenSize, Context: c.MaxPositionEmbeddings, Vocab: c.VocabSize}
}

// Compile is NewProgram, or NewPackedProgram when packed, for a graph built through the
// lm.Graph interface (lm.Model).
func (m *Model) Compile(name string, packed bool, build func(g lm.Graph, inputs []*Node) []*Node) (lm.Program, error) {
	return m.family().Compile(name, packed, func(w *Weights) lm.Graph { return graph{w} }, build)
}

// graph is Weights as an lm.Graph: the KV cache travels as one list (KVCache.List).
type graph struct{ *Weights }

func (g graph) Prefill(tokens, positions *Node, hook lm.Hook, capacity int) (*Node, lm.Cache) {
	h, c := g.Weights.Prefill(tokens, positions, hook, capacity)
	return h, c.List()
}

func (g graph) Step(tokens, pos *Node, cache lm.Cache, hook lm.Hook) (*Node, lm.Cache) {
	h, c := g.Weights.Step(tokens, pos, lmrun.SplitCache(cache), hook)
	return h, c.List()
}

var _ lm.Model = (*Model)(nil)
