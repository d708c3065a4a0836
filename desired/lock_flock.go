//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd || illumos

package desired

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes the exclusive flock of f without waiting; held is false
// when another open file holds it.
func tryLock(f *os.File) (held bool, err error) {
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		}
		return false, err
	}
}

// unlock lets the flock of f go.
func unlock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
