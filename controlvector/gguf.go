package controlvector

// A small GGUF reader and writer, covering what control vectors use: metadata of every value
// type (kept for scalars and strings, skipped for arrays) and tensors of type F32.
//
// Written by hand because no Go module does both: github.com/gpustack/gguf-parser-go (v0.28.2)
// parses GGUF headers and tensor descriptions for memory estimates, but neither returns tensor
// data nor writes GGUF, and it brings HTTP and registry clients with it. The format is the one
// in ggml's docs/gguf.md (versions 2 and 3: 64-bit counts, little-endian).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// GGUF value types (docs/gguf.md, gguf_metadata_value_type).
const (
	typeUint8   = 0
	typeInt8    = 1
	typeUint16  = 2
	typeInt16   = 3
	typeUint32  = 4
	typeInt32   = 5
	typeFloat32 = 6
	typeBool    = 7
	typeString  = 8
	typeArray   = 9
	typeUint64  = 10
	typeInt64   = 11
	typeFloat64 = 12
)

// ggml tensor types used here (ggml.h, ggml_type).
const (
	ggmlF32 = 0
	ggmlF16 = 1
)

const (
	ggufMagic        = "GGUF"
	ggufVersion      = 3
	defaultAlignment = 32
	maxDims          = 4 // GGML_MAX_DIMS
	// MaxFileSize bounds what Import reads: a control vector is n_layer × n_embd float32s, a few
	// MiB even for the widest models.
	MaxFileSize = 256 << 20
)

// Array stands for a metadata array: its element type and length (its elements are skipped;
// control vectors have none that matter).
type Array struct {
	Type uint32
	Len  uint64
}

// tensor is a tensor of a GGUF file: its ggml type and dims (ne[0] first), and for F32 tensors
// its values.
type tensor struct {
	name string
	typ  uint32
	dims []uint64
	data []float32
}

// file is a parsed GGUF file.
type file struct {
	version uint32
	meta    map[string]any // uint8 … float64, bool, string, or Array
	tensors []tensor
}

// reader reads little-endian GGUF fields from a byte slice, refusing reads past its end.
type reader struct {
	b   []byte
	off int
}

