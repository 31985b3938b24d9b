package actadd_test

import (
	"os"
	"strings"
	"testing"
)

// The README's Go code block is exactly the body of Example (example_test.go), which `go test`
// compiles and runs: the README's code cannot drift from code that works.
func TestReadmeShowsExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```go\n")
	if block, _, ok = strings.Cut(block, "```"); !ok {
		t.Fatal("README.md has no ```go code block")
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(src), "\nfunc Example() {\n")
	if body, _, ok = strings.Cut(body, "\t// Output:"); !ok {
		t.Fatal("example_test.go has no func Example with an // Output: comment")
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	if want := strings.Join(lines, "\n") + "\n"; block != want {
		t.Errorf("README.md's Go code block:\n%s\nis not the body of Example in example_test.go:\n%s", block, want)
	}
}

// The README's "Your own program" tells what works for a module that is not published, with the
// Go version and module path go.mod names (the instructions were tried by hand in a folder
// outside the repository: a program of one's own, through `go work` and through a replace).
func TestReadmeOwnProgram(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "### Your own program\n")
	section, _, _ = strings.Cut(section, "\n## ")
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var module, goVersion string
	for _, line := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(line, "module "); ok {
			module = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "go "); ok {
			goVersion = strings.TrimSpace(v)
		}
	}
	for _, want := range []string{"go work init . ../actadd", "scripts/ensure-go.sh", ".tools/go/bin", "GOTOOLCHAIN=local",
		"requires go >= " + goVersion, "go version: go" + goVersion, "-replace=" + module + "=../actadd",
		"`go get " + module + "@latest` fails"} {
		if !strings.Contains(section, want) {
			t.Errorf("README's \"Your own program\" does not say %q", want)
		}
	}
	if n, ok := strings.Count(section, "@latest"), strings.Count(section, "@latest` fails"); n != ok {
		t.Errorf("README's \"Your own program\" offers @latest, which fails: the module is not published")
	}
}
