package loader

import (
	"path/filepath"
	"strings"

	"github.com/actadd-go/actadd/checkpoint"
	"github.com/actadd-go/actadd/internal/repopath"
)

// describe returns the Name and Revision of the model loaded as name from dir; standIn is the
// description a random-weight checkpoint's config.json carries ("" for real weights).
//
// Name and Revision never hold an absolute path of the machine (results record them): a local
// checkpoint is named by its path relative to the repository, or its folder's name, and pinned
// by checkpoint.ContentHash.
func describe(name, dir, standIn string) (label, revision string, err error) {
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
