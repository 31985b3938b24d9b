// Package lmtest checks that a model family keeps the contract of package lm: every hook point
// reached, in order, with the residual stream's shape; the KV-cached prefill and steps equal the
// full forward pass; LogitsByToken equals Logits; packed programs equal unpacked ones; and an
// edit at a hook point reaches the logits. A family's tests call Check on a small random model.
package lmtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/actadd-go/actadd/lm"
	"github.com/actadd-go/actadd/lm/hookpoint"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Check runs every check on m, failing t with what broke. The model must have a context of at
// least 8 positions.
func Check(t *testing.T, m lm.Model) {
	t.Helper()
	d := m.Dims()
	if d.Layers < 1 || d.Width < 1 || d.Context < 8 || d.Vocab < 2 {
		t.Fatalf("lmtest: dims %+v: need at least one layer, a width, a context of 8 and a vocabulary", d)
	}
	r := rand.New(rand.NewPCG(1, 2))
	const batch, seq = 2, 6
	tokens := make([][]int32, batch)
	for b := range tokens {
		for range seq {
			tokens[b] = append(tokens[b], int32(r.IntN(d.Vocab)))
		}
	}
	t.Run("hook points", func(t *testing.T) { checkHookPoints(t, m, tokens) })
	t.Run("prefill and steps equal forward", func(t *testing.T) { checkCache(t, m, tokens, false) })
	t.Run("packed steps equal forward", func(t *testing.T) { checkCache(t, m, tokens, true) })
	t.Run("an edit reaches the logits", func(t *testing.T) { checkEdit(t, m, tokens) })
}

// positions is [len(rows), len(rows[0])] positions start, start+1, ….
func positions(rows [][]int32, start int) [][]int32 {
	out := make([][]int32, len(rows))
	for b := range rows {
		for j := range rows[b] {
			out[b] = append(out[b], int32(start+j))
		}
	}
	return out
}

func call(t *testing.T, p lm.Program, inputs ...any) [][]float32 {
	t.Helper()
	outs, err := p.Call(inputs...)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float32, len(outs))
	for i, o := range outs {
		res[i] = tensors.MustCopyFlatData[float32](o)
		o.FinalizeAll()
	}
	return res
}

func checkHookPoints(t *testing.T, m lm.Model, tokens [][]int32) {
	d, info := m.Dims(), m.Info()
	want := hookpoint.All(d.Layers, info.PosEmbed)
	var seen []string
	p, err := m.Compile("lmtest.hooks", false, func(g lm.Graph, in []*Node) []*Node {
		seen = seen[:0]
		var outs []*Node
		g.Forward(in[0], in[1], func(point string, x *Node) *Node {
			seen = append(seen, point)
			outs = append(outs, ConvertDType(ReduceAllSum(x), x.DType()))
			if got := x.Shape().Dimensions; !slices.Equal(got, []int{len(tokens), len(tokens[0]), d.Width}) {
				panic(fmt.Sprintf("hook point %s has shape %v, want [%d %d %d]", point, got, len(tokens), len(tokens[0]), d.Width))
			}
			return x
		})
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	call(t, p, tokens, positions(tokens, 0))
	if !slices.Equal(seen, want) {
		t.Errorf("hook points reached:\n%v\nwant (hookpoint.All(%d, PosEmbed=%t)):\n%v", seen, d.Layers, info.PosEmbed, want)
	}
}

// checkCache compares the logits of a forward pass over all positions with those of a prefill
// of the first half and one step per remaining position.
func checkCache(t *testing.T, m lm.Model, tokens [][]int32, packed bool) {
	d := m.Dims()
	batch, seq := len(tokens), len(tokens[0])
	pre := seq / 2
	capacity := seq + 2
	fwd, err := m.Compile("lmtest.forward", false, func(g lm.Graph, in []*Node) []*Node {
		return []*Node{g.Logits(g.Forward(in[0], in[1], nil))}
	})
	if err != nil {
		t.Fatal(err)
	}
	full := call(t, fwd, tokens, positions(tokens, 0))[0] // [batch, seq, vocab]
	prefill, err := m.Compile("lmtest.prefill", false, func(g lm.Graph, in []*Node) []*Node {
		h, cache := g.Prefill(in[0], in[1], nil, capacity)
		return append([]*Node{g.Logits(h)}, cache...)
	})
	if err != nil {
		t.Fatal(err)
	}
	head := make([][]int32, batch)
	for b := range tokens {
		head[b] = tokens[b][:pre]
	}
	outs, err := prefill.Call(head, positions(head, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](outs[0])
	for b := range batch {
		for j := range pre {
			compare(t, fmt.Sprintf("prefill row %d position %d", b, j), got[(b*pre+j)*d.Vocab:][:d.Vocab], full[(b*seq+j)*d.Vocab:][:d.Vocab])
		}
	}
	cache := outs[1:]
	step, err := m.Compile("lmtest.step", packed, func(g lm.Graph, in []*Node) []*Node {
		h, next := g.Step(in[0], in[1], lm.Cache(in[2:]), nil)
		hidden := Squeeze(h, 1)
		return append([]*Node{g.Logits(hidden), g.LogitsByToken(hidden)}, next...)
	})
	if err != nil {
		t.Fatal(err)
	}
	for j := pre; j < seq; j++ {
		col := make([][]int32, batch)
		for b := range tokens {
			col[b] = tokens[b][j : j+1]
		}
		args := []any{col, int32(j)}
		for _, c := range cache {
			args = append(args, c)
		}
		outs, err := step.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cache {
			c.FinalizeAll()
		}
		logits, byToken := tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
		for b := range batch {
			compare(t, fmt.Sprintf("step row %d position %d (packed=%t)", b, j, packed), logits[b*d.Vocab:][:d.Vocab], full[(b*seq+j)*d.Vocab:][:d.Vocab])
			col := make([]float32, d.Vocab)
			for v := range col {
				col[v] = byToken[v*batch+b]
			}
			compare(t, fmt.Sprintf("LogitsByToken row %d position %d (packed=%t)", b, j, packed), col, logits[b*d.Vocab:][:d.Vocab])
		}
		cache = outs[2:]
	}
	for _, c := range cache {
		c.FinalizeAll()
	}
}

// checkEdit adds a constant at the first block's resid_pre and checks the logits move.
func checkEdit(t *testing.T, m lm.Model, tokens [][]int32) {
	p, err := m.Compile("lmtest.edit", false, func(g lm.Graph, in []*Node) []*Node {
		plain := g.Logits(g.Forward(in[0], in[1], nil))
		edited := g.Logits(g.Forward(in[0], in[1], func(point string, x *Node) *Node {
			if point == hookpoint.ResidPre(0) {
				return AddScalar(x, 1)
			}
			return x
		}))
		return []*Node{ReduceAllMax(Abs(Sub(plain, edited)))}
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := call(t, p, tokens, positions(tokens, 0))[0][0]; !(diff > 0) {
		t.Errorf("adding 1 at %s changed no logit (max |Δ| = %g)", hookpoint.ResidPre(0), diff)
	}
}

// compare fails t when got and want differ by more than 1e-4 relative to want's largest value.
func compare(t *testing.T, what string, got, want []float32) {
	t.Helper()
	scale := 0.0
	for _, w := range want {
		scale = max(scale, math.Abs(float64(w)))
	}
	for i := range want {
		if diff := math.Abs(float64(got[i] - want[i])); !(diff <= 1e-4*max(scale, 1)) {
			t.Errorf("%s: logit %d is %g, want %g", what, i, got[i], want[i])
			return
		}
	}
}
