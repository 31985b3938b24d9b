// Package backend picks the GoMLX compute backend for the whole program, without hanging and
// without printing stack traces.
//
// Selection ([New]):
//
//   - $GOMLX_BACKEND set (e.g. "go", "xla", "xla:cpu", "xla:cuda", "xla:/path/to/pjrt_plugin.so",
//     options such as "xla:cuda,preallocate=false", or any other backend registered with GoMLX):
//     that backend is built. If it fails (unknown name, no PJRT plugin, load error, or a panic
//     inside GoMLX/go-xla, which is recovered), the go backend is used instead and one line on
//     stderr says what was asked, why it failed, and that go is used. A bare "go" means
//     [GoConfig]; "go:<options>" is passed to GoMLX as written.
//   - $GOMLX_BACKEND unset or empty: XLA when a PJRT plugin is installed (CUDA first when a GPU
//     is present, then CPU), otherwise the pure-Go backend. go-xla's own auto-install (an
//     unbounded download on every start) is always disabled; see [AutoInstallEnv] for the
//     opt-in, time-bounded replacement.
//
// go-xla looks for plugins named pjrt_c_api_<name>_plugin.so (also pjrt[-_]plugin[-_]<name>.so)
// in the ":"-separated directories of $PJRT_PLUGIN_LIBRARY_PATH when it is set, and otherwise in
// ~/.local/lib/go-xla, ~/.local/lib/go-xla/nvidia, ~/.local/lib/gomlx/pjrt, /usr/local/lib/go-xla,
// /usr/local/lib/go-xla/nvidia, /usr/local/lib/gomlx/pjrt, the $LD_LIBRARY_PATH entries and the
// /etc/ld.so.conf directories. The search paths are read once, when the program starts. A CUDA
// plugin only counts when an NVIDIA device (/dev/nvidia*) is present.
//
// Exactly once per process, New writes one line naming the backend in use (and, for the go
// backend in a slow build, one warning line) to [SetOutput]'s writer, os.Stderr by default.
// Messages that go-xla logs through klog while New probes plugins (e.g. about a file that is
// not a loadable plugin) are dropped, since the report states the outcome; to do that, New
// routes klog's text output through its own writer, which passes everything else on to
// os.Stderr unchanged (replacing any klog logger the program set before). Lines that go-xla
// logs during package initialization, before New runs, cannot be suppressed.
//
// The go backend is built with [GoConfig] (see there for why), also by [Go], which tests and
// benchmarks use to get the go backend whatever the environment says.
//
// The backend is built once and shared by every caller of New: do not Finalize it (if one
// does, the next New quietly builds a fresh one the same way).
package backend

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // Registers the "go" backend.
	"k8s.io/klog/v2"
)

// AutoInstallEnv names the environment variable that opts in to installing a PJRT plugin when
// $GOMLX_BACKEND asks for XLA (or is unset) and none is installed. "1" or "true" allows the
// install for up to [DefaultAutoInstallTimeout]; a Go duration ("20m") sets the bound. The
// install runs only if the download hosts answer a short probe, and is abandoned (the go
// backend is used) when the bound passes. $GOMLX_NO_AUTO_INSTALL, when set, forbids it.
// go-xla's installer prints a progress spinner on stdout while it downloads.
const AutoInstallEnv = "ACTADD_PJRT_AUTO_INSTALL"

// DefaultAutoInstallTimeout bounds an opted-in plugin install (see [AutoInstallEnv]).
const DefaultAutoInstallTimeout = 10 * time.Minute

// GoConfig is the configuration of the go backend that New builds for "go" (given or as the
// fallback): GoMLX's go backend with its graph ops run one after the other. By default it runs
// independent graph ops on parallel executors, but the idle executors keep their slots in the
// backend's worker pool, so a matmul, which splits itself over that pool, gets a single worker
// and the forward pass runs on about one core; ops_sequential lets every matmul use all cores
// (the measurements are in environment.md, "Performance").
const GoConfig = "go:ops_sequential"

var (
	goOnce    sync.Once
	goBackend compute.Backend
	goErr     error
)

