package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/actadd-go/actadd/internal/fuzzcheck"
)

// hfTiny is a checkpoint written by Hugging Face transformers (gpt2/testdata/hf-tiny/README
// says how): the real files these targets start from.
const hfTiny = "../gpt2/testdata/hf-tiny"

// realSafetensorsSeeds returns safetensors files derived from a real one: the file cut after
// its header and a little data (a truncated download), and the same header keeping only the
// tensors that lie in that data (a complete, valid file).
func realSafetensorsSeeds(tb testing.TB, path string, keep int64) [][]byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	hlen := binary.LittleEndian.Uint64(b)
	start := 8 + int64(hlen)
	cut := b[:min(int64(len(b)), start+keep)]
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:start], &header); err != nil {
		tb.Fatal(err)
	}
	for name, raw := range header {
		var e stEntry
		if name != "__metadata__" && (json.Unmarshal(raw, &e) != nil || e.Offsets[1] > keep) {
			delete(header, name)
		}
	}
	h, err := json.Marshal(header)
	if err != nil {
		tb.Fatal(err)
	}
	valid := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	valid = append(append(valid, h...), b[start:start+keep]...)
	return [][]byte{cut, valid}
}

// FuzzSafetensors reads arbitrary bytes as a safetensors file. Every input gives tensors or an
// error, within fuzzcheck's time and allocation bounds (a header claiming terabytes must be
// refused before anything is allocated from it); the tensors read hold exactly the values their
// shapes say and fit in the file; and writing them again and reading that back gives them
// again, bit for bit.
func FuzzSafetensors(f *testing.F) {
	for _, name := range []string{"model.safetensors", "oracle.safetensors"} {
		for _, seed := range realSafetensorsSeeds(f, filepath.Join(hfTiny, name), 1024) {
			f.Add(seed)
		}
	}
	small := filepath.Join(f.TempDir(), "small.safetensors")
	if err := WriteSafetensors(small, map[string]Tensor{
		"a": {Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, 1e-40}},
		"b": {Shape: []int{}, Data: []float32{7}},
		"z": {Shape: []int{0, 4}},
	}, map[string]string{"format": "pt"}); err != nil {
		f.Fatal(err)
	}
	if b, err := os.ReadFile(small); err == nil {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, 2))

	dir := f.TempDir()
	path, again := filepath.Join(dir, "in.safetensors"), filepath.Join(dir, "again.safetensors")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var ts map[string]Tensor
		var meta map[string]string
		var err error
		// F16 and BF16 data double when decoded to float32; the JSON header costs a few times
		// its size to decode.
		fuzzcheck.Bounded(t, len(data), 64, func() { ts, meta, err = ReadSafetensors(path) })
		if err != nil {
			if ts != nil || meta != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		var values int64
		for name, tensor := range ts {
			n, ok := numElements(tensor.Shape)
			if !ok || int64(len(tensor.Data)) != n {
				t.Fatalf("tensor %s of shape %v has %d values", name, tensor.Shape, len(tensor.Data))
			}
			values += n
		}
		// Every value read takes at least 2 bytes of the file (F16, BF16).
		if 2*values > int64(len(data)) {
			t.Fatalf("%d values read from a file of %d bytes", values, len(data))
		}
		if err := WriteSafetensors(again, ts, meta); err != nil {
			t.Fatalf("writing back what was read: %v", err)
		}
		ts2, meta2, err := ReadSafetensors(again)
		if err != nil {
			t.Fatalf("reading back what was written: %v", err)
		}
		if len(meta) > 0 || len(meta2) > 0 {
			if !reflect.DeepEqual(meta, meta2) {
				t.Fatalf("metadata %q read back as %q", meta, meta2)
			}
		}
		if len(ts2) != len(ts) {
			t.Fatalf("%d tensors read back as %d", len(ts), len(ts2))
		}
		for name, tensor := range ts {
			got, ok := ts2[name]
			if !ok || !slices.Equal(got.Shape, tensor.Shape) || len(got.Data) != len(tensor.Data) {
				t.Fatalf("tensor %q %v read back as %v (present: %v)", name, tensor.Shape, got.Shape, ok)
			}
			for i, v := range tensor.Data {
				if math.Float32bits(got.Data[i]) != math.Float32bits(v) {
					t.Fatalf("tensor %q value %d: %v read back as %v", name, i, v, got.Data[i])
				}
			}
		}
	})
}

// FuzzConfig reads arbitrary bytes as config.json, then loads a small checkpoint's weights
// with it. A config that reads is valid and survives being written and read again; loading
// with it allocates no more than the weights can fill (n_layer = 1e9 must be refused, not
// allocated), and what loads has exactly the shapes the config prescribes.
func FuzzConfig(f *testing.F) {
	real, err := os.ReadFile(filepath.Join(hfTiny, ConfigFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	for _, c := range []Config{TinyConfig(), smallConfig()} {
		b, err := hfConfigJSON(c, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"n_layer": 2, "n_head": 2, "n_embd": 8, "n_positions": 16, "vocab_size": 50, "layer_norm_epsilon": 1e-5}`))
	f.Add([]byte(`{"n_layer": 1000000000, "n_head": 2, "n_embd": 8, "n_positions": 16, "vocab_size": 50, "layer_norm_epsilon": 1e-5}`))

	dir := f.TempDir()
	weights := smallConfig()
	if err := Write(dir, weights, RandomTensors(weights, 1)); err != nil {
		f.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, WeightsFile))
	if err != nil {
		f.Fatal(err)
	}
	weightBytes := int(st.Size())
	backDir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		var cfg Config
		var tensors map[string]Tensor
		fuzzcheck.Bounded(t, len(data)+weightBytes, 64, func() { cfg, tensors, err = Load(dir) })
		if err != nil {
			if tensors != nil {
				t.Fatalf("error %v with tensors", err)
			}
			return
		}
		if verr := cfg.Validate(); verr != nil {
			t.Fatalf("Load accepted an invalid config: %v", verr)
		}
		if cfg.NLayer > weights.NLayer || cfg.NEmbd != weights.NEmbd {
			t.Fatalf("config n_layer=%d n_embd=%d loaded weights of n_layer=%d n_embd=%d", cfg.NLayer, cfg.NEmbd, weights.NLayer, weights.NEmbd)
		}
		want := ExpectedShapes(cfg)
		if len(tensors) != len(want) {
			t.Fatalf("%d tensors loaded, %d expected", len(tensors), len(want))
		}
		for name, shape := range want {
			got := tensors[name]
			if n, _ := numElements(shape); !slices.Equal(got.Shape, shape) || int64(len(got.Data)) != n {
				t.Fatalf("tensor %s: shape %v with %d values, want %v", name, got.Shape, len(got.Data), shape)
			}
		}
		// The config written back (with the fields a GPT-2 config.json always has) reads equal.
		b, err := hfConfigJSON(cfg, nil)
		if err != nil {
			t.Fatalf("writing back %+v: %v", cfg, err)
		}
		if err := os.WriteFile(filepath.Join(backDir, ConfigFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := ReadConfig(backDir)
		if err != nil {
			t.Fatalf("reading back %s: %v", b, err)
		}
		wantBack := cfg.withDefaults()
		wantBack.ActaddDescription = ""
		if !reflect.DeepEqual(back, wantBack) {
			t.Fatalf("config %+v read back as %+v", wantBack, back)
		}
	})
}
