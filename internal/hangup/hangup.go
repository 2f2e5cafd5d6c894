// Package hangup tells whether a socket's peer has closed its end,
// without reading from it: bytes that wait unread stay for the next read.
package hangup

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Seen reports whether the peer of the socket behind rc has hung up: it
// sent a FIN (it will send nothing more) or a reset. A FIN alone may be a
// half-close by a client that still reads; callers decide what it means.
func Seen(rc syscall.RawConn) bool {
	gone := false
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			gone = fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
		}
	})
	return gone
}
