package httpfront

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

// conn is one client connection, served by one goroutine.
type conn struct {
	s       *Server
	rwc     net.Conn
	cr      connReader
	br      *bufio.Reader
	head    headReader    // reads request heads from br
	bw      *bufio.Writer // from writers while a request is served; nil while idle
	out     *outbox       // under bw (under TLS): holds what a slow client has not taken yet
	sink    io.Writer     // what bw writes to: out, or the TLS session over it
	idle    bool          // waiting for a request, where Shutdown may end it; guarded by s.mu
	fresh   bool          // no request yet: Shutdown lets it bring its first; guarded by s.mu
	raw     net.Conn      // the socket: rwc, or what rwc encrypts
	tls     *tls.Conn     // rwc, when the connection is TLS; else nil
	lent    Lent          // raw, when another process lent it; else nil
	proxied bool          // its PROXY header is read (here or by an earlier worker)
	// pinned: the connection carries state only this process has (a TLS
	// session); it cannot go back to its owner.
	pinned bool

	// headBy, when set, is when the first request's head is due: the
	// look for a forged PROXY header has already spent part of its
	// --header-timeout (proxyproto.go).
	headBy time.Time

	remoteIP, remotePort string // "" on a unix socket
	trusted              bool   // its proxy headers are believed (proxy.go)
	localName, localPort string // SERVER_NAME and SERVER_PORT for requests without a host
	// serving: the HTTP/1 request being served, for the look for a client
	// that hung up (gone.go); nil between requests.
	serving atomic.Pointer[responseState]
}

func newConn(s *Server, rwc net.Conn) *conn {
	c := &conn{s: s, rwc: rwc, raw: rwc}
	c.cr.conn = rwc
	c.br = bufio.NewReaderSize(&c.cr, readBufSize)
	c.head = headReader{br: c.br, limits: s.limits, budget: s.buffers}
	c.out = newOutbox(rwc, s.stallTimeout, s.buffers)
	c.sink = c.out
	c.lent, _ = rwc.(Lent)
	c.setPeer(rwc.RemoteAddr(), rwc.LocalAddr())
	return c
}

// setPeer takes the connection's addresses: the socket's, or those of a
// PROXY header.
func (c *conn) setPeer(remote, local net.Addr) {
	c.remoteIP, c.remotePort = "", ""
	if a, ok := remote.(*net.TCPAddr); ok {
		c.remoteIP, c.remotePort = a.IP.String(), strconv.Itoa(a.Port)
	}
	c.trusted = c.s.trust.trustsPeer(remote)
	c.localName, c.localPort = "localhost", ""
	if a, ok := local.(*net.TCPAddr); ok {
		c.localName, c.localPort = hostPort(a)
	}
}

// startTLS makes the connection a TLS one over under (the socket, or the
// socket with a PROXY header's addresses); the handshake comes next.
func (c *conn) startTLS(under net.Conn) {
	// Under the session: what a slow client has not taken is queued as
	// whole records, and the session survives a released write.
	c.out = newOutbox(under, c.s.stallTimeout, c.s.buffers)
	c.tls = tls.Server(queuedSocket{Conn: under, out: c.out}, c.s.tlsConfig)
	c.rwc, c.cr.conn, c.sink = c.tls, c.tls, c.tls
	c.pin()
}

