package checkpoint

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// TensorInfo describes one tensor of a checkpoint folder, read from its safetensors header
// without reading its data.
type TensorInfo struct {
	DType string // safetensors dtype: F32, F16, BF16, ...
	Shape []int
	File  string // the file holding it
}

// Bytes is the tensor's size as stored (0 for a dtype of unknown width).
func (t TensorInfo) Bytes() int64 {
	n, _ := numElements(t.Shape)
	return n * dtypeSizes[t.DType]
}

// ListTensors lists, by the names they are stored under, the tensors of the checkpoint folder
// dir: model.safetensors, or the shards of model.safetensors.index.json. Only headers are read
// (each checked against its file's size), so a caller can check names, shapes and sizes before
// allocating anything. A name stored in two files is an error.
func ListTensors(dir string) (map[string]TensorInfo, error) {
	files, err := weightFiles(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]TensorInfo{}
	for _, path := range files {
		st, err := openSafetensors(path)
		if err != nil {
			return nil, err
		}
		st.Close()
		for name, e := range st.entries {
			if prev, dup := out[name]; dup {
				return nil, fmt.Errorf("checkpoint: tensor %s is stored twice (in %s and in %s); keep one", name, prev.File, path)
			}
			out[name] = TensorInfo{DType: e.DType, Shape: slices.Clone(e.Shape), File: path}
		}
	}
	return out, nil
}

// Metadata returns the __metadata__ of the checkpoint folder dir's safetensors files, merged
// (the first file in name order wins a key set twice).
func Metadata(dir string) (map[string]string, error) {
	files, err := weightFiles(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, path := range files {
		st, err := openSafetensors(path)
		if err != nil {
			return nil, err
		}
		st.Close()
		for k, v := range st.metadata {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	return out, nil
}

// ReadTensors decodes the named tensors of the checkpoint folder dir (as ListTensors names
// them) to float32: F32, F16, BF16 and F64 data are accepted, converted exactly where float32
// can hold the value (F16 and BF16 always). Files are opened once each.
func ReadTensors(dir string, names []string) (map[string]Tensor, error) {
	files, err := weightFiles(dir)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := make(map[string]Tensor, len(names))
	for _, path := range files {
		st, err := openSafetensors(path)
		if err != nil {
			return nil, err
		}
		sorted := make([]string, 0, len(st.entries))
		for name := range st.entries {
			if want[name] {
				sorted = append(sorted, name)
			}
		}
		sort.Strings(sorted)
		for _, name := range sorted {
			if _, dup := out[name]; dup {
				st.Close()
				return nil, fmt.Errorf("checkpoint: tensor %s is stored twice (the second time in %s); keep one", name, path)
			}
			e := st.entries[name]
			data, err := st.readFloat32(name, e)
			if err != nil {
				st.Close()
				return nil, err
			}
			out[name] = Tensor{Shape: slices.Clone(e.Shape), Data: data}
		}
		st.Close()
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("checkpoint: %s holds no tensor %s", dir, n)
		}
	}
	return out, nil
}

// WriteSafetensorsAs is WriteSafetensors storing every tensor in dtype: "F32", "F16" or "BF16"
// (rounded to nearest, ties to even, as PyTorch's conversions round).
func WriteSafetensorsAs(path string, tensors map[string]Tensor, metadata map[string]string, dtype string) error {
	var put func(b []byte, v float32)
	switch dtype {
	case "F32":
		return writeSafetensors(path, tensors, metadata)
	case "F16":
		put = func(b []byte, v float32) { binary.LittleEndian.PutUint16(b, f32ToF16(v)) }
	case "BF16":
		put = func(b []byte, v float32) { binary.LittleEndian.PutUint16(b, f32ToBF16(v)) }
	default:
		return fmt.Errorf("checkpoint: cannot write dtype %q: use F32, F16 or BF16", dtype)
	}
	return writeSafetensorsOf(path, tensors, metadata, dtype, 2, func(w io.Writer, data []float32) error {
		buf := make([]byte, 2*len(data))
		for i, v := range data {
			put(buf[2*i:], v)
		}
		_, err := w.Write(buf)
		return err
	})
}

// f32ToBF16 rounds a float32 to bfloat16 (nearest, ties to even; NaN stays NaN). Written here
// because the package keeps free of GoMLX, whose dtypes hold the same conversion.
func f32ToBF16(v float32) uint16 {
	b := math.Float32bits(v)
	if v != v {
		return uint16(b>>16) | 0x40 // quiet NaN
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// f32ToF16 rounds a float32 to IEEE half precision (nearest, ties to even), with overflow to
// Inf and gradual underflow to subnormals.
func f32ToF16(v float32) uint16 {
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp-127 > 15: // too large
		return sign | 0x7c00
	case exp-127 >= -14: // normal half
		h := uint32(exp-127+15)<<10 | mant>>13
		rest := mant & 0x1fff
		if rest > 0x1000 || (rest == 0x1000 && h&1 == 1) {
			h++ // may carry into the exponent, up to Inf: both correct
		}
		return sign | uint16(h)
	case exp-127 < -25: // rounds to zero
		return sign
	}
	// Subnormal half: value = m · 2^-24 with m = (1.mant) · 2^(e+24).
	m := mant | 0x800000
	shift := uint32(-(exp - 127) - 14 + 13) // 14..24
	h := m >> shift
	rest := m & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rest > half || (rest == half && h&1 == 1) {
		h++
	}
	return sign | uint16(h)
}
