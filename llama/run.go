package llama

import (
	"fmt"

	"sort"
	"strings"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Program is a compiled GoMLX program over a model's weights: the weights are its leading
// inputs, supplied on every call, followed by the caller's inputs. Its graph is built (and
// compiled) once per distinct shape of the inputs.
type Program struct {
	model  *Model
	exec   *Exec
	params []*tensors.Tensor // the weights passed on every call (all of them, unless packed)
}

// NewProgram wraps fn, which builds the graph given the model's weights and the caller's input
// nodes, into a Program. Errors raised while building (GoMLX panics) are returned by Call.
func (m *Model) NewProgram(name string, fn func(w *Weights, inputs []*Node) []*Node) (*Program, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	n := m.NumParams()
	exec, err := NewExec(m.backend, func(all []*Node) []*Node {
		return fn(m.Weights(all[:n]), all[n:])
	})
	if err != nil {
		return nil, fmt.Errorf("llama: creating program %s: %w", name, err)
	}
	exec.SetMaxCache(-1) // one graph per input shape, kept for the model's life
	return &Program{model: m, exec: exec.WithName(name), params: m.params}, nil
}

// NewPackedProgram is NewProgram for a program called many times on few rows, as a decoding
// step whose logits come from Weights.LogitsByToken. On the go backend, the LM head is built
// into each of its graphs as a constant instead of being passed on every call, so that the
// backend packs it into its matmul kernel's layout once (see gpt2.Model.NewPackedProgram).
// With Model.PackBlocks, the blocks' matrices are built in too. Each graph holds its own copy
// of what is built in and of its packed form, so the caller should call it with few shapes. On
// other backends it is NewProgram.
func (m *Model) NewPackedProgram(name string, fn func(w *Weights, inputs []*Node) []*Node) (*Program, error) {
	if !m.Packs() {
		return m.NewProgram(name, fn)
	}
	packed := m.packedParams()
	var passed []*tensors.Tensor
	for i, t := range m.params {
		if !packed[i] {
			passed = append(passed, t)
		}
	}
	exec, err := NewExec(m.backend, func(all []*Node) []*Node {
		g := all[0].Graph()
		params := make([]*Node, len(m.params))
		next := 0
		for i, t := range m.params {
			if packed[i] {
				params[i] = ConstTensor(g, t)
			} else {
				params[i], next = all[next], next+1
			}
		}
		return fn(m.Weights(params), all[next:])
	})
	if err != nil {
		return nil, fmt.Errorf("llama: creating program %s: %w", name, err)
	}
	exec.SetMaxCache(-1)
	return &Program{model: m, exec: exec.WithName(name), params: passed}, nil
}

// Packs reports whether NewPackedProgram builds the LM head into its graphs: on the go
// backend.
func (m *Model) Packs() bool { return m.backend.String() == "go" }

// packedParams marks the weights NewPackedProgram builds in: the LM head as LogitsByToken uses
// it (embed_tokens when tied, lm_head otherwise).
func (m *Model) packedParams() []bool {
	head := kHead
	if m.Config.TieWordEmbeddings {
		head = kEmbed
	}
	out := make([]bool, len(m.params))
	for i, k := range m.kinds {
		out[i] = (k.layer < 0 && k.what == head) || (m.PackBlocks && k.layer >= 0 && len(m.params[i].Shape().Dimensions) == 2)
	}
	return out
}

// Call runs the program on inputs (tensors, or Go values such as [][]int32).
func (p *Program) Call(inputs ...any) ([]*tensors.Tensor, error) {
	if err := p.model.usable(); err != nil {
		return nil, err
	}
	args := make([]any, 0, len(p.params)+len(inputs))
	for _, t := range p.params {
		args = append(args, t)
	}
	args = append(args, inputs...)
	out, err := p.exec.Call(args...)
	if err != nil {
		return nil, fmt.Errorf("llama: running %s: %w", p.exec.Name(), err)
	}
	return out, nil
}

// Finalize frees the program's compiled graphs (and, for a packed program, its copies of the
// weights). The program must not be called afterwards.
func (p *Program) Finalize() { p.exec.Finalize() }

// Output of Model.Run.
type Output struct {
	// Logits [batch, seq, vocab].
	Logits *tensors.Tensor
	// Activations of the captured hook points, each [batch, seq, d_model].
	Activations map[string]*tensors.Tensor
}

// Run does a plain forward pass on a batch of token rows of equal length (positions 0..seq-1)
// and returns the logits and the activations of the requested hook points.
func (m *Model) Run(tokens [][]int, capture ...string) (*Output, error) {
	tok, err := m.TokensTensor(tokens)
	if err != nil {
		return nil, err
	}
	for _, p := range capture {
		if _, err := ParseHookPoint(p, m.Config.NumHiddenLayers); err != nil {
			return nil, err
		}
	}
	capture = append([]string(nil), capture...)
	sort.Strings(capture)
	prog, err := m.runProgram(capture)
	if err != nil {
		return nil, err
	}
	outs, err := prog.Call(tok, PositionsTensor(len(tokens), len(tokens[0]), 0))
	if err != nil {
		return nil, err
	}
	res := &Output{Logits: outs[0], Activations: map[string]*tensors.Tensor{}}
	for i, p := range capture {
		res.Activations[p] = outs[1+i]
	}
	return res, nil
}

func (m *Model) runProgram(capture []string) (*Program, error) {
	key := strings.Join(capture, ",")
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.runPrograms[key]; ok {
		return p, nil
	}
	p, err := m.NewProgram("llama.Run", func(w *Weights, in []*Node) []*Node {
		captured := map[string]*Node{}
		h := w.Forward(in[0], in[1], Capture(captured, capture...))
		outs := []*Node{w.Logits(h)}
		for _, c := range capture {
			if captured[c] == nil {
				panic(fmt.Sprintf("llama: hook point %q was never reached", c))
			}
			outs = append(outs, captured[c])
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	if m.runPrograms == nil {
		m.runPrograms = map[string]*Program{}
	}
	m.runPrograms[key] = p
	return p, nil
}

// TokensTensor checks a batch of token rows (equal lengths, ids in the vocabulary, within the
// context) and packs it as an int32 [batch, seq] tensor.
func (m *Model) TokensTensor(rows [][]int) (*tensors.Tensor, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("llama: empty batch: give at least one row of tokens")
	}
	seq := len(rows[0])
	if seq == 0 {
		return nil, fmt.Errorf("llama: empty token row: every prompt needs at least one token")
	}
	if seq > m.Config.MaxPositionEmbeddings {
		return nil, fmt.Errorf("llama: %d tokens exceed the model's context of %d positions: shorten the text", seq, m.Config.MaxPositionEmbeddings)
	}
	flat := make([]int32, 0, len(rows)*seq)
	for i, r := range rows {
		if len(r) != seq {
			return nil, fmt.Errorf("llama: row %d has %d tokens but row 0 has %d: rows of a batch must have equal length (pad them)", i, len(r), seq)
		}
		for _, t := range r {
			if t < 0 || t >= m.Config.VocabSize {
				return nil, fmt.Errorf("llama: token id %d in row %d is outside the vocabulary [0, %d)", t, i, m.Config.VocabSize)
			}
			flat = append(flat, int32(t))
		}
	}
	return tensors.FromFlatDataAndDimensions(flat, len(rows), seq), nil
}

// PositionsTensor is the int32 [batch, seq] tensor of positions start, start+1, ... in every row
// (as gpt2.PositionsTensor).
func PositionsTensor(batch, seq, start int) *tensors.Tensor {
	flat := make([]int32, batch*seq)
	for i := range flat {
		flat[i] = int32(start + i%seq)
	}
	return tensors.FromFlatDataAndDimensions(flat, batch, seq)
}
