package controlvector

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/actadd-go/actadd/actadd"
	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/hfhub"
	"github.com/actadd-go/actadd/loader"
)

// TestLlamaCppAgrees applies an exported vector in a real llama.cpp and compares its logits with
// this package's llama.cpp semantics on the tiny model (converted to GGUF here). It needs
// llama.cpp's headers and prebuilt shared libraries, both shipped by npm's node-llama-cpp:
//
//	npm pack node-llama-cpp@3.22.1 @node-llama-cpp/linux-x64@3.22.1
//	tar xzf node-llama-cpp-3.22.1.tgz && git clone package/llama/gitRelease.bundle llama.cpp
//	tar xzf node-llama-cpp-linux-x64-3.22.1.tgz   # package/bins/linux-x64/*.so
//	ACTADD_LLAMA_CPP_SRC=$PWD/llama.cpp ACTADD_LLAMA_CPP_LIB=$PWD/package/bins/linux-x64 go test ./controlvector -run LlamaCpp
//
// and g++ to build a small driver (testdata/llamacpp/logits.cpp) against them.
func TestLlamaCppAgrees(t *testing.T) {
	src, lib := os.Getenv("ACTADD_LLAMA_CPP_SRC"), os.Getenv("ACTADD_LLAMA_CPP_LIB")
	if src == "" || lib == "" {
		t.Skip("no llama.cpp to compare with: set ACTADD_LLAMA_CPP_SRC (llama.cpp source: include/, common/, ggml/include/) and ACTADD_LLAMA_CPP_LIB (its prebuilt libllama*.so, libllama-common.so, libggml*.so), e.g. from npm's node-llama-cpp (see this test's comment)")
	}
	libs, _ := filepath.Glob(filepath.Join(lib, "lib*.so"))
	if len(libs) == 0 {
		t.Skipf("no shared libraries in ACTADD_LLAMA_CPP_LIB=%s", lib)
	}
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++ to build the llama.cpp driver")
	}
	dir := t.TempDir()
	driver := filepath.Join(dir, "logits")
	args := []string{"-std=c++17", "-O1", "-o", driver, filepath.Join("testdata", "llamacpp", "logits.cpp"),
		"-I" + filepath.Join(src, "include"), "-I" + filepath.Join(src, "common"), "-I" + filepath.Join(src, "ggml", "include"),
		"-Wl,-rpath," + lib}
	for _, l := range libs {
		if filepath.Base(l) != "libggml-cpu-x64.so" && !isCPUVariant(filepath.Base(l)) {
			args = append(args, l)
		}
	}
	if out, err := exec.Command("g++", args...).CombinedOutput(); err != nil {
		t.Fatalf("building the llama.cpp driver: %v\n%s", err, out)
	}

	m, err := actadd.Load("tiny")
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "tiny.gguf")
	if err := writeGPT2GGUF(model); err != nil {
		t.Fatal(err)
	}
	v, err := m.MeanDifference([][2]string{{"Love", "Hate"}}, 3, actadd.DefaultPoint)
	if err != nil {
		t.Fatal(err)
	}
	cvPath := filepath.Join(dir, "love.gguf")
	if err := Export(cvPath, v, ExportOptions{Coeff: 4, Reduction: Last}); err != nil {
		t.Fatal(err)
	}
	cv, err := Import(cvPath)
	if err != nil {
		t.Fatal(err)
	}
	toks := m.EncodeWithBOS("I hate you because")
	run := func(cvec string, strength float64) [][]float32 {
		out := filepath.Join(dir, "logits.bin")
		a := []string{lib, model, out, cvec, strconv.FormatFloat(strength, 'g', -1, 64), "1", strconv.Itoa(m.Layers())}
		for _, tk := range toks {
			a = append(a, strconv.Itoa(tk))
		}
		cmd := exec.Command(driver, a...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("llama.cpp driver: %v\n%s", err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		vocab := m.VocabSize()
		if len(b) != 4*vocab*len(toks) {
			t.Fatalf("llama.cpp wrote %d bytes of logits, want %d", len(b), 4*vocab*len(toks))
		}
		rows := make([][]float32, len(toks))
		for i := range rows {
			rows[i] = make([]float32, vocab)
			for j := range rows[i] {
				rows[i][j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*(i*vocab+j):]))
			}
		}
		return rows
	}
	const strength = 0.5
	steered := mustEvery(t, cv, m, strength)
	// The same direction one block later: what a wrong layer convention would apply.
	shifted := actadd.EveryPosition{Point: steered.Point, Vectors: map[int][]float32{3: steered.Vectors[2]}}
	maxDiff := func(a, b [][]float32) (diff, scale float64) {
		scale = 1
		for i := range a {
			for j := range a[i] {
				diff = max(diff, math.Abs(float64(a[i][j]-b[i][j])))
				scale = max(scale, math.Abs(float64(a[i][j])))
			}
		}
		return diff, scale
	}
	ours := func(e actadd.EveryPosition) [][]float32 {
		l, err := m.LogitsEveryPosition(toks, e)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	plainOurs, steeredOurs, shiftedOurs := ours(actadd.EveryPosition{}), ours(steered), ours(shifted)
	plainTheirs, steeredTheirs := run("-", 0), run(cvPath, strength)
	effect, _ := maxDiff(steeredOurs, plainOurs)
	for _, c := range []struct {
		name        string
		ours, their [][]float32
	}{{"unsteered", plainOurs, plainTheirs}, {"steered", steeredOurs, steeredTheirs}} {
		diff, scale := maxDiff(c.ours, c.their)
		t.Logf("%s: max |ours − llama.cpp| = %.3g (max |logit| %.3g; the vector moves logits by up to %.3g)", c.name, diff, scale, effect)
		if diff/scale > 1e-3 || diff > effect/20 {
			t.Errorf("%s: logits differ from llama.cpp's by %.3g", c.name, diff)
		}
	}
	off, _ := maxDiff(shiftedOurs, steeredTheirs)
	t.Logf("the direction one block later: max |ours − llama.cpp| = %.3g", off)
	if off < effect/20 {
		t.Errorf("adding the direction one block later also matches llama.cpp (%.3g): the comparison cannot tell the layer convention", off)
	}
}

