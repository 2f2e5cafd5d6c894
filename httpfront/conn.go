package httpfront

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"wsgo/wsgi"
)

// Limits and timeouts not worth a setting.
const (
	maxRequestLine = 8 << 10   // a longer request line gets 414
	maxDrain       = 256 << 10 // unread input we discard to keep a connection
	// stallTimeout: a body read or response write that makes no progress
	// for this long means the client is gone (a slow one still progresses).
	stallTimeout = time.Minute
	// drainTimeout bounds waiting for input nobody wants: the rest of an
	// unread request body, or what a client sends after its last response.
	drainTimeout = time.Second
	readBufSize  = 4 << 10
	writeBufSize = 16 << 10
)

// lastID numbers requests across the process, for log lines.
var lastID atomic.Uint64

// errPanic stands for a recovered panic of the application.
var errPanic = errors.New("wsgo: panic serving the request")

// conn is one client connection, served by one goroutine.
type conn struct {
	s     *Server
	rwc   net.Conn
	cr    connReader
	br    *bufio.Reader
	bw    *bufio.Writer
	idle  bool      // waiting for a request, where Shutdown may end it; guarded by s.mu
	fresh bool      // no request yet: Shutdown lets it bring its first; guarded by s.mu
	tls   *tls.Conn // rwc, when the connection is TLS; else nil
	lent  Lent      // the socket under rwc, when another process lent it; else nil

	remoteIP, remotePort string // "" on a unix socket
	localName, localPort string // SERVER_NAME and SERVER_PORT for requests without a host
}

func newConn(s *Server, rwc net.Conn) *conn {
	c := &conn{s: s, rwc: rwc, localName: "localhost"}
	c.cr.conn = rwc
	c.br = bufio.NewReaderSize(&c.cr, readBufSize)
	c.bw = bufio.NewWriterSize(stallWriter{rwc}, writeBufSize)
	c.tls, _ = rwc.(*tls.Conn)
	if c.tls != nil {
		c.lent, _ = c.tls.NetConn().(Lent)
		if c.lent != nil {
			c.lent.Encrypted()
		}
	} else {
		c.lent, _ = rwc.(Lent)
	}
	if a, ok := rwc.RemoteAddr().(*net.TCPAddr); ok {
		c.remoteIP, c.remotePort = a.IP.String(), strconv.Itoa(a.Port)
	}
	if a, ok := rwc.LocalAddr().(*net.TCPAddr); ok {
		c.localName, c.localPort = hostPort(a)
	}
	return c
}

// hostPort gives SERVER_NAME and SERVER_PORT for a socket address; IPv6
// literals keep their brackets, so that name:port stays an authority.
func hostPort(a *net.TCPAddr) (name, port string) {
	name = a.IP.String()
	if a.IP.To4() == nil {
		name = "[" + name + "]"
	}
	return name, strconv.Itoa(a.Port)
}

func (c *conn) serve() {
	defer c.s.removeConn(c)
	if c.tls != nil && !c.handshake(c.tls) {
		return
	}
	for c.awaitRequest() {
		c.s.setIdle(c, false)
		if !c.handle() {
			c.close()
			return
		}
		if !c.s.setIdle(c, true) {
			c.end(true)
			return
		}
	}
	c.end(false)
}

// awaitRequest waits, up to KeepAlive, for the first byte of a request.
// It gives up at once when the server is stopping and the connection has
// served a request already (a fresh one may still bring its first).
func (c *conn) awaitRequest() bool {
	c.cr.stall = 0
	c.rwc.SetReadDeadline(time.Now().Add(c.s.keepAlive))
	if c.br.Buffered() > 0 {
		return true
	}
	if c.lent != nil {
		c.lent.Idle()
	}
	// After the deadline is set, so that Shutdown's wake-up cannot be lost.
	if c.s.shuttingDown() && !c.s.isFresh(c) {
		return false
	}
	_, err := c.br.Peek(1)
	return err == nil
}

// end closes a connection between requests, or gives a lent one back to
// its owner when the server is releasing connections and nothing of a
// next request has been read. clean: the last response is complete, so
// unread input (a next request) is no reason for a reset.
func (c *conn) end(clean bool) {
	if c.lent != nil && c.tls == nil && c.s.isReleasing() && c.br.Buffered() == 0 {
		c.lent.Return() // (a TLS session cannot move to another process)
		return
	}
	if clean {
		c.close()
		return
	}
	c.rwc.Close()
}

