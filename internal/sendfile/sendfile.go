// Package sendfile sends part of a file to a socket with sendfile(2),
// from an offset of its own: the file's offset is left alone, so no
// lseek(2) comes before each call, and a caller may share the file.
package sendfile

import (
	"errors"
	"os"
	"syscall"
)

// ErrShortFile is returned when the file ends before the length to send.
var ErrShortFile = errors.New("wsgo: file ended before the length to send")

// maxCall is the most one sendfile(2) is asked for: a non-blocking socket
// takes what its buffer has room for, so a call rarely moves this much.
const maxCall = 4 << 20

// Send sends n bytes of f from off to the socket behind rc. Each call that
// moves bytes tells progress the total sent so far; its error ends the
// send. A full socket is waited for under the socket's write deadline,
// which progress may renew, so patience can be per bytes taken rather
// than per call.
func Send(rc syscall.RawConn, f *os.File, off, n int64, progress func(sent int64) error) (int64, error) {
	src, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var sent int64
	var sendErr error
	ctlErr := src.Control(func(in uintptr) {
		err = rc.Write(func(out uintptr) bool {
			for sent < n {
				pos := off + sent
				k, errno := syscall.Sendfile(int(out), int(in), &pos, int(min(n-sent, maxCall)))
				if k > 0 {
					sent += int64(k)
					if progress != nil {
						if sendErr = progress(sent); sendErr != nil {
							return true
						}
					}
				}
				switch {
				case errno == syscall.EAGAIN:
					return false // wait until the socket has room
				case errno == syscall.EINTR:
				case errno != nil:
					sendErr = os.NewSyscallError("sendfile", errno)
					return true
				case k == 0:
					sendErr = ErrShortFile
					return true
				}
			}
			return true
		})
	})
	if ctlErr != nil {
		return sent, ctlErr
	}
	if err != nil {
		return sent, err
	}
	return sent, sendErr
}
