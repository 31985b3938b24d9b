package benchmarks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
)

// TorchInfo describes the PyTorch reference's setup.
type TorchInfo struct {
	Python  string `json:"python"`
	Version string `json:"version"`
	Threads int    `json:"threads"`
	BLAS    string `json:"blas"` // the BLAS libraries loaded into the process (and the GPU, on cuda)
	Device  string `json:"device"`
	// Env is the threading environment the reference ran with (see torchEnv).
	Env map[string]string `json:"env"`
}

// TorchForward is the PyTorch reference's forward timing (same shapes, same A/B pattern).
type TorchForward struct {
	WarmupBase  float64   `json:"warmup_base"`
	WarmupSteer float64   `json:"warmup_steer"`
	Base        []float64 `json:"base"`
	Steer       []float64 `json:"steer"`
	BaseMean    float64   `json:"base_mean"`
	SteerMean   float64   `json:"steer_mean"`
	PremiumPct  float64   `json:"premium_pct"`
}

// TorchGen is the PyTorch reference's generation timing.
type TorchGen struct {
	Seconds         float64 `json:"seconds"`
	TokensPerSecond float64 `json:"tokens_per_second"`
}

// torchRunner runs torch_reference.py, one subcommand per measurement, so that each PyTorch
// measurement runs right next to the Go one it is compared with.
type torchRunner struct {
	python, script string
	threads        int
	device         string // "cpu" or "cuda"; "" means cpu
	log            io.Writer
}

// openblasDir holds Debian's pthread OpenBLAS; putting it first on LD_LIBRARY_PATH makes
// PyTorch use it whatever the libblas.so.3 alternative points to.
const openblasDir = "/usr/lib/x86_64-linux-gnu/openblas-pthread"

// torchEnv is the reference's threading environment: threads for OpenMP and OpenBLAS and, unless
// the caller's environment sets them, threads that sleep instead of spinning when idle. Debian's
// PyTorch runs elementwise ops on OpenMP threads and matmuls on OpenBLAS's own threads; with
// both spinning on 2 cores they starve each other (measured: a batch-32 decode step 0.20 s
// spinning vs 0.07 s passive; 1.2–1.7 s vs 0.2 s with another job running), and the
// forward pass was no slower (3.1–3.3 s).
func (t *torchRunner) torchEnv() map[string]string {
	th := strconv.Itoa(t.threads)
	env := map[string]string{"OMP_NUM_THREADS": th, "OPENBLAS_NUM_THREADS": th, "MKL_NUM_THREADS": th}
	for k, v := range map[string]string{"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"} {
		env[k] = v
		if own, ok := os.LookupEnv(k); ok {
			env[k] = own
		}
	}
	if st, err := os.Stat(openblasDir); err == nil && st.IsDir() {
		env["LD_LIBRARY_PATH"] = openblasDir
		if v := os.Getenv("LD_LIBRARY_PATH"); v != "" {
			env["LD_LIBRARY_PATH"] += ":" + v
		}
	}
	return env
}

func (t *torchRunner) run(out any, args ...string) error {
	if t.device != "" {
		args = append(args, "--device", t.device)
	}
	cmd := exec.Command(t.python, append([]string{t.script}, args...)...)
	cmd.Env = os.Environ()
	for k, v := range t.torchEnv() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = t.log
	if t.log == nil {
		cmd.Stderr = io.Discard
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("PyTorch reference (%s %s %s): %w; install it with `make bench` (Debian python3-torch, libopenblas0-pthread) or skip it with -python=''",
			t.python, t.script, strings.Join(args, " "), err)
	}
	// The result is the last line of stdout.
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), out); err != nil {
		return fmt.Errorf("PyTorch reference %s: parsing its output %q: %w", args[0], lines[len(lines)-1], err)
	}
	return nil
}

func (t *torchRunner) info() (*TorchInfo, error) {
	var info TorchInfo
	if err := t.run(&info, "info", "--threads", strconv.Itoa(t.threads)); err != nil {
		return nil, err
	}
	info.Env = t.torchEnv()
	return &info, nil
}

func shapeArgs(cfg checkpoint.Config) []string {
	return []string{"--n-layer", strconv.Itoa(cfg.NLayer), "--n-embd", strconv.Itoa(cfg.NEmbd), "--n-head", strconv.Itoa(cfg.NHead),
		"--vocab", strconv.Itoa(cfg.VocabSize), "--n-positions", strconv.Itoa(cfg.NPositions)}
}

func (t *torchRunner) forward(cfg checkpoint.Config, batch, seq, reps, layer, steerTokens int) (*TorchForward, error) {
	var r TorchForward
	args := append([]string{"forward", "--threads", strconv.Itoa(t.threads)}, shapeArgs(cfg)...)
	args = append(args, "--batch", strconv.Itoa(batch), "--seq", strconv.Itoa(seq), "--reps", strconv.Itoa(reps),
		"--steer-layer", strconv.Itoa(layer), "--steer-tokens", strconv.Itoa(steerTokens))
	if err := t.run(&r, args...); err != nil {
		return nil, err
	}
	return &r, nil
}

func (t *torchRunner) generate(cfg checkpoint.Config, g *GenResult) (*TorchGen, error) {
	var r TorchGen
	args := append([]string{"generate", "--threads", strconv.Itoa(t.threads)}, shapeArgs(cfg)...)
	args = append(args, "--rows", strconv.Itoa(g.Rows), "--new-tokens", strconv.Itoa(g.NewTokens),
		"--prompt-tokens", strconv.Itoa(g.PromptTokens), "--batch", strconv.Itoa(g.Batch),
		"--temperature", fmt.Sprint(g.Sampling.Temperature), "--top-p", fmt.Sprint(g.Sampling.TopP),
		"--freq-penalty", fmt.Sprint(g.Sampling.FreqPenalty))
	if err := t.run(&r, args...); err != nil {
		return nil, err
	}
	return &r, nil
}
