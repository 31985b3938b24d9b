package controlvector_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/controlvector"
)

var (
	tinyOnce sync.Once
	tiny     *actadd.Model
	tinyErr  error
)

// tinyModel is the random-weight stand-in (4 blocks of width 64): the checks below compare two
// ways of computing the same thing, which any weights exercise.
func tinyModel(t *testing.T) *actadd.Model {
	t.Helper()
	tinyOnce.Do(func() { tiny, tinyErr = actadd.Load("tiny") })
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return tiny
}

// direction is a deterministic vector of width d, large enough to move the tiny model's logits.
func direction(d int, seed float64) []float32 {
	v := make([]float32, d)
	for j := range v {
		v[j] = float32(math.Sin(seed*float64(j+1)) * 3)
	}
	return v
}

// repeated is an ActAdd vector whose n rows are all dir: ActAdd adds it, from the front, to all
// n positions of an n-token prompt, i.e. at every position.
func repeated(m *actadd.Model, dir []float32, n, layer int, point string) *actadd.Vector {
	data := make([]float32, 0, n*len(dir))
	for range n {
		data = append(data, dir...)
	}
	return &actadd.Vector{Model: m.Name, Layer: layer, Point: point, N: n, D: len(dir), Data: data}
}

// maxRelDiff is max |a − b| / max(1, max |b|) over all logits.
func maxRelDiff(a, b [][]float32) float64 {
	var diff, scale float64 = 0, 1
	for i := range a {
		for j := range a[i] {
			diff = max(diff, math.Abs(float64(a[i][j]-b[i][j])))
			scale = max(scale, math.Abs(float64(b[i][j])))
		}
	}
	return diff / scale
}

