package controlvector

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// spec builds GGUF bytes field by field, as docs/gguf.md lays them out, independently of encode.
type spec struct{ bytes.Buffer }

func (s *spec) u32(v uint32) *spec { binary.Write(&s.Buffer, binary.LittleEndian, v); return s }
func (s *spec) u64(v uint64) *spec { binary.Write(&s.Buffer, binary.LittleEndian, v); return s }
func (s *spec) f32(v float32) *spec {
	binary.Write(&s.Buffer, binary.LittleEndian, math.Float32bits(v))
	return s
}
func (s *spec) str(v string) *spec { s.u64(uint64(len(v))); s.WriteString(v); return s }
func (s *spec) zeros(n int) *spec  { s.Write(make([]byte, n)); return s }

// header: magic, version, tensor count, metadata count.
func header(version uint32, nTensors, nKV uint64) *spec {
	s := &spec{}
	s.WriteString("GGUF")
	return s.u32(version).u64(nTensors).u64(nKV)
}

// The writer lays out a file exactly as the spec says: header, key-value pairs, tensor infos,
// padding to 32 bytes, then the data.
func TestEncodeFollowsSpec(t *testing.T) {
	got, err := encode(map[string]any{"general.architecture": "controlvector", "controlvector.layer_count": int32(1)},
		[]tensor{{name: "direction.2", typ: ggmlF32, dims: []uint64{3}, data: []float32{1, -2, 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	want := header(3, 1, 2)
	want.str("controlvector.layer_count").u32(typeInt32).u32(1) // keys sorted
	want.str("general.architecture").u32(typeString).str("controlvector")
	want.str("direction.2").u32(1).u64(3).u32(ggmlF32).u64(0)
	want.zeros((32 - want.Len()%32) % 32)
	want.f32(1).f32(-2).f32(0.5).zeros(32 - 12)
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("encode wrote\n% x\nthe spec's layout is\n% x", got, want.Bytes())
	}
}

// A file as llama.cpp's cvector-generator writes it (int32 layer_count, direction.{il+1}) and as
// repeng writes it (uint32 layer_count), with metadata of other types (arrays, a bool, a
// non-default alignment) that must be skipped correctly.
func cvectorGeneratorFile(align uint32) []byte {
	s := header(3, 2, 6)
	s.str("general.architecture").u32(typeString).str("controlvector")
	s.str("controlvector.model_hint").u32(typeString).str("gpt2")
	s.str("controlvector.layer_count").u32(typeInt32).u32(2)
	s.str("general.alignment").u32(typeUint32).u32(align)
	s.str("x.strings").u32(typeArray).u32(typeString).u64(2).str("a").str("bc")
	s.str("x.flag").u32(typeBool)
	s.WriteByte(1)
	s.str("direction.1").u32(1).u64(4).u32(ggmlF32).u64(0)
	s.str("direction.3").u32(1).u64(4).u32(ggmlF32).u64(uint64(align))
	s.zeros((int(align) - s.Len()%int(align)) % int(align))
	s.f32(1).f32(2).f32(3).f32(4).zeros(int(align) - 16)
	s.f32(-1).f32(-2).f32(-3).f32(-4).zeros(int(align) - 16)
	return s.Bytes()
}

func TestDecodeCvectorGeneratorLayout(t *testing.T) {
	for _, align := range []uint32{32, 64} {
		cv, err := Decode(cvectorGeneratorFile(align))
		if err != nil {
			t.Fatalf("alignment %d: %v", align, err)
		}
		if cv.ModelHint != "gpt2" || cv.D != 4 || len(cv.Directions) != 2 {
			t.Fatalf("alignment %d: got hint %q, width %d, %d directions", align, cv.ModelHint, cv.D, len(cv.Directions))
		}
		if d := cv.Directions[3]; d[0] != -1 || d[3] != -4 {
			t.Errorf("alignment %d: direction.3 = %v", align, d)
		}
		if cv.Meta["controlvector.layer_count"] != int32(2) || cv.Meta["x.flag"] != true {
			t.Errorf("alignment %d: metadata %v", align, cv.Meta)
		}
	}
}

// What llama.cpp's loader refuses, and headers that claim more than the file holds, are refused
// with a reason (and without allocating what the header claims).
func TestDecodeRefuses(t *testing.T) {
	dir := func(name string, typ uint32, n uint64, vals ...float32) *spec {
		s := header(3, 1, 0)
		s.str(name).u32(1).u64(n).u32(typ).u64(0)
		s.zeros((32 - s.Len()%32) % 32)
		for _, v := range vals {
			s.f32(v)
		}
		return s
	}
	twoWidths := header(3, 2, 0)
	twoWidths.str("direction.1").u32(1).u64(2).u32(ggmlF32).u64(0)
	twoWidths.str("direction.2").u32(1).u64(3).u32(ggmlF32).u64(32)
	twoWidths.zeros((32 - twoWidths.Len()%32) % 32).zeros(64)
	model := header(3, 0, 1)
	model.str("general.architecture").u32(typeString).str("llama")
	cases := map[string]struct {
		b    []byte
		want string
	}{
		"empty":            {nil, "not a GGUF file"},
		"version 1":        {header(1, 0, 0).Bytes(), "version 1"},
		"huge kv count":    {header(3, 0, 1<<60).Bytes(), "metadata entries"},
		"huge tensors":     {header(3, 1<<62, 0).Bytes(), "tensors"},
		"huge string":      {header(3, 0, 1).u64(1 << 62).zeros(16).Bytes(), "string of"},
		"huge array":       {header(3, 0, 1).str("k").u32(typeArray).u32(typeUint64).u64(1 << 61).Bytes(), "array claims"},
		"huge str array":   {header(3, 0, 1).str("k").u32(typeArray).u32(typeString).u64(1 << 61).Bytes(), "array claims"},
		"huge dims":        {dir("direction.1", ggmlF32, 1<<62).Bytes(), "too large"},
		"data past end":    {dir("direction.1", ggmlF32, 4, 1, 2).Bytes(), "past the end"},
		"direction.0":      {dir("direction.0", ggmlF32, 1, 1).Bytes(), "block 0"},
		"f16 direction":    {dir("direction.1", ggmlF16, 2, 0).Bytes(), "F32"},
		"bad layer":        {dir("direction.x", ggmlF32, 1, 1).Bytes(), "not a layer number"},
		"NaN":              {dir("direction.1", ggmlF32, 1, float32(math.NaN())).Bytes(), "NaN"},
		"widths differ":    {twoWidths.Bytes(), "share the model's width"},
		"no directions":    {header(3, 0, 0).Bytes(), "no tensor named direction"},
		"a model":          {model.Bytes(), "not a control vector"},
		"unknown kv type":  {header(3, 0, 1).str("k").u32(99).Bytes(), "unknown value type"},
		"bad alignment":    {header(3, 0, 1).str("general.alignment").u32(typeUint32).u32(3).Bytes(), "power of two"},
		"zero dimensions":  {header(3, 1, 0).str("direction.1").u32(0).zeros(24).Bytes(), "dimensions"},
		"duplicate tensor": {header(3, 2, 0).str("direction.1").u32(1).u64(1).u32(0).u64(0).str("direction.1").Bytes(), "twice"},
	}
	for name, c := range cases {
		_, err := Decode(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one mentioning %q", name, err, c.want)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to the reader: it must return (a control vector or an error)
// without panicking, and never hold more float32 values than the input has bytes for.
func FuzzDecode(f *testing.F) {
	f.Add(cvectorGeneratorFile(32))
	f.Add(cvectorGeneratorFile(64))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.gguf"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cv, err := Decode(b)
		if err != nil {
			return
		}
		n := 0
		for _, d := range cv.Directions {
			n += len(d)
		}
		if n*4 > len(b) {
			t.Fatalf("%d float32 values decoded from %d bytes", n, len(b))
		}
	})
}

// The committed files written by ggml's GGUF writer (as cvector-generator writes) and by
// gguf-py (through repeng's export calls) import with their exact values (testdata/README.md).
func TestImportsGGMLFixtures(t *testing.T) {
	for _, name := range []string{"ggml-writer-3x64.gguf", "gguf-py-3x64.gguf"} {
		cv, err := Import(filepath.Join("testdata", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if cv.D != 64 || len(cv.Directions) != 3 || cv.ModelHint != "gpt2" {
			t.Fatalf("%s: width %d, blocks %v, hint %q", name, cv.D, cv.Layers(), cv.ModelHint)
		}
		for il := 1; il <= 3; il++ {
			for j, x := range cv.Directions[il] {
				if want := float32(il*1000+j) / 64; x != want {
					t.Fatalf("%s: direction.%d[%d] = %v, want %v", name, il, j, x, want)
				}
			}
		}
	}
}
