package benchmarks

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
)

// The PyTorch reference (torch_reference.py) runs as a server process per model shape and
// setup: it builds its model once and answers one command per line, so that its repetitions
// interleave with the Go ones.

// RefSetup is one configuration of the PyTorch reference.
type RefSetup struct {
	// BLAS is the OpenBLAS build put first on LD_LIBRARY_PATH (Debian's alternatives):
	// "openblas-pthread", where PyTorch's elementwise ops run on its OpenMP threads and the
	// matmuls on OpenBLAS's own pthreads (two thread pools), or "openblas-openmp", where both
	// share one OpenMP pool. "" leaves the library as the system resolves it (GPU runs).
	BLAS string `json:"blas"`
	// CoreType is the OPENBLAS_CORETYPE given ("" lets OpenBLAS detect the CPU).
	CoreType string `json:"core_type"`
	Threads  int    `json:"threads"`
	// Prealloc writes the logits into buffers kept between calls instead of fresh tensors.
	Prealloc bool `json:"prealloc"`
}

func (s RefSetup) String() string {
	blas := s.BLAS
	if blas == "" {
		blas = "system BLAS"
	}
	core := s.CoreType
	if core == "" {
		core = "detected"
	}
	alloc := "fresh outputs"
	if s.Prealloc {
		alloc = "preallocated outputs"
	}
	return fmt.Sprintf("%s (core %s), %d threads, %s", blas, core, s.Threads, alloc)
}

// TorchInfo describes a reference process as it reports itself.
type TorchInfo struct {
	Python  string `json:"python"`
	Version string `json:"version"`
	Threads int    `json:"threads"`
	BLAS    string `json:"blas"` // the BLAS libraries loaded into the process (and the GPU, on cuda)
	// OpenBLAS is OpenBLAS's own report: the core type (kernel) in use, its build and threading.
	OpenBLAS *struct {
		Core     string `json:"core"`
		Config   string `json:"config"`
		Parallel string `json:"parallel"`
		Threads  int    `json:"threads"`
	} `json:"openblas"`
	Parallel string            `json:"parallel"` // torch.__config__.parallel_info()
	Device   string            `json:"device"`
	Env      map[string]string `json:"env"` // the threading environment the process ran with
}

// CoreProbe is the speed of the model's largest matmul with one OPENBLAS_CORETYPE.
type CoreProbe struct {
	CoreType string  `json:"core_type"` // "" = OpenBLAS's detection
	Core     string  `json:"core"`      // the kernel OpenBLAS reports using
	GFLOPS   float64 `json:"gflops"`
	Error    string  `json:"error,omitempty"`
}

// Calibration is one setup's timing in the short run that picks the reference's setup.
type Calibration struct {
	Setup          RefSetup `json:"setup"`
	ForwardSeconds float64  `json:"forward_seconds"` // the fastest of the calibration forward passes
	// GreedySeconds is the fastest time of a short greedy batch (prefill and a few steps).
	GreedySeconds float64 `json:"greedy_seconds"`
}

// Reference records how the PyTorch reference ran.
type Reference struct {
	Python string `json:"python"`
	Script string `json:"script"`
	Device string `json:"device"`
	// Inherited are the OMP_*, OPENBLAS_*, MKL_*, GOMP_* and KMP_* variables of the environment
	// make bench ran in. The reference runs without them (it sets its own), unless
	// InheritEnv, so that a stray OPENBLAS_CORETYPE does not slow it down unseen.
	Inherited  map[string]string `json:"inherited_env"`
	InheritEnv bool              `json:"inherit_env"`
	// CoreProbes are the candidate core types (each the faster of two rounds), the fastest
	// chosen (CoreType).
	CoreProbes []CoreProbe `json:"core_probes,omitempty"`
	CoreType   string      `json:"core_type"`
	// Calibration times each BLAS build with fresh and preallocated outputs; Forward and
	// Generation are the fastest setups for each workload, which the comparisons use.
	Calibration []Calibration `json:"calibration,omitempty"`
	Forward     RefSetup      `json:"forward_setup"`
	Generation  RefSetup      `json:"generation_setup"`
	Info        *TorchInfo    `json:"info"`
}

