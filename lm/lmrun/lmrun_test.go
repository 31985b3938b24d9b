package lmrun

import (
	"strings"
	"testing"

	"github.com/actadd-go/actadd/lm"
	. "github.com/gomlx/gomlx/core/graph"
)

// noWeights stands in for a family's weights where no graph is built.
type noWeights struct{}

func (noWeights) Forward(tokens, positions *Node, hook lm.Hook) *Node { return nil }
func (noWeights) Logits(hidden *Node) *Node                           { return nil }

// TokensTensor's messages carry the family's prefix, sizes and hint.
func TestTokensTensorMessages(t *testing.T) {
	f := Family[noWeights]{Prefix: "fam", Context: 4, Vocab: 10, EmptyRowHint: " (prepend BOS 7)"}
	for _, c := range []struct {
		rows [][]int
		want string
	}{
		{nil, "fam: empty batch"},
		{[][]int{{}}, "fam: empty token row: every prompt needs at least one token (prepend BOS 7)"},
		{[][]int{{1, 2, 3, 4, 5}}, "fam: 5 tokens exceed the model's context of 4 positions"},
		{[][]int{{1, 2}, {1}}, "fam: row 1 has 1 tokens but row 0 has 2"},
		{[][]int{{1, 10}}, "fam: token id 10 in row 0 is outside the vocabulary [0, 10)"},
	} {
		if _, err := f.TokensTensor(c.rows); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("TokensTensor(%v): error %v, want one containing %q", c.rows, err, c.want)
		}
	}
	tok, err := f.TokensTensor([][]int{{1, 2}, {3, 9}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Value().([][]int32); got[1][1] != 9 || got[0][0] != 1 {
		t.Errorf("TokensTensor packed %v", got)
	}
}

// A finalized store says so, naming the model.
func TestUsableAfterFinalize(t *testing.T) {
	var s Store
	if err := Usable(&s, "fam", "m"); err != nil {
		t.Fatal(err)
	}
	s.Finalize()
	if err := Usable(&s, "fam", "m"); err == nil || !strings.Contains(err.Error(), "fam: model m was finalized") {
		t.Errorf("Usable after Finalize: %v", err)
	}
}