func mustEvery(t *testing.T, cv *ControlVector, m *actadd.Model, s float64) actadd.EveryPosition {
	t.Helper()
	e, err := cv.EveryPosition(m, s, LayerRange{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// isCPUVariant reports the CPU back ends ggml loads at run time (libggml-cpu-haswell.so, ...),
// which are not linked.
func isCPUVariant(name string) bool {
	return len(name) > len("libggml-cpu-") && name[:len("libggml-cpu-")] == "libggml-cpu-"
}

// writeGPT2GGUF converts the tiny checkpoint to a GGUF model in llama.cpp's gpt2 layout (as its
// convert_hf_to_gguf.py does: Conv1D weights transposed to [out][in]). Its vocabulary is
// placeholder strings with no merges: the driver is given token ids, never text.
func writeGPT2GGUF(path string) error {
	dir, err := loader.Locate(checkpoint.TinyName, hfhub.Options{})
	if err != nil {
		return err
	}
	cfg, w, err := checkpoint.Load(dir)
	if err != nil {
		return err
	}
	d := cfg.NEmbd
	toks := make([]string, cfg.VocabSize)
	for i := range toks {
		toks[i] = fmt.Sprintf("<%d>", i)
	}
	meta := map[string]any{
		"general.architecture": "gpt2", "general.name": "tiny",
		"gpt2.context_length": uint32(cfg.NPositions), "gpt2.embedding_length": uint32(d),
		"gpt2.feed_forward_length": uint32(4 * d), "gpt2.block_count": uint32(cfg.NLayer),
		"gpt2.attention.head_count": uint32(cfg.NHead), "gpt2.attention.layer_norm_epsilon": float32(cfg.LayerNormEpsilon),
		"tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "default",
		"tokenizer.ggml.tokens": toks, "tokenizer.ggml.merges": []string{},
	}
	var ts []tensor
	add := func(name, hf string, transpose bool) {
		t := w[hf]
		data, dims := t.Data, []uint64{}
		switch {
		case len(t.Shape) == 1:
			dims = []uint64{uint64(t.Shape[0])}
		case transpose: // HF [in, out] → ggml ne = {in, out}, stored [out][in]
			in, out := t.Shape[0], t.Shape[1]
			data = make([]float32, in*out)
			for i := range in {
				for o := range out {
					data[o*in+i] = t.Data[i*out+o]
				}
			}
			dims = []uint64{uint64(in), uint64(out)}
		default: // embeddings [rows, d] → ne = {d, rows}
			dims = []uint64{uint64(t.Shape[1]), uint64(t.Shape[0])}
		}
		ts = append(ts, tensor{name: name, typ: ggmlF32, dims: dims, data: data})
	}
	add("token_embd.weight", "wte.weight", false)
	add("position_embd.weight", "wpe.weight", false)
	add("output_norm.weight", "ln_f.weight", false)
	add("output_norm.bias", "ln_f.bias", false)
	for l := range cfg.NLayer {
		b, h := fmt.Sprintf("blk.%d.", l), fmt.Sprintf("h.%d.", l)
		add(b+"attn_norm.weight", h+"ln_1.weight", false)
		add(b+"attn_norm.bias", h+"ln_1.bias", false)
		add(b+"attn_qkv.weight", h+"attn.c_attn.weight", true)
		add(b+"attn_qkv.bias", h+"attn.c_attn.bias", false)
		add(b+"attn_output.weight", h+"attn.c_proj.weight", true)
		add(b+"attn_output.bias", h+"attn.c_proj.bias", false)
		add(b+"ffn_norm.weight", h+"ln_2.weight", false)
		add(b+"ffn_norm.bias", h+"ln_2.bias", false)
		add(b+"ffn_up.weight", h+"mlp.c_fc.weight", true)
		add(b+"ffn_up.bias", h+"mlp.c_fc.bias", false)
		add(b+"ffn_down.weight", h+"mlp.c_proj.weight", true)
		add(b+"ffn_down.bias", h+"mlp.c_proj.bias", false)
	}
	b, err := encode(meta, ts)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// TestImportsGGMLFiles reads control vectors written by ggml's own GGUF writer, as llama.cpp's
// cvector-generator writes them (testdata/llamacpp/cvec_write.cpp), and by llama.cpp's gguf-py,
// through the calls repeng's export_gguf makes (testdata/llamacpp/repeng_style.py). Needs what
// TestLlamaCppAgrees needs; the gguf-py part also a python3 with numpy and yaml.
func TestImportsGGMLFiles(t *testing.T) {
	src, lib := os.Getenv("ACTADD_LLAMA_CPP_SRC"), os.Getenv("ACTADD_LLAMA_CPP_LIB")
	if src == "" || lib == "" {
		t.Skip("no llama.cpp: set ACTADD_LLAMA_CPP_SRC and ACTADD_LLAMA_CPP_LIB (see TestLlamaCppAgrees)")
	}
	const nEmbd, nLayers = 64, 3
	dir := t.TempDir()
	check := func(who, path string) {
		cv, err := Import(path)
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		if cv.D != nEmbd || len(cv.Directions) != nLayers || cv.ModelHint != "gpt2" {
			t.Fatalf("%s: width %d, blocks %v, hint %q", who, cv.D, cv.Layers(), cv.ModelHint)
		}
		for il := 1; il <= nLayers; il++ {
			for j, x := range cv.Directions[il] {
				if want := float32(il*1000+j) / 64; x != want {
					t.Fatalf("%s: direction.%d[%d] = %v, want %v", who, il, j, x, want)
				}
			}
		}
	}
	if _, err := exec.LookPath("g++"); err != nil {
		t.Log("no g++: ggml's writer not checked")
	} else {
		bin := filepath.Join(dir, "cvec_write")
		build := exec.Command("g++", "-std=c++17", "-o", bin, filepath.Join("testdata", "llamacpp", "cvec_write.cpp"),
			"-I"+filepath.Join(src, "ggml", "include"), filepath.Join(lib, "libggml-base.so"), "-Wl,-rpath,"+lib)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building cvec_write: %v\n%s", err, out)
		}
		path := filepath.Join(dir, "ggml.gguf")
		if out, err := exec.Command(bin, path, strconv.Itoa(nEmbd), strconv.Itoa(nLayers)).CombinedOutput(); err != nil {
			t.Fatalf("cvec_write: %v\n%s", err, out)
		}
		check("ggml's writer", path)
	}
	py := filepath.Join(dir, "gguf-py.gguf")
	cmd := exec.Command("python3", filepath.Join("testdata", "llamacpp", "repeng_style.py"), filepath.Join(src, "gguf-py"), py, strconv.Itoa(nEmbd), strconv.Itoa(nLayers))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("gguf-py could not run (python3 with numpy and yaml needed): %v\n%s", err, out)
	}
	check("gguf-py", py)
}
