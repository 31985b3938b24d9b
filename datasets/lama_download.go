package datasets

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/actadd-go/actadd/internal/watchdog"
	"github.com/google/renameio/v2"
)

// LAMA's official archive and what DownloadLAMAConceptNet checks in it.
const (
	// LAMAURL is the official LAMA data archive (CC BY-NC 4.0).
	LAMAURL = "https://dl.fbaipublicfiles.com/LAMA/data.zip"
	// LAMAConceptNetEntry is the ConceptNet test file's path inside the archive.
	LAMAConceptNetEntry = "data/ConceptNet/test.jsonl"
	// LAMAConceptNetLines is the number of lines of the ConceptNet test file.
	LAMAConceptNetLines = 29774
)

// LAMAOptions configure DownloadLAMAConceptNet. The zero value downloads LAMAURL into the
// default cache folder.
type LAMAOptions struct {
	// URL of data.zip; LAMAURL when empty.
	URL string
	// CacheDir receives data.zip and ConceptNet/test.jsonl; when empty,
	// os.UserCacheDir()/actadd/lama (e.g. ~/.cache/actadd/lama on Linux).
	CacheDir string
	// Timeout bounds the whole download; 30 minutes when zero. Connecting and waiting for the
	// response headers are separately bounded to 10 and 30 s.
	Timeout time.Duration
	// MinRate is the slowest average rate, in bytes per second over two minutes, at which the
	// download goes on (one that receives nothing for two minutes also ends); 0 means 8 KiB/s,
	// a negative value turns the rate check off.
	MinRate int64
	// Offline forbids the download: only a file already in CacheDir is returned.
	Offline bool
	// Client, when set, is used instead of one built from Timeout.
	Client *http.Client
	// Progress, when set, receives a line when the download starts and ends.
	Progress io.Writer
}

// DownloadLAMAConceptNet returns the path of LAMA's ConceptNet test.jsonl in the cache,
// downloading LAMA's data.zip first when it is not there. The archive is verified (a valid zip
// holding data/ConceptNet/test.jsonl with 29,774 lines) before it is kept, and files appear
// atomically, so an interrupted run leaves no partial file behind. The archive is kept next to
// the extracted file (other LAMA subsets are in it).
//
// Offline, put data.zip (from LAMAURL) in the cache folder by hand, or read test.jsonl directly
// with LoadLAMA.
func DownloadLAMAConceptNet(opts LAMAOptions) (string, error) {
	dir := opts.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("datasets: no cache folder for LAMA (%w); set LAMAOptions.CacheDir", err)
		}
		dir = filepath.Join(base, "actadd", "lama")
	}
	target := filepath.Join(dir, "ConceptNet", "test.jsonl")
	if data, err := os.ReadFile(target); err == nil && countLines(data) == LAMAConceptNetLines {
		return target, nil
	}
	zipPath := filepath.Join(dir, "data.zip")
	data, err := readLAMAZip(zipPath)
	if err != nil && opts.Offline {
		return "", fmt.Errorf("datasets: no usable LAMA ConceptNet in %s (%v) and downloading is off (offline): put data.zip from %s there", dir, err, LAMAURL)
	}
	if err != nil {
		url := opts.URL
		if url == "" {
			url = LAMAURL
		}
		if err := downloadFile(url, zipPath, opts); err != nil {
			return "", err
		}
		if data, err = readLAMAZip(zipPath); err != nil {
			return "", err // downloadFile verified it; only a concurrent change gets here
		}
	}
	if err := writeFileAtomic(target, data); err != nil {
		return "", fmt.Errorf("datasets: writing LAMA ConceptNet: %w", err)
	}
	return target, nil
}

// readLAMAZip returns the ConceptNet test file from a LAMA archive, or an error saying what
// is wrong with the archive.
func readLAMAZip(path string) ([]byte, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s is not a valid zip archive: %w", path, err)
	}
	defer zr.Close()
	f, err := zr.Open(LAMAConceptNetEntry)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s has no %s: is it LAMA's data.zip (%s)?", path, LAMAConceptNetEntry, LAMAURL)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("datasets: reading %s in %s: %w", LAMAConceptNetEntry, path, err)
	}
	if n := countLines(data); n != LAMAConceptNetLines {
		return nil, fmt.Errorf("datasets: %s in %s has %d lines, want %d: is it LAMA's data.zip (%s)?", LAMAConceptNetEntry, path, n, LAMAConceptNetLines, LAMAURL)
	}
	return data, nil
}

// countLines counts lines the way `wc -l` does, plus a final line without newline.
func countLines(data []byte) int {
	n := bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n
}

// downloadFile fetches url into path through a temporary file in the same folder, renamed into
// place only once the whole body arrived and the archive checks pass.
func downloadFile(url, path string, opts LAMAOptions) error {
	client := opts.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		}}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	hint := fmt.Sprintf("download %s by hand and put it at %s", url, path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("datasets: LAMA URL %q: %w", url, err)
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "downloading %s\n", url)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("datasets: downloading LAMA: %w (offline? %s)", err, hint)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("datasets: downloading LAMA from %s: HTTP %s (%s)", url, resp.Status, hint)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".data.zip.*.tmp")
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	var got atomic.Int64
	slow := watchTransfer(ctx, cancel, &got, watchdog.Limits{MinRate: opts.MinRate, Stall: lamaWatch.Stall, Window: lamaWatch.Window})
	n, err := io.Copy(tmp, io.TeeReader(resp.Body, countWriter{&got}))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if reason := slow(); reason != nil {
		return fmt.Errorf("datasets: downloading LAMA from %s was cancelled: it %v (%s)", url, reason, hint)
	}
	if err != nil {
		return fmt.Errorf("datasets: downloading LAMA from %s: %w after %d bytes (%s)", url, err, n, hint)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("datasets: downloading LAMA from %s: got %d of %d bytes (%s)", url, n, resp.ContentLength, hint)
	}
	if _, err := readLAMAZip(tmp.Name()); err != nil {
		return fmt.Errorf("%w (downloaded from %s)", err, url)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "downloaded %s (%d bytes) to %s\n", url, n, path)
	}
	return nil
}

// lamaWatch holds the watchdog's stall time and rate window (tests shorten them); the minimum
// rate is LAMAOptions.MinRate.
var lamaWatch = watchSettings{watchdog.DefaultStall, watchdog.DefaultWindow, time.Second}

// watchSettings are the watchdog's stall time, rate window and sampling interval.
type watchSettings struct{ Stall, Window, Tick time.Duration }

// countWriter adds the length of every write to n.
type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// watchTransfer samples got until ctx ends and calls cancel when the watchdog gives up on the
// transfer. The function it returns stops the watch and returns the watchdog's reason, or nil.
func watchTransfer(ctx context.Context, cancel func(), got *atomic.Int64, limits watchdog.Limits) (stop func() error) {
	var reason error
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		meter := watchdog.New(limits, time.Now())
		tick := time.NewTicker(lamaWatch.Tick)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if reason = meter.Observe(now, got.Load()); reason != nil {
					cancel()
					return
				}
			}
		}
	}()
	return func() error {
		close(done)
		<-finished
		return reason
	}
}

// writeFileAtomic writes data to path through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(path, data, 0o644)
}
