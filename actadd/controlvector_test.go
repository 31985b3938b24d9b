package actadd_test

import (
	"math"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
)

// Every-position additions the model cannot take are refused with a reason, not applied.
func TestEveryPositionRefuses(t *testing.T) {
	m, _ := models(t)
	d, nLayer := m.Width(), m.Layers()
	nan := make([]float32, d)
	nan[3] = float32(math.NaN())
	cases := map[string]struct {
		e    actadd.EveryPosition
		want string
	}{
		"unknown point":  {actadd.EveryPosition{Point: "hook_q", Vectors: map[int][]float32{0: make([]float32, d)}}, "unknown hook point"},
		"block past end": {actadd.EveryPosition{Vectors: map[int][]float32{nLayer: make([]float32, d)}}, "blocks 0.."},
		"other width":    {actadd.EveryPosition{Vectors: map[int][]float32{0: make([]float32, d+1)}}, "width"},
		"NaN":            {actadd.EveryPosition{Vectors: map[int][]float32{0: nan}}, "NaN"},
	}
	toks := m.EncodeWithBOS("Hello")
	for name, c := range cases {
		if _, err := m.LogitsEveryPosition(toks, c.e); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: LogitsEveryPosition error %v, want one mentioning %q", name, err, c.want)
		}
		if _, err := m.GenerateEveryPosition("Hello", 2, c.e); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: GenerateEveryPosition error %v, want one mentioning %q", name, err, c.want)
		}
	}
	if _, err := m.LogitsEveryPosition([]int{m.VocabSize()}, actadd.EveryPosition{}); err == nil {
		t.Error("a token id past the vocabulary was accepted")
	}
	if _, err := m.GenerateEveryPosition("Hello", 0, actadd.EveryPosition{}); err == nil {
		t.Error("zero new tokens was accepted")
	}
}

// With no vectors, the every-position program is the plain model.
func TestEveryPositionEmptyIsPlain(t *testing.T) {
	m, _ := models(t)
	prompt := "The cat sat"
	plain, err := m.Logits(prompt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.LogitsEveryPosition(m.EncodeWithBOS(prompt), actadd.EveryPosition{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range plain {
		for j := range plain[i] {
			if math.Abs(float64(plain[i][j]-got[i][j])) > 1e-5 {
				t.Fatalf("position %d token %d: %v, plain model %v", i, j, got[i][j], plain[i][j])
			}
		}
	}
}
