package worker

import (
	"os"

	"golang.org/x/sys/unix"
)

// KeepStdio points os.Stdout and os.Stderr, which wsgo's own log and
// access log write to, at duplicates numbered 3 or above. An app may
// close fds 1 and 2; the next file or socket opened would take their
// numbers, and wsgo's log must not follow them there. Call it before the
// app is imported.
func KeepStdio() {
	os.Stdout, os.Stderr = aboveStdio(os.Stdout), aboveStdio(os.Stderr)
}

// aboveStdio is a duplicate of f numbered 3 or above, or f if there is
// none to make (f is not open).
func aboveStdio(f *os.File) *os.File {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return f
	}
	return os.NewFile(uintptr(fd), f.Name())
}
