package httpfront

import (
	"net"
	"syscall"
	"time"

	"wsgo/internal/hangup"
)

// hangupEvery is how often the front looks for HTTP/1 clients that hung
// up while their request was served. HTTP/2 says so (RST_STREAM); an
// HTTP/1 client only closes its socket, and a read to see that would take
// the next request's bytes, so the socket is polled. What the look buys: a
// request still queued for a Python thread when its client left is
// dropped, not run (a load balancer's timeout, a user's reload); the app
// of a request already running finishes, as it would under any peer.
const hangupEvery = 100 * time.Millisecond

// watchHangups arms the look for hung-up clients, unless it is armed: a
// timer, only while requests are served.
func (s *Server) watchHangups() {
	if !s.hangupArmed.Load() && s.hangupArmed.CompareAndSwap(false, true) {
		time.AfterFunc(hangupEvery, s.lookForHangups)
	}
}

// lookForHangups cancels the context of each request whose client hung
// up, and looks again later while requests are being served.
//
// A FIN alone counts as gone, as for nginx and net/http: a client that
// half-closes its socket and waits for the answer is rare, and its
// request is dropped only if it was still queued.
func (s *Server) lookForHangups() {
	s.hangupArmed.Store(false) // before the look: a request that begins after it arms the next
	s.mu.Lock()
	serving := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		if c.serving.Load() != nil {
			serving = append(serving, c)
		}
	}
	s.mu.Unlock()
	for _, c := range serving {
		if r := c.serving.Load(); r != nil && c.hungUp() {
			r.cancel()
		}
	}
	if len(serving) > 0 {
		s.watchHangups()
	}
}

// hungUp reports whether the connection's client has closed its end.
func (c *conn) hungUp() bool {
	rc, ok := rawConn(c.raw)
	return ok && hangup.Seen(rc)
}

// rawConn is the socket under nc: nc's own, or that of the connection it
// wraps (a lent connection).
func rawConn(nc net.Conn) (syscall.RawConn, bool) {
	for {
		if sc, ok := nc.(syscall.Conn); ok {
			rc, err := sc.SyscallConn()
			return rc, err == nil
		}
		inner, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return nil, false
		}
		nc = inner.NetConn()
	}
}
