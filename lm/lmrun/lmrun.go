// Package lmrun holds what the model families (gpt2, llama) share around their graphs: compiled
// programs over a model's weights, the plain forward pass with captured hook points, and the
// checks on a batch of token rows. A family describes itself by a Family value: the prefix of
// its messages, its sizes, its hook-point parser and how it wraps graph inputs as its weights.
package lmrun

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/actadd-go/actadd/lm"
	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Weights is what a family's graph weights offer to Run.
type Weights interface {
	// Forward builds the model on tokens [batch, seq] at positions [batch, seq] and returns
	// the hidden state the LM head reads.
	Forward(tokens, positions *Node, hook lm.Hook) *Node
	// Logits applies the LM head.
	Logits(hidden *Node) *Node
}

// Family describes one loaded model of a family to the shared code.
type Family[W Weights] struct {
	Prefix  string // the package name that begins every message: "gpt2", "llama"
	Backend compute.Backend
	// Params are the model's weights, in the order Weights expects them.
	Params []*tensors.Tensor
	// Usable returns an error once the model has been finalized.
	Usable func() error
	// Weights wraps a graph's leading inputs (fed with Params) as the model's weights.
	Weights func(params []*Node) W
	// Packed marks the weights a packed program builds into its graphs as constants; nil when
	// the model does not pack (then a packed program is a plain one).
	Packed func() []bool
	// ParseHookPoint checks a hook point's name for a model of Layers blocks.
	ParseHookPoint func(name string, nLayer int) (int, error)
	Layers         int
	Context, Vocab int
	// EmptyRowHint ends the message for an empty token row (" (prepend BOS 50256)"), or "".
	EmptyRowHint string
}

// Program is a compiled GoMLX program over a model's weights: the weights are its leading
// inputs, supplied on every call, followed by the caller's inputs. Its graph is built (and
// compiled) once per distinct shape of the inputs.
type Program struct {
	prefix string
	usable func() error
	exec   *Exec
	params []*tensors.Tensor // the weights passed on every call (all of them, unless packed)
}

// NewProgram wraps fn, which builds the graph given the model's weights and the caller's input
// nodes, into a Program. Errors raised while building (GoMLX panics) are returned by Call.
func (f Family[W]) NewProgram(name string, fn func(w W, inputs []*Node) []*Node) (*Program, error) {
	if err := f.Usable(); err != nil {
		return nil, err
	}
	n := len(f.Params)
	exec, err := NewExec(f.Backend, func(all []*Node) []*Node {
		return fn(f.Weights(all[:n]), all[n:])
	})
	if err != nil {
		return nil, fmt.Errorf("%s: creating program %s: %w", f.Prefix, name, err)
	}
	exec.SetMaxCache(-1) // one graph per input shape, kept for the model's life
	return &Program{prefix: f.Prefix, usable: f.Usable, exec: exec.WithName(name), params: f.Params}, nil
}

// NewPackedProgram is NewProgram for a program called many times on few rows: the weights that
// Packed marks are built into each of its graphs as constants instead of being passed on every
// call, so that the backend packs them into its matmul kernel's layout once. Each graph holds
// its own copy of them and of their packed form, so the caller should call it with few shapes.
func (f Family[W]) NewPackedProgram(name string, fn func(w W, inputs []*Node) []*Node) (*Program, error) {
	var packed []bool
	if f.Packed != nil {
		packed = f.Packed()
	}
	if packed == nil {
		return f.NewProgram(name, fn)
	}
	var passed []*tensors.Tensor
	for i, t := range f.Params {
		if !packed[i] {
			passed = append(passed, t)
		}
	}
	exec, err := NewExec(f.Backend, func(all []*Node) []*Node {
		g := all[0].Graph()
		params := make([]*Node, len(f.Params))
		next := 0
		for i, t := range f.Params {
			if packed[i] {
				params[i] = ConstTensor(g, t)
			} else {
				params[i], next = all[next], next+1
			}
		}
		return fn(f.Weights(params), all[next:])
	})
	if err != nil {
		return nil, fmt.Errorf("%s: creating program %s: %w", f.Prefix, name, err)
	}
	exec.SetMaxCache(-1)
	return &Program{prefix: f.Prefix, usable: f.Usable, exec: exec.WithName(name), params: passed}, nil
}

