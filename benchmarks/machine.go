package benchmarks

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/actadd-go/actadd/backend"
)

// Machine describes where a run happened.
type Machine struct {
	CPU string `json:"cpu"`
	// CPUID is the vendor, family, model and stepping from /proc/cpuinfo ("GenuineIntel family
	// 6 model 207 stepping 2"): model names such as "Intel(R) Xeon(R) Processor" do not say
	// which generation a virtual machine runs on.
	CPUID string `json:"cpuid"`
	// Features are the instruction-set flags that decide which kernels run (AVX2, AVX-512,
	// AMX), and "hypervisor" in a virtual machine.
	Features   []string `json:"features"`
	GPU        string   `json:"gpu,omitempty"` // the first NVIDIA GPU's model, when there is one
	Cores      int      `json:"cores"`         // logical CPUs the process may use
	GOMAXPROCS int      `json:"gomaxprocs"`
	MemoryGiB  float64  `json:"memory_gib"`
	Kernel     string   `json:"kernel"`
	GoVersion  string   `json:"go_version"`
	GOAMD64    string   `json:"goamd64,omitempty"`
	// GOEXPERIMENT and GODEBUG as the binary was built and run with.
	GOEXPERIMENT string `json:"goexperiment"`
	GODEBUG      string `json:"godebug"`
	GitCommit    string `json:"git_commit,omitempty"`
	GitDirty     bool   `json:"git_dirty,omitempty"`
	// ThreadEnv holds every OMP_*, OPENBLAS_*, MKL_*, GOMP_* and KMP_* variable inherited
	// from the environment (an OPENBLAS_CORETYPE there changes OpenBLAS's kernel).
	ThreadEnv map[string]string `json:"thread_env"`
}

// features are the /proc/cpuinfo flags Machine.Features reports.
var features = []string{"avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "hypervisor"}

// MachineInfo collects Machine; fields it cannot read stay empty.
func MachineInfo() Machine {
	m := Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), GODEBUG: os.Getenv("GODEBUG"),
		ThreadEnv: inheritedThreadEnv(), GPU: backend.GPUModel()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		cpu := map[string]string{}
		s := bufio.NewScanner(f)
		s.Buffer(nil, 1<<20)
		for s.Scan() && s.Text() != "" { // the first processor's block
			if k, v, ok := strings.Cut(s.Text(), ":"); ok {
				cpu[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		f.Close()
		m.CPU = cpu["model name"]
		m.CPUID = fmt.Sprintf("%s family %s model %s stepping %s", cpu["vendor_id"], cpu["cpu family"], cpu["model"], cpu["stepping"])
		flags := strings.Fields(cpu["flags"])
		for _, f := range features {
			if slices.Contains(flags, f) {
				m.Features = append(m.Features, f)
			}
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if fs := strings.Fields(s.Text()); len(fs) >= 2 && fs[0] == "MemTotal:" {
				kb, _ := strconv.ParseFloat(fs[1], 64)
				m.MemoryGiB = float64(int(kb/(1<<20)*10+0.5)) / 10
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "GOEXPERIMENT":
				m.GOEXPERIMENT = s.Value
			case "GOAMD64":
				m.GOAMD64 = s.Value
			}
		}
	}
	if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
		m.GitCommit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
			m.GitDirty = len(strings.TrimSpace(string(st))) > 0
		}
	}
	return m
}

// loadAverage is the first three fields of /proc/loadavg, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
