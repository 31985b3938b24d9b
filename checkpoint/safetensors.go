package checkpoint

// The safetensors format is read and written here by hand instead of through go-huggingface's
// models/safetensors: that reader only reads through a hub.Repo (not a plain local folder),
// returns GoMLX tensors (this package is GoMLX-free), and panics or crashes the process on a
// file whose data is shorter than its header claims. The format is small: an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} plus an
// optional "__metadata__", then the raw little-endian tensor bytes.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"unsafe"

	"github.com/google/renameio/v2"
)

// maxHeaderLen bounds the JSON header (the reference implementation uses 100 MB).
const maxHeaderLen = 100 << 20

// stEntry is one tensor of a safetensors header.
type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// stFile is an open safetensors file whose header has been checked against its size.
type stFile struct {
	path      string
	f         *os.File
	dataStart int64 // offset of the data buffer in the file
	dataLen   int64 // bytes from dataStart to the end of the file
	entries   map[string]stEntry
	metadata  map[string]string
}

var dtypeSizes = map[string]int64{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8,
	"U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
}

// numElements returns the product of shape, and false for a negative dimension or a product
// that does not fit in an int64.
func numElements(shape []int) (int64, bool) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt64/int64(d)) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// openSafetensors opens path and validates its header: every tensor's byte range must lie in
// the file and match its dtype and shape, so that reading never runs past the end.
func openSafetensors(path string) (*stFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	st, err := parseHeader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return st, nil
}

func parseHeader(path string, f *os.File) (*stFile, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	size := fi.Size()
	redownload := "the file is truncated or corrupt: delete it and download or write it again"
	if size < 8 {
		return nil, fmt.Errorf("checkpoint: %s: %d bytes is too short for a safetensors file; %s", path, size, redownload)
	}
	var lenBuf [8]byte
	if _, err := f.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: reading the header length: %w", path, err)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > maxHeaderLen {
		return nil, fmt.Errorf("checkpoint: %s: header length %d is implausible (not a safetensors file?); %s", path, hlen, redownload)
	}
	if int64(hlen) > size-8 {
		return nil, fmt.Errorf("checkpoint: %s: header needs %d bytes but the file has only %d after the length; %s", path, hlen, size-8, redownload)
	}
	header := make([]byte, hlen)
	if _, err := f.ReadAt(header, 8); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: reading the header: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: header is not valid JSON (%v); %s", path, err, redownload)
	}
	st := &stFile{path: path, f: f, dataStart: 8 + int64(hlen), dataLen: size - 8 - int64(hlen), entries: map[string]stEntry{}}
	dataLen := st.dataLen
	var maxEnd int64
	var maxName string
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &st.metadata); err != nil {
				return nil, fmt.Errorf("checkpoint: %s: __metadata__ is not a string map: %v", path, err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("checkpoint: %s: header entry for tensor %s is malformed: %v", path, name, err)
		}
		begin, end := e.Offsets[0], e.Offsets[1]
		if begin < 0 || end < begin {
			return nil, fmt.Errorf("checkpoint: %s: tensor %s has invalid data_offsets [%d, %d]; %s", path, name, begin, end, redownload)
		}
		n, ok := numElements(e.Shape)
		if !ok {
			return nil, fmt.Errorf("checkpoint: %s: tensor %s has invalid shape %v (a negative size, or more elements than fit in memory); %s", path, name, e.Shape, redownload)
		}
		// Every element of a known dtype takes es bytes, so n·es must be the byte range: this
		// bounds n by the file's size before anything is allocated.
		if es, known := dtypeSizes[e.DType]; known && (n > math.MaxInt64/es || n*es != end-begin) {
			return nil, fmt.Errorf("checkpoint: %s: tensor %s (%s %v) does not fit data_offsets [%d, %d] (%d bytes); %s",
				path, name, e.DType, e.Shape, begin, end, end-begin, redownload)
		}
		if end > maxEnd {
			maxEnd, maxName = end, name
		}
		st.entries[name] = e
	}
	// Tensors occupy disjoint byte ranges (the format stores them one after the other).
	names := make([]string, 0, len(st.entries))
	for name, e := range st.entries {
		if e.Offsets[1] > e.Offsets[0] {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool { return st.entries[names[i]].Offsets[0] < st.entries[names[j]].Offsets[0] })
	for i := 1; i < len(names); i++ {
		prev, cur := st.entries[names[i-1]], st.entries[names[i]]
		if cur.Offsets[0] < prev.Offsets[1] {
			return nil, fmt.Errorf("checkpoint: %s: tensors %s [%d, %d] and %s [%d, %d] overlap; %s",
				path, names[i-1], prev.Offsets[0], prev.Offsets[1], names[i], cur.Offsets[0], cur.Offsets[1], redownload)
		}
	}
	if maxEnd > dataLen {
		return nil, fmt.Errorf("checkpoint: %s is truncated: tensor %s ends at data byte %d but the file holds only %d data bytes (file size %d, expected at least %d); %s",
			path, maxName, maxEnd, dataLen, size, st.dataStart+maxEnd, redownload)
	}
	return st, nil
}

func (st *stFile) Close() error { return st.f.Close() }

