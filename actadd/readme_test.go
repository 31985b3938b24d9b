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
