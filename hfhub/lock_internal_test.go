//go:build unix

package hfhub

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLockFileExcludes: two opens of the lock file, as two processes would have, exclude each
// other; the second waits until the first lets go, and says it waited.
func TestLockFileExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	first, second := open(), open()
	if waited, err := lockFile(first); err != nil || waited {
		t.Fatalf("first lock: waited %v, err %v", waited, err)
	}
	type result struct {
		waited bool
		err    error
		at     time.Time
	}
	got := make(chan result, 1)
	go func() {
		w, err := lockFile(second)
		got <- result{w, err, time.Now()}
	}()
	time.Sleep(100 * time.Millisecond)
	released := time.Now()
	unlockFile(first)
	r := <-got
	if r.err != nil || !r.waited || r.at.Before(released) {
		t.Errorf("second lock: waited %v, err %v, taken %v after the release (want after)", r.waited, r.err, r.at.Sub(released))
	}
	unlockFile(second)
}
