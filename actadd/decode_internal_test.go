package actadd

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/lm"
)

// TestPackedStepEqualsUnpacked generates with the packed decoding step (the token embedding
// built in, the LM head as wte·hᵀ) and with the shared one (every weight an input, the LM head
// as h·wteᵀ): the tokens must be the same.
// The model is wide enough (d_model 256) for the backend's packing matmul kernels.
func TestPackedStepEqualsUnpacked(t *testing.T) {
	m, g := wideModel(t)
	prompts := slices.Repeat([]string{"I went up to my friend and said"}, 8)
	for _, s := range []Sampling{Greedy, PaperSampling} {
		var got [2][]Completion
		for i, unpacked := range []bool{false, true} {
			m.tuning.unpackedStep = unpacked
			var err error
			if got[i], err = m.Generate(prompts, GenerateOptions{MaxNewTokens: 6, Sampling: s, Sampler: SamplerHost}, Pair(" weddings", "", 4).AtLayer(1)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range prompts {
			if !slices.Equal(got[0][i].Tokens, got[1][i].Tokens) {
				t.Errorf("%+v row %d: packed step %v, unpacked %v", s, i, got[0][i].Generated(), got[1][i].Generated())
			}
		}
	}
	if len(m.packed) == 0 || !g.Packs() {
		t.Errorf("no packed step program was built on the go backend")
	}
}

// TestPackedStepsStayFew: a model keeps at most maxPackedSteps packed step programs, dropping the
// least recently used one that is not running, and uses the shared unpacked program when all
// are running.
func TestPackedStepsStayFew(t *testing.T) {
	m, _ := wideModel(t)
	build := func(w lm.Graph, in []*Node) []*Node { return []*Node{w.Logits(in[0])} }
	var held []*packedStep
	for i, key := range []string{"a", "b", "a"} {
		ps, err := m.acquirePacked(key, build)
		if err != nil || ps == nil {
			t.Fatalf("acquire %q: %v, %v", key, ps, err)
		}
		if i < 2 {
			held = append(held, ps)
			continue
		}
		ps.running-- // released at once
	}
	if ps, err := m.acquirePacked("c", build); ps != nil || err != nil {
		t.Errorf("c was packed while a and b were both running")
	}
	held[1].running-- // b done; a still running
	if ps, err := m.acquirePacked("c", build); err != nil || ps == nil {
		t.Fatalf("acquire c after b was released: %v, %v", ps, err)
	}
	_, a := m.packed["a"]
	_, b := m.packed["b"]
	if !a || b || len(m.packed) != maxPackedSteps {
		t.Errorf("packed %v: want a (running) and c, b dropped", m.packed)
	}
}

// wideModel is a random model wide enough (d_model 256) for the go backend's packing matmul
// kernels, on the go backend.
func wideModel(t *testing.T) (*Model, *gpt2.Model) {
	cfg := checkpoint.Config{NLayer: 2, NHead: 4, NEmbd: 256, NPositions: 64, VocabSize: 50257,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"}
	return randomModel(t, "random test model", cfg, 5)
}

// randomModel is a model of shape cfg with random weights (seed) on the test backend, finalized
// when the test ends.
func randomModel(tb testing.TB, name string, cfg checkpoint.Config, seed int64) (*Model, *gpt2.Model) {
	tb.Helper()
	g, err := gpt2.New(testbackend.Get(tb), name, cfg, checkpoint.RandomTensors(cfg, seed))
	if err != nil {
		tb.Fatal(err)
	}
	m, err := Wrap(g, nil, "go")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(m.Finalize)
	return m, g
}

// TestBatchesInFlight decodes a job of several batches one at a time and two at a time: the
// same completions, a Stream that is never called concurrently, and the job's error when one
// batch fails.
func TestBatchesInFlight(t *testing.T) {
	m, _ := wideModel(t)
	var rows []Row
	for i := range 10 {
		rows = append(rows, Row{Prompt: "I went up to my friend and said", Adds: []Addition{Pair(" weddings", "", float64(i)).AtLayer(i % 2)}})
	}
	var got [2][]Completion
	for k, inFlight := range []int{1, 2} {
		m.tuning.inFlight = inFlight
		var inside, overlaps, calls atomic.Int32
		opts := GenerateOptions{MaxNewTokens: 5, Sampling: PaperSampling, BatchSize: 3,
			Stream: func(int, Completion) {
				if inside.Add(1) > 1 {
					overlaps.Add(1)
				}
				calls.Add(1)
				inside.Add(-1)
			}}
		var err error
		if got[k], err = m.GenerateRows(rows, opts); err != nil {
			t.Fatal(err)
		}
		if overlaps.Load() > 0 || int(calls.Load()) != len(rows)*opts.MaxNewTokens {
			t.Errorf("%d in flight: %d Stream calls (want %d), %d overlapping", inFlight, calls.Load(), len(rows)*opts.MaxNewTokens, overlaps.Load())
		}
	}
	for i := range rows {
		if !slices.Equal(got[0][i].Tokens, got[1][i].Tokens) {
			t.Errorf("row %d: one batch at a time %v, two %v", i, got[0][i].Generated(), got[1][i].Generated())
		}
	}
	huge := &Vector{N: 1, D: m.Width(), Data: make([]float32, m.Width()), Model: "test", Point: DefaultPoint}
	huge.Data[0] = 1e38
	rows[7].Adds = []Addition{Apply(huge, 10)}
	if _, err := m.GenerateRows(rows, GenerateOptions{MaxNewTokens: 5, BatchSize: 3}); err == nil || !strings.Contains(err.Error(), "row 7") {
		t.Errorf("a failing row among batches in flight: err = %v, want row 7's error", err)
	}
	m.tuning.inFlight = 0
}

// TestSharedPromptPrefill: a batch whose rows all have the same prompt and additions is
// prefilled once for all of them; the completions equal those of prefilling every row, with
// both samplers.
func TestSharedPromptPrefill(t *testing.T) {
	m, _ := wideModel(t)
	rows := slices.Repeat([]Row{{Prompt: "I went up to my friend and said", Adds: []Addition{Pair(" weddings", "", 3).AtLayer(1)}}}, 6)
	for _, s := range []Sampling{Greedy, PaperSampling} {
		for _, sampler := range []SamplerPlace{SamplerHost, SamplerDevice} {
			var got [2][]Completion
			for k, unshared := range []bool{false, true} {
				m.tuning.noSharedPrefill = unshared
				var err error
				if got[k], err = m.GenerateRows(rows, GenerateOptions{MaxNewTokens: 6, Sampling: s, Sampler: sampler}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range rows {
				if !slices.Equal(got[0][i].Tokens, got[1][i].Tokens) {
					t.Errorf("%+v %s row %d: shared prefill %v, every row %v", s, sampler, i, got[0][i].Generated(), got[1][i].Generated())
				}
			}
		}
	}
	m.tuning.noSharedPrefill = false
	prep := &prepared{rows: []preparedRow{{tokens: []int{1, 2}}, {tokens: []int{1, 2}}, {tokens: []int{1, 3}}}}
	p := steeredPrompts{m, prep, batch{idx: []int{0, 1}, width: 2}}
	d := m.newDecoder(p, [][]int{{1, 2}, {1, 2}}, 2, []uint64{0, 1}, GenerateOptions{})
	if !d.sharedPrompt() {
		t.Error("rows 0 and 1 are the same, but sharedPrompt says no")
	}
	p.bt.idx = []int{0, 2}
	d.prompts = p
	if d.sharedPrompt() {
		t.Error("rows 0 and 2 differ, but sharedPrompt says yes")
	}
}

// TestBatchLayouts cuts groups of rows of one prompt length into batches in each layout.
func TestBatchLayouts(t *testing.T) {
	rows := func(lens ...int) *prepared {
		p := &prepared{}
		for _, n := range lens {
			p.rows = append(p.rows, preparedRow{tokens: make([]int, n)})
		}
		return p
	}
	// widths lists each batch's width and real rows.
	widths := func(bts []batch) [][2]int {
		var out [][2]int
		for _, bt := range bts {
			out = append(out, [2]int{bt.width, len(bt.idx)})
		}
		return out
	}
	for _, c := range []struct {
		name   string
		p      *prepared
		size   int
		layout batchLayout
		want   [][2]int
	}{
		{"200 padded", rows(slices.Repeat([]int{9}, 200)...), 32, paddedTail, [][2]int{{32, 32}, {32, 32}, {32, 32}, {32, 32}, {32, 32}, {32, 32}, {32, 8}}},
		{"200 narrow", rows(slices.Repeat([]int{9}, 200)...), 32, narrowTail, [][2]int{{32, 32}, {32, 32}, {32, 32}, {32, 32}, {32, 32}, {32, 32}, {8, 8}}},
		{"200 even", rows(slices.Repeat([]int{9}, 200)...), 32, evenSplit, [][2]int{{29, 29}, {29, 29}, {29, 29}, {29, 29}, {29, 29}, {29, 29}, {29, 26}}},
		{"45 narrow", rows(slices.Repeat([]int{9}, 45)...), 32, narrowTail, [][2]int{{32, 32}, {16, 13}}},
		{"a group smaller than a batch", rows(3, 3), 32, narrowTail, [][2]int{{2, 2}}},
		{"two prompt lengths", rows(5, 3, 5, 3, 3), 2, narrowTail, [][2]int{{2, 2}, {2, 1}, {2, 2}}},
	} {
		if got := widths(c.p.batches(c.size, c.layout)); !slices.Equal(got, c.want) {
			t.Errorf("%s: batches (width, rows) = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPaddedVocabularyNeverDrawn generates from a model whose vocabulary is padded past its
// tokenizer's (as Qwen's 151936 rows for 151665 tokens): no sampler, host or device, greedy or
// not, packed step or not, may draw an id the tokenizer cannot decode. With random weights the
// 9,743 padding ids hold about a sixth of the probability, so an unmasked head draws them.
func TestPaddedVocabularyNeverDrawn(t *testing.T) {
	cfg := checkpoint.Config{NLayer: 2, NHead: 4, NEmbd: 256, NPositions: 64, VocabSize: 60000,
		LayerNormEpsilon: 1e-5, ActivationFunction: "gelu_new"}
	m, _ := randomModel(t, "random test model, vocabulary padded to 60000", cfg, 5)
	tokens := m.Tok.VocabSize()
	if tokens >= cfg.VocabSize {
		t.Fatalf("tokenizer of %d tokens for a model of %d: nothing is padded", tokens, cfg.VocabSize)
	}
	prompts := []string{"I went up to my friend and said", "The weather today", "Once upon a time", "Why"}
	for _, sampler := range []SamplerPlace{SamplerHost, SamplerDevice} {
		for _, s := range []Sampling{Greedy, {Temperature: 1, Seed: 3}, {Temperature: 1, TopK: 50, Seed: 3}} {
			for _, unpacked := range []bool{false, true} {
				m.tuning.unpackedStep = unpacked
				got, err := m.Generate(prompts, GenerateOptions{MaxNewTokens: 8, Sampling: s, Sampler: sampler})
				if err != nil {
					t.Fatalf("%s sampler, %+v, unpacked step %v: %v", sampler, s, unpacked, err)
				}
				for i, c := range got {
					for _, id := range c.Generated() {
						if id >= tokens {
							t.Errorf("%s sampler, %+v, unpacked step %v, row %d: drew id %d, past the tokenizer's %d", sampler, s, unpacked, i, id, tokens)
						}
					}
				}
			}
		}
	}
	m.tuning.unpackedStep = false
}
