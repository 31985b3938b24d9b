package actadd_test

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/bpe"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/reference"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/lm"
)

// testConfig is a small random GPT-2 with the real vocabulary, so the real tokenizer applies.
var testConfig = checkpoint.Config{NLayer: 4, NHead: 4, NEmbd: 32, NPositions: 128, VocabSize: 50257,
	LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"}

var (
	setupOnce sync.Once
	testModel *actadd.Model
	testRef   *reference.Model
	setupErr  error
)

// models returns the shared random test model and its float64 reference.
func models(t testing.TB) (*actadd.Model, *reference.Model) {
	t.Helper()
	setupOnce.Do(func() {
		w := checkpoint.RandomTensors(testConfig, 42)
		var g *gpt2.Model
		if g, setupErr = gpt2.New(testbackend.Get(t), "random test model", testConfig, w); setupErr != nil {
			return
		}
		if testModel, setupErr = actadd.Wrap(g, nil, "go"); setupErr != nil {
			return
		}
		testRef, setupErr = reference.New(testConfig, w)
	})
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	return testModel, testRef
}

// refSteering computes c·(h+ − h−) at resid_pre[layer] with the float64 reference, following
// the protocol independently of package actadd: BOS, right-padding with the space token.
func refSteering(t *testing.T, ref *reference.Model, tok lm.Tokenizer, plus, minus string, coeff float64, layer int) [][]float64 {
	t.Helper()
	p, m := lm.EncodeWithBOS(tok, plus), lm.EncodeWithBOS(tok, minus)
	for len(p) < len(m) {
		p = append(p, 220)
	}
	for len(m) < len(p) {
		m = append(m, 220)
	}
	point := gpt2.ResidPre(layer)
	_, hp, err := ref.Forward(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, hm, err := ref.Forward(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := make([][]float64, len(p))
	for i := range s {
		s[i] = make([]float64, len(hp[point][i]))
		for j := range s[i] {
			s[i][j] = coeff * (hp[point][i][j] - hm[point][i][j])
		}
	}
	return s
}

func maxAbsDiff(got [][]float32, want [][]float64) float64 {
	worst := 0.0
	for i := range want {
		for j := range want[i] {
			worst = max(worst, math.Abs(float64(got[i][j])-want[i][j]))
		}
	}
	return worst
}

func TestSteeredLogitsMatchReference(t *testing.T) {
	m, ref := models(t)
	prompt := "I went up to my friend and said"
	tokens := m.EncodeWithBOS(prompt)
	for _, layer := range []int{0, 2, testConfig.NLayer - 1} {
		for _, pair := range [][2]string{{" weddings", ""}, {"Love", "Hate"}} {
			add := actadd.Pair(pair[0], pair[1], 3.5).AtLayer(layer)
			got, err := m.Logits(prompt, add)
			if err != nil {
				t.Fatal(err)
			}
			s := refSteering(t, ref, m.Tok, pair[0], pair[1], 3.5, layer)
			want, _, err := ref.Forward(tokens, map[string][][]float64{gpt2.ResidPre(layer): s})
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(got, want); d > 1e-4 {
				t.Errorf("layer %d %q−%q: steered logits differ from the reference by %g", layer, pair[0], pair[1], d)
			}
			// The steering must matter, or the comparison above proves nothing.
			base, _, _ := ref.Forward(tokens, nil)
			if d := maxAbsDiff(got, base); d < 1e-3 {
				t.Errorf("layer %d: steering changed the logits by only %g", layer, d)
			}
		}
	}
}

func TestZeroCoefficientIsUnsteered(t *testing.T) {
	m, _ := models(t)
	prompt := "The weather today is"
	base, err := m.Logits(prompt)
	if err != nil {
		t.Fatal(err)
	}
	zero, err := m.Logits(prompt, actadd.Pair(" weddings", "", 0).AtLayer(1))
	if err != nil {
		t.Fatal(err)
	}
	for i := range base {
		if !slices.Equal(base[i], zero[i]) {
			t.Fatalf("position %d: coefficient 0 changed the logits", i)
		}
	}
	opts := actadd.GenerateOptions{MaxNewTokens: 12, Sampling: actadd.Greedy}
	g0, err := m.Generate([]string{prompt}, opts)
	if err != nil {
		t.Fatal(err)
	}
	g1, err := m.Generate([]string{prompt}, opts, actadd.Pair(" weddings", "", 0).AtLayer(1))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g0[0].Tokens, g1[0].Tokens) {
		t.Errorf("coefficient 0 changed greedy tokens:\n%v\n%v", g0[0].Tokens, g1[0].Tokens)
	}
}

// TestDeviceSamplerEqualsHost generates with the sampler in the decoding program and on the
// host, greedy and with the paper's sampler (and top-k), steered and not, cached and not: the
// tokens must be the same (the two agree but within rounding at a boundary, which these draws
// do not come near), and each completion names its sampler.
func TestDeviceSamplerEqualsHost(t *testing.T) {
	m, _ := models(t)
	prompts := []string{"I went up to my friend and said", "Yesterday my neighbour told me", "I went up to my friend and said"}
	for _, s := range []actadd.Sampling{actadd.Greedy, actadd.PaperSampling, {Temperature: 0.8, TopK: 20, FreqPenalty: 0.5, Seed: 4}} {
		for _, adds := range [][]actadd.Addition{nil, {actadd.Pair(" weddings", "", 4).AtLayer(1)}} {
			for _, noCache := range []bool{false, true} {
				var got [2][]actadd.Completion
				for j, sampler := range []actadd.SamplerPlace{actadd.SamplerHost, actadd.SamplerDevice} {
					var err error
					got[j], err = m.Generate(prompts, actadd.GenerateOptions{MaxNewTokens: 12, Sampling: s, Sampler: sampler, NoCache: noCache}, adds...)
					if err != nil {
						t.Fatal(err)
					}
					for _, c := range got[j] {
						if c.Sampler != sampler {
							t.Errorf("a completion drawn with the %s sampler says %q", sampler, c.Sampler)
						}
					}
				}
				for i := range prompts {
					if !slices.Equal(got[0][i].Tokens, got[1][i].Tokens) {
						t.Errorf("%+v steered=%v noCache=%v row %d: host %v, device %v", s, adds != nil, noCache, i, got[0][i].Generated(), got[1][i].Generated())
					}
				}
			}
		}
	}
	if _, err := m.Generate(prompts[:1], actadd.GenerateOptions{MaxNewTokens: 1, Sampler: "gpu"}); err == nil || !strings.Contains(err.Error(), "SamplerDevice") {
		t.Errorf("an unknown sampler: err = %v, want advice naming SamplerDevice", err)
	}
}

func TestCachedGenerationEqualsRecomputation(t *testing.T) {
	m, _ := models(t)
	prompts := []string{"I went up to my friend and said", "Yesterday my neighbour told me"}
	for _, adds := range [][]actadd.Addition{nil, {actadd.Pair(" weddings", "", 4).AtLayer(1)}} {
		cached, err := m.Generate(prompts, actadd.GenerateOptions{MaxNewTokens: 24, Sampling: actadd.Greedy}, adds...)
		if err != nil {
			t.Fatal(err)
		}
		uncached, err := m.Generate(prompts, actadd.GenerateOptions{MaxNewTokens: 24, Sampling: actadd.Greedy, NoCache: true}, adds...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range prompts {
			if len(cached[i].Generated()) != 24 {
				t.Fatalf("got %d new tokens, want 24", len(cached[i].Generated()))
			}
			if !slices.Equal(cached[i].Tokens, uncached[i].Tokens) {
				t.Errorf("steered=%v row %d: KV-cached %v != recomputed %v", adds != nil, i, cached[i].Generated(), uncached[i].Generated())
			}
		}
	}
}

func TestMixedBatchEqualsRowsAlone(t *testing.T) {
	m, _ := models(t)
	prompt := "I went up to my friend and said"
	rows := []actadd.Row{
		{Prompt: prompt},
		{Prompt: prompt, Adds: []actadd.Addition{actadd.Pair(" weddings", "", 2).AtLayer(0)}},
		{Prompt: prompt, Adds: []actadd.Addition{actadd.Pair(" weddings", "", -1).AtLayer(3)}},
		{Prompt: prompt, Adds: []actadd.Addition{actadd.Pair("Love", "Hate", 5).AtLayer(2), actadd.Pair(" weddings", "", 1).AtLayer(1)}},
		{Prompt: "Short one", Adds: []actadd.Addition{actadd.Pair("Love", "Hate", 5).AtLayer(2).AtPosition(actadd.Back)}},
	}
	for _, sampler := range []actadd.SamplerPlace{actadd.SamplerHost, actadd.SamplerDevice} {
		opts := actadd.GenerateOptions{MaxNewTokens: 8, Sampling: actadd.Sampling{Temperature: 1, TopP: 0.9, FreqPenalty: 1, Seed: 3}, Sampler: sampler}
		together, err := m.GenerateRows(rows, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			// Alone, row i must use the same random stream: put it at index i among copies.
			alone := make([]actadd.Row, i+1)
			for j := range alone {
				alone[j] = r
			}
			got, err := m.GenerateRows(alone, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[i].Tokens, together[i].Tokens) {
				t.Errorf("%s sampler, row %d: batched %v, alone %v", sampler, i, together[i].Generated(), got[i].Generated())
			}
		}
	}
	lpTogether, err := m.LogProbsRows(rows, actadd.ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		lp, err := m.LogProbsRows([]actadd.Row{r}, actadd.ScoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for j := range lp[0] {
			if d := math.Abs(float64(lp[0][j] - lpTogether[i][j])); d > 1e-5 {
				t.Errorf("row %d position %d: log-prob batched %g alone %g", i, j, lpTogether[i][j], lp[0][j])
				break
			}
		}
	}
}

// freshModel is a new model (no program compiled yet) with the shared test weights.
func freshModel(t *testing.T) *actadd.Model {
	t.Helper()
	g, err := gpt2.New(testbackend.Get(t), "random test model", testConfig, checkpoint.RandomTensors(testConfig, 42))
	if err != nil {
		t.Fatal(err)
	}
	m, err := actadd.Wrap(g, nil, "go")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSweepCompilesAtMostTwoPrograms(t *testing.T) {
	prompt := "I went up to my friend and said"
	var rows []actadd.Row
	for l := range testConfig.NLayer {
		for _, c := range []float64{-1, 1, 4} {
			rows = append(rows, actadd.Row{Prompt: prompt, Adds: []actadd.Addition{actadd.Pair(" weddings", "", c).AtLayer(l)}})
		}
	}

	// Scoring sweep on a cold model: the vector program (one forward capturing every layer) and
	// the steered scoring program, whether the sweep runs as one batch or one config at a time.
	m := freshModel(t)
	if _, err := m.LogProbsRows(rows, actadd.ScoreOptions{BatchSize: len(rows)}); err != nil {
		t.Fatal(err)
	}
	batched := m.Builds()
	for _, r := range rows {
		if _, err := m.LogProbsRows([]actadd.Row{r}, actadd.ScoreOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	oneByOne := m.Builds() - batched
	t.Logf("scoring sweep: %d programs batched, %d more one config at a time", batched, oneByOne)
	if batched > 2 {
		t.Errorf("a batched sweep over %d layers × 3 coefficients built %d programs, want ≤ 2", testConfig.NLayer, batched)
	}
	if oneByOne > 1 { // only the batch-1 shape of the scoring program is new
		t.Errorf("the one-by-one sweep built %d more programs, want ≤ 1", oneByOne)
	}

	// Generation sweep on a cold model: the steered prefill (which builds the vectors from the
	// pair's rows in the same pass) and the decoding step, and no separate vector program;
	// changing layers or coefficients adds none.
	m = freshModel(t)
	opts := actadd.GenerateOptions{MaxNewTokens: 3, BatchSize: len(rows)}
	if _, err := m.GenerateRows(rows, opts); err != nil {
		t.Fatal(err)
	}
	sweep := m.Builds()
	// The same sweep with other coefficients and layers shuffled: nothing new to compile.
	again := make([]actadd.Row, len(rows))
	for i, r := range rows {
		a := r.Adds[0]
		again[len(rows)-1-i] = actadd.Row{Prompt: r.Prompt, Adds: []actadd.Addition{a.WithCoeff(2 * a.Coeff)}}
	}
	before := m.Builds()
	if _, err := m.GenerateRows(again, opts); err != nil {
		t.Fatal(err)
	}
	t.Logf("generation sweep: %d programs, %d for a second sweep", sweep, m.Builds()-before)
	if sweep > 2 || m.Builds() != before {
		t.Errorf("generation sweep on a cold model built %d programs (want ≤ 2: prefill and step), and %d for a second sweep (want 0)", sweep, m.Builds()-before)
	}

	// Two pairs of different lengths: both in the first batch of 32 rows, one in the second (8
	// rows). Every batch carries rows for both pairs and room for the longer vector, so both
	// batches share the prefill's shape.
	m = freshModel(t)
	var two []actadd.Row
	for i := range 40 {
		add := actadd.Pair(" weddings", "", 1).AtLayer(i % testConfig.NLayer)
		if i < 32 && i%2 == 1 {
			add = actadd.Pair("Love and peace", "Hate", 2).AtLayer(1)
		}
		two = append(two, actadd.Row{Prompt: prompt, Adds: []actadd.Addition{add}})
	}
	if _, err := m.GenerateRows(two, actadd.GenerateOptions{MaxNewTokens: 2, BatchSize: 32}); err != nil {
		t.Fatal(err)
	}
	if m.Builds() > 2 {
		t.Errorf("a two-pair job in two batches built %d programs, want ≤ 2", m.Builds())
	}
}

func TestVectorSaveLoad(t *testing.T) {
	m, _ := models(t)
	add := actadd.Pair(" weddings", "", 2).AtLayer(2).AtPosition(actadd.Mid)
	v, err := m.Vector(add)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "weddings.safetensors")
	if err := actadd.SaveVector(path, v, add); err != nil {
		t.Fatal(err)
	}
	v2, saved, err := actadd.LoadVector(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Data, v2.Data) || v.N != v2.N || v.D != v2.D || v.Layer != v2.Layer || !slices.Equal(v.Pairs, v2.Pairs) || v.Model != v2.Model {
		t.Fatalf("loaded vector differs: %+v vs %+v", v2, v)
	}
	if saved.Coeff != add.Coeff || saved.Position != add.Position || saved.Layer != add.Layer {
		t.Fatalf("loaded addition %v, saved %v", saved, add)
	}
	prompt := "I went up to my friend and said"
	a, err := m.Logits(prompt, add)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Logits(prompt, saved)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("re-applied vector gives different logits at position %d", i)
		}
	}
}

func TestErrors(t *testing.T) {
	m, _ := models(t)
	ok := actadd.Pair(" weddings", "", 1).AtLayer(1)
	gen := actadd.GenerateOptions{MaxNewTokens: 2}
	long := actadd.Pair("a b c d e f g h i j", "", 1).AtLayer(1)
	vec := func(n, d, data int) *actadd.Vector {
		return &actadd.Vector{Model: m.Name, Layer: 1, Point: actadd.DefaultPoint, N: n, D: d, Data: make([]float32, data)}
	}
	nan := vec(1, testConfig.NEmbd, testConfig.NEmbd)
	nan.Data[3] = float32(math.NaN())
	huge := vec(1, testConfig.NEmbd, testConfig.NEmbd)
	huge.Data[3] = 1e38
	overflow := actadd.Apply(huge, 10)
	good1 := func() *actadd.Vector { return vec(1, testConfig.NEmbd, testConfig.NEmbd) } // a well-formed vector
	longPrompt := strings.Repeat(" and", testConfig.NPositions-2)                        // BOS + 126 tokens + 3 new − 1 > 128
	sampled := func(s actadd.Sampling) actadd.GenerateOptions {
		return actadd.GenerateOptions{MaxNewTokens: 1, Sampling: s}
	}
	onDevice := func(o actadd.GenerateOptions) actadd.GenerateOptions { o.Sampler = actadd.SamplerDevice; return o }
	onHost := func(o actadd.GenerateOptions) actadd.GenerateOptions { o.Sampler = actadd.SamplerHost; return o }
	second := func(_ any, err error) error { return err }
	third := func(_, _ any, err error) error { return err }
	// A vector file whose header claims a shape of 2^62 float32s in 0 bytes (2^62·4 wraps to 0).
	crafted := filepath.Join(t.TempDir(), "crafted.safetensors")
	header := `{"steering_vector": {"dtype": "F32", "shape": [4611686018427387904, 1], "data_offsets": [0, 0]}}`
	os.WriteFile(crafted, append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...), 0o644)
	// N·D wraps around to len(Data): (2⁵⁹+1)·32 = 2⁶⁴ + 32.
	wraps := vec(1<<59+1, testConfig.NEmbd, testConfig.NEmbd)
	savedFile := func(edit func(meta map[string]string), data []float32) string {
		path := filepath.Join(t.TempDir(), "v.safetensors")
		meta := map[string]string{"format": "actadd-vector/2", "model": m.Name, "layer": "1", "point": actadd.DefaultPoint,
			"pairs": `[[" weddings", ""]]`, "coefficient": "4", "position": "front"}
		edit(meta)
		checkpoint.WriteSafetensors(path, map[string]checkpoint.Tensor{"steering_vector": {Shape: []int{1, len(data)}, Data: data}}, meta)
		return path
	}
	nanData := make([]float32, testConfig.NEmbd)
	nanData[5] = float32(math.Inf(-1))
	finalized, err := gpt2.New(testbackend.Get(t), "finalized model", testConfig, checkpoint.RandomTensors(testConfig, 1))
	if err != nil {
		t.Fatal(err)
	}
	finalized.Finalize()
	gone, err := actadd.Wrap(finalized, nil, "go")
	if err != nil {
		t.Fatal(err)
	}
	// Each case must fail with a message that contains want (what went wrong, or what to do).
	for _, c := range []struct {
		name, want string
		err        error
	}{
		{"empty prompt", "empty prompt", second(m.Generate([]string{""}, gen, ok))},
		{"prompt shorter than vector", "at least as long as the vector", second(m.Generate([]string{"Hi"}, gen, long))},
		{"token row shorter than vector", "token row has 1 tokens", second(m.ForwardTokens([][]int{{50256}}, long))},
		{"layer out of range", "layers 0..", second(m.Logits("Hello there", ok.AtLayer(testConfig.NLayer)))},
		{"negative layer", "out of range", second(m.Logits("Hello there", ok.AtLayer(-1)))},
		{"NaN coefficient", "not a finite number", second(m.Logits("Hello there", ok.WithCoeff(math.NaN())))},
		{"Inf coefficient", "not a finite number", second(m.Logits("Hello there", ok.WithCoeff(math.Inf(1))))},
		{"coefficient beyond float32", "overflows float32", second(m.Logits("Hello there", ok.WithCoeff(1e39)))},
		// Finite vector and coefficient, but c·v overflows float32: every output would be NaN.
		{"overflowing steering, generation", "not finite", second(m.Generate([]string{"Hello there"}, onHost(gen), overflow))},
		{"overflowing steering, generation, device sampler", "not finite", second(m.Generate([]string{"Hello there"}, onDevice(gen), overflow))},
		{"overflowing steering, sampled on the device", "lower its coefficient", second(m.Generate([]string{"Hello there"}, onDevice(sampled(actadd.PaperSampling)), overflow))},
		{"overflowing steering, logits", "not finite", second(m.Logits("Hello there", overflow))},
		{"overflowing steering, log-probs", "lower its coefficient", second(m.LogProbs([]string{"Hello there"}, actadd.ScoreOptions{}, overflow))},
		{"overflowing steering, ranks", "not finite", second(m.NextTokenRanks([]string{"Hello there"}, []int{1}, actadd.ScoreOptions{}, overflow))},
		{"mismatched batch lengths", "one target token per prompt", second(m.NextTokenRanks([]string{"a", "b"}, []int{1}, actadd.ScoreOptions{}))},
		{"no new tokens", "MaxNewTokens must be positive", second(m.Generate([]string{"Hello"}, actadd.GenerateOptions{}))},
		{"more new tokens than the context", "ask for fewer new tokens", second(m.Generate([]string{"Hello"}, actadd.GenerateOptions{MaxNewTokens: math.MaxInt}))},
		{"bad top-p", "top-p 2", second(m.Generate([]string{"Hello"}, sampled(actadd.Sampling{Temperature: 1, TopP: 2})))},
		{"negative frequency penalty", "frequency penalty", second(m.Generate([]string{"Hello"}, sampled(actadd.Sampling{Temperature: 1, FreqPenalty: -1})))},
		{"temperature too small to divide by", "use a larger temperature", second(m.Generate([]string{"Hello"}, onHost(sampled(actadd.Sampling{Temperature: 1e-320}))))},
		{"temperature too small to divide by, device sampler", "use a larger temperature", second(m.Generate([]string{"Hello"}, onDevice(sampled(actadd.Sampling{Temperature: 1e-320}))))},
		{"unknown point", "unknown hook point", second(m.Logits("Hello there", ok.AtPoint("hook_nope")))},
		{"vector for another width", "width 64", second(m.Logits("Hello there", actadd.Apply(vec(1, 64, 64), 1)))},
		{"vector of no positions", "malformed", second(m.Logits("Hello there", actadd.Apply(vec(0, testConfig.NEmbd, 0), 1)))},
		{"vector with too little data", "malformed", second(m.Logits("Hello there", actadd.Apply(vec(2, testConfig.NEmbd, testConfig.NEmbd), 1)))},
		{"vector holding NaN", "rebuild it", second(m.Logits("Hello there", actadd.Apply(nan, 1)))},
		{"vector of another model", "ForModel", second(m.Logits("Hello there", actadd.Apply(vec(1, testConfig.NEmbd, testConfig.NEmbd).ForModel("distilgpt2"), 1)))},
		{"nil vector applied", "neither a prompt pair nor a vector", second(m.Logits("Hello there", actadd.Apply(nil, 1)))},
		{"nil vector saved", "nil vector", actadd.SaveVector(filepath.Join(t.TempDir(), "v.safetensors"), nil, ok)},
		{"vector holding NaN saved", "rebuild it", actadd.SaveVector(filepath.Join(t.TempDir(), "v.safetensors"), nan, ok)},
		{"vector whose N·D overflows", "malformed", second(m.Logits("Hello there", actadd.Apply(wraps, 1)))},
		{"vector whose N·D overflows saved", "malformed", actadd.SaveVector(filepath.Join(t.TempDir(), "v.safetensors"), wraps, ok)},
		{"vector of width 0", "malformed", second(m.Logits("Hello there", actadd.Apply(vec(1, 0, 0), 1)))},
		{"vector saved with a NaN coefficient", "not a finite number", actadd.SaveVector(filepath.Join(t.TempDir(), "v.safetensors"), good1(), ok.WithCoeff(math.NaN()))},
		{"vector saved with an unknown position", "unknown position", actadd.SaveVector(filepath.Join(t.TempDir(), "v.safetensors"), good1(), ok.AtPosition(7))},
		{"vector saved with a prompt not UTF-8", "not valid UTF-8", actadd.SaveVector(filepath.Join(t.TempDir(), "v.safetensors"),
			&actadd.Vector{Model: m.Name, Pairs: [][2]string{{"\xff", ""}}, N: 1, D: 1, Data: []float32{1}}, ok)},
		{"vector file holding -Inf", "rebuild it", third(actadd.LoadVector(savedFile(func(map[string]string) {}, nanData)))},
		{"vector file with an unknown position", "unknown position", third(actadd.LoadVector(savedFile(func(m map[string]string) { m["position"] = "middle" }, nanData[:4])))},
		{"vector file with a NaN coefficient", "not a finite number", third(actadd.LoadVector(savedFile(func(m map[string]string) { m["coefficient"] = "NaN" }, nanData[:4])))},
		{"vector file without its pairs", `no entry "pairs"`, third(actadd.LoadVector(savedFile(func(m map[string]string) { delete(m, "pairs") }, nanData[:4])))},
		{"prompt + new tokens beyond the context", "more than the context", second(m.Generate([]string{longPrompt}, actadd.GenerateOptions{MaxNewTokens: 3}))},
		{"prompt longer than the context", "shorten it", second(m.Logits(strings.Repeat(" and", testConfig.NPositions)))},
		{"steering prompt longer than the context", "shorten the prompt pair", second(m.Vector(actadd.Pair(strings.Repeat(" and", testConfig.NPositions), "", 1)))},
		{"nil model wrapped", "nil model", second(actadd.Wrap(nil, nil, "go"))},
		{"vector file with a crafted header", "does not fit data_offsets", third(actadd.LoadVector(crafted))},
		{"model used after Finalize", "was finalized", second(gone.Generate([]string{"Hello"}, gen, ok))},
		{"model used after Finalize, logits", "was finalized", second(gone.Logits("Hello there"))},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		} else if !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", c.name, c.err, c.want)
		} else {
			t.Logf("%s: %v", c.name, c.err)
		}
	}
	// Exactly at the limit is fine: the last new token is never fed back.
	if _, err := m.Generate([]string{longPrompt}, actadd.GenerateOptions{MaxNewTokens: 2}); err != nil {
		t.Errorf("prompt of %d tokens + 2 new in a context of %d: %v", testConfig.NPositions-1, testConfig.NPositions, err)
	}
}

func TestStreamsPairSettings(t *testing.T) {
	m, _ := models(t)
	prompt := "I went up to my friend and said"
	opts := actadd.GenerateOptions{MaxNewTokens: 6, Sampling: actadd.Sampling{Temperature: 1, TopP: 0.9, Seed: 1}}
	add := actadd.Pair(" weddings", "", 2).AtLayer(2)
	// Alone: 3 completions of one setting, streams 0..2 (the default).
	alone, err := m.Generate([]string{prompt, prompt, prompt}, opts, add)
	if err != nil {
		t.Fatal(err)
	}
	// In a sweep after an unsteered setting, with explicit streams 0..2 for each setting.
	var rows []actadd.Row
	for range 3 {
		rows = append(rows, actadd.Row{Prompt: prompt})
	}
	for range 3 {
		rows = append(rows, actadd.Row{Prompt: prompt, Adds: []actadd.Addition{add}})
	}
	sweep := opts
	sweep.Streams = []uint64{0, 1, 2, 0, 1, 2}
	got, err := m.GenerateRows(rows, sweep)
	if err != nil {
		t.Fatal(err)
	}
	for c := range 3 {
		if !slices.Equal(got[3+c].Tokens, alone[c].Tokens) {
			t.Errorf("completion %d of the steered setting differs between the sweep and running it alone", c)
		}
	}
	if slices.Equal(alone[0].Tokens, alone[1].Tokens) {
		t.Error("streams 0 and 1 gave the same completion")
	}
	sweep.Streams = []uint64{0}
	if _, err := m.GenerateRows(rows, sweep); err == nil {
		t.Error("a wrong number of streams gave no error")
	}
}

func TestLogProbsTokenCapKeepsScores(t *testing.T) {
	m, _ := models(t)
	texts := []string{"Short.", "A somewhat longer sentence about weddings and rings.", "Mid length text here.",
		"And one more sentence, longer than the others, to be scored in a batch of its own when the cap bites."}
	add := actadd.Pair(" weddings", "", 2).AtLayer(1)
	want, err := m.LogProbs(texts, actadd.ScoreOptions{SkipFirst: 1}, add)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.LogProbs(texts, actadd.ScoreOptions{SkipFirst: 1, MaxBatchTokens: 32}, add)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("text %d: %d scores with the cap, %d without", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-5 {
				t.Errorf("text %d position %d: %g with the cap, %g without", i, j, got[i][j], want[i][j])
			}
		}
	}
}