var errShort = errors.New("file ends early")

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) bytes(n uint64) ([]byte, error) {
	if n > uint64(r.left()) {
		return nil, errShort
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, nil
}

func (r *reader) u32() (uint32, error) {
	s, err := r.bytes(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(s), nil
}

func (r *reader) u64() (uint64, error) {
	s, err := r.bytes(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(s), nil
}

// str reads a gguf_string: a uint64 length, then that many bytes (no terminator). The length is
// checked against the bytes left before anything is allocated.
func (r *reader) str() (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	s, err := r.bytes(n)
	if err != nil {
		return "", fmt.Errorf("a string of %d bytes: %w", n, err)
	}
	return string(s), nil
}

// scalarSize is the size in bytes of a fixed-size value type, 0 for strings and arrays.
func scalarSize(t uint32) (uint64, bool) {
	switch t {
	case typeUint8, typeInt8, typeBool:
		return 1, true
	case typeUint16, typeInt16:
		return 2, true
	case typeUint32, typeInt32, typeFloat32:
		return 4, true
	case typeUint64, typeInt64, typeFloat64:
		return 8, true
	case typeString, typeArray:
		return 0, true
	}
	return 0, false
}

// value reads one metadata value of type t.
func (r *reader) value(t uint32) (any, error) {
	size, ok := scalarSize(t)
	if !ok {
		return nil, fmt.Errorf("unknown value type %d", t)
	}
	switch t {
	case typeString:
		return r.str()
	case typeArray:
		et, err := r.u32()
		if err != nil {
			return nil, err
		}
		n, err := r.u64()
		if err != nil {
			return nil, err
		}
		es, ok := scalarSize(et)
		switch {
		case !ok:
			return nil, fmt.Errorf("array of unknown value type %d", et)
		case et == typeArray:
			return nil, fmt.Errorf("array of arrays (not used by control vectors)")
		case et == typeString:
			// Each string takes at least its 8-byte length.
			if n > uint64(r.left())/8 {
				return nil, fmt.Errorf("array claims %d strings, more than the %d bytes left hold", n, r.left())
			}
			for range n {
				if _, err := r.str(); err != nil {
					return nil, err
				}
			}
		default:
			if n > uint64(r.left())/es {
				return nil, fmt.Errorf("array claims %d values of %d bytes, more than the %d bytes left", n, es, r.left())
			}
			r.off += int(n * es)
		}
		return Array{Type: et, Len: n}, nil
	}
	s, err := r.bytes(size)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	switch t {
	case typeUint8:
		return s[0], nil
	case typeInt8:
		return int8(s[0]), nil
	case typeBool:
		if s[0] > 1 {
			return nil, fmt.Errorf("bool value %d is neither 0 nor 1", s[0])
		}
		return s[0] == 1, nil
	case typeUint16:
		return le.Uint16(s), nil
	case typeInt16:
		return int16(le.Uint16(s)), nil
	case typeUint32:
		return le.Uint32(s), nil
	case typeInt32:
		return int32(le.Uint32(s)), nil
	case typeFloat32:
		return math.Float32frombits(le.Uint32(s)), nil
	case typeUint64:
		return le.Uint64(s), nil
	case typeInt64:
		return int64(le.Uint64(s)), nil
	default: // typeFloat64
		return math.Float64frombits(le.Uint64(s)), nil
	}
}

// parse reads a GGUF file held in b. Every count and length the file claims is checked against
// the bytes that remain before anything is allocated for it, so memory stays within a small
// multiple of len(b) whatever the header says.
func parse(b []byte) (*file, error) {
	r := &reader{b: b}
	magic, err := r.bytes(4)
	if err != nil || string(magic) != ggufMagic {
		return nil, fmt.Errorf("not a GGUF file (it does not start with %q)", ggufMagic)
	}
	f := &file{meta: map[string]any{}}
	if f.version, err = r.u32(); err != nil {
		return nil, err
	}
	if f.version != 2 && f.version != 3 {
		return nil, fmt.Errorf("GGUF version %d is not supported (only 2 and 3)", f.version)
	}
	nTensors, err := r.u64()
	if err != nil {
		return nil, err
	}
	nKV, err := r.u64()
	if err != nil {
		return nil, err
	}
	// A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor description
	// at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset).
	if nKV > uint64(r.left())/13 {
		return nil, fmt.Errorf("header claims %d metadata entries, more than the file's %d bytes can hold", nKV, len(b))
	}
	for range nKV {
		key, err := r.str()
		if err != nil {
			return nil, fmt.Errorf("metadata key: %w", err)
		}
		t, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", key, err)
		}
		v, err := r.value(t)
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", key, err)
		}
		if _, dup := f.meta[key]; dup {
			return nil, fmt.Errorf("metadata key %q appears twice", key)
		}
		f.meta[key] = v
	}
	align := uint64(defaultAlignment)
	if v, ok := f.meta["general.alignment"]; ok {
		a, ok := v.(uint32)
		if !ok || a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("general.alignment %v is not a power of two of type uint32", v)
		}
		align = uint64(a)
	}
	if nTensors > uint64(r.left())/24 {
		return nil, fmt.Errorf("header claims %d tensors, more than the file's %d bytes can hold", nTensors, len(b))
	}
	offsets := make([]uint64, nTensors)
	f.tensors = make([]tensor, nTensors)
	names := map[string]bool{}
	for i := range f.tensors {
		t := &f.tensors[i]
		if t.name, err = r.str(); err != nil {
			return nil, fmt.Errorf("tensor %d name: %w", i, err)
		}
		if names[t.name] {
			return nil, fmt.Errorf("tensor %q appears twice", t.name)
		}
		names[t.name] = true
		nDims, err := r.u32()
		if err != nil {
			return nil, err
		}
		if nDims == 0 || nDims > maxDims {
			return nil, fmt.Errorf("tensor %q has %d dimensions (1..%d allowed)", t.name, nDims, maxDims)
		}
		t.dims = make([]uint64, nDims)
		for d := range t.dims {
			if t.dims[d], err = r.u64(); err != nil {
				return nil, err
			}
		}
		if t.typ, err = r.u32(); err != nil {
			return nil, err
		}
		if offsets[i], err = r.u64(); err != nil {
			return nil, err
		}
		if offsets[i]%align != 0 {
			return nil, fmt.Errorf("tensor %q: offset %d is not a multiple of the alignment %d", t.name, offsets[i], align)
		}
	}
	dataStart := (uint64(r.off) + align - 1) / align * align
	for i := range f.tensors {
		t := &f.tensors[i]
		if t.typ != ggmlF32 {
			continue // only F32 data is read; the caller refuses other types where they matter
		}
		n := uint64(1)
		for _, d := range t.dims {
			if d == 0 || n > math.MaxInt64/4/d {
				return nil, fmt.Errorf("tensor %q: dims %v are empty or too large", t.name, t.dims)
			}
			n *= d
		}
		start := dataStart + offsets[i]
		if start < dataStart || start > uint64(len(b)) || n*4 > uint64(len(b))-start {
			return nil, fmt.Errorf("tensor %q: %d float32 values at offset %d lie past the end of the file (%d bytes)", t.name, n, offsets[i], len(b))
		}
		raw := b[start : start+n*4]
		t.data = make([]float32, n)
		for j := range t.data {
			t.data[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
	}
	return f, nil
}

// writer builds a GGUF file.
type writer struct{ bytes.Buffer }

func (w *writer) u32(v uint32) { w.Write(binary.LittleEndian.AppendUint32(nil, v)) }
func (w *writer) u64(v uint64) { w.Write(binary.LittleEndian.AppendUint64(nil, v)) }
func (w *writer) str(s string) { w.u64(uint64(len(s))); w.WriteString(s) }
func (w *writer) pad(align int) {
	for w.Len()%align != 0 {
		w.WriteByte(0)
	}
}

// encode writes a version-3 GGUF file with the metadata (string, uint32, int32, float32,
// float64 and string-array values; keys in sorted order) and F32 tensors (in the order given;
// dims ne[0] first, as ggml orders them), each tensor's data aligned to 32 bytes as ggml's writer
// does.
func encode(meta map[string]any, tensors []tensor) ([]byte, error) {
	w := &writer{}
	w.WriteString(ggufMagic)
	w.u32(ggufVersion)
	w.u64(uint64(len(tensors)))
	w.u64(uint64(len(meta)))
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.str(k)
		switch v := meta[k].(type) {
		case string:
			w.u32(typeString)
			w.str(v)
		case uint32:
			w.u32(typeUint32)
			w.u32(v)
		case int32:
			w.u32(typeInt32)
			w.u32(uint32(v))
		case float32:
			w.u32(typeFloat32)
			w.u32(math.Float32bits(v))
		case float64:
			w.u32(typeFloat64)
			w.u64(math.Float64bits(v))
		case []string:
			w.u32(typeArray)
			w.u32(typeString)
			w.u64(uint64(len(v)))
			for _, e := range v {
				w.str(e)
			}
		default:
			return nil, fmt.Errorf("metadata %q: values of type %T are not written", k, v)
		}
	}
	var off uint64
	for _, t := range tensors {
		n := uint64(1)
		for _, d := range t.dims {
			n *= d
		}
		if len(t.dims) < 1 || len(t.dims) > maxDims || n != uint64(len(t.data)) {
			return nil, fmt.Errorf("tensor %q: dims %v do not hold its %d values", t.name, t.dims, len(t.data))
		}
		w.str(t.name)
		w.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			w.u64(d)
		}
		w.u32(ggmlF32)
		w.u64(off)
		off += (uint64(len(t.data))*4 + defaultAlignment - 1) / defaultAlignment * defaultAlignment
	}
	w.pad(defaultAlignment)
	for _, t := range tensors {
		for _, x := range t.data {
			w.u32(math.Float32bits(x))
		}
		w.pad(defaultAlignment)
	}
	return slices.Clip(w.Bytes()), nil
}