// handle reads one request and answers it. It reports whether the
// connection may carry another.
func (c *conn) handle() bool {
	hreq, head, status, why := c.readRequest()
	if status != 0 {
		c.reject(status, why)
		return false
	}
	if hreq == nil {
		return false
	}
	return c.serveRequest(hreq, head)
}

// scheme is wsgi.url_scheme for the connection's requests.
func (c *conn) scheme() string {
	if c.tls != nil {
		return "https"
	}
	return "http"
}

// readRequest reads and checks one request head. It returns the request
// and its raw head; or the status to refuse it with; or neither, when the
// client went quiet or away before the head was complete.
func (c *conn) readRequest() (*http.Request, []byte, int, string) {
	c.rwc.SetReadDeadline(time.Now().Add(c.s.headerTimeout))
	// Room for a head of exactly MaxHeaderBytes, its empty line, and one
	// byte more to tell that it is too long.
	c.cr.recordHead(c.br, c.s.maxHeaderBytes+3)
	hreq, err := http.ReadRequest(c.br)
	rec, sockErr := c.cr.stopRecording()
	head, status, why := measureHead(rec, c.s.maxHeaderBytes)
	if status == 0 {
		switch {
		case err == nil:
			status, why = checkRequest(hreq, head)
		case head != nil:
			status, why = framingStatus(head, false)
			if status == 0 {
				status, why = http.StatusBadRequest, err.Error()
			}
		case sockErr != nil:
			c.s.log.Debug("wsgo: connection dropped in a request head", "remote", c.peer(), "err", sockErr)
			return nil, nil, 0, ""
		default:
			status, why = http.StatusBadRequest, err.Error()
		}
	}
	if status != 0 {
		return nil, nil, status, why
	}
	return hreq, head, 0, ""
}

// reject answers a request that cannot be served. The body is constant:
// echoing client bytes back invites reflected content.
func (c *conn) reject(status int, why string) {
	c.s.log.Debug("wsgo: request refused", "status", status, "why", why, "remote", c.peer())
	text := http.StatusText(status)
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nServer: wsgo\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n",
		status, text, httpDate(time.Now()), len(text)+1, text)
	c.bw.Flush()
}

// serveRequest runs the application for one request and completes its
// response. It reports whether the connection may carry another request.
func (c *conn) serveRequest(hreq *http.Request, head []byte) bool {
	ctx, cancel := context.WithCancel(c.s.ctx)
	defer cancel()
	if c.s.timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, c.s.timeout, wsgi.ErrTimeout)
		defer stop()
	}
	// New for each request: a Responder or Body kept past ServeWSGI must
	// fail, not act on the next request.
	b := &body{
		c:       c,
		r:       hreq.Body,
		length:  hreq.ContentLength,
		eof:     hreq.Body == http.NoBody,
		waiting: hreq.ProtoMinor == 1 && hreq.Body != http.NoBody && hasToken(hreq.Header["Expect"], "100-continue"),
	}
	req := c.wsgiRequest(hreq, head, b)
	res := &response{
		responseState: responseState{cancel: cancel, remain: -1},
		c:             c,
		body:          b,
		id:            req.ID,
		isHead:        hreq.Method == http.MethodHead,
		http10:        hreq.ProtoMinor == 0,
		close:         hreq.Close,
	}
	b.res = res
	c.cr.stall = stallTimeout
	if !req.HasContentLength && hreq.Body != http.NoBody {
		spooled, n, release, err := spoolBody(b)
		if err != nil {
			c.reject(http.StatusBadRequest, "reading a chunked body: "+err.Error())
			return false
		}
		defer release()
		req.Body, req.ContentLength, req.HasContentLength = spooled, n, true
	}
	keep := res.finish(c.s.callApp(ctx, req, res))
	return keep && b.drain()
}

// callApp runs the application, turning a panic into errPanic.
func (s *Server) callApp(ctx context.Context, req *wsgi.Request, w wsgi.Responder) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("wsgo: panic serving a request", "id", req.ID, "panic", p, "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return s.app.ServeWSGI(ctx, req, w)
}

