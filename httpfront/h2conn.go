package httpfront

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// The HTTP/2 frame types and flags h2Conn looks at (RFC 9113 section 6).
const (
	frameHeaders      = 0x1
	frameContinuation = 0x9
	flagEndHeaders    = 0x4
)

// h2Conn is an HTTP/2 connection as net/http's HTTP/2 server reads it,
// for what that server has no hook for: it follows the frames the client
// sends, and bounds each header block by --header-timeout. While a block
// is open no other frame may come (RFC 9113 6.10), so a read deadline
// bounds that block alone; net/http reads the block whole before it looks
// at it, so a client that stops in one would hold the connection.
type h2Conn struct {
	net.Conn
	s       *Server
	scheme  string      // "https", or "http" for h2c: net/http sees no TLS (h2front)
	in      frameWalker // what the client sends
	inBlock bool        // a header block is open
	armed   bool        // the read deadline of the open block is set
}

// newH2Conn wraps c, a *tls.Conn that negotiated "h2" or an h2cConn,
// whose reads begin with the client's preface.
func newH2Conn(s *Server, c net.Conn) *h2Conn {
	scheme := "http"
	if _, ok := c.(*tls.Conn); ok {
		scheme = "https"
	}
	return &h2Conn{Conn: c, s: s, scheme: scheme, in: frameWalker{skip: len(h2Preface)}}
}

func (c *h2Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.walk(p[:n], c.received)
	if c.inBlock != c.armed {
		c.armed = c.inBlock
		var due time.Time // none once the block is whole
		if c.inBlock {
			due = time.Now().Add(c.s.headerTimeout)
		}
		c.Conn.SetReadDeadline(due)
	}
	if err != nil && c.inBlock {
		c.s.log.Debug("wsgo: HTTP/2 connection dropped in a header block", "remote", c.RemoteAddr().String(), "err", err)
	}
	return n, err
}

// received follows the header blocks among the frames the client sends:
// a HEADERS frame opens one, which ends with the frame that has
// END_HEADERS.
func (c *h2Conn) received(f frameHead, ended bool) {
	switch {
	case !ended && f.typ == frameHeaders:
		c.inBlock = true
	case ended && (f.typ == frameHeaders || f.typ == frameContinuation) && f.flags&flagEndHeaders != 0:
		c.inBlock = false
	}
}

// h2SchemeKey is the context key of an HTTP/2 connection's scheme.
type h2SchemeKey struct{}

// h2ConnContext gives the requests of an h2Conn its scheme.
func h2ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, h2SchemeKey{}, c.(*h2Conn).scheme)
}

// h2Scheme is the URL scheme of an HTTP/2 request: "https", or "http"
// for h2c.
func h2Scheme(hr *http.Request) string {
	return hr.Context().Value(h2SchemeKey{}).(string)
}

// frameHead is what h2Conn reads of a frame's header.
type frameHead struct {
	typ, flags byte
}

// frameWalker follows the frames (RFC 9113 4.1) of an HTTP/2 byte stream
// that is shown to it in pieces, as they are read.
type frameWalker struct {
	skip int     // bytes to pass before the first frame: the client's preface
	head [9]byte // the current frame's header
	pos  int     // bytes of the current frame passed
	size int     // the current frame's size, header included; 0 until its header is in
}

// walk passes p: on is called for each frame once its header is in, and
// again (ended) once its last byte has passed.
func (w *frameWalker) walk(p []byte, on func(f frameHead, ended bool)) {
	n := min(w.skip, len(p))
	w.skip, p = w.skip-n, p[n:]
	for {
		if w.size == 0 {
			n := copy(w.head[w.pos:], p)
			w.pos, p = w.pos+n, p[n:]
			if w.pos < len(w.head) {
				return
			}
			w.size = len(w.head) + (int(w.head[0])<<16 | int(w.head[1])<<8 | int(w.head[2]))
			on(frameHead{w.head[3], w.head[4]}, false)
		}
		n := min(w.size-w.pos, len(p))
		w.pos, p = w.pos+n, p[n:]
		if w.pos < w.size {
			return
		}
		on(frameHead{w.head[3], w.head[4]}, true)
		w.pos, w.size = 0, 0
		if len(p) == 0 {
			return
		}
	}
}
