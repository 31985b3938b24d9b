package llama_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/llama"
	"github.com/actadd-go/actadd/llama/internal/reference"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// variant is one family switch setting, stored one way.
type variant struct {
	name   string
	cfg    llama.Config
	dtype  string
	shards int
}

// variants cover every family and switch: GQA with fewer key/value heads, head_dim different
// from hidden_size / heads, tied and untied heads, biases, Qwen3's q/k norms, llama3 RoPE
// scaling, Mistral's sliding window; each dtype; single files and shards.
func variants() []variant {
	base := llama.Config{VocabSize: 53, HiddenSize: 24, IntermediateSize: 40, NumHiddenLayers: 3,
		NumAttentionHeads: 4, NumKeyValueHeads: 4, HeadDim: 6, MaxPositionEmbeddings: 64,
		RMSNormEps: 1e-5, RopeTheta: 10000, BosTokenID: []int{1}, EosTokenID: []int{2}, HiddenAct: "silu"}
	with := func(f func(c *llama.Config)) llama.Config { c := base; f(&c); return c }
	return []variant{
		{"llama2", with(func(c *llama.Config) { c.ModelType = "llama" }), "F32", 0},
		{"llama3-gqa-bias-bf16-sharded", with(func(c *llama.Config) {
			c.ModelType, c.NumKeyValueHeads, c.HeadDim, c.TieWordEmbeddings = "llama", 2, 8, true
			c.AttentionBias, c.MLPBias, c.RopeTheta = true, true, 500000
			c.RopeScaling = &llama.RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}
			c.EosTokenID = []int{2, 3}
		}), "BF16", 3},
		{"smollm2", with(func(c *llama.Config) { c.ModelType, c.NumKeyValueHeads, c.TieWordEmbeddings = "llama", 1, true }), "F16", 0},
		{"mistral-window", with(func(c *llama.Config) { c.ModelType, c.NumKeyValueHeads, c.SlidingWindow = "mistral", 2, 3 }), "F16", 2},
		{"qwen2", with(func(c *llama.Config) {
			c.ModelType, c.NumKeyValueHeads, c.TieWordEmbeddings, c.RopeTheta = "qwen2", 2, true, 1e6
		}), "BF16", 0},
		{"qwen3", with(func(c *llama.Config) { c.ModelType, c.NumKeyValueHeads, c.HeadDim = "qwen3", 2, 10 }), "F32", 2},
		{"llama-linear-rope", with(func(c *llama.Config) {
			c.ModelType, c.RopeScaling = "llama", &llama.RopeScaling{Type: "linear", Factor: 4}
		}), "F32", 0},
	}
}

