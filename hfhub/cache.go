package hfhub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
)

// normalized checks r and fills the defaults (Type "model", Revision "main").
func (r Repo) normalized() (Repo, error) {
	r.ID = strings.TrimSpace(r.ID)
	if r.Type == "" {
		r.Type = "model"
	}
	if r.Revision == "" {
		r.Revision = "main"
	}
	if r.Type != "model" && r.Type != "dataset" {
		return r, fmt.Errorf("hfhub: repo %q has type %q: use \"model\" or \"dataset\"", r.ID, r.Type)
	}
	parts := strings.Split(r.ID, "/")
	if r.ID == "" || len(parts) > 2 {
		return r, fmt.Errorf("hfhub: repo id %q is not of the form \"org/name\"", r.ID)
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, `\?#%: `) {
			return r, fmt.Errorf("hfhub: repo id %q is not of the form \"org/name\"", r.ID)
		}
	}
	for _, p := range strings.Split(r.Revision, "/") {
		if p == "" || p == "." || p == ".." {
			return r, fmt.Errorf("hfhub: repo %s: revision %q is not valid", r.ID, r.Revision)
		}
	}
	return r, nil
}

// String is "org/name" for models and "dataset org/name" for datasets, with "@revision" when
// it is not main.
func (r Repo) String() string {
	s := r.ID
	if r.Type == "dataset" {
		s = "dataset " + s
	}
	if r.Revision != "" && r.Revision != "main" {
		s += "@" + r.Revision
	}
	return s
}

// plural is the word the hub's API and cache use for the repo type.
func (r Repo) plural() string { return r.Type + "s" }

// folder is Python's cache folder name: models--org--name or datasets--org--name.
func (r Repo) folder() string {
	return r.plural() + "--" + strings.ReplaceAll(r.ID, "/", "--")
}

// RepoDir returns the folder of repo inside the hub cache cacheDir (Python's layout:
// cacheDir/models--org--name or cacheDir/datasets--org--name).
func RepoDir(cacheDir string, repo Repo) string {
	if repo.Type == "" {
		repo.Type = "model"
	}
	return filepath.Join(cacheDir, repo.folder())
}

// isCommit reports whether rev is a full 40-hex commit hash.
func isCommit(rev string) bool {
	if len(rev) != 40 {
		return false
	}
	for _, c := range rev {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// checkFileName rejects names that could escape the snapshot folder or break URLs.
func checkFileName(repo Repo, name string) error {
	bad := name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\?#%\x00")
	for _, p := range strings.Split(name, "/") {
		bad = bad || p == "" || p == "." || p == ".."
	}
	if bad {
		return fmt.Errorf("hfhub: %s: file name %q is not a plain relative path (no \"..\", \"\\\", '?', '#', '%%')", repo, name)
	}
	return nil
}

// cachedCommit returns the commit the cache maps repo.Revision to ("" if unknown). A ref that
// exists but cannot be read (permission denied, a symlink loop) is an error, not a miss.
func cachedCommit(repoDir string, repo Repo) (string, error) {
	if isCommit(repo.Revision) {
		return repo.Revision, nil
	}
	p := filepath.Join(repoDir, "refs", filepath.FromSlash(repo.Revision))
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", cacheError(repo, err)
	}
	if sha := strings.TrimSpace(string(b)); isCommit(sha) {
		return sha, nil
	}
	return "", nil
}

// snapshotPath is where file lives in the snapshot of commit.
func snapshotPath(repoDir, commit, file string) string {
	return filepath.Join(repoDir, "snapshots", commit, filepath.FromSlash(file))
}

// cached reports whether path resolves (following links) to a regular file. A missing file, or
// a link to a missing blob, is not cached; one that cannot be looked at (permission denied, a
// symlink loop) is an error, not a miss that a download would then fail to fill.
func cached(repo Repo, path string) (bool, error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		return fi.Mode().IsRegular(), nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, cacheError(repo, err)
}

// cacheError reports a cache entry that exists but cannot be read.
func cacheError(repo Repo, err error) error {
	return fmt.Errorf("hfhub: %s: the Hugging Face cache cannot be read: %w (fix the permissions or links there, or point HF_HUB_CACHE elsewhere)", repo, err)
}

// writeFileAtomic writes data to path through a temporary file in the same folder and a rename,
// so readers never see a partial file.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(path, data, 0o644)
}

// writeRef records commit as the current commit of repo.Revision, as Python does, so offline
// runs (and Python) find the snapshot. Commit revisions need no ref.
func writeRef(repoDir string, repo Repo, commit string) error {
	if isCommit(repo.Revision) {
		return nil
	}
	p := filepath.Join(repoDir, "refs", filepath.FromSlash(repo.Revision))
	if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == commit {
		return nil
	}
	if err := writeFileAtomic(p, []byte(commit)); err != nil {
		return fmt.Errorf("hfhub: %s: writing ref %s: %w (check that the cache folder is writable)", repo, p, err)
	}
	return nil
}
