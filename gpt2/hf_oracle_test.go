package gpt2_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/gpt2"
	"github.com/actadd-go/actadd/internal/testbackend"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// hfOracleDir holds the Hugging Face oracle: a tiny seeded GPT2LMHeadModel saved by HF's own
// save_pretrained, with HF's logits and hidden states for fixed token ids and a steered
// forward pass (benchmarks/device/hf_fixture.py, run where transformers is installed).
var hfOracleDir = filepath.Join("testdata", "hf-tiny")

// TestMatchesHuggingFaceOracle checks the model against Hugging Face's GPT-2 code itself, not
// against our own reference: the checkpoint as HF writes it loads; the logits, the residual
// stream before every block and the final LayerNorm output equal HF's hidden_states; and a
// vector added at blocks.{l}.hook_resid_pre gives HF's logits with the same vector added to
// block l's input by a PyTorch forward pre-hook.
func TestMatchesHuggingFaceOracle(t *testing.T) {
	oracle := filepath.Join(hfOracleDir, "oracle.safetensors")
	if _, err := os.Stat(oracle); err != nil {
		t.Skipf("no Hugging Face oracle in %s: make one where transformers is installed with "+
			"`python3 benchmarks/device/hf_fixture.py gpt2/testdata/hf-tiny`", hfOracleDir)
	}
	cfg, weights, err := checkpoint.Load(hfOracleDir)
	if err != nil {
		t.Fatal(err)
	}
	ts, meta, err := checkpoint.ReadSafetensors(oracle)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("oracle made by %s with transformers %s, torch %s", meta["made_by"], meta["transformers_version"], meta["torch_version"])
	var ids [][]int
	if err := json.Unmarshal([]byte(meta["input_ids"]), &ids); err != nil {
		t.Fatalf("oracle metadata input_ids: %v", err)
	}
	layer, err := strconv.Atoi(meta["steer_layer"])
	if err != nil {
		t.Fatalf("oracle metadata steer_layer: %v", err)
	}
	coeff, err := strconv.ParseFloat(meta["steer_coeff"], 64)
	if err != nil {
		t.Fatalf("oracle metadata steer_coeff: %v", err)
	}
	m, err := gpt2.New(testbackend.Get(t), "hf-tiny", cfg, weights)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Finalize()

	// HF's hidden_states: the embeddings, each block's output, then ln_f of the last one.
	points := []string{gpt2.HookLnFinal}
	for l := range cfg.NLayer {
		points = append(points, gpt2.ResidPre(l))
	}
	out, err := m.Run(ids, points...)
	if err != nil {
		t.Fatal(err)
	}
	compare := func(what string, got *tensors.Tensor, want checkpoint.Tensor) {
		t.Helper()
		g := tensors.MustCopyFlatData[float32](got)
		if len(g) != len(want.Data) {
			t.Fatalf("%s: %d values, HF has %d (shape %v)", what, len(g), len(want.Data), want.Shape)
		}
		worst, scale := 0.0, 1.0
		for i, v := range want.Data {
			worst = max(worst, math.Abs(float64(g[i])-float64(v)))
			scale = max(scale, math.Abs(float64(v)))
		}
		if worst > 1e-4*scale {
			t.Errorf("%s differs from Hugging Face's by up to %.3g (values up to %.3g)", what, worst, scale)
		}
	}
	oracleTensor := func(name string) checkpoint.Tensor {
		t.Helper()
		v, ok := ts[name]
		if !ok {
			t.Fatalf("oracle lacks tensor %s", name)
		}
		return v
	}
	compare("logits", out.Logits, oracleTensor("logits"))
	for l := range cfg.NLayer {
		compare(gpt2.ResidPre(l), out.Activations[gpt2.ResidPre(l)], oracleTensor(fmt.Sprintf("hidden_states.%d", l)))
	}
	compare(gpt2.HookLnFinal, out.Activations[gpt2.HookLnFinal], oracleTensor(fmt.Sprintf("hidden_states.%d", cfg.NLayer)))

	// The steering vector: resid_pre[layer] of the plus prompt minus that of the minus prompt.
	vec := oracleTensor("steer.vector") // [n, d]
	var pair [2][]int
	for i, key := range []string{"steer_plus_ids", "steer_minus_ids"} {
		if err := json.Unmarshal([]byte(meta[key]), &pair[i]); err != nil {
			t.Fatalf("oracle metadata %s: %v", key, err)
		}
	}
	acts, err := m.Run(pair[:], gpt2.ResidPre(layer))
	if err != nil {
		t.Fatal(err)
	}
	h := tensors.MustCopyFlatData[float32](acts.Activations[gpt2.ResidPre(layer)]) // [2, n, d]
	diff := make([]float32, len(h)/2)
	for i := range diff {
		diff[i] = h[i] - h[len(diff)+i]
	}
	compare("steering vector", tensors.FromFlatDataAndDimensions(diff, len(diff)), vec)

	// Steered: coeff · vector added to the first n positions of resid_pre[layer].
	batch, seq, d := len(ids), len(ids[0]), cfg.NEmbd
	delta := make([]float32, batch*seq*d)
	for b := range batch {
		for j := range vec.Shape[0] {
			for k := range d {
				delta[(b*seq+j)*d+k] = float32(coeff) * vec.Data[j*d+k]
			}
		}
	}
	target := gpt2.ResidPre(layer)
	prog, err := m.NewProgram("hf-oracle-steered", func(w *gpt2.Weights, in []*Node) []*Node {
		hook := func(point string, x *Node) *Node {
			if point == target {
				return Add(x, in[2])
			}
			return x
		}
		return []*Node{w.Logits(w.Forward(in[0], in[1], hook))}
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.TokensTensor(ids)
	if err != nil {
		t.Fatal(err)
	}
	steered, err := prog.Call(tok, gpt2.PositionsTensor(batch, seq, 0), tensors.FromFlatDataAndDimensions(delta, batch, seq, d))
	if err != nil {
		t.Fatal(err)
	}
	compare("steered logits", steered[0], oracleTensor("steer.logits"))
}