// refRunner starts reference processes.
type refRunner struct {
	python, script, device string
	inherit                bool
	log                    io.Writer
	servers                map[string]*torchServer
}

// libDir is where Debian installs its OpenBLAS builds.
const libDir = "/usr/lib/x86_64-linux-gnu/"

// threadVars are the prefixes of the threading variables the reference sets itself.
var threadVars = []string{"OMP_", "OPENBLAS_", "MKL_", "GOMP_", "KMP_"}

func isThreadVar(k string) bool {
	return slices.ContainsFunc(threadVars, func(p string) bool { return strings.HasPrefix(k, p) })
}

// inheritedThreadEnv returns the threading variables of this process's environment.
func inheritedThreadEnv() map[string]string {
	out := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && isThreadVar(k) {
			out[k] = v
		}
	}
	return out
}

// blasBuilds returns the Debian OpenBLAS builds installed, two pools first.
func blasBuilds() []string {
	var out []string
	for _, b := range []string{"openblas-pthread", "openblas-openmp"} {
		if st, err := os.Stat(libDir + b); err == nil && st.IsDir() {
			out = append(out, b)
		}
	}
	return out
}

// env is the environment of a reference process with setup s: the threads, idle threads that
// sleep instead of spinning (with two pools on two cores, spinning ones starve each other; see
// benchmarks/README.md), the BLAS build and core type.
func (r *refRunner) env(s RefSetup) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if r.inherit || (!isThreadVar(k) && k != "LD_LIBRARY_PATH") {
			env = append(env, kv)
		}
	}
	th := strconv.Itoa(s.Threads)
	set := map[string]string{"OMP_NUM_THREADS": th, "OPENBLAS_NUM_THREADS": th, "MKL_NUM_THREADS": th,
		"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}
	if s.CoreType != "" {
		set["OPENBLAS_CORETYPE"] = s.CoreType
	}
	ld := os.Getenv("LD_LIBRARY_PATH")
	if s.BLAS != "" {
		ld = strings.TrimSuffix(libDir+s.BLAS+":"+ld, ":")
	}
	if ld != "" {
		set["LD_LIBRARY_PATH"] = ld
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, own := os.LookupEnv(k); r.inherit && own && k != "LD_LIBRARY_PATH" {
			continue
		}
		env = append(env, k+"="+set[k])
	}
	return env
}

func shapeArgs(cfg checkpoint.Config) []string {
	return []string{"--n-layer", strconv.Itoa(cfg.NLayer), "--n-embd", strconv.Itoa(cfg.NEmbd), "--n-head", strconv.Itoa(cfg.NHead),
		"--vocab", strconv.Itoa(cfg.VocabSize), "--n-positions", strconv.Itoa(cfg.NPositions)}
}

func (r *refRunner) failure(what string, err error) error {
	return fmt.Errorf("PyTorch reference (%s %s) %s: %w; install it with `make bench` (Debian python3-torch, libopenblas0-pthread, libopenblas0-openmp) or skip it with -python=''",
		r.python, r.script, what, err)
}

