package machine

import (
	"runtime"
	"strings"
	"testing"
)

func TestNumerics(t *testing.T) {
	n := Numerics("go")
	t.Log(n)
	for _, want := range []string{"go; ", runtime.GOOS + "/" + runtime.GOARCH, "github.com/gomlx/compute v"} {
		if !strings.Contains(n, want) {
			t.Errorf("Numerics(\"go\") = %q, without %q", n, want)
		}
	}
	if Numerics("go") == Numerics("xla:cuda") {
		t.Error("two backends have the same description")
	}
}

func TestCPU(t *testing.T) {
	c := CPU()
	t.Log(c)
	if !strings.Contains(c, "logical cores") || strings.HasPrefix(c, ";") {
		t.Errorf("CPU() = %q", c)
	}
}