// llama.cpp's semantics (strength · direction.{il} added to block il's output at every
// position) equal ActAdd's own machinery adding the same vector at blocks.{il}.hook_resid_post
// to every position of the prompt, and, one block on, at blocks.{il+1}.hook_resid_pre.
func TestLlamaSemanticsEqualResidPostEveryPosition(t *testing.T) {
	m := tinyModel(t)
	d := m.Width()
	prompt := "I went up to my friend and said"
	toks := m.EncodeWithBOS(prompt)
	n := len(toks)
	dir1, dir3 := direction(d, 0.7), direction(d, 1.3)
	cv := &controlvector.ControlVector{ModelHint: "gpt2", D: d, Directions: map[int][]float32{1: dir1, 3: dir3}}
	const strength = 1.5
	e, err := cv.EveryPosition(m, strength, controlvector.LayerRange{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.LogitsEveryPosition(toks, e)
	if err != nil {
		t.Fatal(err)
	}
	post, err := m.Logits(prompt,
		actadd.Apply(repeated(m, dir1, n, 1, "hook_resid_post"), strength).AtPoint("hook_resid_post"),
		actadd.Apply(repeated(m, dir3, n, 3, "hook_resid_post"), strength).AtPoint("hook_resid_post"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := m.Logits(prompt)
	if err != nil {
		t.Fatal(err)
	}
	if r := maxRelDiff(got, post); r > 1e-5 {
		t.Errorf("llama.cpp semantics vs ActAdd at hook_resid_post of blocks 1 and 3, every position: max relative difference %.3g", r)
	}
	if r := maxRelDiff(plain, post); r < 1e-3 {
		t.Fatalf("the vectors barely move the logits (%.3g): the comparison proves nothing", r)
	}
	// blocks.1.hook_resid_post is blocks.2.hook_resid_pre: the same addition, named one block on.
	onlyOne, err := cv.EveryPosition(m, strength, controlvector.LayerRange{From: 1, To: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(onlyOne.Vectors) != 1 {
		t.Fatalf("layer range 1..2 keeps blocks %v, want [1]", onlyOne.Vectors)
	}
	got1, err := m.LogitsEveryPosition(toks, onlyOne)
	if err != nil {
		t.Fatal(err)
	}
	pre, err := m.Logits(prompt, actadd.Apply(repeated(m, dir1, n, 2, "hook_resid_pre"), strength))
	if err != nil {
		t.Fatal(err)
	}
	if r := maxRelDiff(got1, pre); r > 1e-5 {
		t.Errorf("direction.1 vs ActAdd at blocks.2.hook_resid_pre, every position: max relative difference %.3g", r)
	}
	if r := maxRelDiff(got1, post); r < 1e-3 {
		t.Errorf("the layer range did not drop direction.3 (difference %.3g)", r)
	}
}

// An exported vector, imported and applied with llama.cpp's semantics at strength 1, is ActAdd's
// addition at the same hook point with the reduced row at every position: the file loses the
// vector's positions and its front-only placement, nothing else.
func TestExportImportApply(t *testing.T) {
	m := tinyModel(t)
	v, err := m.MeanDifference([][2]string{{"Love", "Hate"}}, 3, actadd.DefaultPoint)
	if err != nil {
		t.Fatal(err)
	}
	for _, red := range []controlvector.Reduction{controlvector.Last, controlvector.Mean} {
		path := filepath.Join(t.TempDir(), "love.gguf")
		const coeff = 4.0
		if err := controlvector.Export(path, v, controlvector.ExportOptions{Coeff: coeff, Reduction: red}); err != nil {
			t.Fatal(err)
		}
		cv, err := controlvector.Import(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cv.Layers(), []int{2}) || cv.ModelHint != "gpt2" {
			t.Fatalf("%s: blocks.3.hook_resid_pre exported as directions %v (hint %q), want direction.2", red, cv.Layers(), cv.ModelHint)
		}
		if cv.Meta["actadd.model"] != m.Name || cv.Meta["actadd.layer"] != int32(3) || cv.Meta["actadd.reduction"] != string(red) || cv.Meta["actadd.coefficient"] != coeff {
			t.Errorf("%s: provenance metadata %v", red, cv.Meta)
		}
		// Both prompts start with BOS, where the difference is exactly zero: Mean leaves it out.
		if slices.ContainsFunc(v.At(0), func(x float32) bool { return x != 0 }) {
			t.Fatalf("the difference at BOS is not exactly zero: %v", v.At(0)[:4])
		}
		row := make([]float32, v.D)
		for i := 1; i < v.N; i++ {
			if red == controlvector.Last && i != v.N-1 {
				continue
			}
			for j, x := range v.At(i) {
				row[j] += x
			}
		}
		if red == controlvector.Mean {
			for j := range row {
				row[j] /= float32(v.N - 1)
			}
		}
		prompt := "I hate you because"
		toks := m.EncodeWithBOS(prompt)
		e, err := cv.EveryPosition(m, 1, controlvector.LayerRange{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.LogitsEveryPosition(toks, e)
		if err != nil {
			t.Fatal(err)
		}
		want, err := m.Logits(prompt, actadd.Apply(repeated(m, row, len(toks), 3, actadd.DefaultPoint), coeff))
		if err != nil {
			t.Fatal(err)
		}
		if r := maxRelDiff(got, want); r > 1e-5 {
			t.Errorf("%s: exported vector applied as llama.cpp does vs ActAdd with the %s row at every position: max relative difference %.3g", red, red, r)
		}
	}
}

// llama.cpp's il is the block whose output is added to: blocks.{l}.hook_resid_pre is block
// l − 1's output; blocks 0 and 1's resid_pre cannot be exported (embeddings; direction.0).
func TestBlockConvention(t *testing.T) {
	for _, c := range []struct {
		layer int
		point string
		il    int
	}{{2, "hook_resid_pre", 1}, {3, "", 2}, {11, "hook_resid_pre", 10}, {1, "hook_resid_post", 1}, {5, "hook_resid_post", 5}} {
		il, err := controlvector.Block(c.layer, c.point)
		if err != nil || il != c.il {
			t.Errorf("blocks.%d.%s: il %d, %v; want %d", c.layer, c.point, il, err, c.il)
		}
	}
	for _, c := range []struct {
		layer int
		point string
		want  string
	}{{0, "hook_resid_pre", "direction.0"}, {1, "hook_resid_pre", "direction.0"}, {0, "hook_resid_post", "direction.0"}, {3, "hook_mlp_out", "not a block's output"}} {
		if _, err := controlvector.Block(c.layer, c.point); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("blocks.%d.%s: error %v, want one mentioning %q", c.layer, c.point, err, c.want)
		}
	}
}

// A control vector of another width, or with directions past the model's last block, is
// refused rather than applied.
func TestRefusesOtherModelsVectors(t *testing.T) {
	m := tinyModel(t)
	wide := &controlvector.ControlVector{D: 4096, Directions: map[int][]float32{1: make([]float32, 4096)}, ModelHint: "llama"}
	if _, err := wide.EveryPosition(m, 1, controlvector.LayerRange{}); err == nil || !strings.Contains(err.Error(), "width 4096") {
		t.Errorf("a 4096-wide vector on a 64-wide model: %v", err)
	}
	deep := &controlvector.ControlVector{D: 64, Directions: map[int][]float32{1: make([]float32, 64), 31: make([]float32, 64)}}
	if _, err := deep.EveryPosition(m, 1, controlvector.LayerRange{}); err == nil || !strings.Contains(err.Error(), "block 31") {
		t.Errorf("direction.31 on a 4-block model: %v", err)
	}
	v, err := m.MeanDifference([][2]string{{"Love", "Hate"}}, 1, actadd.DefaultPoint)
	if err != nil {
		t.Fatal(err)
	}
	if err := controlvector.Export(filepath.Join(t.TempDir(), "x.gguf"), v, controlvector.ExportOptions{Coeff: 1}); err == nil {
		t.Error("a vector at blocks.1.hook_resid_pre (llama.cpp's refused direction.0) was exported")
	}
	v3, _ := m.MeanDifference([][2]string{{"Love", "Hate"}}, 3, actadd.DefaultPoint)
	if err := controlvector.Export(filepath.Join(t.TempDir(), "x.gguf"), v3, controlvector.ExportOptions{}); err == nil {
		t.Error("exported without a coefficient")
	}
}

// Generation adds the vector at the generated positions too: each greedy token is the argmax of
// the logits with the vector at every position of the whole sequence so far, and the steered
// continuation differs from the unsteered one.
func TestGenerateEveryPosition(t *testing.T) {
	m := tinyModel(t)
	d := m.Width()
	cv := &controlvector.ControlVector{D: d, Directions: map[int][]float32{2: direction(d, 0.3)}}
	e, err := cv.EveryPosition(m, 2, controlvector.LayerRange{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.GenerateEveryPosition("Once upon a time", 6, e)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := m.LogitsEveryPosition(c.Tokens, e)
	if err != nil {
		t.Fatal(err)
	}
	for i := c.PromptLen; i < len(c.Tokens); i++ {
		row := logits[i-1]
		if best := slices.Index(row, slices.Max(row)); best != c.Tokens[i] {
			t.Errorf("generated token %d is %d, the argmax with the vector at every position is %d", i, c.Tokens[i], best)
		}
	}
	plain, err := m.GenerateEveryPosition("Once upon a time", 6, actadd.EveryPosition{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(plain.Tokens, c.Tokens) {
		t.Error("the steered continuation equals the unsteered one: the test cannot tell")
	}
}

// The committed fixture is what Export writes for the tiny model's "Love" − "Hate" vector at
// blocks.3.hook_resid_pre with coefficient 4: the file format does not drift unnoticed.
func TestExportMatchesFixture(t *testing.T) {
	m := tinyModel(t)
	v, err := m.MeanDifference([][2]string{{"Love", "Hate"}}, 3, actadd.DefaultPoint)
	if err != nil {
		t.Fatal(err)
	}
	got, err := controlvector.Encode(v, controlvector.ExportOptions{Coeff: 4})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "tiny-love-hate-resid-pre-3.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Export wrote %d bytes that differ from the fixture's %d", len(got), len(want))
	}
}

// Several control vectors apply summed, each with its strength, as llama.cpp sums its files;
// files whose highest blocks differ are refused as llama.cpp refuses them.
func TestCombined(t *testing.T) {
	m := tinyModel(t)
	d := m.Width()
	a := &controlvector.ControlVector{D: d, Directions: map[int][]float32{1: direction(d, 0.2), 3: direction(d, 0.4)}}
	b := &controlvector.ControlVector{D: d, Directions: map[int][]float32{2: direction(d, 0.9), 3: direction(d, 1.1)}}
	e, err := controlvector.Combined(m, controlvector.LayerRange{}, controlvector.Scaled{CV: a, Strength: 2}, controlvector.Scaled{CV: b, Strength: -0.5})
	if err != nil {
		t.Fatal(err)
	}
	for l, v := range e.Vectors {
		for j, x := range v {
			var want float32
			if da := a.Directions[l]; da != nil {
				want += da[j] * 2
			}
			if db := b.Directions[l]; db != nil {
				want += db[j] * -0.5
			}
			if math.Abs(float64(x-want)) > 1e-6 {
				t.Fatalf("block %d dim %d: %v, want %v", l, j, x, want)
			}
		}
	}
	if len(e.Vectors) != 3 {
		t.Errorf("blocks %v, want 1, 2 and 3", e.Vectors)
	}
	c := &controlvector.ControlVector{D: d, Directions: map[int][]float32{2: direction(d, 0.5)}}
	if _, err := controlvector.Combined(m, controlvector.LayerRange{}, controlvector.Scaled{CV: a, Strength: 1}, controlvector.Scaled{CV: c, Strength: 1}); err == nil {
		t.Error("vectors with different highest blocks were summed")
	}
}

// Mean averages the rows that are not exactly zero, wherever they are: BOS's zero row is left
// out, a first row that is a word (a vector taken at the user's content, or a model with no
// BOS) is kept, and a vector zero everywhere is refused.
func TestMeanLeavesOutZeroRows(t *testing.T) {
	for _, c := range []struct {
		name string
		data []float32 // 3 rows × 2
		want []float32 // the mean × 2 (Coeff)
	}{
		{"BOS first", []float32{0, 0, 1, 2, 3, 6}, []float32{4, 8}},
		{"a word first", []float32{3, 0, 1, 2, 2, 4}, []float32{4, 4}},
		{"shared header, then the pair", []float32{0, 0, 0, 0, 5, -1}, []float32{10, -2}},
		{"a zero row inside", []float32{1, 1, 0, 0, 1, 3}, []float32{2, 4}},
	} {
		v := &actadd.Vector{Model: "m", Layer: 3, Point: actadd.DefaultPoint, N: 3, D: 2, Data: c.data}
		b, err := controlvector.Encode(v, controlvector.ExportOptions{Coeff: 2})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cv, err := controlvector.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := cv.Directions[2]; !slices.Equal(got, c.want) {
			t.Errorf("%s: direction %v, want %v", c.name, got, c.want)
		}
	}
	zero := &actadd.Vector{Model: "m", Layer: 3, Point: actadd.DefaultPoint, N: 2, D: 2, Data: make([]float32, 4)}
	if _, err := controlvector.Encode(zero, controlvector.ExportOptions{Coeff: 1}); err == nil || !strings.Contains(err.Error(), "zero at all 2 positions") {
		t.Errorf("a vector zero everywhere: %v", err)
	}
}
