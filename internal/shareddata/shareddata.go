// Package shareddata finds the offline copy of real public data (GPT-2 BPE files, an
// OpenWebText sample, LAMA records, the ActAdd essays) that development and CI machines keep in
// ../shared/data beside the repository. User machines do not have it: callers must treat its
// absence as normal and skip or download instead.
package shareddata

import (
	"os"
	"path/filepath"
)

// EnvVar overrides the location of the shared data folder.
const EnvVar = "ACTADD_SHARED_DATA"

// Dir returns the shared data folder and whether it exists. It looks at $ACTADD_SHARED_DATA,
// then for ../shared/data beside the first folder at or above the working directory that
// holds a go.mod.
func Dir() (string, bool) {
	if d := os.Getenv(EnvVar); d != "" {
		return d, isDir(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			cand := filepath.Join(filepath.Dir(d), "shared", "data")
			return cand, isDir(cand)
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// Path joins elem onto the shared data folder and reports whether that file exists.
func Path(elem ...string) (string, bool) {
	d, ok := Dir()
	if !ok {
		return "", false
	}
	p := filepath.Join(append([]string{d}, elem...)...)
	_, err := os.Stat(p)
	return p, err == nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
