package llama_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/internal/testbackend"
	"github.com/actadd-go/actadd/llama"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestMatchesHuggingFaceOracle checks the model against Hugging Face's own modeling code: for
// each family's fixture in testdata/hf-<family> (benchmarks/device/hf_llama_fixture.py, run
// where transformers is installed), the checkpoint as save_pretrained writes it loads; the
// logits, the residual stream before every block and the final norm's output equal HF's
// hidden_states; a vector added at blocks.{l}.hook_resid_pre gives HF's logits with the same
// vector added to block l's input by a forward pre-hook; and cached greedy decoding with that
// addition on the prompt gives HF's generate().
func TestMatchesHuggingFaceOracle(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "hf-*"))
	if len(dirs) == 0 {
		t.Skip("no Hugging Face oracles in testdata: make them where transformers is installed with " +
			"`python3 benchmarks/device/hf_llama_fixture.py llama/testdata`")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkOracle(t, dir) })
	}
}

func checkOracle(t *testing.T, dir string) {
	oracle := filepath.Join(dir, "oracle.safetensors")
	if _, err := os.Stat(oracle); err != nil {
		t.Fatalf("%s has no oracle.safetensors", dir)
	}
	ts, meta, err := checkpoint.ReadSafetensors(oracle)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("oracle made by %s with transformers %s, torch %s", meta["made_by"], meta["transformers_version"], meta["torch_version"])
	var ids [][]int
	var plus, minus, prompt []int
	for key, dst := range map[string]any{"input_ids": &ids, "steer_plus_ids": &plus, "steer_minus_ids": &minus, "greedy_prompt_ids": &prompt} {
		if err := json.Unmarshal([]byte(meta[key]), dst); err != nil {
			t.Fatalf("oracle metadata %s: %v", key, err)
		}
	}
	layer, err1 := strconv.Atoi(meta["steer_layer"])
	coeff, err2 := strconv.ParseFloat(meta["steer_coeff"], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("oracle metadata steer_layer / steer_coeff: %v %v", err1, err2)
	}
	m, err := llama.Load(testbackend.Get(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Finalize()
	cfg := m.Config
	get := func(name string) checkpoint.Tensor {
		t.Helper()
		v, ok := ts[name]
		if !ok {
			t.Fatalf("oracle lacks tensor %s", name)
		}
		return v
	}
	compare := func(what string, got *tensors.Tensor, want checkpoint.Tensor) {
		t.Helper()
		g := tensors.MustCopyFlatData[float32](got)
		if len(g) != len(want.Data) {
			t.Fatalf("%s: %d values, HF has %d (shape %v)", what, len(g), len(want.Data), want.Shape)
		}
		worst, scale := 0.0, 0.0
		for i, v := range want.Data {
			worst = max(worst, math.Abs(float64(g[i])-float64(v)))
			scale = max(scale, math.Abs(float64(v)))
		}
		if worst > 1e-4*scale {
			t.Errorf("%s differs from Hugging Face's by up to %.3g (values up to %.3g)", what, worst, scale)
		}
	}

	points := []string{llama.HookLnFinal}
	for l := range cfg.NumHiddenLayers {
		points = append(points, llama.ResidPre(l))
	}
	out, err := m.Run(ids, points...)
	if err != nil {
		t.Fatal(err)
	}
	compare("logits", out.Logits, get("logits"))
	for l := range cfg.NumHiddenLayers {
		compare(llama.ResidPre(l), out.Activations[llama.ResidPre(l)], get(fmt.Sprintf("hidden_states.%d", l)))
	}
	compare(llama.HookLnFinal, out.Activations[llama.HookLnFinal], get(fmt.Sprintf("hidden_states.%d", cfg.NumHiddenLayers)))

	acts, err := m.Run([][]int{plus, minus}, llama.ResidPre(layer))
	if err != nil {
		t.Fatal(err)
	}
	h := tensors.MustCopyFlatData[float32](acts.Activations[llama.ResidPre(layer)])
	diff := make([]float32, len(h)/2)
	for i := range diff {
		diff[i] = h[i] - h[len(diff)+i]
	}
	vec := get("steer.vector")
	compare("steering vector", tensors.FromFlatDataAndDimensions(diff, len(diff)), vec)
	d := cfg.HiddenSize
	rows := make([][]float64, len(vec.Data)/d)
	for j := range rows {
		for k := range d {
			rows[j] = append(rows[j], coeff*float64(vec.Data[j*d+k]))
		}
	}
	hook := steerHook(llama.ResidPre(layer), rows)
	prog, err := m.NewProgram("hf-oracle-steered", func(w *llama.Weights, in []*Node) []*Node {
		return []*Node{w.Logits(w.Forward(in[0], in[1], hook))}
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.TokensTensor(ids)
	if err != nil {
		t.Fatal(err)
	}
	steered, err := prog.Call(tok, llama.PositionsTensor(len(ids), len(ids[0]), 0))
	if err != nil {
		t.Fatal(err)
	}
	compare("steered logits", steered[0], get("steer.logits"))

	want := get("greedy.tokens").Data
	got := cachedGreedy(t, m, prompt, len(want), hook)
	for i, w := range want {
		if got[i] != int(w) {
			t.Fatalf("greedy tokens %v, Hugging Face's generate() %v", got, want)
		}
	}
}

// cachedGreedy decodes n tokens after prompt with Prefill (hook applied) and Step.
func cachedGreedy(t *testing.T, m *llama.Model, prompt []int, n int, hook llama.Hook) []int {
	t.Helper()
	nL, p := m.Config.NumHiddenLayers, len(prompt)
	prefill, err := m.NewProgram("prefill", func(w *llama.Weights, in []*Node) []*Node {
		h, c := w.Prefill(in[0], in[1], hook, p+n)
		return append([]*Node{w.Logits(Squeeze(SliceAxis(h, 1, AxisElem(p-1)), 1))}, append(c.Keys, c.Values...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	step, err := m.NewProgram("step", func(w *llama.Weights, in []*Node) []*Node {
		h, c := w.Step(in[0], in[1], &llama.KVCache{Keys: in[2 : 2+nL], Values: in[2+nL:]}, nil)
		return append([]*Node{w.Logits(Squeeze(h, 1))}, append(c.Keys, c.Values...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := m.TokensTensor([][]int{prompt})
	outs, err := prefill.Call(tok, llama.PositionsTensor(1, p, 0))
	if err != nil {
		t.Fatal(err)
	}
	var tokens []int
	for i := range n {
		logits := tensors.MustCopyFlatData[float32](outs[0])
		best := 0
		for j, v := range logits {
			if v > logits[best] {
				best = j
			}
		}
		tokens = append(tokens, best)
		if i == n-1 {
			break
		}
		args := []any{tensors.FromFlatDataAndDimensions([]int32{int32(best)}, 1, 1), tensors.FromScalar(int32(p + i))}
		for _, c := range outs[1:] {
			args = append(args, c)
		}
		if outs, err = step.Call(args...); err != nil {
			t.Fatal(err)
		}
	}
	return tokens
}

// TestOracleCheckerOnReferenceFixture runs the oracle check on a fixture made in the same
// layout by the float64 reference, so that the checker itself is exercised where no Hugging
// Face fixture has been made yet.
func TestOracleCheckerOnReferenceFixture(t *testing.T) {
	for _, v := range append(variants(), gemmaVariants()...) {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := llama.WriteRandom(dir, v.cfg, llama.RandomOptions{Seed: 5, DType: v.dtype, Shards: v.shards}); err != nil {
				t.Fatal(err)
			}
			ref, err := loadReference(dir, v.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ids := randomRows(21, 2, 7, v.cfg.VocabSize)
			pair := randomRows(22, 2, 3, v.cfg.VocabSize)
			prompt := randomRows(23, 1, 4, v.cfg.VocabSize)[0]
			const layer, coeff = 1, 2.5
			flat := func(rows ...[][]float64) checkpoint.Tensor {
				var data []float32
				for _, r := range rows {
					for _, x := range r {
						for _, y := range x {
							data = append(data, float32(y))
						}
					}
				}
				return checkpoint.Tensor{Shape: []int{len(data)}, Data: data}
			}
			ts := map[string]checkpoint.Tensor{}
			var logits []([][]float64)
			hidden := map[int][]([][]float64){}
			for _, row := range ids {
				lg, hooks := ref.Forward(row, 0, nil)
				logits = append(logits, lg)
				for l := range v.cfg.NumHiddenLayers {
					hidden[l] = append(hidden[l], hooks[llama.ResidPre(l)])
				}
				hidden[v.cfg.NumHiddenLayers] = append(hidden[v.cfg.NumHiddenLayers], hooks[llama.HookLnFinal])
			}
			ts["logits"] = flat(logits...)
			for l, h := range hidden {
				ts[fmt.Sprintf("hidden_states.%d", l)] = flat(h...)
			}
			_, hp := ref.Forward(pair[0], 0, nil)
			_, hm := ref.Forward(pair[1], 0, nil)
			vec := make([][]float64, 3)
			adds := make([][]float64, 3)
			for j := range vec {
				for k := range v.cfg.HiddenSize {
					x := hp[llama.ResidPre(layer)][j][k] - hm[llama.ResidPre(layer)][j][k]
					vec[j] = append(vec[j], x)
					adds[j] = append(adds[j], coeff*float64(float32(x)))
				}
			}
			ts["steer.vector"] = flat(vec)
			ts["steer.vector"] = checkpoint.Tensor{Shape: []int{3, v.cfg.HiddenSize}, Data: ts["steer.vector"].Data}
			add := map[string][][]float64{llama.ResidPre(layer): adds}
			var steered []([][]float64)
			for _, row := range ids {
				lg, _ := ref.Forward(row, 0, add)
				steered = append(steered, lg)
			}
			ts["steer.logits"] = flat(steered...)
			toks, _ := ref.Greedy(prompt, 5, add)
			var tf []float32
			for _, x := range toks {
				tf = append(tf, float32(x))
			}
			ts["greedy.tokens"] = checkpoint.Tensor{Shape: []int{1, len(tf)}, Data: tf}
			js := func(x any) string { b, _ := json.Marshal(x); return string(b) }
			meta := map[string]string{"input_ids": js(ids), "steer_plus_ids": js(pair[0]), "steer_minus_ids": js(pair[1]),
				"greedy_prompt_ids": js(prompt), "steer_layer": strconv.Itoa(layer), "steer_coeff": strconv.FormatFloat(coeff, 'g', -1, 64),
				"made_by": "the float64 reference"}
			if err := checkpoint.WriteSafetensors(filepath.Join(dir, "oracle.safetensors"), ts, meta); err != nil {
				t.Fatal(err)
			}
			checkOracle(t, dir)
		})
	}
}