// TestStopAtEOS uses a model whose next-token distribution is the same everywhere (ln_f's gain
// is 0, so every position's output is its bias) with P(EOS) ≈ 0.3, so that sampled rows end
// at different steps. With StopAtEOS a completion is the same draw cut after its first EOS.
func TestStopAtEOS(t *testing.T) {
	w := checkpoint.RandomTensors(testConfig, 7)
	d := testConfig.NEmbd
	gain, bias, wte := w["ln_f.weight"].Data, w["ln_f.bias"].Data, w["wte.weight"].Data
	var norm2 float64
	for i := range d {
		gain[i] = 0
		norm2 += float64(bias[i]) * float64(bias[i])
	}
	for i := range d { // EOS's logit bias·wte[EOS] = 10; the others stay near 0
		wte[bpe.EOS*d+i] = float32(10 * float64(bias[i]) / norm2)
	}
	g, err := gpt2.New(testbackend.Get(t), "EOS-heavy test model", testConfig, w)
	if err != nil {
		t.Fatal(err)
	}
	m, err := actadd.Wrap(g, nil, "go")
	if err != nil {
		t.Fatal(err)
	}
	for _, sampler := range []actadd.SamplerPlace{actadd.SamplerHost, actadd.SamplerDevice} {
		t.Run(string(sampler), func(t *testing.T) { stopAtEOS(t, m, sampler) })
	}
}