// Go returns a go backend built with [GoConfig], shared by its callers, without looking at
// $GOMLX_BACKEND and without writing a report. Tests and benchmarks use it.
func Go() (compute.Backend, error) {
	goOnce.Do(func() { goBackend, goErr = construct(GoConfig) })
	return goBackend, goErr
}

// TestEnv names the environment variable that moves the project's tests and Go benchmarks off
// the go backend: with ACTADD_TEST_BACKEND=selected they run on the backend New selects
// ($GOMLX_BACKEND, else a PJRT plugin when installed), so that the same reference checks
// (logits against a float64 forward, KV cache against recomputation, ...) cover XLA too.
const TestEnv = "ACTADD_TEST_BACKEND"

// ForTests returns the backend tests run on: Go's, or New's when $ACTADD_TEST_BACKEND is
// "selected". Any other non-empty value is an error, so that a typo does not silently test the
// go backend.
func ForTests() (compute.Backend, error) {
	switch v := os.Getenv(TestEnv); v {
	case "":
		return Go()
	case "selected":
		b, _, err := New()
		return b, err
	default:
		return nil, fmt.Errorf("backend: %s=%q: use \"selected\" (the backend New picks) or leave it unset (the go backend)", TestEnv, v)
	}
}

// probeTimeout bounds the reachability check of the plugin download hosts.
const probeTimeout = 3 * time.Second

var (
	outMu  sync.Mutex
	output io.Writer = os.Stderr

	mu       sync.Mutex
	selected bool
	shared   compute.Backend
	config   string // the configuration that built shared, to rebuild it if finalized
	desc     string
	selErr   error
)

// SetOutput sets where New writes its one-time report (os.Stderr by default) and returns the
// previous writer. Tests use it; a nil w discards the report.
func SetOutput(w io.Writer) io.Writer {
	outMu.Lock()
	defer outMu.Unlock()
	if w == nil {
		w = io.Discard
	}
	prev := output
	output = w
	return prev
}

func report(format string, args ...any) {
	line := oneLine(fmt.Sprintf(format, args...))
	outMu.Lock()
	defer outMu.Unlock()
	_, _ = fmt.Fprintln(output, line)
}

var (
	klogOnce  sync.Once
	klogQuiet atomic.Bool
)

// quietKlog routes klog's text output through a writer that drops it while the returned flag
// is true (it is set on return) and otherwise forwards it to os.Stderr.
func quietKlog() *atomic.Bool {
	klogOnce.Do(func() {
		klog.SetLoggerWithOptions(logr.Discard(), klog.WriteKlogBuffer(func(b []byte) {
			if !klogQuiet.Load() {
				_, _ = os.Stderr.Write(b)
			}
		}))
	})
	klogQuiet.Store(true)
	return &klogQuiet
}

// New returns the program's compute backend and a one-line description of it, such as
// "backend: go (pure Go, GOEXPERIMENT=simd, ops_sequential)" or "backend: xla:cuda (PJRT plugin /path/...)".
// The first call selects and builds the backend (see the package documentation) and writes
// the report; later calls return the same backend. It returns an error only if not even the
// go backend can be built.
func New() (compute.Backend, string, error) {
	mu.Lock()
	defer mu.Unlock()
	if !selected {
		selected = true
		quiet := quietKlog()
		shared, config, desc, selErr = selectBackend(os.LookupEnv)
		quiet.Store(false)
		if selErr != nil {
			report("backend: no usable backend: %v", selErr)
		} else {
			report("%s", desc)
			if w := slowGoWarning(shared); w != "" {
				report("%s", w)
			}
		}
		return shared, desc, selErr
	}
	if selErr == nil && shared.IsFinalized() {
		// Someone finalized the shared backend: quietly build a fresh one the same way.
		b, err := construct(config)
		if err != nil {
			return nil, desc, fmt.Errorf("backend: rebuilding finalized backend %q: %w", config, err)
		}
		shared = b
	}
	return shared, desc, selErr
}

