package backend

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// childEnv marks the test binary re-run as a child process by runChild.
const childEnv = "ACTADD_BACKEND_TEST_CHILD"

// addOnce executes a tiny graph (element-wise add) on b.
func addOnce(b compute.Backend) ([]float32, error) {
	t, err := graph.CallOnce(b, func(x, y *graph.Node) *graph.Node { return graph.Add(x, y) },
		[]float32{1, 2, 3}, []float32{10, 20, 30})
	if err != nil {
		return nil, err
	}
	return tensors.CopyFlatData[float32](t)
}

// TestChildProcess is the body of the child processes started by runChild: it selects the
// backend with the environment it was given and reports on stdout. Skipped in normal runs.
func TestChildProcess(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("helper for the subprocess tests")
	}
	b, desc, err := New()
	if err != nil {
		fmt.Printf("ERR=%v\n", err)
		return
	}
	fmt.Printf("DESCRIBE=%s\nDESC=%s\n", Describe(b), desc)
	sum, err := addOnce(b)
	fmt.Printf("SUM=%v ERR=%v\n", sum, err)
}

type childResult struct {
	stdout map[string]string // KEY=value lines
	lines  []string          // stderr lines
	warn   []string          // stderr lines that are slow-go warnings
}

// runChild runs TestChildProcess in a fresh process with a controlled environment: no
// PJRT plugins (an empty PJRT_PLUGIN_LIBRARY_PATH and HOME), GODEBUG=asyncpreemptoff=1, the
// backend variables unset, then env applied on top.
func runChild(t *testing.T, env ...string) childResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // catches hangs only
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	drop := map[string]bool{"GOMLX_BACKEND": true, "PJRT_PLUGIN_LIBRARY_PATH": true, "GOMLX_NO_AUTO_INSTALL": true,
		AutoInstallEnv: true, "GODEBUG": true, "HOME": true, "XDG_CACHE_HOME": true, childEnv: true}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childEnv+"=1", "PJRT_PLUGIN_LIBRARY_PATH="+t.TempDir(), "HOME="+t.TempDir(),
		"GODEBUG=asyncpreemptoff=1")
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child process: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	res := childResult{stdout: map[string]string{}}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && k == strings.ToUpper(k) {
			res.stdout[k] = v
		}
	}
	for _, l := range strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		res.lines = append(res.lines, l)
		if strings.HasPrefix(l, "backend: warning:") {
			res.warn = append(res.warn, l)
		}
	}
	for _, bad := range []string{"goroutine ", "panic(", ".go:", "[running]"} {
		if strings.Contains(stderr.String(), bad) {
			t.Errorf("stderr looks like a stack trace (contains %q):\n%s", bad, stderr.String())
		}
	}
	t.Logf("child stderr:\n%s", stderr.String())
	if res.stdout["SUM"] != "[11 22 33] ERR=<nil>" {
		t.Errorf("tiny graph on the selected backend: SUM=%q, want \"[11 22 33] ERR=<nil>\"\nstdout:\n%s", res.stdout["SUM"], stdout.String())
	}
	return res
}

// wantGo checks that the child used the go backend and printed exactly the given non-warning
// lines (prefixes), with the slow-build warning only when this binary lacks GOEXPERIMENT=simd.
func wantGo(t *testing.T, r childResult, prefixes ...string) {
	t.Helper()
	if r.stdout["DESCRIBE"] != "go" {
		t.Errorf("Describe = %q, want go", r.stdout["DESCRIBE"])
	}
	if !strings.HasPrefix(r.stdout["DESC"], "backend: go (pure Go") {
		t.Errorf("description = %q", r.stdout["DESC"])
	}
	wantWarn := 0
	if !simdEnabled {
		wantWarn = 1
	}
	if len(r.warn) != wantWarn {
		t.Errorf("got %d warning lines, want %d: %q", len(r.warn), wantWarn, r.warn)
	}
	var other []string
	for _, l := range r.lines {
		if !strings.HasPrefix(l, "backend: warning:") {
			other = append(other, l)
		}
	}
	if len(other) != len(prefixes) {
		t.Fatalf("stderr has %d lines, want %d: %q", len(other), len(prefixes), other)
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(other[i], p) {
			t.Errorf("stderr line %d = %q, want prefix %q", i, other[i], p)
		}
	}
	if last := other[len(other)-1]; last != r.stdout["DESC"] {
		t.Errorf("last stderr line %q differs from the returned description %q", last, r.stdout["DESC"])
	}
}

func TestUnsetWithoutPluginUsesGo(t *testing.T) {
	r := runChild(t)
	wantGo(t, r, "backend: go (pure Go")
	if !strings.Contains(r.stdout["DESC"], "no PJRT plugin") && !strings.Contains(r.stdout["DESC"], "XLA not compiled in") {
		t.Errorf("description %q does not say why XLA was not used", r.stdout["DESC"])
	}
}

func TestExplicitGo(t *testing.T) {
	r := runChild(t, "GOMLX_BACKEND=go")
	wantGo(t, r, "backend: go (pure Go")
}

