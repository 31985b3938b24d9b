package backend

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// fakePlugin writes a file standing in for a PJRT plugin that holds the given flag names.
func fakePlugin(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	path := filepath.Join(dir, "xla_cuda_plugin.so")
	if err := os.WriteFile(path, []byte("\x7fELF...\x00"+strings.Join(flags, "\x00")+"\x00..."), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestCompileCacheRoot(t *testing.T) {
	for _, off := range []string{"off", "0", "false", "No"} {
		if root, err := compileCacheRoot(env(map[string]string{CompileCacheEnv: off})); root != "" || err != nil {
			t.Errorf("%s=%q: root %q, %v; want off", CompileCacheEnv, off, root, err)
		}
	}
	if root, _ := compileCacheRoot(env(map[string]string{CompileCacheEnv: " /tmp/x "})); root != "/tmp/x" {
		t.Errorf("a folder setting gave %q", root)
	}
	def, err := DefaultCompileCacheDir()
	if root, _ := compileCacheRoot(env(nil)); err != nil || root != def || !strings.HasSuffix(def, filepath.Join("actadd", "xla")) {
		t.Errorf("unset: %q (default %q, %v)", root, def, err)
	}
}

// TestCompileCacheFlags checks the flags added for a plugin that knows both, the key file that
// spares later processes reading the plugin, and that a changed plugin or GPU gets a folder of
// its own (the invalidation).
func TestCompileCacheFlags(t *testing.T) {
	root, plugin := t.TempDir(), fakePlugin(t, t.TempDir(), kernelCacheFlag, autotuneCacheFlag)
	c := prepareCompileCache(root, plugin, "NVIDIA H200", "--xla_gpu_cuda_data_dir=/x")
	defer c.lock.Close()
	if len(c.flags) != 2 || !strings.HasPrefix(c.flags[0], "--"+kernelCacheFlag+"="+c.dir) ||
		!strings.HasPrefix(c.flags[1], "--"+autotuneCacheFlag+"="+c.dir) || c.lock == nil {
		t.Fatalf("flags %q (lock %v), note %q", c.flags, c.lock, c.note)
	}
	if st, err := os.Stat(filepath.Join(c.dir, "autotune")); err != nil || !st.IsDir() {
		t.Errorf("autotune folder not made: %v", err)
	}
	info, err := readCacheInfo(c.dir, cacheInfoKey(t, plugin, "NVIDIA H200"))
	if err != nil || len(info.Flags) != 2 {
		t.Fatalf("key.json: %+v, %v", info, err)
	}
	// The key file answers for the plugin from now on: a later process does not read the
	// plugin again (its contents changed here without changing its size or time).
	st, _ := os.Stat(plugin)
	raw, _ := os.ReadFile(plugin)
	if err := os.WriteFile(plugin, bytes.Repeat([]byte{'x'}, len(raw)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(plugin, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	c.lock.Close()
	again := prepareCompileCache(root, plugin, "NVIDIA H200", "")
	if again.dir != c.dir || len(again.flags) != 2 {
		t.Errorf("second process: dir %q flags %q, want %q and both flags from key.json", again.dir, again.flags, c.dir)
	}
	again.lock.Close()
	// A new plugin build (another modification time) or another GPU: another folder.
	if err := os.Chtimes(plugin, time.Now(), st.ModTime().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"NVIDIA H200", "NVIDIA H100"} {
		other := prepareCompileCache(root, plugin, dev, "")
		if other.dir == c.dir {
			t.Errorf("plugin rebuilt, device %s: same folder %q", dev, other.dir)
		}
		if other.lock != nil {
			other.lock.Close()
		}
	}
}

func cacheInfoKey(t *testing.T, plugin, device string) cacheKey {
	st, err := os.Stat(plugin)
	if err != nil {
		t.Fatal(err)
	}
	return cacheKey{Plugin: plugin, Size: st.Size(), ModTime: st.ModTime().UTC(), Device: device}
}

// TestCompileCacheRespectsPluginAndUser: only the flags the plugin knows (an unknown one in
// XLA_FLAGS aborts a PJRT plugin), and none the user already set.
func TestCompileCacheRespectsPluginAndUser(t *testing.T) {
	plugin := fakePlugin(t, t.TempDir(), autotuneCacheFlag)
	c := prepareCompileCache(t.TempDir(), plugin, "gpu", "")
	if len(c.flags) != 1 || !strings.Contains(c.flags[0], autotuneCacheFlag) || c.lock != nil {
		t.Errorf("plugin without the kernel cache flag: flags %q", c.flags)
	}
	none := prepareCompileCache(t.TempDir(), fakePlugin(t, t.TempDir()), "gpu", "")
	if len(none.flags) != 0 || !strings.Contains(none.note, "compile cache off") || !strings.Contains(none.note, "knows neither") {
		t.Errorf("plugin without either flag: flags %q, note %q", none.flags, none.note)
	}
	both := fakePlugin(t, t.TempDir(), kernelCacheFlag, autotuneCacheFlag)
	user := prepareCompileCache(t.TempDir(), both, "gpu", "--"+kernelCacheFlag+"=/mine")
	if len(user.flags) != 1 || strings.Contains(user.flags[0], kernelCacheFlag) || !strings.Contains(user.note, "as XLA_FLAGS sets it") {
		t.Errorf("user's kernel cache flag: flags %q, note %q", user.flags, user.note)
	}
}

// TestCompileCacheFallbacks: a folder that cannot be made, a kernel cache another process is
// writing, and a damaged kernel cache file.
func TestCompileCacheFallbacks(t *testing.T) {
	plugin := fakePlugin(t, t.TempDir(), kernelCacheFlag, autotuneCacheFlag)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if c := prepareCompileCache(notDir, plugin, "gpu", ""); len(c.flags) != 0 || !strings.Contains(c.note, CompileCacheEnv) {
		t.Errorf("unusable folder: flags %q, note %q", c.flags, c.note)
	}
	if c := prepareCompileCache(t.TempDir(), filepath.Join(t.TempDir(), "missing.so"), "gpu", ""); len(c.flags) != 0 || c.note == "" {
		t.Errorf("missing plugin: flags %q, note %q", c.flags, c.note)
	}

	root := t.TempDir()
	first := prepareCompileCache(root, plugin, "gpu", "")
	second := prepareCompileCache(root, plugin, "gpu", "")
	if first.lock == nil || second.lock != nil || len(second.flags) != 1 || !strings.Contains(second.note, "another process") {
		t.Errorf("concurrent processes: first %q, second %q (%s)", first.flags, second.flags, second.note)
	}
	first.lock.Close()

	kernels := filepath.Join(first.dir, "kernels.bin")
	good := protowire.AppendTag(nil, 1, protowire.BytesType)
	good = protowire.AppendBytes(good, bytes.Repeat([]byte{7}, 100))
	if err := os.WriteFile(kernels, good, 0o644); err != nil {
		t.Fatal(err)
	}
	c := prepareCompileCache(root, plugin, "gpu", "")
	if _, err := os.Stat(kernels); err != nil || strings.Contains(c.note, "damaged") {
		t.Errorf("a well-formed kernel cache was not kept: %v, %q", err, c.note)
	}
	c.lock.Close()
	if err := os.WriteFile(kernels, good[:50], 0o644); err != nil { // a write cut short
		t.Fatal(err)
	}
	c = prepareCompileCache(root, plugin, "gpu", "")
	defer c.lock.Close()
	if _, err := os.Stat(kernels + ".corrupt"); err != nil || !strings.Contains(c.note, "damaged") || len(c.flags) != 2 {
		t.Errorf("a truncated kernel cache was not moved aside: %v, note %q, flags %q", err, c.note, c.flags)
	}
}

// TestFlagsKnownAcrossChunks finds a flag name that straddles two of the reader's chunks, and
// does not take the same name in a protocol buffer descriptor or a C++ symbol for a flag.
func TestFlagsKnownAcrossChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.so")
	data := bytes.Repeat([]byte{0}, 4<<20+100)
	copy(data[4<<20-10:], autotuneCacheFlag)
	copy(data[100:], "\x0a\x19"+kernelCacheFlag+"\x18\xb2\x02")           // a descriptor's field name
	copy(data[200:], "_ZNK3xla12DebugOptions25"+kernelCacheFlag+"Ev\x00") // a symbol
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := flagsKnown(path, kernelCacheFlag, autotuneCacheFlag)
	if err != nil || len(got) != 1 || got[0] != autotuneCacheFlag {
		t.Errorf("flagsKnown = %q, %v; want only %s", got, err, autotuneCacheFlag)
	}
}

// TestSetUpCompileCacheOnlyCUDA: the go backend and CPU plugins get no cache and no note.
func TestSetUpCompileCacheOnlyCUDA(t *testing.T) {
	before := os.Getenv("XLA_FLAGS")
	for _, cfg := range []string{GoConfig, "xla:cpu,notf32", "xla:/opt/pjrt_c_api_cpu_plugin.so,notf32"} {
		setUpCompileCache(cfg, env(nil))
		if compileCacheNote != "" || os.Getenv("XLA_FLAGS") != before {
			t.Errorf("%s: note %q, XLA_FLAGS %q", cfg, compileCacheNote, os.Getenv("XLA_FLAGS"))
		}
	}
}