// Describe returns a short name for b, for figure labels and logs: "go", "xla:cpu",
// "xla:cuda", "xla:<plugin>" for other PJRT plugins, or b.String() for other backends.
func Describe(b compute.Backend) string {
	if b == nil {
		return "none"
	}
	if name, ok := describeXLA(b); ok {
		return name
	}
	return b.String()
}

// selectBackend implements New's policy; lookup reads the environment.
func selectBackend(lookup func(string) (string, bool)) (b compute.Backend, cfg, description string, err error) {
	disableXLAAutoInstall()
	requested, _ := lookup(compute.ConfigEnvVar)
	requested = strings.TrimSpace(requested)

	var failure, note string
	if requested == "go" {
		requested = GoConfig
	}
	if requested != "" {
		cfg = requested
		if isXLAConfig(requested) {
			if e := ensurePlugin(requested, lookup); e != nil {
				failure = e.Error()
			}
		}
		if failure == "" {
			cfg = float32Matmuls(requested)
			setUpCompileCache(cfg, lookup)
			b, err = construct(cfg)
			if err == nil {
				return b, cfg, describeLine(b, cfg), nil
			}
			failure = err.Error()
		}
		report("backend: %s=%q failed: %s; falling back to go", compute.ConfigEnvVar, requested, failure)
	} else {
		plugins := availablePlugins()
		if len(plugins) == 0 {
			if !xlaCompiled {
				note = "XLA not compiled in"
			} else if bound, _ := autoInstallBound(lookup); bound == 0 {
				note = "no PJRT plugin found"
				if _, err := autoInstallSetting(lookup); err != nil {
					note += "; " + err.Error()
				}
			} else if e := ensurePlugin("xla", lookup); e != nil {
				note = e.Error()
			} else {
				plugins = availablePlugins()
			}
		}
		if len(plugins) > 0 {
			cfg = float32Matmuls("xla")
			setUpCompileCache(cfg, lookup)
			b, err = construct(cfg)
			if err == nil {
				return b, cfg, describeLine(b, cfg), nil
			}
			report("backend: default XLA backend (PJRT plugins %s) failed: %s; falling back to go", strings.Join(plugins, ", "), err.Error())
		}
	}

	cfg = GoConfig
	b, err = construct(cfg)
	if err != nil {
		return nil, "", "", err
	}
	description = describeLine(b, cfg)
	if note != "" {
		description = strings.TrimSuffix(description, ")") + "; " + note + ")"
	}
	return b, cfg, description, nil
}

// float32Matmuls returns an XLA configuration with TF32 matmuls turned off ("notf32"), unless
// cfg already says "tf32", "tf32=…" or "notf32"; other configurations are returned as given.
// go-xla turns TF32 on by default on CUDA, which rounds matmul inputs to 10-bit mantissas: on an
// H200 (benchmarks/device), the gpt2 package's float64-reference checks then fail (logits off by
// 1.3e-4 where float32 keeps them within 1e-4) and pass with TF32 off. Steering results should
// not depend on the GPU's generation, and PyTorch, which the paper used, keeps float32 matmuls
// by default, so exact float32 is the default here too.
func float32Matmuls(cfg string) string {
	if !isXLAConfig(cfg) {
		return cfg
	}
	name, rest, _ := strings.Cut(cfg, ":")
	opts := strings.Split(rest, ",")
	for _, o := range opts[1:] {
		if o == "tf32" || o == "notf32" || strings.HasPrefix(o, "tf32=") {
			return cfg
		}
	}
	return name + ":" + rest + ",notf32"
}

// construct builds the backend for a GOMLX_BACKEND-style configuration, turning panics into
// errors.
func construct(cfg string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("GoMLX rejected it: %v", r)
		}
	}()
	b, err = compute.NewWithConfig(cfg)
	if err == nil && b == nil {
		err = fmt.Errorf("backend constructor returned nil")
	}
	return b, err
}

// isXLAConfig reports whether cfg names the go-xla backend (registered as xla, stablehlo,
// hlo and shlo).
func isXLAConfig(cfg string) bool {
	name, _, _ := strings.Cut(cfg, ":")
	switch name {
	case "xla", "stablehlo", "hlo", "shlo":
		return true
	}
	return false
}