func TestXLACPUWithoutPluginFallsBack(t *testing.T) {
	r := runChild(t, "GOMLX_BACKEND=xla:cpu")
	wantGo(t, r, `backend: GOMLX_BACKEND="xla:cpu" failed: `, "backend: go (pure Go")
	why := "plugin"
	if !xlaCompiled {
		why = "without the XLA backend"
	}
	if l := r.lines[0]; !strings.Contains(l, "falling back to go") || !strings.Contains(l, why) {
		t.Errorf("fallback line %q should say why and that go is used", l)
	}
}

func TestBrokenPluginFallsBack(t *testing.T) {
	dir := t.TempDir()
	bogus := filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")
	if err := os.WriteFile(bogus, []byte("not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file that fails to load is not counted as an installed plugin...
	r := runChild(t, "PJRT_PLUGIN_LIBRARY_PATH="+dir)
	wantGo(t, r, "backend: go (pure Go")
	// ...and asking for it explicitly falls back with the load error.
	r = runChild(t, "GOMLX_BACKEND=xla:"+bogus)
	wantGo(t, r, `backend: GOMLX_BACKEND="xla:`+bogus+`" failed: `, "backend: go (pure Go")
	r = runChild(t, "GOMLX_BACKEND=xla:"+filepath.Join(dir, "missing.so"))
	wantGo(t, r, `backend: GOMLX_BACKEND="xla:`, "backend: go (pure Go")
}

func TestUnknownBackendFallsBack(t *testing.T) {
	// compute.NewWithConfig panics on unknown names; the panic must be recovered.
	r := runChild(t, "GOMLX_BACKEND=nosuch:thing")
	wantGo(t, r, `backend: GOMLX_BACKEND="nosuch:thing" failed: `, "backend: go (pure Go")
}

func TestAutoInstallUnreachable(t *testing.T) {
	// Opted-in auto-install with the download hosts unreachable (a proxy on a closed port):
	// the probe fails fast and the go backend is used.
	proxy := "http://127.0.0.1:1"
	r := runChild(t, AutoInstallEnv+"=1", "HTTPS_PROXY="+proxy, "https_proxy="+proxy, "NO_PROXY=", "no_proxy=")
	wantGo(t, r, "backend: go (pure Go")
	if xlaCompiled && !strings.Contains(r.stdout["DESC"], "unreachable") {
		t.Errorf("description %q should say the download host is unreachable", r.stdout["DESC"])
	}
	r = runChild(t, "GOMLX_BACKEND=xla", AutoInstallEnv+"=30s", "GOMLX_NO_AUTO_INSTALL=1")
	wantGo(t, r, `backend: GOMLX_BACKEND="xla" failed: `, "backend: go (pure Go")
	if xlaCompiled && !strings.Contains(r.lines[0], "GOMLX_NO_AUTO_INSTALL") {
		t.Errorf("fallback line %q should name GOMLX_NO_AUTO_INSTALL", r.lines[0])
	}
}

func TestAutoInstallTypoIsReported(t *testing.T) {
	// With GOMLX_BACKEND unset and no plugin, a value that is neither off nor valid is named.
	r := runChild(t, AutoInstallEnv+"=soon")
	wantGo(t, r, "backend: go (pure Go")
	if xlaCompiled && !strings.Contains(r.stdout["DESC"], AutoInstallEnv+`="soon" is neither`) {
		t.Errorf("description %q should say that %s=soon is not understood", r.stdout["DESC"], AutoInstallEnv)
	}
}

func TestSlowGoWarning(t *testing.T) {
	r := runChild(t, "GODEBUG=")
	if len(r.warn) != 1 {
		t.Fatalf("want one warning line, got %q", r.lines)
	}
	want := "asyncpreemptoff=1"
	if !simdEnabled {
		want = "GOEXPERIMENT=simd"
	}
	if !strings.Contains(r.warn[0], want) || !strings.Contains(r.warn[0], "GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1") {
		t.Errorf("warning %q should name %s and the fix", r.warn[0], want)
	}
}

// TestNewInProcess uses the real environment of the test process: whatever backend it picks
// must run a graph, and the report is written once.
func TestNewInProcess(t *testing.T) {
	var buf bytes.Buffer
	prev := SetOutput(&buf)
	defer SetOutput(prev)
	b, desc, err := New()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := addOnce(b)
	if err != nil || fmt.Sprint(sum) != "[11 22 33]" {
		t.Fatalf("tiny graph: %v, %v", sum, err)
	}
	if !strings.HasPrefix(desc, "backend: "+Describe(b)+" (") {
		t.Errorf("description %q does not start with the short name %q", desc, Describe(b))
	}
	n := buf.Len()
	b2, desc2, err := New()
	if err != nil || b2 != b || desc2 != desc {
		t.Errorf("second New returned a different backend or description")
	}
	if buf.Len() != n {
		t.Errorf("second New wrote more output: %q", buf.String()[n:])
	}
	if buf.Len() > 0 && !strings.Contains(buf.String(), desc) {
		t.Errorf("report %q lacks the description %q", buf.String(), desc)
	}
}

// TestNewAfterFinalize checks that a finalized shared backend is rebuilt quietly.
func TestNewAfterFinalize(t *testing.T) {
	var buf bytes.Buffer
	prev := SetOutput(&buf)
	defer SetOutput(prev)
	b, _, err := New()
	if err != nil {
		t.Fatal(err)
	}
	b.Finalize()
	b2, _, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if b2 == b || b2.IsFinalized() {
		t.Fatalf("New returned the finalized backend")
	}
	if _, err := addOnce(b2); err != nil {
		t.Fatal(err)
	}
	if Describe(b2) != Describe(b) {
		t.Errorf("rebuilt backend is %q, was %q", Describe(b2), Describe(b))
	}
}

func TestHelpers(t *testing.T) {
	for _, c := range []struct {
		godebug, want string
		found         bool
	}{
		{"", "", false}, {"asyncpreemptoff=1", "1", true}, {"x=1, asyncpreemptoff=1,asyncpreemptoff=0", "0", true},
		{"asyncpreemptoff", "", false},
	} {
		if v, ok := godebugValue(c.godebug, "asyncpreemptoff"); v != c.want || ok != c.found {
			t.Errorf("godebugValue(%q) = %q, %v; want %q, %v", c.godebug, v, ok, c.want, c.found)
		}
	}
	if got := oneLine("a\n  b\tc\n"); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
	for cfg, want := range map[string]bool{"xla": true, "xla:cuda": true, "stablehlo:cpu": true, "go": false, "": false, "xlax": false} {
		if isXLAConfig(cfg) != want {
			t.Errorf("isXLAConfig(%q) != %v", cfg, want)
		}
	}
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	for _, c := range []struct {
		env  func(string) (string, bool)
		want time.Duration
	}{
		{env(), 0}, {env(AutoInstallEnv, "1"), DefaultAutoInstallTimeout}, {env(AutoInstallEnv, "90s"), 90 * time.Second},
		{env(AutoInstallEnv, "0"), 0}, {env(AutoInstallEnv, "soon"), 0}, {env(AutoInstallEnv, "-1m"), 0},
		{env(AutoInstallEnv, "1", "GOMLX_NO_AUTO_INSTALL", ""), 0},
	} {
		if got, why := autoInstallBound(c.env); got != c.want || (got == 0 && why == "") {
			t.Errorf("autoInstallBound = %v, %q; want %v", got, why, c.want)
		}
	}
	if Describe(nil) != "none" {
		t.Errorf("Describe(nil) = %q", Describe(nil))
	}
}

// TestGoConfig checks which go backend configuration is built: GoConfig for a bare "go", for
// no setting (without plugins) and for a fallback; "go:<options>" as written.
func TestGoConfig(t *testing.T) {
	quiet := SetOutput(nil)
	defer SetOutput(quiet)
	cases := map[string]string{"go": GoConfig, "nope": GoConfig, "go:ops_parallel": "go:ops_parallel"}
	if len(availablePlugins()) == 0 {
		cases[""] = GoConfig
	}
	for env, want := range cases {
		lookup := func(k string) (string, bool) {
			if k == "GOMLX_BACKEND" && env != "" {
				return env, true
			}
			return "", false
		}
		_, cfg, _, err := selectBackend(lookup)
		if err != nil {
			t.Fatalf("GOMLX_BACKEND=%q: %v", env, err)
		}
		if cfg != want {
			t.Errorf("GOMLX_BACKEND=%q built %q, want %q", env, cfg, want)
		}
	}
	if b, err := Go(); err != nil || Describe(b) != "go" {
		t.Errorf("Go() = %v (%v), want the go backend", b, err)
	}
}

func TestForTests(t *testing.T) {
	t.Setenv(TestEnv, "")
	if b, err := ForTests(); err != nil || Describe(b) != "go" {
		t.Errorf("unset: %v (%v), want the go backend", b, err)
	}
	t.Setenv(TestEnv, "xla")
	if _, err := ForTests(); err == nil || !strings.Contains(err.Error(), "selected") {
		t.Errorf("a wrong value gave %v, want an error naming the valid one", err)
	}
}

func TestFloat32Matmuls(t *testing.T) {
	for in, want := range map[string]string{
		"xla":                             "xla:,notf32",
		"xla:cuda":                        "xla:cuda,notf32",
		"xla:/p/xla_cuda_plugin.so":       "xla:/p/xla_cuda_plugin.so,notf32",
		"xla:cuda,preallocate=false":      "xla:cuda,preallocate=false,notf32",
		"xla:cuda,tf32":                   "xla:cuda,tf32",
		"xla:cuda,tf32=true":              "xla:cuda,tf32=true",
		"xla:cuda,notf32":                 "xla:cuda,notf32",
		"stablehlo:cpu":                   "stablehlo:cpu,notf32",
		"go":                              "go",
		"go:ops_sequential":               "go:ops_sequential",
		"xla:/odd,path/tf32/plugin.so":    "xla:/odd,path/tf32/plugin.so,notf32",
		"xla:cuda,preallocate=false,tf32": "xla:cuda,preallocate=false,tf32",
	} {
		if got := float32Matmuls(in); got != want {
			t.Errorf("float32Matmuls(%q) = %q, want %q", in, got, want)
		}
	}
}
