package actadd_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/actadd-go/actadd/actadd"
)

const loadChildEnv = "ACTADD_LOAD_TEST_CHILD"

// TestLoadChild is the body of TestLoadTinyOnDefaultBackend's child process.
func TestLoadChild(t *testing.T) {
	if os.Getenv(loadChildEnv) != "1" {
		t.Skip("helper for TestLoadTinyOnDefaultBackend")
	}
	m, err := actadd.Load("tiny")
	if err != nil {
		fmt.Printf("ERR=%v\n", err)
		return
	}
	out, err := m.Generate([]string{"I went up to my friend and said"}, actadd.GenerateOptions{MaxNewTokens: 3}, actadd.Pair(" weddings", "", 1).AtLayer(1))
	if err != nil {
		fmt.Printf("ERR=%v\n", err)
		return
	}
	fmt.Printf("LABEL=%s\nNEW=%d\n", m.Label(), len(out[0].Generated()))
}

// TestLoadTinyOnDefaultBackend loads the tiny model by name in a fresh process with
// GOMLX_BACKEND unset and no PJRT plugin: it must generate on the go backend, say so in exactly
// one line, and name the model as the random stand-in.
func TestLoadTinyOnDefaultBackend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // catches hangs only
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLoadChild$", "-test.v")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMLX_BACKEND=") && !strings.HasPrefix(kv, "PJRT_PLUGIN_LIBRARY_PATH=") && !strings.HasPrefix(kv, "HF_") {
			env = append(env, kv)
		}
	}
	cache := t.TempDir()
	cmd.Env = append(env, loadChildEnv+"=1", "PJRT_PLUGIN_LIBRARY_PATH=", "HF_HUB_CACHE="+cache, "HF_HUB_OFFLINE=1", "HOME="+cache)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String(), "ERR=") {
		t.Fatalf("child: %s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "NEW=3") || !strings.Contains(stdout.String(), "LABEL=tiny (random-weight stand-in, not GPT-2) on go") {
		t.Errorf("unexpected child output:\n%s", stdout.String())
	}
	var backendLines []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "backend:") {
			backendLines = append(backendLines, l)
		}
	}
	if len(backendLines) != 1 || !strings.HasPrefix(backendLines[0], "backend: go") {
		t.Errorf("want exactly one line saying the go backend is used, got %q (stderr:\n%s)", backendLines, stderr.String())
	}
	if strings.Contains(stderr.String(), "goroutine ") {
		t.Errorf("stack trace on stderr:\n%s", stderr.String())
	}
}