// describeLine is the one-line report for a backend built from cfg; for the go backend it
// names cfg's options (e.g. "ops_sequential").
func describeLine(b compute.Backend, cfg string) string {
	name := Describe(b)
	if name == "go" {
		note := goBuildNote()
		if _, opts, ok := strings.Cut(cfg, ":"); ok && opts != "" {
			note += ", " + opts
		}
		return "backend: go (pure Go, " + note + ")"
	}
	if path := pluginPath(b); path != "" {
		precision := ""
		switch {
		case usesTF32(b):
			precision = "; TF32 matmuls (about 3 significant digits), as GOMLX_BACKEND asks"
		case name == "xla:cuda":
			precision = "; float32 matmuls, TF32 off: add ,tf32 to GOMLX_BACKEND to trade precision for speed"
		}
		if compileCacheNote != "" {
			precision += "; " + compileCacheNote
		}
		return fmt.Sprintf("backend: %s (PJRT plugin %s%s)", name, path, precision)
	}
	return fmt.Sprintf("backend: %s (%s)", name, b.Description())
}

func goBuildNote() string {
	if simdEnabled {
		return "GOEXPERIMENT=simd"
	}
	return "no GOEXPERIMENT=simd"
}

// slowGoWarning returns a warning line when b is the go backend in a build or run that makes
// it needlessly slow, or "".
func slowGoWarning(b compute.Backend) string {
	if Describe(b) != "go" {
		return ""
	}
	const fix = "build and run with GOEXPERIMENT=simd GODEBUG=asyncpreemptoff=1"
	switch {
	case !simdEnabled:
		return "backend: warning: this binary was built without GOEXPERIMENT=simd, so the go backend's matmul is ~7x slower; " + fix
	case !asyncPreemptOff():
		return "backend: warning: GODEBUG=asyncpreemptoff=1 is not set, so math (exp, tanh) in this GOEXPERIMENT=simd binary can run ~100x slower; " + fix
	}
	return ""
}

// asyncPreemptOff reports whether asynchronous preemption is disabled: by $GODEBUG (the last
// setting wins) or else by the binary's default GODEBUG (//go:debug directives).
func asyncPreemptOff() bool {
	if v, ok := godebugValue(os.Getenv("GODEBUG"), "asyncpreemptoff"); ok {
		return v == "1"
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "DefaultGODEBUG" {
				if v, ok := godebugValue(s.Value, "asyncpreemptoff"); ok {
					return v == "1"
				}
			}
		}
	}
	return false
}

// godebugValue returns the last value of key in a comma-separated GODEBUG string.
func godebugValue(godebug, key string) (value string, found bool) {
	for kv := range strings.SplitSeq(godebug, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && k == key {
			value, found = v, true
		}
	}
	return value, found
}

// oneLine collapses all whitespace runs (including newlines) to single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// autoInstallBound returns the opted-in install bound, or 0 and the reason it is off.
func autoInstallBound(lookup func(string) (string, bool)) (time.Duration, string) {
	if _, no := lookup("GOMLX_NO_AUTO_INSTALL"); no {
		return 0, "auto-install disabled by GOMLX_NO_AUTO_INSTALL"
	}
	d, err := autoInstallSetting(lookup)
	switch {
	case err != nil:
		return 0, err.Error()
	case d == 0:
		return 0, "install one (go-xla's installer) and/or point PJRT_PLUGIN_LIBRARY_PATH at it, or set " + AutoInstallEnv + "=1"
	}
	return d, ""
}

// autoInstallSetting parses $ACTADD_PJRT_AUTO_INSTALL: the install bound, 0 when it is off, or
// an error for a value that is neither a boolean nor a positive duration.
func autoInstallSetting(lookup func(string) (string, bool)) (time.Duration, error) {
	v, _ := lookup(AutoInstallEnv)
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return 0, nil
	case "1", "true", "yes", "on":
		return DefaultAutoInstallTimeout, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q is neither a boolean nor a positive duration", AutoInstallEnv, v)
	}
	return d, nil
}