// close ends the connection after its last response. Closing a socket
// with unread input makes the kernel send a reset, which can destroy the
// response before the client reads it; so shut the write side first and
// give the client a moment to read and hang up.
func (c *conn) close() {
	if cw, ok := c.rwc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		c.rwc.SetReadDeadline(time.Now().Add(drainTimeout))
		io.CopyN(io.Discard, c.rwc, maxDrain)
	}
	c.rwc.Close()
}

// cut ends the connection with a reset, so that the client cannot take a
// response broken off for a whole one: a clean close (or a TLS
// close_notify) would end a response framed by the connection's end.
func (c *conn) cut() {
	raw := c.rwc
	if c.tls != nil {
		raw = c.tls.NetConn()
	}
	switch raw := raw.(type) {
	case Lent:
		raw.Abort()
		return
	case *net.TCPConn:
		raw.SetLinger(0)
	}
	raw.Close()
}

// peer names the client in log lines.
func (c *conn) peer() string {
	if c.remoteIP == "" {
		return "unix"
	}
	return net.JoinHostPort(c.remoteIP, c.remotePort)
}

// connReader sits under the connection's bufio.Reader.
//
// While a request head is read it keeps a copy of the bytes and caps how
// many are pulled from the socket: http.ReadRequest has no size limit, and
// it drops what we must still check (a Content-Length next to a
// Transfer-Encoding) or want (the order of the headers).
//
// While a body is read it renews the read deadline before each read, so a
// stalled client times out and a slow one does not.
type connReader struct {
	conn  net.Conn
	stall time.Duration // if > 0, each read may wait this long

	recording bool
	rec       []byte
	left      int   // bytes the head may still pull from the socket
	err       error // the socket's first error while recording
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.recording {
		if r.left <= 0 {
			return 0, io.EOF
		}
		p = p[:min(len(p), r.left)]
	}
	if r.stall > 0 {
		r.conn.SetReadDeadline(time.Now().Add(r.stall))
	}
	n, err := r.conn.Read(p)
	if r.recording {
		r.rec = append(r.rec, p[:n]...)
		r.left -= n
		if err != nil && r.err == nil {
			r.err = err
		}
	}
	return n, err
}

// recordHead starts recording a head of at most limit bytes, beginning
// with what br already holds.
func (r *connReader) recordHead(br *bufio.Reader, limit int) {
	held, _ := br.Peek(br.Buffered())
	r.rec = append(r.rec[:0], held...)
	r.left = limit - len(r.rec)
	r.err = nil
	r.recording = true
}

// stopRecording returns the recorded bytes (valid until the next
// recordHead) and the socket error met, if any.
func (r *connReader) stopRecording() ([]byte, error) {
	r.recording = false
	return r.rec, r.err
}

// measureHead finds the request head in the bytes read for it and checks
// its size. The head excludes the empty line that ends it; it is nil when
// that line has not arrived.
func measureHead(rec []byte, maxBytes int) (head []byte, status int, why string) {
	line := bytes.IndexByte(rec, '\n')
	if line < 0 {
		line = len(rec)
	}
	if line > maxRequestLine+1 { // +1 for the CR
		return nil, http.StatusRequestURITooLong, "request line too long"
	}
	end := headEnd(rec)
	if end > maxBytes || end < 0 && len(rec) > maxBytes {
		return nil, http.StatusRequestHeaderFieldsTooLarge, "request head too large"
	}
	if end < 0 {
		return nil, 0, ""
	}
	return rec[:end], 0, ""
}

// headEnd returns the length of the head at the start of b, through the
// line end of its last line, or -1 if the empty line ending it is not in b.
// Lines end in CRLF or a bare LF, as http.ReadRequest accepts both.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if rest := b[i:]; bytes.HasPrefix(rest, []byte("\n")) || bytes.HasPrefix(rest, []byte("\r\n")) {
			return i
		}
	}
}

// stallWriter renews the write deadline for each slice it writes, so a
// client that stops reading is dropped and a slow one is not.
type stallWriter struct{ conn net.Conn }

func (w stallWriter) Write(p []byte) (n int, err error) {
	const slice = 64 << 10
	for len(p) > 0 {
		k := min(len(p), slice)
		w.conn.SetWriteDeadline(time.Now().Add(stallTimeout))
		m, err := w.conn.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}