// littleEndian reports the machine's byte order (safetensors data is little-endian).
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// readFloat32 decodes a tensor to float32, reading F32 data straight into the result.
func (st *stFile) readFloat32(name string, e stEntry) ([]float32, error) {
	switch e.DType {
	case "F32", "F16", "BF16", "F64":
	default:
		return nil, fmt.Errorf("checkpoint: %s: tensor %s has dtype %q; only F32, F16, BF16 and F64 can be loaded", st.path, name, e.DType)
	}
	n, _ := numElements(e.Shape) // parseHeader bounded it by the tensor's byte range
	off := st.dataStart + e.Offsets[0]
	out := make([]float32, n)
	if n == 0 {
		return out, nil
	}
	fail := func(err error) ([]float32, error) {
		return nil, fmt.Errorf("checkpoint: %s: reading tensor %s: %w", st.path, name, err)
	}
	switch e.DType {
	case "F32":
		b := unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 4*n)
		if _, err := st.f.ReadAt(b, off); err != nil {
			return fail(err)
		}
		if !littleEndian {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		return out, nil
	case "F16", "BF16", "F64":
		es := dtypeSizes[e.DType]
		const chunk = 1 << 16 // elements per read
		buf := make([]byte, es*min(n, chunk))
		for start := int64(0); start < n; start += chunk {
			cnt := min(n-start, chunk)
			b := buf[:es*cnt]
			if _, err := st.f.ReadAt(b, off+es*start); err != nil {
				return fail(err)
			}
			dst := out[start : start+cnt]
			switch e.DType {
			case "F16":
				for i := range dst {
					dst[i] = f16ToF32(binary.LittleEndian.Uint16(b[2*i:]))
				}
			case "BF16":
				for i := range dst {
					dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
				}
			case "F64":
				for i := range dst {
					dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
				}
			}
		}
	}
	return out, nil
}

// f16ToF32 converts an IEEE 754 half-precision value exactly (zeros, subnormals, Inf, NaN).
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: value = mant * 2^-24, exact in float32.
	v := float32(mant) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// writeSafetensors writes F32 tensors to path atomically (temporary file + rename), with
// sorted names, consecutive data, a header padded with spaces to 8 bytes, and metadata.
func writeSafetensors(path string, tensors map[string]Tensor, metadata map[string]string) error {
	return writeSafetensorsOf(path, tensors, metadata, "F32", 4, writeFloat32s)
}

// writeSafetensorsOf is writeSafetensors storing every tensor as dtype, elemSize bytes a value,
// each tensor's data written by writeData.
func writeSafetensorsOf(path string, tensors map[string]Tensor, metadata map[string]string, dtype string, elemSize int64, writeData func(io.Writer, []float32) error) error {
	names := sortedKeys(tensors)
	header := map[string]any{}
	if metadata != nil {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, n := range names {
		t := tensors[n]
		size := elemSize * int64(len(t.Data))
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		// A shape that does not hold the data (its product taken without overflow) would
		// write a file that no reader accepts.
		if count, ok := numElements(shape); !ok || count != int64(len(t.Data)) {
			return fmt.Errorf("checkpoint: writing %s: tensor %s of shape %v does not hold its %d values", path, n, shape, len(t.Data))
		}
		header[n] = stEntry{DType: dtype, Shape: shape, Offsets: [2]int64{off, off + size}}
		off += size
	}
	hjson, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("checkpoint: encoding the safetensors header: %w", err)
	}
	for len(hjson)%8 != 0 {
		hjson = append(hjson, ' ')
	}
	return writeAtomic(path, func(w io.Writer) error {
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hjson)))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := w.Write(hjson); err != nil {
			return err
		}
		for _, n := range names {
			if err := writeData(w, tensors[n].Data); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeFloat32s(w io.Writer, data []float32) error {
	if len(data) == 0 {
		return nil
	}
	if littleEndian {
		_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data)))
		return err
	}
	buf := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}

// writeAtomic writes path through a temporary file in the same folder, synced and renamed, so
// that readers see either the old file or the complete new one.
func writeAtomic(path string, fill func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	f, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644))
	if err != nil {
		return fmt.Errorf("checkpoint: %w (is %s writable?)", err, dir)
	}
	defer f.Cleanup()
	bw := bufio.NewWriterSize(f, 1<<20)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.CloseAtomicallyReplace()
	}
	if err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	return nil
}

// WriteSafetensors writes float32 tensors and string metadata to a safetensors file, atomically.
func WriteSafetensors(path string, tensors map[string]Tensor, metadata map[string]string) error {
	return writeSafetensors(path, tensors, metadata)
}

// ReadSafetensors reads every tensor of a safetensors file (decoded to float32) and its metadata.
func ReadSafetensors(path string) (map[string]Tensor, map[string]string, error) {
	st, err := openSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	out := make(map[string]Tensor, len(st.entries))
	for name, e := range st.entries {
		data, err := st.readFloat32(name, e)
		if err != nil {
			return nil, nil, err
		}
		out[name] = Tensor{Shape: append([]int(nil), e.Shape...), Data: data}
	}
	return out, st.metadata, nil
}
