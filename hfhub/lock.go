package hfhub

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// repoLocks serializes downloads of one repo folder within this process; lockFile (flock where
// the OS has it) does the same across processes, e.g. two notebooks, or `go test ./...` running
// packages in parallel. Without them, concurrent downloads of the same file race inside
// go-huggingface (it removes and recreates the snapshot link and the cached listing) and in
// verify, which could discard a blob another download had just linked.
var repoLocks sync.Map // repo folder → *sync.Mutex

// lockRepo takes the download lock of repoDir and returns its release. It says so (through
// opts.Progress) when it has to wait for another download.
func lockRepo(repo Repo, repoDir string, opts Options) (unlock func(), err error) {
	mu, _ := repoLocks.LoadOrStore(repoDir, &sync.Mutex{})
	m := mu.(*sync.Mutex)
	if !m.TryLock() {
		progress(opts, "hfhub: waiting for another download of %s in this process", repo.ID)
		m.Lock()
	}
	path := filepath.Join(opts.CacheDir, ".locks", repo.folder(), "actadd-download.lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		m.Unlock()
		return nil, fmt.Errorf("hfhub: %s: cannot create the download lock: %w (is %s writable?)", repo, err, opts.CacheDir)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		m.Unlock()
		return nil, fmt.Errorf("hfhub: %s: cannot open the download lock: %w (is %s writable?)", repo, err, opts.CacheDir)
	}
	waited, err := lockFile(f)
	if err != nil {
		f.Close()
		m.Unlock()
		return nil, fmt.Errorf("hfhub: %s: cannot lock %s: %w", repo, path, err)
	}
	if waited {
		progress(opts, "hfhub: waited for another process's download of %s (lock %s)", repo.ID, path)
	}
	return func() { unlockFile(f); f.Close(); m.Unlock() }, nil
}
