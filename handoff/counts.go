package handoff

import "golang.org/x/sys/unix"

// SocketSent returns how many bytes TCP socket fd has taken from its
// writers, in all: those the peer acknowledged and those still queued.
// ok is false for a socket that is not TCP.
func SocketSent(fd int) (n uint64, ok bool) {
	info, queued, ok := steady(fd, unix.SIOCOUTQ)
	if !ok {
		return 0, false
	}
	return info.Bytes_acked + queued, true
}

// tcpEstablished is the kernel's TCP_ESTABLISHED (include/net/tcp_states.h).
const tcpEstablished = 1

// SocketRead returns how many bytes readers have taken from TCP socket
// fd, in all: those received less those still queued. ok is false for a
// socket that is not TCP, or whose peer has ended its side (its FIN
// counts in the kernel's count, and what is left to read of it does not).
func SocketRead(fd int) (n uint64, ok bool) {
	info, queued, ok := steady(fd, unix.SIOCINQ)
	if !ok || info.State != tcpEstablished {
		return 0, false
	}
	return info.Bytes_received - queued, true
}

// steady returns the socket's TCP_INFO and the length of one of its
// queues (SIOCOUTQ, SIOCINQ), read together. Call it when no process
// reads or writes the socket (a dead worker's, an idle one's): the peer's
// acknowledgements and data still arrive, and move bytes between the
// kernel's total and the queue, so the queue is read on both sides of the
// total until it holds still (it does once the queue is empty or full;
// a bound stops the reading on a peer that keeps it moving).
func steady(fd int, queue uint) (*unix.TCPInfo, uint64, bool) {
	n, err := unix.IoctlGetInt(fd, queue)
	for tries := 0; err == nil && tries < 100; tries++ {
		info, ierr := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if ierr != nil {
			return nil, 0, false
		}
		again, qerr := unix.IoctlGetInt(fd, queue)
		if qerr == nil && again == n {
			return info, uint64(n), true
		}
		n, err = again, qerr
	}
	return nil, 0, false
}
