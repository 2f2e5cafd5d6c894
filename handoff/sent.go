package handoff

import "golang.org/x/sys/unix"

// SocketSent returns how many bytes TCP socket fd has taken from its
// writers, in all: those the peer acknowledged and those still queued.
// Call it when no process writes to the socket (a dead worker's, an idle
// one's): an acknowledgement arriving between the two reads moves bytes
// from one count to the other, so the queue is read on both sides of the
// acknowledged count until it holds still. ok is false for a socket that
// is not TCP.
func SocketSent(fd int) (n uint64, ok bool) {
	queued, err := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
	for err == nil {
		info, ierr := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if ierr != nil {
			return 0, false
		}
		again, qerr := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
		if qerr == nil && again == queued {
			return info.Bytes_acked + uint64(queued), true
		}
		queued, err = again, qerr
	}
	return 0, false
}
