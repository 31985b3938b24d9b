package repopath

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDisplay(t *testing.T) {
	root, ok := Root()
	if !ok {
		t.Fatal("no go.mod above the test's folder")
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "repopath", "repopath.go")); err != nil {
		t.Fatalf("Root() = %s, not the repository: %v", root, err)
	}
	outside := filepath.Join(t.TempDir(), "data", "owt.jsonl")
	for p, want := range map[string]string{
		"repopath.go":                        "internal/repopath/repopath.go",
		filepath.Join(root, "go.mod"):        "go.mod",
		"../../datasets":                     "datasets",
		root:                                 ".",
		outside:                              "owt.jsonl",
		filepath.Join(root, "..", "x.jsonl"): "x.jsonl",
	} {
		if got := Display(p); got != want {
			t.Errorf("Display(%s) = %q, want %q", p, got, want)
		}
	}
}
