// Package lm is the seam between ActAdd and the language models it steers: what a model family
// must provide (Model, Graph, Program), what a tokenizer must provide (Tokenizer), and the hook
// that is the whole of the steering mechanism (Hook). Packages actadd, sweep, experiments,
// explorer and the benchmarks see a model only through these interfaces; a family (package gpt2,
// package llama) implements them, and package loader picks the family from a checkpoint's
// config.json.
//
// Hook points are named as in TransformerLens by package hookpoint, the one source of the names.
package lm

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Dims are a model's sizes.
type Dims struct {
	Layers  int // transformer blocks (hook points blocks.0 … blocks.Layers-1)
	Width   int // d_model: the width of the residual stream (and of a steering vector's rows)
	Context int // positions the model can attend over
	Vocab   int // rows of the token embedding and width of the logits
}

// Info says what a model's weights are.
type Info struct {
	// Name is a Hugging Face model name ("gpt2-xl", "Qwen/Qwen2.5-0.5B"), a local checkpoint's
	// path relative to the repository (or its folder's name), or the description of a
	// random-weight stand-in. Figures and results print it.
	Name string
	// Revision pins the weights: the hub commit, the stand-in's folder name, or
	// "sha256:<prefix>" of a local checkpoint's files; "" for weights given in memory.
	Revision string
	// Family is the architecture ("gpt2", "llama", "mistral", "qwen2", "qwen3"): config.json's
	// model_type.
	Family string
	// PosEmbed says whether the model has a learned position embedding (hook_pos_embed).
	PosEmbed bool
}

// Model is a language model whose weights live on a backend, from which programs are built.
type Model interface {
	Info() Info
	Dims() Dims
	// Backend is the backend the weights live on.
	Backend() compute.Backend
	// Builds counts the graphs built from this model's weights so far (every program, every
	// input shape): sweeps use it to prove that a new vector, coefficient or layer does not
	// recompile.
	Builds() int64
	// Compile makes a program whose graph build makes from the model's weights (g) and the
	// caller's inputs. With packed, the program is meant to be called many times on few rows
	// (a decoding step whose logits come from Graph.LogitsByToken): where the backend gains from
	// it (Packs), the weights LogitsByToken multiplies by are built into each of its graphs as
	// constants rather than passed on every call; each graph then holds its own copy, so call it
	// with few shapes.
	Compile(name string, packed bool, build func(g Graph, inputs []*graph.Node) []*graph.Node) (Program, error)
	// Packs reports whether Compile(…, packed = true, …) builds weights into its graphs.
	Packs() bool
	// Finalize frees the weights; the model's programs then return an error saying so.
	Finalize()
}

// Program is a compiled program over a model's weights. Its graph is built once per distinct
// shape of the inputs.
type Program interface {
	// Call runs the program on inputs (tensors, or Go values such as [][]int32).
	Call(inputs ...any) ([]*tensors.Tensor, error)
	// Finalize frees the compiled graphs; the program must not be called afterwards.
	Finalize()
}

// Graph is a model's weights as nodes of one graph being built: the forward pass and the LM
// head. tokens and positions are int32 [batch, seq]; hidden states are [batch, seq, Width].
// Attention is causal; rows padded on the right are fine, since no real position attends to a
// later one.
type Graph interface {
	// Forward runs the model on tokens at positions, calling hook at every hook point, and
	// returns the final norm's output (Logits turns it into logits).
	Forward(tokens, positions *graph.Node, hook Hook) *graph.Node
	// Prefill is Forward for the first chunk of a generation: it also returns a cache with room
	// for capacity positions, holding those of the seq processed ones.
	Prefill(tokens, positions *graph.Node, hook Hook, capacity int) (*graph.Node, Cache)
	// Step runs one new token per row (tokens [batch, 1]) at position pos (a scalar int32 node,
	// the same for every row), attending to the cache's positions [0, pos], and returns the
	// hidden state [batch, 1, Width] and the updated cache. The slot at pos must still be empty.
	Step(tokens, pos *graph.Node, cache Cache, hook Hook) (*graph.Node, Cache)
	// Logits applies the LM head to hidden states [..., Width]: [..., Vocab].
	Logits(hidden *graph.Node) *graph.Node
	// LogitsByToken is Logits for hidden [batch, Width], returned transposed, [Vocab, batch]:
	// the same values with the head's matrix as the left operand of the matmul (see Compile's
	// packed).
	LogitsByToken(hidden *graph.Node) *graph.Node
}

// Cache is a key/value cache as nodes of a graph. It is opaque: callers carry it from a prefill
// or step program to the next step as the tensors of these nodes, in this order, and may slice
// or repeat batch rows; for that, the batch is the major part of every node's first axis (the
// axis may merge the batch with following ones, as [batch·heads, …]).
type Cache []*graph.Node

// Hook is called while a forward graph is being built, once at every hook point, with the
// point's name (package hookpoint) and its value ([batch, seq, Width]). It returns the value the
// rest of the model uses: x itself to only observe the stream, or an edited node to change it.
// This is the whole mechanism behind capturing activations and behind ActAdd's edit. A nil Hook
// leaves the model untouched.
type Hook func(point string, x *graph.Node) *graph.Node

// At applies the hook, if any, at point.
func (h Hook) At(point string, x *graph.Node) *graph.Node {
	if h == nil {
		return x
	}
	return h(point, x)
}

// Chain runs hooks in order at every point, each one seeing the value the previous one returned.
func Chain(hooks ...Hook) Hook {
	return func(point string, x *graph.Node) *graph.Node {
		for _, h := range hooks {
			x = h.At(point, x)
		}
		return x
	}
}

// Capture returns a hook that records the value of each named point into captured (keyed by
// name) without changing it; the caller returns the recorded nodes as extra graph outputs.
func Capture(captured map[string]*graph.Node, points ...string) Hook {
	want := make(map[string]bool, len(points))
	for _, p := range points {
		want[p] = true
	}
	return func(point string, x *graph.Node) *graph.Node {
		if want[point] {
			captured[point] = x
		}
		return x
	}
}