// probe measures one core type's matmul speed in a short-lived process.
func (r *refRunner) probe(cfg checkpoint.Config, rows int, s RefSetup) CoreProbe {
	p := CoreProbe{CoreType: s.CoreType}
	args := append([]string{r.script, "probe", "--threads", strconv.Itoa(s.Threads), "--rows", strconv.Itoa(rows)}, shapeArgs(cfg)...)
	cmd := exec.Command(r.python, args...)
	cmd.Env = r.env(s)
	out, err := cmd.Output()
	if err != nil {
		p.Error = err.Error()
		return p
	}
	var res struct {
		GFLOPS   float64    `json:"gflops"`
		OpenBLAS *CoreProbe `json:"openblas"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		p.Error = err.Error()
		return p
	}
	p.GFLOPS = res.GFLOPS
	if res.OpenBLAS != nil {
		p.Core = res.OpenBLAS.Core
	}
	return p
}

// torchServer is one running reference process.
type torchServer struct {
	setup RefSetup
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	info  *TorchInfo
}

// server returns the running reference for a model shape and setup (Prealloc aside, which is
// per call), starting it if needed.
func (r *refRunner) server(shape string, cfg checkpoint.Config, s RefSetup) (*torchServer, error) {
	return r.serverArgs(shape, shapeArgs(cfg), s)
}

// serverArgs is server for a model given by the script's shape arguments.
func (r *refRunner) serverArgs(shape string, shapeArgs []string, s RefSetup) (*torchServer, error) {
	key := fmt.Sprintf("%s|%s|%s|%d", shape, s.BLAS, s.CoreType, s.Threads)
	if srv, ok := r.servers[key]; ok {
		srv.setup = s
		return srv, nil
	}
	args := append([]string{r.script, "serve", "--threads", strconv.Itoa(s.Threads), "--device", r.device}, shapeArgs...)
	cmd := exec.Command(r.python, args...)
	cmd.Env = r.env(s)
	cmd.Stderr = r.log
	if r.log == nil {
		cmd.Stderr = io.Discard
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, r.failure("did not start", err)
	}
	srv := &torchServer{setup: s, cmd: cmd, in: in, out: bufio.NewReaderSize(stdout, 1<<20)}
	var ready struct{ Ready bool }
	if err := srv.read(&ready); err != nil || !ready.Ready {
		srv.close()
		return nil, r.failure("did not start", fmt.Errorf("no ready line: %v", err))
	}
	srv.info = &TorchInfo{}
	if err := srv.call(map[string]any{"op": "info"}, srv.info); err != nil {
		srv.close()
		return nil, r.failure("info", err)
	}
	if r.servers == nil {
		r.servers = map[string]*torchServer{}
	}
	r.servers[key] = srv
	return srv, nil
}

// release stops the reference processes of a model shape.
func (r *refRunner) release(shape string) {
	for k, srv := range r.servers {
		if strings.HasPrefix(k, shape+"|") {
			srv.close()
			delete(r.servers, k)
		}
	}
}

func (r *refRunner) closeAll() {
	for k, srv := range r.servers {
		srv.close()
		delete(r.servers, k)
	}
}

func (s *torchServer) read(out any) error {
	line, err := s.out.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading its answer: %w", err)
	}
	var e struct{ Error string }
	if json.Unmarshal(line, &e) == nil && e.Error != "" {
		return fmt.Errorf("%s", e.Error)
	}
	if err := json.Unmarshal(line, out); err != nil {
		return fmt.Errorf("parsing its answer %q: %w", strings.TrimSpace(string(line)), err)
	}
	return nil
}

// call sends one command and reads its answer.
func (s *torchServer) call(cmd map[string]any, out any) error {
	if _, ok := cmd["prealloc"]; !ok {
		cmd["prealloc"] = s.setup.Prealloc
	}
	line, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("PyTorch reference %s: %w", cmd["op"], err)
	}
	if err := s.read(out); err != nil {
		return fmt.Errorf("PyTorch reference %s: %w", cmd["op"], err)
	}
	return nil
}

// seconds runs a command that answers {"seconds": …}.
func (s *torchServer) seconds(cmd map[string]any) (float64, error) {
	var r struct{ Seconds float64 }
	err := s.call(cmd, &r)
	return r.Seconds, err
}

func (s *torchServer) close() {
	if s.in != nil {
		_, _ = s.in.Write([]byte(`{"op":"quit"}` + "\n"))
		_ = s.in.Close()
	}
	_ = s.cmd.Wait()
}
