package loader

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/internal/filehash"
	"github.com/actadd-go/actadd/internal/repopath"
)

// describe returns the Name and Revision of the model loaded as name from dir; standIn is the
// description of a random-weight checkpoint ("" for real weights); extra are the tokenizer files
// the family reads, which a local checkpoint's content hash covers when they are present.
//
// Name and Revision never hold an absolute path of the machine (results record them): a local
// checkpoint is named by its path relative to the repository, or its folder's name, and pinned
// by checkpoint.ContentHash.
func describe(name, dir, standIn string, extra []string) (label, revision string, err error) {
	parent := filepath.Dir(dir)
	switch {
	case standIn != "": // a random-weight checkpoint (a stand-in, by name or by folder)
		label = standIn
	case filepath.Base(parent) == "snapshots":
		label = name
		if _, ok := HubRepo(name); !ok { // a snapshot folder given as a path
			label = hubRepoID(filepath.Base(filepath.Dir(parent)))
		}
	default:
		label = repopath.Display(dir)
	}
	if _, ok := standIns[name]; ok || filepath.Base(parent) == "snapshots" {
		return label, filepath.Base(dir), nil // the commit sha, or <stand-in>-<hash of its recipe>
	}
	sum, err := checkpoint.ContentHash(dir)
	if err != nil {
		return "", "", err
	}
	var present []string
	for _, f := range extra {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			present = append(present, filepath.Join(dir, f))
		}
	}
	if len(present) > 0 {
		tok, err := filehash.Files(present)
		if err != nil {
			return "", "", err
		}
		h := sha256.Sum256([]byte(sum + "\x00" + tok))
		sum = hex.EncodeToString(h[:])
	}
	return label, "sha256:" + sum[:16], nil
}

// hubRepoID turns a hub cache folder name such as "models--openai-community--gpt2" into the
// repository id "openai-community/gpt2".
func hubRepoID(folder string) string {
	_, rest, ok := strings.Cut(folder, "--")
	if !ok {
		return folder
	}
	return strings.ReplaceAll(rest, "--", "/")
}
