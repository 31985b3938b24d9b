package nbutil

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/actadd-go/actadd/progress"
)

// setNotebook pretends the test runs as a GoNB cell (or not) until it ends.
func setNotebook(t *testing.T, on bool) {
	prev := inNotebook
	inNotebook = on
	t.Cleanup(func() { inNotebook = prev })
}

// Informational lines show as ordinary output in a notebook (stderr shows pink, like an
// error) and go to stderr in a console program, whose stdout holds its results; an
// experiment's progress and header lines go there too.
func TestInfoLinesAreOrdinaryOutputInANotebook(t *testing.T) {
	t.Setenv(ModelEnv, "")
	t.Setenv(RunsEnv, "off")
	for _, c := range []struct {
		notebook bool
		want     *os.File
	}{{true, os.Stdout}, {false, os.Stderr}} {
		setNotebook(t, c.notebook)
		t.Cleanup(resetInterrupt)
		if got := Info(); got != c.want {
			t.Errorf("notebook %v: Info() is %v, want %v", c.notebook, got, c.want.Name())
		}
		cfg, err := Config(configFlags(t, "--scale=quick"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Progress != io.Writer(c.want) {
			t.Errorf("notebook %v: the experiment's progress goes to %v, want %s", c.notebook, cfg.Progress, c.want.Name())
		}
		if (cfg.Context != nil) != c.notebook {
			t.Errorf("notebook %v: the config's Context is %v", c.notebook, cfg.Context)
		}
	}
}

// resetInterrupt forgets the interrupt state Config made.
func resetInterrupt() {
	interruptMu.Lock()
	cellCtx, runsOff = nil, false
	interruptMu.Unlock()
	endOnce = sync.Once{}
	lastMu.Lock()
	lastProgress = nil
	lastMu.Unlock()
}

// captureStdout runs f with os.Stdout going to a pipe and returns what f wrote.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	prev := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = prev }()
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	f()
	w.Close()
	return <-done
}

// Interrupting an experiment cell (Jupyter sends SIGINT) stops the experiment through its
// config's Context, and Check says where it stopped and that a rerun resumes, on stdout, and
// ends the cell without an error (GoNB would show "signal: interrupt" twice, once in red).
func TestInterruptedExperimentSaysWhereItStopped(t *testing.T) {
	t.Setenv(ModelEnv, "")
	t.Setenv(RunsEnv, t.TempDir())
	setNotebook(t, true)
	t.Cleanup(resetInterrupt)
	cfg, err := Config(configFlags(t, "--scale=quick"))
	if err != nil {
		t.Fatal(err)
	}
	lastMu.Lock()
	lastProgress = &progress.Status{What: "E2 wedding sweep", Unit: "completions", Done: 120, Total: 400}
	lastMu.Unlock()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cfg.Context.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGINT did not end the config's Context")
	}
	code := -1
	prev := exit
	exit = func(c int) { code = c }
	t.Cleanup(func() { exit = prev })
	out := captureStdout(t, func() { Check(errors.Join(errors.New("sweep: stopped"), context.Canceled)) })
	want := "interrupted at 120 of 400 completions (E2 wedding sweep); run the cell again to resume"
	if !strings.Contains(out, want) {
		t.Errorf("Check after the interrupt printed %q, want %q", out, want)
	}
	if code != 0 {
		t.Errorf("Check after the interrupt exited with %d, want 0 (no error: the cell was stopped on purpose)", code)
	}
}
