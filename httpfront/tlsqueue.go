package httpfront

import (
	"net"
	"time"
)

// queuedSocket is the socket as a TLS session sees it: reads go to the
// socket, writes through the connection's outbox. The session hands the
// outbox whole records, so a released write queues records and returns
// success: the session never sees a timed-out write, which would break
// it for good. Write deadlines are the outbox's own (one per slice it
// sends); the session's are dropped.
type queuedSocket struct {
	net.Conn
	out *outbox
}

func (q queuedSocket) Write(p []byte) (int, error) { return q.out.Write(p) }

func (q queuedSocket) SetDeadline(t time.Time) error { return q.Conn.SetReadDeadline(t) }

func (q queuedSocket) SetWriteDeadline(time.Time) error { return nil }
