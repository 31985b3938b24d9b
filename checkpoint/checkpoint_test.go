package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// smallConfig is a GPT-2-shaped config small enough for fast tests.
func smallConfig() Config {
	c := TinyConfig()
	c.VocabSize, c.NPositions, c.NCtx, c.NLayer, c.NEmbd, c.NHead = 50, 16, 16, 2, 8, 2
	c.BosTokenID, c.EosTokenID = 49, 49
	return c
}

func sameTensors(t *testing.T, got, want map[string]Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Fatalf("tensor %s missing", name)
		}
		if !slices.Equal(g.Shape, w.Shape) || len(g.Data) != len(w.Data) {
			t.Fatalf("tensor %s: shape %v/%d values, want %v/%d", name, g.Shape, len(g.Data), w.Shape, len(w.Data))
		}
		for i := range w.Data {
			if math.Float32bits(g.Data[i]) != math.Float32bits(w.Data[i]) {
				t.Fatalf("tensor %s[%d] = %v, want %v (not bit-exact)", name, i, g.Data[i], w.Data[i])
			}
		}
	}
}

// rawTensor is one entry for writeRaw, which (unlike Write) allows any name and dtype.
type rawTensor struct {
	name  string
	dtype string
	shape []int
	data  []byte
}

func writeRaw(t *testing.T, path string, entries []rawTensor) {
	t.Helper()
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var off int64
	var data []byte
	for _, e := range entries {
		header[e.name] = stEntry{DType: e.dtype, Shape: e.shape, Offsets: [2]int64{off, off + int64(len(e.data))}}
		off += int64(len(e.data))
		data = append(data, e.data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, uint64(len(h)))
	buf.Write(h)
	buf.Write(data)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// rawFromTensors converts tensors to raw F32 entries named prefix+name.
func rawFromTensors(tensors map[string]Tensor, prefix string) []rawTensor {
	var out []rawTensor
	for _, name := range sortedKeys(tensors) {
		t := tensors[name]
		out = append(out, rawTensor{prefix + name, "F32", t.Shape, f32Bytes(t.Data)})
	}
	return out
}

func writeConfig(t *testing.T, dir string, cfg Config) {
	t.Helper()
	b, err := hfConfigJSON(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error lacks %q: %v", p, err)
		}
	}
}

func TestRoundTripBitExact(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	if err := WriteTiny(dir, cfg, 42); err != nil {
		t.Fatal(err)
	}
	gotCfg, tensors, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(gotCfg.ActaddDescription, ", not GPT-2") {
		t.Errorf("a random checkpoint's config reads back with description %q, want one ending in \", not GPT-2\"", gotCfg.ActaddDescription)
	}
	gotCfg.ActaddDescription = ""
	if b1, b2 := mustJSON(t, gotCfg), mustJSON(t, cfg.withDefaults()); b1 != b2 {
		t.Errorf("config round trip:\n got %s\nwant %s", b1, b2)
	}
	sameTensors(t, tensors, RandomTensors(cfg, 42))

	// The file itself: HF names sorted, metadata, 8-byte aligned header, F32.
	st, err := openSafetensors(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.dataStart%8 != 0 {
		t.Errorf("data starts at %d, not 8-byte aligned", st.dataStart)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, WeightsFile))
	if !bytes.Contains(raw[:st.dataStart], []byte(`"__metadata__":{"format":"pt"}`)) {
		t.Error("no __metadata__ {format: pt}")
	}
	names := sortedKeys(st.entries)
	var prevEnd int64
	for _, n := range names { // sorted names have consecutive data
		if e := st.entries[n]; e.Offsets[0] != prevEnd || e.DType != "F32" {
			t.Fatalf("tensor %s at %v (%s), want start %d F32", n, e.Offsets, e.DType, prevEnd)
		} else {
			prevEnd = e.Offsets[1]
		}
	}
	var hf map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err := json.Unmarshal(b, &hf); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"model_type": "gpt2", "activation_function": "gelu_new", "n_ctx": 16.0, "_name_or_path": "tiny", "bos_token_id": 49.0} {
		if hf[k] != v {
			t.Errorf("config.json %s = %v, want %v", k, hf[k], v)
		}
	}
	if d, _ := hf["actadd_description"].(string); !strings.Contains(d, "not GPT-2") {
		t.Errorf("config.json description %q does not say it is not GPT-2", d)
	}
	if r, err := os.ReadFile(filepath.Join(dir, "README.md")); err != nil || !strings.Contains(string(r), "NOT GPT-2") || !strings.Contains(string(r), "GPT-2 BPE") {
		t.Errorf("README.md: %v", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The tiny model's bytes are pinned: a change in the generator, the writer or the platform's
// arithmetic shows up here (bump generatorVersion when changing the generator on purpose).
func TestTinyDeterministic(t *testing.T) {
	dir := t.TempDir()
	if err := WriteTiny(dir, TinyConfig(), TinySeed); err != nil {
		t.Fatal(err)
	}
	tensors, err := Read(dir, TinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	const golden = "1fd86406f697dc1c3883c38207c5e3b788e96104be476dd8a2964df963d5b0af"
	if got := tensorsDigest(tensors); got != golden {
		t.Errorf("tiny weights digest %s, want %s", got, golden)
	}
	// Statistics: HF-like init, LayerNorm gains around 1, biases nonzero.
	mean, std := moments(tensors["wte.weight"].Data)
	if math.Abs(mean) > 1e-3 || math.Abs(std-0.02) > 1e-3 {
		t.Errorf("wte mean %g std %g, want ~0, 0.02", mean, std)
	}
	if mean, _ := moments(tensors["h.0.ln_1.weight"].Data); math.Abs(mean-1) > 0.05 {
		t.Errorf("ln_1 gain mean %g, want ~1", mean)
	}
	if _, std := moments(tensors["h.3.mlp.c_fc.bias"].Data); std < 0.01 {
		t.Errorf("biases are not noisy: std %g", std)
	}
	if _, std := moments(tensors["h.3.mlp.c_proj.weight"].Data); math.Abs(std-0.02/math.Sqrt(8)) > 1e-3 {
		t.Errorf("c_proj std %g, want %g", std, 0.02/math.Sqrt(8))
	}
	if RandomTensors(Config{}, 1) != nil {
		t.Error("RandomTensors of an invalid config is not nil")
	}
}

func tensorsDigest(m map[string]Tensor) string {
	var buf bytes.Buffer
	for _, n := range sortedKeys(m) {
		buf.WriteString(n)
		buf.Write(f32Bytes(m[n].Data))
	}
	return sha256Hex(buf.Bytes())
}

func moments(v []float32) (mean, std float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

func TestMissingTensor(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	writeConfig(t, dir, cfg)
	tensors := RandomTensors(cfg, 1)
	delete(tensors, "h.1.mlp.c_fc.bias")
	writeRaw(t, filepath.Join(dir, WeightsFile), rawFromTensors(tensors, ""))
	_, err := Read(dir, cfg)
	wantErr(t, err, "h.1.mlp.c_fc.bias", filepath.Join(dir, WeightsFile), "lacks")
}

func TestMoreBlocksThanConfig(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	writeRaw(t, filepath.Join(dir, WeightsFile), rawFromTensors(RandomTensors(cfg, 1), ""))
	fewer := cfg
	fewer.NLayer = cfg.NLayer - 1
	_, err := Read(dir, fewer)
	wantErr(t, err, fmt.Sprintf("h.%d.", fewer.NLayer), fmt.Sprintf("n_layer=%d", fewer.NLayer), "fix n_layer")
}

func TestWrongShape(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	tensors := RandomTensors(cfg, 1)
	w := tensors["h.0.attn.c_attn.weight"]
	w.Shape = []int{3 * cfg.NEmbd, cfg.NEmbd} // transposed (a Linear, not a Conv1D, layout)
	tensors["h.0.attn.c_attn.weight"] = w
	writeRaw(t, filepath.Join(dir, WeightsFile), rawFromTensors(tensors, ""))
	_, err := Read(dir, cfg)
	wantErr(t, err, "h.0.attn.c_attn.weight", "[24 8]", "expected [8 24]", WeightsFile)
}

func TestTruncatedFile(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	if err := WriteTiny(dir, cfg, 3); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, WeightsFile)
	full, _ := os.ReadFile(path)
	hlen := int(binary.LittleEndian.Uint64(full))
	for _, n := range []int{len(full) - 1, len(full) / 2, 8 + hlen, 8 + hlen/2, 5, 0} {
		if err := os.WriteFile(path, full[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(dir, cfg)
		if err == nil {
			t.Fatalf("file cut to %d of %d bytes: no error", n, len(full))
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("cut to %d bytes: error should name the file and say truncated: %v", n, err)
		}
	}
}

func TestPrefixAndIgnoredBuffers(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	tensors := RandomTensors(cfg, 5)
	entries := rawFromTensors(tensors, "transformer.")
	mask := make([]byte, cfg.NPositions*cfg.NPositions)
	for l := range cfg.NLayer {
		p := "transformer.h." + string(rune('0'+l)) + ".attn."
		entries = append(entries,
			rawTensor{p + "bias", "U8", []int{1, 1, cfg.NPositions, cfg.NPositions}, mask},
			rawTensor{p + "masked_bias", "F32", []int{}, f32Bytes([]float32{-1e4})})
	}
	entries = append(entries, rawTensor{"lm_head.weight", "F32", tensors["wte.weight"].Shape, f32Bytes(tensors["wte.weight"].Data)})
	writeRaw(t, filepath.Join(dir, WeightsFile), entries)
	got, err := Read(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, tensors)

	// The same tensor with and without the prefix is ambiguous.
	entries = append(entries, rawTensor{"wte.weight", "F32", tensors["wte.weight"].Shape, f32Bytes(tensors["wte.weight"].Data)})
	writeRaw(t, filepath.Join(dir, WeightsFile), entries)
	_, err = Read(dir, cfg)
	wantErr(t, err, "wte.weight", "twice")
}

func TestHalfPrecisionDecoding(t *testing.T) {
	for bits, want := range map[uint16]float32{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: float32(math.Ldexp(1, -24)), 0x03ff: float32(math.Ldexp(1023, -24)),
		0x0400: float32(math.Ldexp(1, -14)), 0x3555: 0.33325195, 0x0000: 0,
		0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	} {
		if got := f16ToF32(bits); got != want {
			t.Errorf("f16 %#04x = %g, want %g", bits, got, want)
		}
	}
	if got := f16ToF32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("f16 0x8000 = %g, want -0", got)
	}
	if got := f16ToF32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("f16 0x7e00 = %g, want NaN", got)
	}

	// A whole checkpoint in F16 and BF16 (values exactly representable in both).
	f16 := map[float32]uint16{}
	for b := range 0x7c00 {
		f16[f16ToF32(uint16(b))] = uint16(b)
	}
	cfg := smallConfig()
	tensors := RandomTensors(cfg, 9)
	var entries []rawTensor
	for i, name := range sortedKeys(tensors) {
		tt := tensors[name]
		data := make([]byte, 2*len(tt.Data))
		dtype := []string{"F16", "BF16"}[i%2]
		for j, v := range tt.Data {
			v = float32(math.Round(float64(v)*64) / 64) // k/64 with |k| < 256: exact in both
			tt.Data[j] = v
			var b uint16
			if dtype == "F16" {
				var ok bool
				if b, ok = f16[float32(math.Abs(float64(v)))]; !ok {
					t.Fatalf("%g not representable in f16", v)
				}
				if math.Signbit(float64(v)) {
					b |= 0x8000
				}
			} else {
				b = uint16(math.Float32bits(v) >> 16)
			}
			binary.LittleEndian.PutUint16(data[2*j:], b)
		}
		entries = append(entries, rawTensor{name, dtype, tt.Shape, data})
	}
	dir := t.TempDir()
	writeRaw(t, filepath.Join(dir, WeightsFile), entries)
	got, err := Read(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, tensors)
}

func TestUnsupportedDtype(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	entries := rawFromTensors(RandomTensors(cfg, 1), "")
	for i := range entries {
		if entries[i].name == "ln_f.bias" {
			entries[i] = rawTensor{"ln_f.bias", "I64", []int{cfg.NEmbd}, make([]byte, 8*cfg.NEmbd)}
		}
	}
	writeRaw(t, filepath.Join(dir, WeightsFile), entries)
	_, err := Read(dir, cfg)
	wantErr(t, err, "ln_f.bias", `"I64"`, "F32, F16, BF16")

	// A dtype safetensors does not know at all.
	for i := range entries {
		if entries[i].name == "ln_f.bias" {
			entries[i].dtype = "Q4"
		}
	}
	writeRaw(t, filepath.Join(dir, WeightsFile), entries)
	_, err = Read(dir, cfg)
	wantErr(t, err, "ln_f.bias", `"Q4"`)
}

func TestShardedCheckpoint(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	tensors := RandomTensors(cfg, 11)
	entries := rawFromTensors(tensors, "transformer.")
	half := len(entries) / 2
	writeRaw(t, filepath.Join(dir, "model-00001-of-00002.safetensors"), entries[:half])
	writeRaw(t, filepath.Join(dir, "model-00002-of-00002.safetensors"), entries[half:])
	wm := map[string]string{}
	for i, e := range entries {
		wm[e.name] = []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[min(i/half, 1)]
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": wm})
	if err := os.WriteFile(filepath.Join(dir, WeightsIndexFile), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, tensors)
}

func TestNoWeights(t *testing.T) {
	_, err := Read(t.TempDir(), smallConfig())
	wantErr(t, err, WeightsFile, WeightsIndexFile)
}

func TestWriteChecks(t *testing.T) {
	cfg := smallConfig()
	good := RandomTensors(cfg, 1)
	clone := func() map[string]Tensor {
		m := map[string]Tensor{}
		for k, v := range good {
			m[k] = v
		}
		return m
	}
	extra := clone()
	extra["transformer.wte.weight"] = good["wte.weight"]
	missing := clone()
	delete(missing, "wpe.weight")
	short := clone()
	short["ln_f.bias"] = Tensor{Shape: []int{cfg.NEmbd}, Data: make([]float32, cfg.NEmbd-1)}
	for name, c := range map[string]struct {
		m    map[string]Tensor
		want string
	}{
		"extra": {extra, "unexpected tensors transformer.wte.weight"}, "missing": {missing, "wpe.weight is missing"},
		"short": {short, "ln_f.bias has 7 values"},
	} {
		dir := t.TempDir()
		err := Write(dir, cfg, c.m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: a failed Write left files %v", name, left)
		}
	}
	bad := cfg
	bad.NHead = 3
	if err := Write(t.TempDir(), bad, good); err == nil {
		t.Error("Write accepted n_embd not divisible by n_head")
	}
}

func TestWriteIsAtomic(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	if err := Write(dir, cfg, RandomTensors(cfg, 1)); err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, cfg, RandomTensors(cfg, 2)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if !slices.Equal(names, []string{ConfigFile, WeightsFile}) {
		t.Errorf("files after two writes: %v (temporary files left?)", names)
	}
	got, err := Read(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, got, RandomTensors(cfg, 2))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDamagedConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"n_layer": 2, "n_emb`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadConfig(dir)
	wantErr(t, err, ConfigFile, "damaged", "download or write it again")
}
