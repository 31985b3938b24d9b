// Package hfhub downloads files from the Hugging Face hub into the cache that Python's
// huggingface_hub uses, and finds them there again without any network access.
//
// It wraps github.com/gomlx/go-huggingface's hub package (v0.4.1) and guards against its known
// problems:
//
//   - the cache is resolved first (refs/<revision> → commit → snapshots/<commit>/<file>), so
//     cached files are returned with no request at all, and offline use works;
//   - the hub's refs/<revision> file is written after a download (go-huggingface does not), so
//     later offline runs and Python find the snapshot;
//   - every downloaded file is checked: it must exist (a transfer cut mid-stream makes
//     go-huggingface report success and leave a dangling link), have the size the hub lists,
//     and the hub's sha256 (LFS files) or git blob hash (other files); bad entries are removed;
//   - the network is bounded: repo info comes from a client with dial and response timeouts,
//     and a download that makes no progress for two minutes, or crawls too slowly to ever
//     finish (Options.MinRate), is cancelled;
//   - files are fetched one by one (go-huggingface's DownloadFiles races with two or more), and
//     one download of a repo runs at a time, across goroutines and processes (lock.go): two
//     concurrent downloads of the same file made go-huggingface's remove-and-relink steps race;
//   - a refused file gets advice by its HTTP status (401/403: HF_TOKEN; 404: the endpoint;
//     429/5xx: ErrNotCached, like an unreachable hub);
//   - revisions such as "refs/convert/parquet" are URL-escaped (go-huggingface does not).
//
// The environment is read like Python does (see DefaultOptions), including HF_HUB_OFFLINE.
// The hfhub/hubtest package serves a fake hub on loopback for tests.
package hfhub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/actadd-go/actadd/internal/watchdog"
	"github.com/gomlx/go-huggingface/hub"
)

// Download returns the local paths of files (names relative to the repo, "/"-separated) of
// repo, in the order given. Files already in the cache are returned without network access;
// the others are downloaded, unless opts.Offline is set or the hub is unreachable, in which
// case the error matches ErrNotCached and says how to obtain them.
//
// The returned paths lie in the shared cache (usually symlinks into blobs/): read them, don't
// modify them.
func Download(repo Repo, files []string, opts Options) (paths []string, err error) {
	repo, err = repo.normalized()
	if err != nil {
		return nil, err
	}
	opts = opts.normalized()
	if len(files) == 0 {
		return nil, nil
	}
	for _, f := range files {
		if err := checkFileName(repo, f); err != nil {
			return nil, err
		}
	}
	repoDir := RepoDir(opts.CacheDir, repo)

	// 1. The cache alone.
	var missing []string
	commit, err := cachedCommit(repoDir, repo)
	if err != nil {
		return nil, err
	}
	if commit != "" {
		for _, f := range files {
			ok, err := cached(repo, snapshotPath(repoDir, commit, f))
			if err != nil {
				return nil, err
			}
			if !ok {
				missing = append(missing, f)
			}
		}
		if len(missing) == 0 {
			return snapshotPaths(repoDir, commit, files), nil
		}
	} else {
		missing = files
	}
	notCached := &NotCachedError{Repo: repo, Files: missing, RepoDir: repoDir, CacheDir: opts.CacheDir, Offline: opts.Offline}
	if opts.Offline {
		return nil, notCached
	}

	// 2. The hub, one download of this repo at a time (files another download finished while
	// this one waited are found by the cached check below).
	unlock, err := lockRepo(repo, repoDir, opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	info, err := fetchInfo(repo, opts)
	if err != nil {
		if isUnreachable(err) {
			notCached.Err = err
			return nil, notCached
		}
		return nil, err
	}
	commit = info.SHA
	for _, f := range files {
		if _, ok := info.find(f); !ok {
			return nil, fmt.Errorf("hfhub: %s (commit %s) has no file %q; it has: %s", repo, commit, f, listSome(info.names(), 20))
		}
	}
	// Recorded now, as Python does, so an interrupted run leaves the finished files findable.
	if err := writeRef(repoDir, repo, commit); err != nil {
		return nil, err
	}
	var hr *hub.Repo
	for _, f := range files {
		ok, err := cached(repo, snapshotPath(repoDir, commit, f))
		if err != nil {
			return nil, err
		}
		if ok {
			continue
		}
		if hr == nil {
			if hr, err = newHubRepo(repo, commit, opts); err != nil {
				return nil, err
			}
		}
		sib, _ := info.find(f)
		if err := downloadOne(hr, repo, repoDir, commit, sib, opts); err != nil {
			if isUnreachable(err) {
				notCached.Err = err
				return nil, notCached
			}
			return nil, err
		}
	}
	return snapshotPaths(repoDir, commit, files), nil
}

// ListFiles returns the names of the files in repo at its revision. Online it asks the hub;
// offline (or with the hub unreachable) it uses the listing cached by an earlier online call,
// and fails with an ErrNotCached error if there is none.
func ListFiles(repo Repo, opts Options) ([]string, error) {
	repo, err := repo.normalized()
	if err != nil {
		return nil, err
	}
	opts = opts.normalized()
	repoDir := RepoDir(opts.CacheDir, repo)
	notCached := &NotCachedError{Repo: repo, RepoDir: repoDir, CacheDir: opts.CacheDir, Offline: opts.Offline}
	if !opts.Offline {
		info, err := fetchInfo(repo, opts)
		if err == nil {
			return info.names(), nil
		}
		if !isUnreachable(err) {
			return nil, err
		}
		notCached.Err = err
	}
	commit, err := cachedCommit(repoDir, repo)
	if err != nil {
		return nil, err
	}
	if commit != "" {
		if info, ok := cachedInfo(repoDir, commit); ok {
			return info.names(), nil
		}
	}
	return nil, notCached
}

func snapshotPaths(repoDir, commit string, files []string) []string {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = snapshotPath(repoDir, commit, f)
	}
	return paths
}

