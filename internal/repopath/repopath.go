// Package repopath names local paths in results without giving away the machine's layout: a
// path inside the repository (the module the program runs in) relative to it, any other by its
// base name. Figures and sidecars travel; absolute paths of the machine that made them mean
// nothing elsewhere.
package repopath

import (
	"os"
	"path/filepath"
	"strings"
)

// Root returns the nearest folder at or above the working directory that holds a go.mod.
func Root() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// Display returns p relative to Root, "/"-separated, when p lies inside it, and p's base name
// otherwise. It never returns an absolute path.
func Display(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Base(p)
	}
	if root, ok := Root(); ok {
		if rel, err := filepath.Rel(root, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.Base(abs)
}
