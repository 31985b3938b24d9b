package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeHeader writes a safetensors file with the given header text and dataLen zero bytes of
// data, trusting nothing: the header may lie about anything.
func writeHeader(t *testing.T, path, header string, dataLen int) {
	t.Helper()
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, uint64(len(header)))
	buf.WriteString(header)
	buf.Write(make([]byte, dataLen))
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Crafted headers give an error that says what is wrong, never a panic or a huge allocation.
func TestCraftedSafetensorsHeaders(t *testing.T) {
	dir := t.TempDir()
	tensor := func(name, dtype, shape string, begin, end int64) string {
		return fmt.Sprintf(`%q: {"dtype": %q, "shape": %s, "data_offsets": [%d, %d]}`, name, dtype, shape, begin, end)
	}
	obj := func(entries ...string) string { return "{" + strings.Join(entries, ", ") + "}" }
	for _, c := range []struct {
		name, header string
		dataLen      int
		want         string
	}{
		{"shape product overflows int64", obj(tensor("v", "F32", "[1099511627776, 1099511627776]", 0, 16)), 16, "invalid shape"},
		{"bytes of the shape overflow int64", obj(tensor("v", "F32", "[4611686018427387904]", 0, 0)), 0, "does not fit data_offsets"},
		{"negative dimension", obj(tensor("v", "F32", "[-1, 4]", 0, 16)), 16, "invalid shape"},
		{"huge dimension beyond the file", obj(tensor("v", "F32", "[1099511627776]", 0, 4398046511104)), 16, "truncated"},
		{"offsets beyond the file", obj(tensor("v", "F32", "[2]", 1<<40, 1<<40+8)), 16, "truncated"},
		{"offsets too large for int64", obj(`"v": {"dtype": "F32", "shape": [2], "data_offsets": [0, 1e30]}`), 16, "malformed"},
		{"dimension too large for int", obj(`"v": {"dtype": "F32", "shape": [1e30], "data_offsets": [0, 8]}`), 16, "malformed"},
		{"negative offset", obj(tensor("v", "F32", "[4]", -8, 8)), 16, "invalid data_offsets"},
		{"reversed offsets", obj(tensor("v", "F32", "[0]", 16, 8)), 16, "invalid data_offsets"},
		{"overlapping tensors", obj(tensor("a", "F32", "[4]", 0, 16), tensor("b", "F32", "[4]", 8, 24)), 24, "overlap"},
		{"size not matching the shape", obj(tensor("v", "F32", "[4]", 0, 8)), 16, "does not fit data_offsets"},
		{"unknown dtype, huge shape", obj(tensor("v", "Q4", "[1152921504606846976]", 0, 16)), 16, `dtype "Q4"`},
		{"integer dtype", obj(tensor("v", "I64", "[2]", 0, 16)), 16, `dtype "I64"`},
		{"header not JSON", `{"v": [`, 16, "not valid JSON"},
		{"header not an object", `[1, 2]`, 16, "not valid JSON"},
		{"metadata not strings", obj(`"__metadata__": {"format": 3}`), 0, "__metadata__"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".safetensors")
		writeHeader(t, path, c.header, c.dataLen)
		_, _, err := ReadSafetensors(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming the file and containing %q", c.name, err, c.want)
		}
	}
	// The length prefix itself.
	for name, data := range map[string][]byte{
		"implausible header length": binary.LittleEndian.AppendUint64(nil, 1<<40),
		"header longer than file":   append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...),
		"shorter than a length":     {1, 2, 3},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".safetensors")
		os.WriteFile(path, data, 0o644)
		if _, _, err := ReadSafetensors(path); err == nil || !strings.Contains(err.Error(), "truncated or corrupt") && !strings.Contains(err.Error(), "implausible") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

// Every size in config.json is bounded by what the weights can hold, before anything is
// allocated from it: n_layer = 1e9 used to build a map of 12e9 tensor names and exhaust memory.
func TestConfigSizesBoundedByWeights(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	if err := Write(dir, cfg, RandomTensors(cfg, 1)); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	set := func(field string, value any) []byte {
		var m map[string]any
		json.Unmarshal(good, &m)
		m[field] = value
		b, _ := json.Marshal(m)
		return b
	}
	for _, c := range []struct {
		name   string
		config []byte
		want   string
	}{
		{"n_layer 1e9", set("n_layer", 1_000_000_000), "does not belong to these weights"},
		{"n_layer 2^62", set("n_layer", int64(1)<<62), "more parameters than a program can address"},
		{"n_embd 2^20", set("n_embd", 1<<20), "does not belong to these weights"},
		{"n_embd 2^40", set("n_embd", int64(1)<<40), "more parameters than a program can address"},
		{"vocab_size 1e12", set("vocab_size", int64(1e12)), "does not belong to these weights"},
		{"n_positions 1e12", set("n_positions", int64(1e12)), "does not belong to these weights"},
		{"n_layer 3 (one block more than stored)", set("n_layer", 3), "lacks tensor h.2."},
		{"n_head not dividing n_embd", set("n_head", 3), "not divisible"},
		{"n_head 0", set("n_head", 0), "non-positive"},
		{"negative n_layer", set("n_layer", -1), "non-positive"},
		{"n_layer beyond int64", []byte(strings.Replace(string(set("n_layer", 7)), `"n_layer":7`, `"n_layer":1e30`, 1)), "damaged"},
		{"n_inner 1e9", set("n_inner", 1_000_000_000), "does not belong to these weights"},
		{"n_inner 2^62", set("n_inner", int64(1)<<62), "more parameters than a program can address"},
		{"n_inner 16 (the weights' MLP is 32 wide)", set("n_inner", 16), "has shape"},
		{"negative n_inner", set("n_inner", -1), "n_inner=-1"},
		{"layer_norm_epsilon 0", set("layer_norm_epsilon", 0), "layer_norm_epsilon"},
		{"layer_norm_epsilon 1e300", set("layer_norm_epsilon", 1e300), "layer_norm_epsilon"},
		{"config.json of 2 MB", append(bytes.Repeat([]byte(" "), 2<<20), good...), "more than the"},
	} {
		if err := os.WriteFile(filepath.Join(dir, ConfigFile), c.config, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// config.json that is a folder.
	os.Remove(filepath.Join(dir, ConfigFile))
	os.Mkdir(filepath.Join(dir, ConfigFile), 0o755)
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("config.json a folder: %v", err)
	}
}

// An index that is far too big for a shard list is refused before it is read.
func TestHugeShardIndex(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, WeightsIndexFile))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30) // sparse
	f.Close()
	_, err = Read(dir, smallConfig())
	wantErr(t, err, WeightsIndexFile, "more than the")
}
