// Package filehash names files by content, for results and model revisions: the sha256 of a
// file, and of a set of files through their sha256sum listing, which `sha256sum` reproduces.
package filehash

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// File returns the hex sha256 of the file at path.
func File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Files returns the hex sha256 of the listing `sha256sum` prints for paths, in their order:
// one "<sha256>  <base name>" line per file.
func Files(paths []string) (string, error) {
	var listing strings.Builder
	for _, p := range paths {
		sum, err := File(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&listing, "%s  %s\n", sum, filepath.Base(p))
	}
	sum := sha256.Sum256([]byte(listing.String()))
	return hex.EncodeToString(sum[:]), nil
}
