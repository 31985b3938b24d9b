package backend

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// CompileCacheEnv names the environment variable that controls the on-disk compile cache of
// XLA on NVIDIA GPUs: unset or empty puts it in the default folder ([DefaultCompileCacheDir]),
// "off" (or "0", "false", "no") turns it off, and any other value is the folder to use.
//
// The cache is XLA's own: its kernel cache (--xla_gpu_kernel_cache_file: the GPU binaries of
// compiled fusions, keyed inside by each fusion's fingerprint) and its per-fusion autotuning
// cache (--xla_gpu_per_fusion_autotune_cache_dir: the chosen matmul configurations). With
// both, a second process that compiles the same programs (a re-executed notebook cell, another
// run) skips the LLVM/ptxas compilation and the autotuning of every kernel it has seen; XLA's
// HLO passes still run. [New] adds the two flags to $XLA_FLAGS before it builds a CUDA
// backend, in a subfolder keyed by the plugin file (path, size, modification time) and the GPU
// model, and only the flags the plugin knows (a PJRT plugin aborts the process on an unknown
// flag in $XLA_FLAGS): it reads the plugin file once for their names and keeps the answer in
// that subfolder. Flags already in $XLA_FLAGS are left as they are. One process at a time
// writes the kernel cache (a lock file); a second one at the same time runs without it. A
// kernel cache file that is not a well-formed protocol buffer (a write cut short) is moved
// aside. Where the folder cannot be used, the backend runs without the cache and the report
// line says why.
const CompileCacheEnv = "ACTADD_XLA_CACHE"

// The XLA flags of the compile cache.
const (
	kernelCacheFlag   = "xla_gpu_kernel_cache_file"
	autotuneCacheFlag = "xla_gpu_per_fusion_autotune_cache_dir"
)

// DefaultCompileCacheDir is the compile cache's folder when $ACTADD_XLA_CACHE is unset: actadd/xla
// in the user's cache folder ($XDG_CACHE_HOME or ~/.cache on Linux).
func DefaultCompileCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "actadd", "xla"), nil
}

// compileCacheRoot reads $ACTADD_XLA_CACHE: the cache's root folder, or "" when it is off.
func compileCacheRoot(lookup func(string) (string, bool)) (string, error) {
	v, _ := lookup(CompileCacheEnv)
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "off", "0", "false", "no":
		return "", nil
	case "":
		return DefaultCompileCacheDir()
	}
	return strings.TrimSpace(v), nil
}

