// Package hangup tells whether a socket's peer has closed its end,
// without reading from it: bytes that wait unread stay for the next read.
package hangup

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// State is what a look at a socket saw of its peer.
type State int

const (
	Open   State = iota // nothing seen
	Closed              // a FIN: the peer sends nothing more, but may still read (a half-close)
	Reset               // a reset, or a unix socket's close: the peer reads nothing more
)

// Look tells what the peer of the socket behind rc has done.
func Look(rc syscall.RawConn) State {
	state := Open
	rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		if n, err := unix.Poll(fds, 0); err != nil || n == 0 {
			return
		}
		switch ev := fds[0].Revents; {
		case ev&(unix.POLLHUP|unix.POLLERR) != 0:
			state = Reset
		case ev&unix.POLLRDHUP != 0:
			state = Closed
		}
	})
	return state
}