// pin marks the connection as one that cannot go back to its owner.
func (c *conn) pin() {
	if !c.pinned && c.lent != nil {
		c.lent.Pin()
	}
	c.pinned = true
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
	defer c.head.release()
	defer func() { c.out.drain() }() // the outbox startTLS replaces: what a failed send left is dropped
	defer c.dropWriter()
	_, isTCP := c.raw.LocalAddr().(*net.TCPAddr)
	useTLS := isTCP && c.s.tlsConfig != nil
	under := c.raw
	if c.s.proxyProtocol && c.trusted {
		var ok bool
		if under, ok = c.proxyHeader(useTLS); !ok {
			return
		}
	}
	if useTLS {
		c.startTLS(under)
		if !c.handshake(c.tls) {
			return
		}
	}
	for n := 0; c.awaitRequest(); n++ {
		if n == 0 && c.s.proxyProtocol && c.tls == nil && !c.proxied && c.forgedProxyHeader() {
			c.rwc.Close()
			return
		}
		if n == 0 && c.tls == nil && c.opensHTTP2() {
			// Its HTTP/2 session lives in this process, over under (with a
			// PROXY header's addresses); each stream's writes are released
			// above the session (h2response).
			c.pin()
			c.out.keepWaiting()
			c.s.h2.serve(c.s, h2cConn{queuedSocket{Conn: under, out: c.out}, c.br})
			return
		}
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

// idleNow tells a lent connection's owner, as soon as a response is out
// and nothing of the next request has been read, that no request is in
// flight: should this process die now, the owner lends the connection
// again instead of resetting it. The window between the response's last
// write and this mark is what remains of that race.
func (c *conn) idleNow() {
	if c.lent != nil && c.br.Buffered() == 0 {
		c.lent.Idle()
	}
}

// ending tells a lent connection that its response is whole once the
// write buffer is written, when nothing then stands between it and
// idleNow: no byte of the next request is buffered, and no queued send
// is under way (whose bytes the buffer's count would miss).
func (c *conn) ending() {
	if c.lent != nil && c.br.Buffered() == 0 && !c.out.busy() {
		c.lent.Ending(c.bw.Buffered())
	}
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
	c.idleNow()
	// After the deadline is set, so that Shutdown's wake-up cannot be lost.
	if c.s.shuttingDown() && !c.s.isFresh(c) {
		return false
	}
	c.dropWriter() // the last response is flushed
	_, err := c.br.Peek(1)
	return err == nil
}

// h2Preface opens every HTTP/2 connection (RFC 9113, section 3.4).
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// opensHTTP2 reports whether a plaintext connection opens with HTTP/2's
// preface: a client with prior knowledge (h2c). Most HTTP/1 requests are
// told apart by their first byte, read already. The look shares the
// first head's --header-timeout (headBy), as the PROXY header's does.
func (c *conn) opensHTTP2() bool {
	if b, err := c.br.Peek(1); err != nil || b[0] != h2Preface[0] {
		return false
	}
	if c.headBy.IsZero() {
		c.headBy = time.Now().Add(c.s.headerTimeout)
	}
	c.rwc.SetReadDeadline(c.headBy)
	for n := 2; n <= len(h2Preface); n++ {
		if b, err := c.br.Peek(n); err != nil || b[n-1] != h2Preface[n-1] {
			return false
		}
	}
	return true
}

// writers holds the write buffers of connections between requests: an
// idle keep-alive connection holds none (2,000 of them would otherwise
// hold 32 MiB).
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufSize) }}

