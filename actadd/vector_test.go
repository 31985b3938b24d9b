package actadd_test

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/gomlx/gomlx/core/tensors"
)

// A vector from several pairs keeps them as a list: no separator shows up in printed additions,
// and prompts may hold any character.
func TestMeanDifferenceKeepsPairs(t *testing.T) {
	m, _ := models(t)
	pairs := [][2]string{{"Love", "Hate"}, {"I love\x1fit", "I hate it"}}
	v, err := m.MeanDifference(pairs, 1, actadd.DefaultPoint)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Pairs, pairs) {
		t.Errorf("vector pairs %q, want %q", v.Pairs, pairs)
	}
	s := actadd.Apply(v, 2).String()
	if want := `+2·mean of 2 pairs ("Love" − "Hate", "I love\x1fit" − "I hate it") at blocks.1.hook_resid_pre (front)`; s != want {
		t.Errorf("addition prints as\n%s\nwant\n%s", s, want)
	}
	// Pairs that a joined string could not tell apart are different vectors.
	other, err := m.MeanDifference([][2]string{{"Love\x1fI love", "Hate\x1fI hate it"}}, 1, actadd.DefaultPoint)
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Pairs) != 1 || slices.Equal(other.Data, v.Data) {
		t.Errorf("one pair with a separator inside shares the two-pair vector: %q", other.Pairs)
	}
}

// Files written by the first format (pairs joined with "\x1f") still load, as lists.
func TestLoadVectorFormat1(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		plus, minus string
		want        [][2]string
	}{
		"two pairs": {"Love\x1fI love it", "Hate\x1fI hate it", [][2]string{{"Love", "Hate"}, {"I love it", "I hate it"}}},
		"one pair":  {" weddings", "", [][2]string{{" weddings", ""}}},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".safetensors")
		meta := map[string]string{"format": "actadd-vector/1", "model": "gpt2", "layer": "6", "point": actadd.DefaultPoint,
			"plus": c.plus, "minus": c.minus, "coefficient": "4", "position": "front"}
		if err := checkpoint.WriteSafetensors(path, map[string]checkpoint.Tensor{"steering_vector": {Shape: []int{2, 3}, Data: make([]float32, 6)}}, meta); err != nil {
			t.Fatal(err)
		}
		v, add, err := actadd.LoadVector(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(v.Pairs, c.want) || v.Model != "gpt2" || add.Coeff != 4 || add.Layer != 6 {
			t.Errorf("%s: loaded %+v, %v", name, v, add)
		}
	}
}

// otherModel is a model of the test shape under another name (as distilgpt2 and gpt2 share a
// width).
func otherModel(t *testing.T, name string) *actadd.Model {
	t.Helper()
	g, err := gpt2.New(testbackend.Get(t), name, testConfig, checkpoint.RandomTensors(testConfig, 7))
	if err != nil {
		t.Fatal(err)
	}
	m, err := actadd.Wrap(g, nil, "go")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A vector records its model: another model of the same width refuses it, whether the vector
// comes from memory or from a file, until the caller re-labels it on purpose with ForModel.
func TestVectorOfAnotherModel(t *testing.T) {
	m, _ := models(t)
	other := otherModel(t, "distilgpt2-shaped test model")
	add := actadd.Pair(" weddings", "", 2).AtLayer(1)
	v, err := m.Vector(add)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v.safetensors")
	if err := actadd.SaveVector(path, v, actadd.Apply(v, 2)); err != nil {
		t.Fatal(err)
	}
	loaded, saved, err := actadd.LoadVector(path)
	if err != nil {
		t.Fatal(err)
	}
	prompt := "I went up to my friend and said"
	for what, a := range map[string]actadd.Addition{"in memory": actadd.Apply(v, 2), "loaded": saved} {
		_, err := other.Logits(prompt, a)
		if err == nil {
			t.Fatalf("%s: a vector of %q steered %q without a word", what, m.Name, other.Name)
		}
		for _, want := range []string{m.Name, other.Name, "ForModel"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not name %q", what, err, want)
			}
		}
		if _, err := other.Generate([]string{prompt}, actadd.GenerateOptions{MaxNewTokens: 1}, a); err == nil {
			t.Errorf("%s: Generate applied another model's vector", what)
		}
	}
	// The model it came from applies it; ForModel makes the exception explicit.
	if _, err := m.Logits(prompt, saved); err != nil {
		t.Errorf("the vector's own model refused it: %v", err)
	}
	if _, err := other.Logits(prompt, actadd.Apply(loaded.ForModel(other.Name), 2)); err != nil {
		t.Errorf("ForModel did not let the other model apply it: %v", err)
	}
	if loaded.Model != m.Name {
		t.Errorf("ForModel changed the original vector's model to %q", loaded.Model)
	}
	// A hand-made vector must say which model it belongs to.
	bare := &actadd.Vector{Layer: 1, Point: actadd.DefaultPoint, Pairs: [][2]string{{"a", ""}}, N: 1, D: testConfig.NEmbd, Data: make([]float32, testConfig.NEmbd)}
	if _, err := m.Logits(prompt, actadd.Apply(bare, 1)); err == nil || !strings.Contains(err.Error(), "records no model") {
		t.Errorf("a vector without a model: error %v", err)
	}
}