// load writes v's checkpoint and loads it with package llama and with the float64 reference of
// its family.
func load(t *testing.T, v variant) (*llama.Model, referenceModel) {
	t.Helper()
	dir := t.TempDir()
	if err := llama.WriteRandom(dir, v.cfg, llama.RandomOptions{Seed: 7, DType: v.dtype, Shards: v.shards}); err != nil {
		t.Fatal(err)
	}
	m, err := llama.Load(testbackend.Get(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := loadReference(dir, v.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, ref
}

// referenceModel is the float64 reference of either family.
type referenceModel interface {
	Forward(tokens []int, start int, adds map[string][][]float64) ([][]float64, map[string][][]float64)
	Greedy(prompt []int, n int, adds map[string][][]float64) ([]int, [][]float64)
}

// loadReference loads dir with the reference of cfg's family.
func loadReference(dir string, cfg llama.Config) (referenceModel, error) {
	if cfg.Gemma != nil {
		g, err := reference.LoadGemma(dir)
		if err != nil {
			return nil, err
		}
		return g, nil
	}
	m, err := reference.Load(dir)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// relErr is max |got − want| / max |want| over a [batch, seq, n] tensor and per-row references.
func relErr(t *testing.T, got *tensors.Tensor, want [][][]float64) float64 {
	t.Helper()
	flat := tensors.MustCopyFlatData[float32](got)
	var diff, scale float64
	i := 0
	for _, row := range want {
		for _, pos := range row {
			for _, v := range pos {
				diff = max(diff, math.Abs(float64(flat[i])-v))
				scale = max(scale, math.Abs(v))
				i++
			}
		}
	}
	if i != len(flat) {
		t.Fatalf("tensor has %d values, reference %d", len(flat), i)
	}
	return diff / scale
}

const tol = 1e-4

func randomRows(seed uint64, batch, seq, vocab int) [][]int {
	r := rand.New(rand.NewPCG(seed, 1))
	rows := make([][]int, batch)
	for b := range rows {
		for range seq {
			rows[b] = append(rows[b], r.IntN(vocab))
		}
	}
	return rows
}

func TestLogitsAndResidPreMatchReference(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			m, ref := load(t, v)
			checkForward(t, m, ref, v.cfg, 7, llama.AttnOut(1), llama.MLPOut(2), llama.ResidPost(2), llama.HookLnFinal)
		})
	}
}

// checkForward runs two rows of seq random tokens and compares the logits, every block's
// resid_pre and the extra hook points with the reference.
func checkForward(t *testing.T, m *llama.Model, ref referenceModel, cfg llama.Config, seq int, extra ...string) {
	t.Helper()
	rows := randomRows(3, 2, seq, cfg.VocabSize)
	var points []string
	for l := range cfg.NumHiddenLayers {
		points = append(points, llama.ResidPre(l))
	}
	points = append(points, extra...)
	out, err := m.Run(rows, points...)
	if err != nil {
		t.Fatal(err)
	}
	wantLogits := make([][][]float64, len(rows))
	wantHooks := map[string][][][]float64{}
	for b, row := range rows {
		lg, hooks := ref.Forward(row, 0, nil)
		wantLogits[b] = lg
		for _, p := range points {
			wantHooks[p] = append(wantHooks[p], hooks[p])
		}
	}
	e := relErr(t, out.Logits, wantLogits)
	t.Logf("logits: relative error %.3g", e)
	if e > tol {
		t.Errorf("logits: relative error %.3g", e)
	}
	worst := 0.0
	for _, p := range points {
		e := relErr(t, out.Activations[p], wantHooks[p])
		worst = max(worst, e)
		if e > tol {
			t.Errorf("%s: relative error %.3g", p, e)
		}
	}
	t.Logf("hook points: worst relative error %.3g", worst)
}

// steerHook adds vec [front, d] to the stream at point over the first front positions of
// every row, as ActAdd does.
func steerHook(point string, vec [][]float64) llama.Hook {
	return func(p string, x *Node) *Node {
		if p != point {
			return x
		}
		g := x.Graph()
		seq, d := x.Shape().Dimensions[1], x.Shape().Dimensions[2]
		flat := make([]float32, seq*d)
		for i := range min(seq, len(vec)) {
			for j := range d {
				flat[i*d+j] = float32(vec[i][j])
			}
		}
		return Add(x, Reshape(Const(g, flat), 1, seq, d))
	}
}

func steeringVector(seed uint64, front, d int) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 2))
	vec := make([][]float64, front)
	for i := range vec {
		for range d {
			vec[i] = append(vec[i], 3*r.NormFloat64())
		}
	}
	return vec
}

func TestSteeredLogitsMatchReference(t *testing.T) {
	for _, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			m, ref := load(t, v)
			checkSteered(t, m, ref, v.cfg, 6, 1)
		})
	}
}