// Compile is NewProgram, or NewPackedProgram when packed, for a graph built through the
// lm.Graph interface; asGraph wraps the family's weights as an lm.Graph.
func (f Family[W]) Compile(name string, packed bool, asGraph func(W) lm.Graph, build func(g lm.Graph, inputs []*Node) []*Node) (lm.Program, error) {
	fn := func(w W, in []*Node) []*Node { return build(asGraph(w), in) }
	var p *Program
	var err error
	if packed {
		p, err = f.NewPackedProgram(name, fn)
	} else {
		p, err = f.NewProgram(name, fn)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Call runs the program on inputs (tensors, or Go values such as [][]int32).
func (p *Program) Call(inputs ...any) ([]*tensors.Tensor, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	args := make([]any, 0, len(p.params)+len(inputs))
	for _, t := range p.params {
		args = append(args, t)
	}
	args = append(args, inputs...)
	out, err := p.exec.Call(args...)
	if err != nil {
		return nil, fmt.Errorf("%s: running %s: %w", p.prefix, p.exec.Name(), err)
	}
	return out, nil
}

// Finalize frees the program's compiled graphs (and, for a packed program, its copies of the
// weights). The program must not be called afterwards.
func (p *Program) Finalize() { p.exec.Finalize() }

// Output of Run.
type Output struct {
	// Logits [batch, seq, vocab].
	Logits *tensors.Tensor
	// Activations of the captured hook points, each [batch, seq, d_model].
	Activations map[string]*tensors.Tensor
}

// Runs keeps a model's Run programs, one per set of captured points. The zero value is ready.
type Runs struct {
	mu       sync.Mutex
	programs map[string]*Program
}

// Run does a plain forward pass on a batch of token rows of equal length (positions 0..seq-1)
// and returns the logits and the activations of the requested hook points. Its programs are
// kept in runs.
func (f Family[W]) Run(runs *Runs, tokens [][]int, capture ...string) (*Output, error) {
	tok, err := f.TokensTensor(tokens)
	if err != nil {
		return nil, err
	}
	for _, p := range capture {
		if _, err := f.ParseHookPoint(p, f.Layers); err != nil {
			return nil, err
		}
	}
	capture = append([]string(nil), capture...)
	sort.Strings(capture)
	prog, err := f.runProgram(runs, capture)
	if err != nil {
		return nil, err
	}
	outs, err := prog.Call(tok, lm.PositionsTensor(len(tokens), len(tokens[0]), 0))
	if err != nil {
		return nil, err
	}
	res := &Output{Logits: outs[0], Activations: map[string]*tensors.Tensor{}}
	for i, p := range capture {
		res.Activations[p] = outs[1+i]
	}
	return res, nil
}

func (f Family[W]) runProgram(runs *Runs, capture []string) (*Program, error) {
	key := strings.Join(capture, ",")
	runs.mu.Lock()
	defer runs.mu.Unlock()
	if p, ok := runs.programs[key]; ok {
		return p, nil
	}
	p, err := f.NewProgram(f.Prefix+".Run", func(w W, in []*Node) []*Node {
		captured := map[string]*Node{}
		h := w.Forward(in[0], in[1], lm.Capture(captured, capture...))
		outs := []*Node{w.Logits(h)}
		for _, c := range capture {
			if captured[c] == nil {
				panic(fmt.Sprintf("%s: hook point %q was never reached", f.Prefix, c))
			}
			outs = append(outs, captured[c])
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	if runs.programs == nil {
		runs.programs = map[string]*Program{}
	}
	runs.programs[key] = p
	return p, nil
}

// TokensTensor checks a batch of token rows (equal lengths, ids in the vocabulary, within the
// context) and packs it as an int32 [batch, seq] tensor (lm.TokensTensor).
func (f Family[W]) TokensTensor(rows [][]int) (*tensors.Tensor, error) {
	return lm.TokensTensor(f.Prefix, f.EmptyRowHint, f.Vocab, f.Context, rows)
}