// Every vector that SaveVector saves, LoadVector reads back as it was, with the addition it was
// saved with, whichever way the vector was made: from one prompt pair, from several, by hand
// from activations (no prompt pairs, the case that used to save but not load), re-labelled for
// another model, scaled by hand, or itself loaded from a file of the first format.
func TestSaveLoadEveryVector(t *testing.T) {
	m, _ := models(t)
	dir := t.TempDir()
	fromPair, err := m.Vector(actadd.Pair(" weddings", "", 4).AtLayer(2))
	if err != nil {
		t.Fatal(err)
	}
	mean, err := m.MeanDifference([][2]string{{"Love", "Hate"}, {"I love it", "I hate it"}}, 1, "hook_resid_post")
	if err != nil {
		t.Fatal(err)
	}
	acts, err := m.LM.(*gpt2.Model).Run([][]int{{50256, 40, 1842}}, "blocks.3.hook_resid_mid")
	if err != nil {
		t.Fatal(err)
	}
	h := tensors.MustCopyFlatData[float32](acts.Activations["blocks.3.hook_resid_mid"])
	byHand := &actadd.Vector{Model: m.Name, Layer: 3, Point: "hook_resid_mid", N: 3, D: testConfig.NEmbd, Data: h}
	scaled := *fromPair
	scaled.Data = slices.Clone(fromPair.Data)
	for i := range scaled.Data {
		scaled.Data[i] *= -0.5
	}
	v1 := filepath.Join(dir, "v1.safetensors")
	if err := checkpoint.WriteSafetensors(v1, map[string]checkpoint.Tensor{"steering_vector": {Shape: []int{1, testConfig.NEmbd}, Data: fromPair.Data[:testConfig.NEmbd]}},
		map[string]string{"format": "actadd-vector/1", "model": m.Name, "layer": "0", "point": actadd.DefaultPoint,
			"plus": "Love\x1fI love it", "minus": "Hate\x1fI hate it", "coefficient": "2", "position": "back"}); err != nil {
		t.Fatal(err)
	}
	fromV1, _, err := actadd.LoadVector(v1)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		v *actadd.Vector
		a actadd.Addition
	}{
		"one prompt pair":                 {fromPair, actadd.Apply(fromPair, 4)},
		"several prompt pairs":            {mean, actadd.Apply(mean, -1.5).AtPosition(actadd.Mid)},
		"by hand from activations":        {byHand, actadd.Apply(byHand, 0.25).AtPosition(actadd.Back)},
		"by hand, no model, no point":     {&actadd.Vector{Layer: 0, N: 1, D: 2, Data: []float32{1, -2}}, actadd.Addition{Coeff: 1}},
		"re-labelled for another model":   {fromPair.ForModel("distilgpt2"), actadd.Apply(fromPair, 1e-3)},
		"scaled by hand":                  {&scaled, actadd.Apply(&scaled, 3)},
		"loaded from a first-format file": {fromV1, actadd.Apply(fromV1, 2).AtPosition(actadd.Back)},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".safetensors")
		if err := actadd.SaveVector(path, c.v, c.a); err != nil {
			t.Errorf("%s: SaveVector: %v", name, err)
			continue
		}
		got, add, err := actadd.LoadVector(path)
		if err != nil {
			t.Errorf("%s: a saved vector does not load: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.v) {
			t.Errorf("%s: loaded\n%+v\nsaved\n%+v", name, got, c.v)
		}
		if add.Coeff != c.a.Coeff || add.Position != c.a.Position || add.Layer != c.v.Layer || add.Vector != got {
			t.Errorf("%s: loaded addition %v, saved %v", name, add, c.a)
		}
	}
}
