package gpt2

import (
	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/lmrun"
	. "github.com/gomlx/gomlx/core/graph"
)

// Family is GPT-2's model_type in config.json.
const Family = "gpt2"

// Info says what the weights are (lm.Model).
func (m *Model) Info() lm.Info {
	return lm.Info{Name: m.Name, Revision: m.Revision, Family: Family, PosEmbed: true}
}

// Dims are the model's sizes (lm.Model).
func (m *Model) Dims() lm.Dims {
	return lm.Dims{Layers: m.Config.NLayer, Width: m.Config.NEmbd, Context: m.Config.NPositions, Vocab: m.Config.VocabSize}
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
