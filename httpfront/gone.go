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

// closedAfter is how long a request must have been served (read, queued
// or run) before a FIN alone counts as its client gone. A TCP client that
// closes without reading sends only a FIN, as does one that half-closes
// its socket and reads on (nc -N, some health checks), and the two look
// alike: a quick request of a half-closer must not be dropped for it,
// while one queued for a second under overload most likely waits for a
// client that gave up. A reset counts at once, as does a unix socket's
// close, which tells itself from a half-close.
const closedAfter = time.Second

// watchHangups arms the look for hung-up clients, unless it is armed: a
// timer, only while requests are served.
func (s *Server) watchHangups() {
	if !s.hangupArmed.Load() && s.hangupArmed.CompareAndSwap(false, true) {
		time.AfterFunc(hangupEvery, s.lookForHangups)
	}
}

// lookForHangups cancels the context of each request whose client hung
// up, and looks again later while requests are being served.
func (s *Server) lookForHangups() {
	s.hangupArmed.Store(false) // before the look: a request that begins after it arms the next
	s.mu.Lock()
	var serving []*conn // of all the connections, most are idle
	for c := range s.conns {
		if c.serving.Load() != nil {
			serving = append(serving, c)
		}
	}
	s.mu.Unlock()
	now := time.Now()
	for _, c := range serving {
		if r := c.serving.Load(); r != nil && c.gone(now.Sub(r.start)) {
			r.cancel()
		}
	}
	if len(serving) > 0 {
		s.watchHangups()
	}
}

// gone reports whether the client of a request served for so long has
// left: it reset the connection, or closed it and closedAfter has passed.
func (c *conn) gone(served time.Duration) bool {
	rc, ok := rawConn(c.raw)
	if !ok {
		return false
	}
	switch hangup.Look(rc) {
	case hangup.Reset:
		return true
	case hangup.Closed:
		return served >= closedAfter
	}
	return false
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