// newHubRepo configures go-huggingface for one commit. It is given the commit hash, never a
// revision name, because it does not URL-escape revisions.
func newHubRepo(repo Repo, commit string, opts Options) (hr *hub.Repo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hfhub: %s: go-huggingface failed while configuring the download: %v", repo, r)
		}
	}()
	hr = hub.New(repo.ID).
		WithType(hub.RepoType(repo.plural())).
		WithRevision(commit).
		WithCacheDir(opts.CacheDir).
		WithEndpoint(opts.Endpoint).
		WithAuth(opts.Token).
		WithProgressBar(false)
	hr.Verbosity = 0
	hr.MaxParallelDownload = 1
	return hr, nil
}

// Watchdog settings: a download that receives nothing for watchLimits.Stall, or averages less
// than Options.MinRate over watchLimits.Window, is cancelled (internal/watchdog); if
// go-huggingface still does not return after abandonGrace, Download gives up on it.
var (
	watchLimits   = watchdog.Limits{Stall: watchdog.DefaultStall, Window: watchdog.DefaultWindow}
	abandonGrace  = 15 * time.Second
	progressEvery = 10 * time.Second
	watchTick     = time.Second
)

// downloadOne fetches one file through go-huggingface, watches it, and verifies the result.
func downloadOne(hr *hub.Repo, repo Repo, repoDir, commit string, sib sibling, opts Options) error {
	want := sib.size()
	name := sib.Name
	progress(opts, "hfhub: downloading %s %s (%s) from %s", repo.ID, name, humanBytes(want), opts.Endpoint)
	start := time.Now()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		path string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("go-huggingface panicked: %v", p)}
			}
			done <- r
		}()
		r.path, r.err = hr.DownloadFileCtx(ctx, name)
	}()

	ticker := time.NewTicker(watchTick)
	defer ticker.Stop()
	var res result
	limits := watchLimits
	limits.MinRate = opts.MinRate
	// The meter counts every byte of the repo's blobs folder, so it starts from what is there.
	_, base := blobBytes(repoDir)
	meter := watchdog.New(limits, start)
	lastPrint := start
	var stalledAt time.Time
	var stalled error
wait:
	for {
		select {
		case res = <-done:
			break wait
		case now := <-ticker.C:
			got, total := blobBytes(repoDir)
			if stalled == nil {
				if stalled = meter.Observe(now, total-base); stalled != nil {
					stalledAt = now
					cancel()
				}
			}
			if stalled != nil && now.Sub(stalledAt) > abandonGrace {
				return fmt.Errorf("hfhub: %s: downloading %s from %s was cancelled but did not stop: it %v;"+
					" check the network (or another process holding a lock in %s) and run again", repo, name, opts.Endpoint, stalled, filepath.Join(repoDir, "blobs"))
			}
			if now.Sub(lastPrint) >= progressEvery && got > 0 {
				lastPrint = now
				progress(opts, "hfhub: %s %s: %s of %s%s", repo.ID, name, humanBytes(got), humanBytes(want), percent(got, want))
			}
		}
	}
	if res.err != nil {
		if stalled != nil {
			return fmt.Errorf("hfhub: %s: downloading %s from %s was cancelled: it %v; check the network and run again (finished files are kept; Options.MinRate sets the slowest rate accepted)", repo, name, opts.Endpoint, stalled)
		}
		switch code := httpStatus(res.err); {
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			return fmt.Errorf("hfhub: %s: the hub at %s refused %s (%d): the repo is gated or private; set HF_TOKEN to a token that can read it"+
				" (and accept the model's terms on its hub page): %w", repo, opts.Endpoint, name, code, res.err)
		case code == http.StatusNotFound:
			return fmt.Errorf("hfhub: %s: the hub at %s lists %s at commit %s but answered 404 for it: check HF_ENDPOINT"+
				" (a mirror may lack the file); running again will not help: %w", repo, opts.Endpoint, name, commit, res.err)
		case transientStatus(code):
			return &unreachableError{fmt.Errorf("downloading %s: %w", name, res.err)}
		}
		return fmt.Errorf("hfhub: %s: downloading %s from %s: %w (run again to retry; finished files are kept)", repo, name, opts.Endpoint, res.err)
	}
	path := snapshotPath(repoDir, commit, name)
	if res.path != "" && filepath.Clean(res.path) != path {
		// go-huggingface resolved another commit than the one we asked; keep our layout.
		return fmt.Errorf("hfhub: %s: go-huggingface stored %s at %s, expected %s; remove %s and run again", repo, name, res.path, path, repoDir)
	}
	if err := verify(path, sib); err != nil {
		return fmt.Errorf("hfhub: %s: %s from %s: %w", repo, name, opts.Endpoint, err)
	}
	el := time.Since(start)
	progress(opts, "hfhub: %s %s: done, %s in %v", repo.ID, name, humanBytes(want), el.Round(100*time.Millisecond))
	return nil
}

