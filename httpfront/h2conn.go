package httpfront

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"net"
	"net/http"
	"strconv"
	"time"
)

// The HTTP/2 frame types and flags h2Conn looks at (RFC 9113 section 6).
const (
	frameHeaders      = 0x1
	frameGoAway       = 0x7
	frameContinuation = 0x9
	flagEndHeaders    = 0x4
)

// h2Conn is an HTTP/2 connection as net/http's HTTP/2 server reads and
// writes it, for what that server has no hook for. It follows the frames
// the client sends, and bounds each header block by --header-timeout:
// while a block is open no other frame may come (RFC 9113 6.10), so a
// read deadline bounds that block alone; net/http reads the block whole
// before it looks at it, so a client that stops in one would hold the
// connection. And it counts the connection errors the server ends the
// connection with (a GOAWAY's code), of which net/http names only some.
type h2Conn struct {
	net.Conn
	s       *Server
	scheme  string      // "https", or "http" for h2c: net/http sees no TLS (h2front)
	in, out frameWalker // what the client sends, what the server sends
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

func (c *h2Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.walk(p[:n], c.sent)
	return n, err
}

// sent counts and logs a GOAWAY with an error code: a connection error.
func (c *h2Conn) sent(f frameHead, ended bool) {
	if !ended && f.typ == frameGoAway && f.code != 0 {
		code := h2ErrorName(f.code)
		c.s.metrics.h2ConnectionError(code)
		c.s.log.Debug("wsgo: HTTP/2 connection ended on a connection error", "code", code, "remote", c.RemoteAddr().String())
	}
}

// h2ErrorCodes are the names of HTTP/2's error codes (RFC 9113 7).
var h2ErrorCodes = []string{"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
	"COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"}

// h2ErrorName names an error code; one RFC 9113 does not define is its number.
func h2ErrorName(code uint32) string {
	if code < uint32(len(h2ErrorCodes)) {
		return h2ErrorCodes[code]
	}
	return strconv.FormatUint(uint64(code), 10)
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

// frameHead is what h2Conn reads of a frame: its header's type and
// flags, and a GOAWAY's error code (RFC 9113 6.8).
type frameHead struct {
	typ, flags byte
	code       uint32
}

// frameHeaderLen is the size of a frame's header.
const frameHeaderLen = 9

// frameWalker follows the frames (RFC 9113 4.1) of an HTTP/2 byte stream
// that is shown to it in pieces, as they are read or written.
type frameWalker struct {
	skip int                      // bytes to pass before the first frame: the client's preface
	head [frameHeaderLen + 8]byte // the current frame's header, then up to 8 bytes of its payload
	pos  int                      // bytes of the current frame passed
	size int                      // the current frame's size, header included; 0 until its header is in
}

// walk passes p: on is called for each frame once its head is in, and
// again (ended) once its last byte has passed.
func (w *frameWalker) walk(p []byte, on func(f frameHead, ended bool)) {
	n := min(w.skip, len(p))
	w.skip, p = w.skip-n, p[n:]
	for {
		if end := w.headEnd(); w.pos < end {
			n := copy(w.head[w.pos:end], p)
			w.pos, p = w.pos+n, p[n:]
			if w.pos < end {
				return
			}
			if w.size == 0 {
				w.size = frameHeaderLen + (int(w.head[0])<<16 | int(w.head[1])<<8 | int(w.head[2]))
				if w.headEnd() > w.pos {
					continue // the start of its payload
				}
			}
			on(w.frame(), false)
		}
		n := min(w.size-w.pos, len(p))
		w.pos, p = w.pos+n, p[n:]
		if w.pos < w.size {
			return
		}
		on(w.frame(), true)
		w.pos, w.size = 0, 0
		if len(p) == 0 {
			return
		}
	}
}

// headEnd is how many bytes of the current frame head holds: its header
// until that is in, then the start of its payload too.
func (w *frameWalker) headEnd() int {
	if w.size == 0 {
		return frameHeaderLen
	}
	return min(w.size, len(w.head))
}

// frame is what head tells of the current frame.
func (w *frameWalker) frame() frameHead {
	f := frameHead{typ: w.head[3], flags: w.head[4]}
	if f.typ == frameGoAway && w.size >= len(w.head) {
		f.code = binary.BigEndian.Uint32(w.head[frameHeaderLen+4:]) // after the last stream's ID
	}
	return f
}
