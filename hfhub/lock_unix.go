//go:build unix

package hfhub

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f, waiting if another process holds it; waited says
// whether it had to.
func lockFile(f *os.File) (waited bool, err error) {
	fd := int(f.Fd())
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return false, nil
	} else if !errors.Is(err, syscall.EWOULDBLOCK) {
		return false, err
	}
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return true, err
		}
	}
}

func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