// statusInText finds an HTTP status such as "403 Forbidden" in go-huggingface's error text,
// its only report of the status.
var statusInText = regexp.MustCompile(`\b([45]\d\d) [A-Z][A-Za-z]+`)

// httpStatus returns the 4xx/5xx status named in err's text, or 0.
func httpStatus(err error) int {
	m := statusInText.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	code, _ := strconv.Atoi(m[1])
	return code
}

// blobBytes measures a repo's blobs folder: the bytes of in-flight downloads (*.part files,
// also in subfolders, which odd ETags create) and of all files, whose change means progress.
func blobBytes(repoDir string) (partial, total int64) {
	_ = filepath.WalkDir(filepath.Join(repoDir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			total += fi.Size()
			if strings.HasSuffix(p, ".part") {
				partial += fi.Size()
			}
		}
		return nil
	})
	return partial, total
}

// verify checks a freshly downloaded snapshot entry against the hub's listing and removes it
// (and its blob) when it is bad, so the next run downloads it again.
func verify(path string, sib sibling) error {
	if _, err := os.Lstat(path); err != nil {
		return fmt.Errorf("the download reported success but %s does not exist; run again", path)
	}
	blob, _ := filepath.EvalSymlinks(path)
	discard := func() {
		_ = os.Remove(path)
		if blob != "" && blob != path {
			_ = os.Remove(blob)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		// go-huggingface ignores read errors mid-transfer: it then deletes the partial blob,
		// reports success, and leaves the snapshot link dangling.
		discard()
		return fmt.Errorf("the transfer was cut short (the download reported success but left a dangling link %s, now removed); run again to retry", path)
	}
	if want := sib.size(); want > 0 && fi.Size() != want {
		discard()
		return fmt.Errorf("got %d bytes, the hub lists %d: the transfer was incomplete or the file changed; removed it, run again", fi.Size(), want)
	}
	switch {
	case sib.LFS != nil && sib.LFS.SHA256 != "":
		got, err := hashFile(path, sha256.New(), "")
		if err != nil {
			return err
		}
		if !strings.EqualFold(got, sib.LFS.SHA256) {
			discard()
			return fmt.Errorf("sha256 %s does not match the hub's %s: the file is corrupt; removed it, run again", got, sib.LFS.SHA256)
		}
	case sib.LFS == nil && len(sib.BlobID) == 40:
		got, err := hashFile(path, sha1.New(), "blob "+strconv.FormatInt(fi.Size(), 10)+"\x00")
		if err != nil {
			return err
		}
		if !strings.EqualFold(got, sib.BlobID) {
			discard()
			return fmt.Errorf("git blob hash %s does not match the hub's %s: the file is corrupt; removed it, run again", got, sib.BlobID)
		}
	}
	return nil
}

func hashFile(path string, h interface {
	io.Writer
	Sum([]byte) []byte
}, prefix string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("checking %s: %w", path, err)
	}
	defer f.Close()
	io.WriteString(h, prefix)
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checking %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func progress(opts Options, format string, args ...any) {
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, format+"\n", args...)
	}
}

func percent(got, want int64) string {
	if want <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%d%%)", got*100/want)
}

func humanBytes(n int64) string {
	if n <= 0 {
		return "size unknown"
	}
	return watchdog.Bytes(n)
}

func listSome(names []string, max int) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	// Names come from the hub's reply: a damaged one must not fill the error.
	for i, n := range s {
		if len(n) > 200 {
			s[i] = strings.ToValidUTF8(n[:200], "") + "…"
		}
	}
	if len(s) > max {
		return strings.Join(s[:max], ", ") + fmt.Sprintf(", … (%d more)", len(s)-max)
	}
	if len(s) == 0 {
		return "no files"
	}
	return strings.Join(s, ", ")
}