// cacheKey identifies what a cache folder holds programs for. A different plugin build or GPU
// model gets a folder of its own: XLA's cached binaries are only valid for the device and the
// compiler that made them.
type cacheKey struct {
	Plugin  string    `json:"plugin"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	Device  string    `json:"device"`
}

func (k cacheKey) folder() string {
	raw, _ := json.Marshal(k)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// cacheInfo is the key.json of a cache folder: the key, and which of the cache flags the
// plugin knows (found by reading it once).
type cacheInfo struct {
	Key   cacheKey `json:"key"`
	Flags []string `json:"flags"`
}

// compileCache is a prepared cache: the flags to add to $XLA_FLAGS and the report's note.
type compileCache struct {
	dir   string
	flags []string // "--name=value"
	note  string
	lock  *os.File // held for the process's lifetime when it writes the kernel cache
}

// prepareCompileCache sets up the cache folder for the CUDA plugin file plugin and the GPU
// model device, and returns the flags to add to xlaFlags (the current $XLA_FLAGS). It never
// fails: a cache it cannot use comes back without flags, with a note saying why.
func prepareCompileCache(root, plugin, device, xlaFlags string) compileCache {
	off := func(format string, args ...any) compileCache {
		return compileCache{note: "compile cache off: " + fmt.Sprintf(format, args...)}
	}
	st, err := os.Stat(plugin)
	if err != nil {
		return off("%v", err)
	}
	key := cacheKey{Plugin: plugin, Size: st.Size(), ModTime: st.ModTime().UTC(), Device: device}
	dir := filepath.Join(root, key.folder())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return off("%v; set %s to a writable folder, or to off", err, CompileCacheEnv)
	}
	info, err := readCacheInfo(dir, key)
	if err != nil {
		known, err := flagsKnown(plugin, kernelCacheFlag, autotuneCacheFlag)
		if err != nil {
			return off("reading the plugin for the flags it knows: %v", err)
		}
		info = cacheInfo{Key: key, Flags: known}
		if err := writeFileAtomic(filepath.Join(dir, "key.json"), info); err != nil {
			return off("%v; set %s to a writable folder, or to off", err, CompileCacheEnv)
		}
	}
	c := compileCache{dir: dir}
	var notes []string
	for _, flag := range info.Flags {
		if strings.Contains(xlaFlags, "--"+flag) {
			notes = append(notes, flag+" as XLA_FLAGS sets it")
			continue
		}
		switch flag {
		case kernelCacheFlag:
			lock, err := tryLock(filepath.Join(dir, "kernels.lock"))
			if err != nil {
				notes = append(notes, "no kernel cache in this process: "+err.Error())
				continue
			}
			path := filepath.Join(dir, "kernels.bin")
			if err := checkProtoFile(path); err != nil {
				_ = os.Rename(path, path+".corrupt")
				notes = append(notes, fmt.Sprintf("moved aside a damaged kernel cache (%v)", err))
			}
			c.lock = lock
			c.flags = append(c.flags, "--"+flag+"="+path)
		case autotuneCacheFlag:
			path := filepath.Join(dir, "autotune")
			if err := os.MkdirAll(path, 0o755); err != nil {
				notes = append(notes, err.Error())
				continue
			}
			c.flags = append(c.flags, "--"+flag+"="+path)
		}
	}
	if len(info.Flags) == 0 {
		notes = append(notes, "the plugin knows neither cache flag")
	}
	c.note = "compile cache " + dir
	if len(c.flags) == 0 {
		c.note = "compile cache off"
	}
	if len(notes) > 0 {
		c.note += " (" + strings.Join(notes, "; ") + ")"
	}
	return c
}

// readCacheInfo reads dir/key.json and checks that it was written for key.
func readCacheInfo(dir string, key cacheKey) (cacheInfo, error) {
	var info cacheInfo
	raw, err := os.ReadFile(filepath.Join(dir, "key.json"))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return info, err
	}
	if !info.Key.ModTime.Equal(key.ModTime) || info.Key.Plugin != key.Plugin || info.Key.Size != key.Size || info.Key.Device != key.Device {
		return info, errors.New("key.json is for another plugin or device")
	}
	return info, nil
}

// flagsKnown returns which of the flag names occur in the file at path as C strings (a
// NUL-terminated name after a byte that cannot be part of a flag name), as the flag parser of a
// plugin holds the flags it accepts. The same name inside a protocol buffer descriptor (a
// removed flag's field can stay there, reserved) or in a C++ symbol is not followed by a NUL,
// and does not count. It reads the file once, in chunks.
func flagsKnown(path string, names ...string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	longest := 0
	for _, n := range names {
		longest = max(longest, len(n)+2)
	}
	found := make([]bool, len(names))
	buf := make([]byte, 4<<20)
	carry := 0 // bytes kept from the previous chunk, so that a name across chunks is seen
	for {
		n, err := f.Read(buf[carry:])
		window := buf[:carry+n]
		for i, name := range names {
			found[i] = found[i] || hasCString(window, name)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		carry = min(longest-1, len(window))
		copy(buf, window[len(window)-carry:])
	}
	var out []string
	for i, name := range names {
		if found[i] {
			out = append(out, name)
		}
	}
	return out, nil
}

// hasCString reports whether b holds name followed by a NUL and preceded by the start of b or
// a byte that is not a letter, digit, '_' or '-'.
func hasCString(b []byte, name string) bool {
	needle := append([]byte(name), 0)
	for off := 0; ; {
		i := bytes.Index(b[off:], needle)
		if i < 0 {
			return false
		}
		at := off + i
		if at == 0 || !isNameByte(b[at-1]) {
			return true
		}
		off = at + 1
	}
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// checkProtoFile checks that path, if it exists, is a well-formed protocol buffer message at
// the wire level: every field's tag, length and value complete. A write cut short fails it.
func checkProtoFile(path string) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return checkProto(raw)
}

// checkProto walks a message's fields: each tag, and each value's length against what is left.
func checkProto(b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if num == 0 {
			return errors.New("field number 0")
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

// writeFileAtomic writes v as JSON to path through a temporary file and a rename.
func writeFileAtomic(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// GPUModel names the first NVIDIA GPU from the driver's /proc files ("NVIDIA H200"), or "".
func GPUModel() string {
	infos, _ := filepath.Glob("/proc/driver/nvidia/gpus/*/information")
	for _, p := range infos {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model" {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

// compileCacheNote is the cache's note for the report line ("" when no XLA CUDA backend was
// built), and compileCacheLock keeps the kernel cache's lock for the process's lifetime.
var (
	compileCacheNote string
	compileCacheLock *os.File
)

// setUpCompileCache prepares the compile cache for an XLA configuration about to be built and
// adds its flags to $XLA_FLAGS. Only CUDA plugins get one (XLA's CPU compiler has no such
// caches).
func setUpCompileCache(cfg string, lookup func(string) (string, bool)) {
	if compileCacheLock != nil || !isXLAConfig(cfg) {
		return
	}
	plugin := cudaPluginFile(cfg)
	if plugin == "" {
		return
	}
	root, err := compileCacheRoot(lookup)
	switch {
	case err != nil:
		compileCacheNote = fmt.Sprintf("compile cache off: %v; set %s to a folder", err, CompileCacheEnv)
		return
	case root == "":
		compileCacheNote = "compile cache off (" + CompileCacheEnv + ")"
		return
	}
	xlaFlags, _ := lookup("XLA_FLAGS")
	gpu := GPUModel()
	if gpu == "" {
		gpu = "unknown GPU"
	}
	c := prepareCompileCache(root, plugin, gpu, xlaFlags)
	compileCacheNote, compileCacheLock = c.note, c.lock
	if len(c.flags) > 0 {
		_ = os.Setenv("XLA_FLAGS", strings.TrimSpace(xlaFlags+" "+strings.Join(c.flags, " ")))
	}
}