func stopAtEOS(t *testing.T, m *actadd.Model, sampler actadd.SamplerPlace) {
	prompts := slices.Repeat([]string{"I went up to my friend and said"}, 12)
	opts := actadd.GenerateOptions{MaxNewTokens: 8, BatchSize: 4, Sampling: actadd.Sampling{Temperature: 1, Seed: 3}, Sampler: sampler}
	all, err := m.Generate(prompts, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.StopAtEOS = true
	stopped, err := m.Generate(prompts, opts)
	if err != nil {
		t.Fatal(err)
	}
	cut, ran := 0, 0
	for i := range prompts {
		full, got := all[i].Generated(), stopped[i].Generated()
		want := full
		if j := slices.Index(full, bpe.EOS); j >= 0 {
			want = full[:j+1]
			if j < len(full)-1 {
				cut++
			}
		} else {
			ran++
		}
		if !slices.Equal(got, want) {
			t.Errorf("row %d: with StopAtEOS %v, want %v (the draw without it, %v, cut after its first EOS)", i, got, want, full)
		}
		if strings.Count(stopped[i].Text, "<|endoftext|>") > 1 || (slices.Contains(got, bpe.EOS) && !strings.HasSuffix(stopped[i].Text, "<|endoftext|>")) {
			t.Errorf("row %d: text %q should end at its one <|endoftext|>", i, stopped[i].Text)
		}
	}
	if cut == 0 || ran == 0 {
		t.Errorf("%d rows were cut after an EOS and %d ran to the end: the model should give both (P(EOS) ≈ 0.3)", cut, ran)
	}
}