// takeWriter gives the connection a write buffer for a request.
func (c *conn) takeWriter() {
	if c.bw == nil {
		c.bw = writers.Get().(*bufio.Writer)
		c.bw.Reset(c.sink)
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
	if c.lent != nil && !c.pinned && c.s.isReleasing() && c.br.Buffered() == 0 {
		c.lent.Return()
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
	due := start.Add(c.s.headerTimeout)
	if !c.headBy.IsZero() {
		due, c.headBy = c.headBy, time.Time{}
	}
	c.rwc.SetReadDeadline(due)
	h, err := c.head.read()
	var refused *headError
	var whole *wsgi.Request // a refused request whose head was read whole
	switch {
	case errors.As(err, &refused):
	case err != nil:
		c.s.log.Debug("wsgo: connection dropped in a request head", "remote", c.peer(), "err", err)
		return false
	default:
		if status, why := c.s.limits.bodyStatus(h.length); status != 0 {
			refused = &headError{status, why}
			whole = c.request(h, nil)
			c.s.identify(whole, c.trusted)
		}
	}
	if refused != nil {
		// A head refused before it was read whole has no id of the
		// client's: it gets one of wsgo's, so that the refusal the client
		// saw can be found in the logs.
		remote, id := c.peer(), newRequestID()
		if whole != nil {
			id = whole.RequestID
			if whole.RemoteAddr != c.remoteIP {
				remote = whole.RemoteAddr // the client a trusted proxy named
			}
		}
		c.s.logRefusal(refused.status, refused.why, remote, id)
		c.s.accessLog.rejected(c, h, whole, id, refused.status, c.reject(refused.status, id, c.head.forHEAD()), start)
		c.s.metrics.answered(refused.status, start)
		return false
	}
	// New for each request: a Responder or Body kept past ServeWSGI must
	// fail, not act on the next request.
	b := &body{c: c, length: h.length, eof: h.length == 0, waiting: h.expect && !h.http10}
	switch {
	case h.chunked:
		b.r = &chunkedReader{br: c.br, limits: c.s.limits}
	case h.length > 0:
		b.r = &lengthReader{r: c.br, left: h.length}
	}
	b.r = capBody(b.r, c.s.limits.body)
	res := &response{
		responseState: responseState{start: start, remain: -1, out: c.out},
		c:             c,
		body:          b,
		isHead:        h.method == http.MethodHead,
		http10:        h.http10,
		close:         h.close || c.s.noKeepAlive,
	}
	b.res = res
	c.cr.stall = c.s.stallTimeout
	defer c.serving.Store(nil)
	return c.s.serveRequest(c.s.ctx, c.request(h, b), res, c.trusted)
}

// request makes the contract's request of a head read from the connection.
func (c *conn) request(h *requestHead, b *body) *wsgi.Request {
	path, query := splitTarget(h.target)
	name, port := c.serverAddr(h.host)
	return &wsgi.Request{
		ID:               lastID.Add(1),
		Method:           h.method,
		RequestURI:       h.target,
		RawPath:          path,
		RawQuery:         query,
		Proto:            h.proto,
		Scheme:           c.scheme(),
		ServerName:       name,
		ServerPort:       port,
		RemoteAddr:       c.remoteIP,
		RemotePort:       c.remotePort,
		Header:           h.header,
		ContentType:      h.contentType,
		ContentLength:    h.length,
		HasContentLength: h.hasLength,
		Body:             b,
	}
}

// scheme is wsgi.url_scheme for the connection's requests.
func (c *conn) scheme() string {
	if c.tls != nil {
		return "https"
	}
	return "http"
}

// reject answers a request that cannot be served and returns the length
// of the body it sent. The body is constant: echoing client bytes back
// invites reflected content. requestID, when given, is sent as on every
// response, so that the client can name the refusal in the log. A HEAD
// gets the head alone (RFC 9110 9.3.2), its length that of a GET's body.
func (c *conn) reject(status int, requestID string, isHead bool) int64 {
	text := statusText(status) + "\n"
	idField := ""
	if requestID != "" {
		idField = "X-Request-ID: " + requestID + "\r\n"
	}
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nServer: wsgo\r\nDate: %s\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		status, text[:len(text)-1], httpDate(time.Now()), idField, len(text))
	sent := 0
	if !isHead {
		sent, _ = c.bw.WriteString(text)
	}
	c.bw.Flush() // conn.close, which follows, waits for the outbox
	return int64(sent)
}

// close ends the connection after its last response. Closing a socket
// with unread input makes the kernel send a reset, which can destroy the
// response before the client reads it; so shut the write side first and
// give the client a moment to read and hang up.
func (c *conn) close() {
	c.out.drain()
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
	if c.lent != nil {
		c.lent.Abort()
		return
	}
	if tcp, ok := c.raw.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	c.raw.Close() // the outbox's sender, if any, fails and stops
}

// peer names the client in log lines.
func (c *conn) peer() string {
	if c.remoteIP == "" {
		return "unix"
	}
	return net.JoinHostPort(c.remoteIP, c.remotePort)
}

// connReader sits under the connection's bufio.Reader. While a body is
// read it renews the read deadline before each read, so a stalled client
// times out and a slow one does not.
type connReader struct {
	conn  net.Conn
	stall time.Duration // if > 0, each read may wait this long
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.stall > 0 {
		r.conn.SetReadDeadline(time.Now().Add(r.stall))
	}
	return r.conn.Read(p)
}