// checkSteered compares the logits of two rows of seq random tokens, steered at resid_pre of
// block 1 over their first 3 positions by a random vector times scale, with the reference, and
// checks that the steering changed them.
func checkSteered(t *testing.T, m *llama.Model, ref referenceModel, cfg llama.Config, seq int, scale float64) {
	t.Helper()
	rows := randomRows(5, 2, seq, cfg.VocabSize)
	point := llama.ResidPre(1)
	vec := steeringVector(9, 3, cfg.HiddenSize)
	for i := range vec {
		for j := range vec[i] {
			vec[i][j] *= scale
		}
	}
	prog, err := m.NewProgram("steered", func(w *llama.Weights, in []*Node) []*Node {
		return []*Node{w.Logits(w.Forward(in[0], in[1], steerHook(point, vec)))}
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.TokensTensor(rows)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := prog.Call(tok, llama.PositionsTensor(2, seq, 0))
	if err != nil {
		t.Fatal(err)
	}
	var want, plain [][][]float64
	for _, row := range rows {
		lg, _ := ref.Forward(row, 0, map[string][][]float64{point: vec})
		want = append(want, lg)
		lg, _ = ref.Forward(row, 0, nil)
		plain = append(plain, lg)
	}
	e := relErr(t, outs[0], want)
	t.Logf("steered logits: relative error %.3g", e)
	if e > tol {
		t.Errorf("steered logits: relative error %.3g", e)
	}
	if e := relErr(t, outs[0], plain); e < 1e-2 {
		t.Errorf("steering changed the logits by only %.3g: the test would not see a missing addition", e)
	}
}

// TestCachedGreedyMatchesReference decodes greedily with Prefill and Step (steered at the
// prompt's front positions) and compares tokens and every step's logits with the reference,
// which recomputes the whole sequence each time.
func TestCachedGreedyMatchesReference(t *testing.T) {
	for i, v := range variants() {
		t.Run(v.name, func(t *testing.T) {
			m, ref := load(t, v)
			m.PackBlocks = i%2 == 1 // the step with only the head built in, or every matrix
			checkCachedGreedy(t, m, ref, v.cfg, 6)
		})
	}
}

// checkCachedGreedy decodes two rows of a 5-token random prompt greedily for newTokens tokens
// with Prefill and Step, steered at resid_pre of block 0 over the first 2 positions, and
// compares tokens and every step's logits with the reference's.
func checkCachedGreedy(t *testing.T, m *llama.Model, ref referenceModel, cfg llama.Config, newTokens int) {
	t.Helper()
	const rows, promptLen = 2, 5
	prompts := randomRows(11, rows, promptLen, cfg.VocabSize)
	point := llama.ResidPre(0)
	vec := steeringVector(13, 2, cfg.HiddenSize)
	capacity := promptLen + newTokens
	nL := cfg.NumHiddenLayers
	prefill, err := m.NewProgram("prefill", func(w *llama.Weights, in []*Node) []*Node {
		h, c := w.Prefill(in[0], in[1], steerHook(point, vec), capacity)
		last := SliceAxis(h, 1, AxisElem(promptLen-1))
		return append([]*Node{w.Logits(Squeeze(last, 1))}, append(c.Keys, c.Values...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	step, err := m.NewPackedProgram("step", func(w *llama.Weights, in []*Node) []*Node {
		cache := &llama.KVCache{Keys: in[2 : 2+nL], Values: in[2+nL : 2+2*nL]}
		h, c := w.Step(in[0], in[1], cache, nil)
		byToken := w.LogitsByToken(Squeeze(h, 1))
		return append([]*Node{Transpose(byToken, 0, 1)}, append(c.Keys, c.Values...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := m.TokensTensor(prompts)
	outs, err := prefill.Call(tok, llama.PositionsTensor(rows, promptLen, 0))
	if err != nil {
		t.Fatal(err)
	}
	wantTokens := make([][]int, rows)
	wantLogits := make([][][]float64, rows)
	for r, p := range prompts {
		wantTokens[r], wantLogits[r] = ref.Greedy(p, newTokens, map[string][][]float64{point: vec})
	}
	worst := 0.0
	for i := range newTokens {
		logits := outs[0].Value().([][]float32) // [rows, vocab]
		want := make([][][]float64, rows)
		next := make([]int32, rows)
		for r := range rows {
			want[r] = [][]float64{wantLogits[r][i]}
			best := 0
			for j, x := range logits[r] {
				if x > logits[r][best] {
					best = j
				}
			}
			if best != wantTokens[r][i] {
				t.Fatalf("row %d step %d: token %d, reference %d (tokens so far %v)", r, i, best, wantTokens[r][i], wantTokens[r][:i])
			}
			next[r] = int32(best)
		}
		e := relErr(t, outs[0], want)
		worst = max(worst, e)
		if e > tol {
			t.Errorf("step %d: logits relative error %.3g", i, e)
		}
		if i == newTokens-1 {
			break
		}
		args := []any{tensors.FromFlatDataAndDimensions(next, rows, 1), tensors.FromScalar(int32(promptLen + i))}
		for _, c := range outs[1:] {
			args = append(args, c)
		}
		outs, err = step.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("cached greedy: tokens %v, worst logits relative error %.3g", wantTokens, worst)
}

func TestHookPoints(t *testing.T) {
	for _, p := range llama.HookPoints(3) {
		if _, err := llama.ParseHookPoint(p, 3); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{"hook_pos_embed", "blocks.3.hook_resid_pre", "blocks.0.hook_q"} {
		if _, err := llama.ParseHookPoint(p, 3); err == nil {
			t.Errorf("%s accepted", p)
		}
	}
}
