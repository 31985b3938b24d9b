//go:build unix

package backend

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive lock on path without waiting; the lock lasts until the file is
// closed or the process exits.
func tryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.New("another process is writing it")
		}
		return nil, err
	}
	return f, nil
}
