package checkpoint

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
)

func TestHalfConversionsRoundTrip(t *testing.T) {
	for h := range 1 << 16 {
		f := f16ToF32(uint16(h))
		if f != f {
			continue
		}
		if got := f32ToF16(f); got != uint16(h) {
			t.Fatalf("f32ToF16(f16ToF32(%#04x) = %g) = %#04x", h, f, got)
		}
		bf := math.Float32frombits(uint32(h) << 16)
		if bf != bf {
			continue
		}
		if got := f32ToBF16(bf); got != uint16(h) {
			t.Fatalf("f32ToBF16(%g) = %#04x, want %#04x", bf, got, h)
		}
	}
}

func TestHalfConversionsRound(t *testing.T) {
	for _, c := range []struct {
		v    float32
		f16  uint16
		bf16 uint16
	}{
		{1 + 1.0/2048, 0x3c00, 0x3f80},             // a tie below: even (1.0)
		{1 + 3.0/2048, 0x3c02, 0x3f80},             // a tie: to even
		{1 + 1.0/2048 + 1.0/65536, 0x3c01, 0x3f80}, // above the tie
		{65520, 0x7c00, 0x4780},                    // rounds up to Inf in F16
		{float32(math.Ldexp(1, -25)), 0, 0x3300},   // a tie with 0: even (0)
		{float32(math.Ldexp(1.5, -25)), 1, 0x3340},
		{1 + 1.0/256, 0x3c04, 0x3f80}, // a BF16 tie: even
		{1 + 3.0/256, 0x3c0c, 0x3f82},
	} {
		if got := f32ToF16(c.v); got != c.f16 {
			t.Errorf("f32ToF16(%g) = %#04x, want %#04x", c.v, got, c.f16)
		}
		if got := f32ToBF16(c.v); got != c.bf16 {
			t.Errorf("f32ToBF16(%g) = %#04x, want %#04x", c.v, got, c.bf16)
		}
	}
}

func TestWriteAsListReadTensors(t *testing.T) {
	want := map[string]Tensor{
		"a": {Shape: []int{2, 3}, Data: []float32{1, -2, 0.5, 3.25, 1e-3, 7}},
		"b": {Shape: []int{4}, Data: []float32{0.1, 0.2, 0.3, 65504}},
	}
	for _, dtype := range []string{"F32", "F16", "BF16"} {
		dir := t.TempDir()
		if err := WriteSafetensorsAs(filepath.Join(dir, WeightsFile), want, map[string]string{"description": dtype}, dtype); err != nil {
			t.Fatal(err)
		}
		if meta, err := Metadata(dir); err != nil || meta["description"] != dtype {
			t.Errorf("%s: metadata %v, %v", dtype, meta, err)
		}
		info, err := ListTensors(dir)
		if err != nil {
			t.Fatal(err)
		}
		if info["a"].DType != dtype || !slices.Equal(info["a"].Shape, []int{2, 3}) || info["b"].Bytes() != 4*dtypeSizes[dtype] {
			t.Errorf("%s: ListTensors = %+v", dtype, info)
		}
		got, err := ReadTensors(dir, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		for n, w := range want {
			for i, v := range w.Data {
				var r float32
				switch dtype {
				case "F32":
					r = v
				case "F16":
					r = f16ToF32(f32ToF16(v))
				case "BF16":
					r = math.Float32frombits(uint32(f32ToBF16(v)) << 16)
				}
				if got[n].Data[i] != r {
					t.Errorf("%s: %s[%d] = %g, want %g", dtype, n, i, got[n].Data[i], r)
				}
			}
		}
		if _, err := ReadTensors(dir, []string{"c"}); err == nil {
			t.Errorf("%s: reading a missing tensor gave no error", dtype)
		}
	}
}
