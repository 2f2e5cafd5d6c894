package httpfront

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"wsgo/wsgi"
)

// Limits and timeouts not worth a setting.
const (
	maxDrain = 256 << 10 // unread input we discard to keep a connection
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
	bw    *bufio.Writer // from writers while a request is served; nil while idle
	sw    stallWriter   // under bw
	idle  bool          // waiting for a request, where Shutdown may end it; guarded by s.mu
	fresh bool          // no request yet: Shutdown lets it bring its first; guarded by s.mu
	tls   *tls.Conn     // rwc, when the connection is TLS; else nil
	lent  Lent          // the socket under rwc, when another process lent it; else nil

	remoteIP, remotePort string // "" on a unix socket
	trusted              bool   // its proxy headers are believed (proxy.go)
	localName, localPort string // SERVER_NAME and SERVER_PORT for requests without a host
}

func newConn(s *Server, rwc net.Conn) *conn {
	c := &conn{s: s, rwc: rwc, localName: "localhost"}
	c.cr.conn = rwc
	c.br = bufio.NewReaderSize(&c.cr, readBufSize)
	c.sw = stallWriter{rwc, s.stallTimeout}
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
	c.trusted = s.trust.trustsPeer(rwc.RemoteAddr())
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
	defer c.dropWriter()
	if c.tls != nil && !c.handshake(c.tls) {
		return
	}
	for c.awaitRequest() {
		c.takeWriter()
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
	c.dropWriter() // the last response is flushed
	_, err := c.br.Peek(1)
	return err == nil
}

// writers holds the write buffers of connections between requests: an
// idle keep-alive connection holds none (2,000 of them would otherwise
// hold 32 MiB).
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufSize) }}

// takeWriter gives the connection a write buffer for a request.
func (c *conn) takeWriter() {
	if c.bw == nil {
		c.bw = writers.Get().(*bufio.Writer)
		c.bw.Reset(&c.sw)
	}
}

// dropWriter gives the write buffer back, discarding what it may hold
// (nothing, unless the connection is ending). A response used after its
// request ended fails before it touches the buffer (responseState.usable).
func (c *conn) dropWriter() {
	if c.bw != nil {
		c.bw.Reset(nil)
		writers.Put(c.bw)
		c.bw = nil
	}
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
	start := time.Now()
	hreq, head, status, why := c.readRequest()
	if status != 0 {
		c.s.accessLog.rejected(c, hreq, status, c.reject(status, why), start)
		c.s.metrics.answered(status, start)
		return false
	}
	if hreq == nil {
		return false
	}
	return c.serveRequest(hreq, head, start)
}

// scheme is wsgi.url_scheme for the connection's requests.
func (c *conn) scheme() string {
	if c.tls != nil {
		return "https"
	}
	return "http"
}

// readRequest reads and checks one request head. It returns the request
// and its raw head; or the status to refuse it with, and the request when
// it could be parsed; or neither, when the client went quiet or away
// before the head was complete.
func (c *conn) readRequest() (*http.Request, []byte, int, string) {
	c.rwc.SetReadDeadline(time.Now().Add(c.s.headerTimeout))
	c.cr.recordHead(c.br, c.s.limits.headCap())
	hreq, err := http.ReadRequest(c.br)
	rec, sockErr := c.cr.stopRecording()
	head, status, why := c.s.limits.measureHead(rec)
	switch {
	case status != 0:
		return nil, nil, status, why
	case err == nil:
		if status, why = checkRequest(hreq, head); status == 0 {
			status, why = c.s.limits.bodyStatus(hreq)
		}
		return hreq, head, status, why
	case head != nil:
		if status, why = framingStatus(head, false); status == 0 {
			status, why = http.StatusBadRequest, err.Error()
		}
		return nil, nil, status, why
	case sockErr != nil:
		c.s.log.Debug("wsgo: connection dropped in a request head", "remote", c.peer(), "err", sockErr)
		return nil, nil, 0, ""
	}
	return nil, nil, http.StatusBadRequest, err.Error()
}

// reject answers a request that cannot be served and returns the length
// of the body it sent. The body is constant: echoing client bytes back
// invites reflected content. A limit's refusal is a warning naming the
// flag, for the operator may have set it too low.
func (c *conn) reject(status int, why string) int64 {
	level := slog.LevelDebug
	if isLimit(status) {
		level = slog.LevelWarn
		why += "; raise the flag if such requests are legitimate"
	}
	c.s.log.Log(context.Background(), level, "wsgo: request refused", "status", status, "why", why, "remote", c.peer())
	text := http.StatusText(status)
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nServer: wsgo\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n",
		status, text, httpDate(time.Now()), len(text)+1, text)
	c.bw.Flush()
	return int64(len(text) + 1)
}

// serveRequest runs the application for one request and completes its
// response. It reports whether the connection may carry another request.
func (c *conn) serveRequest(hreq *http.Request, head []byte, start time.Time) bool {
	c.s.metrics.begin()
	defer c.s.metrics.end()
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
		limit:   c.s.limits.body,
		waiting: hreq.ProtoMinor == 1 && hreq.Body != http.NoBody && hasToken(hreq.Header["Expect"], "100-continue"),
	}
	req := c.wsgiRequest(hreq, head, b)
	if c.trusted {
		forward(req, c.s.trust)
	}
	res := &response{
		responseState: responseState{req: req, requestID: requestID(req), start: start, cancel: cancel, remain: -1},
		c:             c,
		body:          b,
		isHead:        hreq.Method == http.MethodHead,
		http10:        hreq.ProtoMinor == 0,
		close:         hreq.Close || c.s.noKeepAlive,
	}
	b.res = res
	c.cr.stall = c.s.stallTimeout
	var app wsgi.App = c.s.app
	if files := c.s.static.match(req.RawPath); files != nil {
		app = files // never spooled: a body sent with a GET is drained unread
	} else if !req.HasContentLength && hreq.Body != http.NoBody {
		spooled, n, release, err := spoolBody(b)
		if err != nil {
			status, why := http.StatusBadRequest, "reading a chunked body: "+err.Error()
			if errors.Is(err, errBodyTooLarge) {
				status, why = http.StatusRequestEntityTooLarge, c.s.limits.bodyWhy()
			}
			res.status, res.sent = status, c.reject(status, why)
			c.s.answered(&res.responseState)
			return false
		}
		defer release()
		req.Body, req.ContentLength, req.HasContentLength = spooled, n, true
	}
	keep := res.finish(c.s.callApp(ctx, app, req, res))
	c.s.answered(&res.responseState)
	return keep && b.drain()
}

// callApp runs app, turning a panic into errPanic.
func (s *Server) callApp(ctx context.Context, app wsgi.App, req *wsgi.Request, w wsgi.Responder) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("wsgo: panic serving a request", "id", req.ID, "panic", p, "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return app.ServeWSGI(ctx, req, w)
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

// stallWriter renews the write deadline for each slice it writes, so a
// client that stops reading is dropped and a slow one is not.
type stallWriter struct {
	conn    net.Conn
	timeout time.Duration
}

func (w stallWriter) Write(p []byte) (n int, err error) {
	const slice = 64 << 10
	for len(p) > 0 {
		k := min(len(p), slice)
		w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
		m, err := w.conn.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
	}
	return n, nil
}
