package httpfront

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"wsgo/wsgi"
)

// h2front serves the TLS connections that chose HTTP/2 through ALPN, and
// the plaintext ones that open with HTTP/2's preface (h2c with prior
// knowledge, RFC 9113 section 3.3). Our HTTP/1 server exists for the
// reason phrase, which HTTP/2 does not have, so HTTP/2 is net/http's: one
// http.Server, started with the first such connection, is handed each of
// them and calls serveH2 for each request.
//
// It is handed each as an h2Conn, which watches its frames, and so as
// h2c: net/http takes a TLS connection for one only as a *tls.Conn, which
// it reads itself. The scheme then comes from the connection's context,
// and net/http's HTTP/2 checks of the TLS session (RFC 9113 9.2) are not
// made: the listeners take TLS 1.2 or later with AEAD cipher suites only
// (tls.go).
type h2front struct {
	mu     sync.Mutex
	hs     *http.Server // nil until the first HTTP/2 connection
	ln     *handoff
	closed bool
}

// serve hands an HTTP/2 connection to the HTTP/2 server: a *tls.Conn
// that negotiated "h2", or an h2cConn.
func (f *h2front) serve(s *Server, c net.Conn) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		c.Close()
		return
	}
	if f.hs == nil {
		f.ln = &handoff{conns: make(chan net.Conn), done: make(chan struct{})}
		var only http.Protocols // never HTTP/1: that is ours
		only.SetHTTP2(true)
		only.SetUnencryptedHTTP2(true)
		f.hs = &http.Server{
			Protocols:         &only,
			Handler:           http.HandlerFunc(s.serveH2),
			IdleTimeout:       s.keepAlive,
			ReadHeaderTimeout: s.headerTimeout,             // the wait for a TLS client's preface
			MaxHeaderBytes:    s.limits.h2HeaderListSize(), // net/http adds 320 bytes
			HTTP2:             &http.HTTP2Config{WriteByteTimeout: s.stallTimeout, CountError: s.h2Error},
			BaseContext:       func(net.Listener) context.Context { return s.ctx },
			ConnContext:       h2ConnContext,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),

			DisableGeneralOptionsHandler: true, // OPTIONS * reaches the app, as on HTTP/1
		}
		go f.hs.Serve(f.ln)
	}
	ln := f.ln
	f.mu.Unlock()
	ln.give(newH2Conn(s, c))
}

// h2Error records an error net/http's HTTP/2 server met, most often a
// client's malformed frame or request, which it refuses (a reset stream,
// GOAWAY) without calling our handler: so no access-log line, but a
// count and a line at debug level, as a refusal on HTTP/1 has.
func (s *Server) h2Error(errType string) {
	s.metrics.h2Error(errType)
	s.log.Debug("wsgo: HTTP/2 request or frame refused by the protocol layer", "type", errType)
}

// shutdown stops taking connections and sends GOAWAY on those it has; it
// returns when their streams are done, or ctx is.
func (f *h2front) shutdown(ctx context.Context) {
	f.mu.Lock()
	f.closed = true
	hs := f.hs
	f.mu.Unlock()
	if hs != nil {
		hs.Shutdown(ctx)
	}
}

// close closes every HTTP/2 connection at once.
func (f *h2front) close() {
	f.mu.Lock()
	f.closed = true
	hs := f.hs
	f.mu.Unlock()
	if hs != nil {
		hs.Close()
	}
}

// handoff is the listener of the HTTP/2 server: it accepts the
// connections given to it.
type handoff struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (h *handoff) give(c net.Conn) {
	select {
	case h.conns <- c:
	case <-h.done:
		c.Close()
	}
}

func (h *handoff) Accept() (net.Conn, error) {
	select {
	case c := <-h.conns:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

func (h *handoff) Close() error {
	h.once.Do(func() { close(h.done) })
	return nil
}

func (h *handoff) Addr() net.Addr { return handoffAddr{} }

type handoffAddr struct{}

func (handoffAddr) Network() string { return "h2" }
func (handoffAddr) String() string  { return "HTTP/2 connections from the listeners" }

// h2cConn is a plaintext connection that opened with HTTP/2's preface, as
// the HTTP/2 server gets it: its reads begin with what the HTTP/1 reader
// has buffered (the preface, at least), and its writes go through the
// outbox, as a TLS session's do.
type h2cConn struct {
	queuedSocket
	br *bufio.Reader
}

func (c h2cConn) Read(p []byte) (int, error) { return c.br.Read(p) }

// serveH2 serves one HTTP/2 request: the same wsgi.Request an HTTP/1
// request makes, under the same limits, answered through h2response.
func (s *Server) serveH2(w http.ResponseWriter, hr *http.Request) {
	rc := http.NewResponseController(w)
	res := &h2response{
		responseState: responseState{start: time.Now(), remain: -1, out: newSettlingOutbox(h2stream{w, rc}, s.stallTimeout, s.buffers)},
		w:             w,
		rc:            rc,
		isHead:        hr.Method == http.MethodHead,
		s:             s,
		remote:        hr.RemoteAddr,
		gone:          hr.Context().Done(),
	}
	body := &h2body{r: capBody(hr.Body, s.limits.body), rc: res.rc, stall: s.stallTimeout, res: res}
	scheme := h2Scheme(hr)
	req := h2Request(hr, scheme, body)
	status, why := h2RequestError(hr, scheme)
	if status == 0 {
		status, why = s.limits.h2Status(hr)
	}
	if status == 0 {
		held := max(h2HeaderListSize(hr)-keptHeadBuffer, 0)
		if s.buffers.takeMemory(held) {
			defer s.buffers.freeMemory(held)
		} else {
			status, why = errHeadMemory.status, errHeadMemory.why
		}
	}
	if status != 0 {
		res.req, res.requestID = req, requestID(req)
		res.refuse(status, why)
		s.answered(&res.responseState)
		return
	}
	s.serveRequest(hr.Context(), req, res, s.trust.trustsPeer(h2Peer(hr)))
}

// h2HeaderListSize is the size of hr's header list as RFC 9113 6.5.2
// counts it: each field's name and value and 32 bytes, pseudo-fields
// included. What a large list holds while its request waits counts
// against the buffer memory as a large HTTP/1 head's buffer does (head.go):
// net/http starts a handler for each of up to 250 streams a connection.
func h2HeaderListSize(hr *http.Request) int {
	const pseudo = len(":method") + len(":scheme") + len(":authority") + len(":path") + len("https") + 4*32
	n := pseudo + len(hr.Method) + len(hr.Host) + len(hr.RequestURI)
	for name, values := range hr.Header {
		for _, v := range values {
			n += len(name) + len(v) + 32
		}
	}
	return n
}

// h2RequestError refuses what HTTP/1 refuses in a request head (head.go)
// and net/http lets through on HTTP/2; 0 when the request is fine.
// net/http reads the first of several content-length or host fields.
func h2RequestError(hr *http.Request, scheme string) (int, string) {
	hosts := hr.Header["Host"]
	switch t := hr.RequestURI; {
	case !validToken(hr.Method):
		return http.StatusBadRequest, "invalid method"
	case hr.Method == http.MethodConnect:
		return http.StatusNotImplemented, "CONNECT: wsgo is not a proxy"
	case t == "*" && hr.Method != http.MethodOptions:
		return http.StatusBadRequest, "asterisk-form target for a method other than OPTIONS"
	case t != "*" && !strings.HasPrefix(t, "/"):
		return http.StatusBadRequest, "request target not a path"
	case targetError(t) != "":
		return http.StatusBadRequest, targetError(t)
	case hr.Host == "":
		return http.StatusBadRequest, "request without :authority or Host"
	case !validHost(hr.Host): // net/http checks only its characters
		return http.StatusBadRequest, "malformed :authority or Host"
	case len(hosts) > 1:
		return http.StatusBadRequest, "more than one host field"
	case len(hosts) == 1 && !sameAuthority(hosts[0], hr.Host, scheme):
		// A malformed request, RFC 9113 8.3.1 (without :authority, hr.Host is the host field).
		return http.StatusBadRequest, "host field differs from :authority"
	case !agreedLength(hr.Header["Content-Length"], hr.ContentLength):
		// net/http checks a length against the DATA frames only when a body follows the HEADERS.
		return http.StatusBadRequest, "invalid or conflicting content-length, or a body of another length"
	case paddedValue(hr.Header):
		return http.StatusBadRequest, "a field value that begins or ends with a space or tab (RFC 9113 8.2.1)"
	case unmetExpectation(appendListItems(nil, strings.Join(hr.Header["Expect"], ","))):
		return http.StatusExpectationFailed, "an expect other than 100-continue"
	}
	return 0, ""
}

// sameAuthority reports whether two authorities name the same host and
// port once normalized for their scheme (RFC 3986 6.2.3): the host's
// case does not count, nor a port left out for the scheme's default.
func sameAuthority(a, b, scheme string) bool {
	aName, aPort := splitHost(a, schemePort(scheme))
	bName, bPort := splitHost(b, schemePort(scheme))
	return strings.EqualFold(aName, bName) && aPort == bPort
}

// agreedLength reports whether content-length values (none or any number)
// are one valid length, as HTTP/1 requires (head.go; equal duplicates
// pass), and the body's (RFC 9113 8.1.1): body is its length as net/http
// has it, 0 when the HEADERS end the stream.
func agreedLength(values []string, body int64) bool {
	first := int64(-1)
	for _, v := range values {
		n, ok := parseLength(v)
		if !ok || first >= 0 && n != first {
			return false
		}
		first = n
	}
	return first < 0 || first == body
}

// paddedValue reports whether a field value begins or ends with a space
// or tab, which HTTP/1's parser strips (RFC 9112 5.1) and which make an
// HTTP/2 request malformed.
func paddedValue(header http.Header) bool {
	for _, values := range header {
		for _, v := range values {
			if v != "" && (isBlank(v[0]) || isBlank(v[len(v)-1])) {
				return true
			}
		}
	}
	return false
}

// h2Peer is the client's address of an HTTP/2 request.
func h2Peer(hr *http.Request) net.Addr {
	a, err := net.ResolveTCPAddr("tcp", hr.RemoteAddr) // an IP literal: no lookup
	if err != nil {
		return nil
	}
	return a
}

// h2Request makes the contract's request of an HTTP/2 one.
func h2Request(hr *http.Request, scheme string, body io.Reader) *wsgi.Request {
	path, query := splitTarget(hr.RequestURI)
	req := &wsgi.Request{
		ID:               lastID.Add(1),
		Method:           hr.Method,
		RequestURI:       hr.RequestURI,
		RawPath:          path,
		RawQuery:         query,
		Proto:            "HTTP/2.0",
		Scheme:           scheme,
		ContentType:      hr.Header.Get("Content-Type"),
		ContentLength:    hr.ContentLength,
		HasContentLength: len(hr.Header["Content-Length"]) > 0,
		Body:             body,
	}
	req.ServerName, req.ServerPort = splitHost(hr.Host, schemePort(scheme)) // an empty host is refused (h2RequestError)
	req.Header = append(req.Header, wsgi.Header{Name: "Host", Value: hr.Host})
	if ip, port, err := net.SplitHostPort(hr.RemoteAddr); err == nil {
		req.RemoteAddr, req.RemotePort = ip, port
	}
	// HTTP/2 keeps no order across names; sorted, the environ is the same
	// for the same request.
	for _, key := range slices.Sorted(maps.Keys(hr.Header)) {
		if key == "Host" || !forApp(key) {
			continue
		}
		for _, v := range hr.Header[key] {
			req.Header = append(req.Header, wsgi.Header{Name: key, Value: v})
		}
	}
	return req
}

// h2body is an HTTP/2 request body as the app reads it: capped at
// --max-body-size, each read bounded by --stall-timeout; it fails once the
// request is over, like the HTTP/1 body.
type h2body struct {
	r     io.Reader
	rc    *http.ResponseController
	stall time.Duration
	res   *h2response
}

func (b *h2body) Read(p []byte) (int, error) {
	if b.res.done {
		return 0, errDone
	}
	b.rc.SetReadDeadline(time.Now().Add(b.stall))
	return b.r.Read(p)
}

// h2response is the wsgi.Responder of one HTTP/2 request. HTTP/2 has no
// reason phrase and no connection-specific headers (RFC 9113 8.2.2): those
// are dropped; the rest is as for HTTP/1.
type h2response struct {
	responseState
	w      http.ResponseWriter
	rc     *http.ResponseController
	isHead bool
	s      *Server
	remote string // the client's address, for log lines
	// headFlushed: Flush sent the head, with no body before it.
	headFlushed bool
	// gone is closed once the client reset the stream (or the server
	// cut it): no response can begin then.
	gone <-chan struct{}
}

func (r *h2response) state() *responseState { return &r.responseState }

// named: an HTTP/2 connection's streams share one slot of its owner,
// which could name none of them; the owner resets it if this process dies.
func (r *h2response) named() {}

func (r *h2response) refuse(status int, why string) {
	r.s.logRefusal(status, why, r.remote, r.requestID)
	text := statusText(status) + "\n"
	if r.Start(status, statusText(status), plainText, int64(len(text))) == nil {
		r.Write([]byte(text))
	}
	r.out.drain() // before the handler returns
}

// droppedOnHTTP2: connection-specific fields may not appear in HTTP/2 (RFC
// 9113 8.2.2); framing is ours. Trailer too: a WSGI response has no
// trailers, and net/http would send the fields it names again after the
// body, as trailers.
var droppedOnHTTP2 = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "Te", "Content-Length", "Trailer"}

func (r *h2response) Start(status int, reason string, header []wsgi.Header, bodyLen int64) error {
	h, err := r.checkStart(status, header, r.isHead, bodyLen)
	if err != nil {
		return err
	}
	select {
	case <-r.gone: // net/http would take the head and drop it: the response never began
		return errClientGone
	default:
	}
	if status < 200 {
		// net/http would send it as an interim response and then a 200.
		return fmt.Errorf("wsgo: status %d cannot end an HTTP/2 response", status)
	}
	out := r.w.Header()
	for _, f := range header {
		key := http.CanonicalHeaderKey(f.Name)
		if !slices.Contains(droppedOnHTTP2, key) {
			out[key] = append(out[key], f.Value)
		}
	}
	if _, ok := out["Content-Type"]; !ok {
		// A nil value keeps net/http from sniffing one, which HTTP/1
		// does not do and which would undo an app's nosniff.
		out["Content-Type"] = nil
	}
	if !h.hasServer {
		out.Set("Server", "wsgo")
	}
	if !h.hasRequestID {
		out.Set("X-Request-ID", r.requestID)
	}
	if h.length >= 0 {
		out.Set("Content-Length", strconv.FormatInt(h.length, 10))
	}
	r.noBody, r.remain = h.noBody, h.remain
	r.started, r.status = true, status
	r.w.WriteHeader(status)
	return nil
}

// Write queues p in the stream's outbox, and waits while the client
// takes it, until released.
func (r *h2response) Write(p []byte) error {
	if err := r.writable(); err != nil {
		return err
	}
	p = p[:r.allow(int64(len(p)))]
	if len(p) == 0 {
		return nil
	}
	n, err := r.out.Write(p)
	r.sent += int64(n)
	if err != nil {
		return r.fail(err)
	}
	return nil
}

// Release implements wsgi.Releaser: the rest of the response is queued
// in the stream's outbox rather than waited for.
func (r *h2response) Release() { r.out.release() }

// Flush sends the head when no body went before it (the outbox's sender
// flushes each piece it sends, the head with the first), through the
// outbox: on a connection whose socket is full (another stream's client
// stopped reading) the sender waits for it, not the writer, a pythread.
func (r *h2response) Flush() error {
	return r.flush(func() error {
		if r.sent > 0 || r.headFlushed {
			return nil
		}
		r.headFlushed = true
		return r.out.flushHead()
	})
}

// SendFile queues a reference to the file in the stream's outbox, which
// copies it into DATA frames: there is no sendfile(2) into TLS.
func (r *h2response) SendFile(f *os.File, off, n int64) error {
	n, err := r.fileSpan(f, off, n)
	if n == 0 || err != nil {
		return err
	}
	r.sent += n
	if err := r.out.writeFile(f, off, n); err != nil {
		return r.fail(err)
	}
	return nil
}

// finish completes the response once ServeWSGI has returned err: what
// the outbox holds is sent by this goroutine, the pythread is free. A
// response that cannot be whole ends with a stream reset, so the client
// cannot take it for a whole one; so does one for a client that left.
// Either way the outbox's sender has stopped before the handler returns:
// the ResponseWriter is not to be used after.
func (r *h2response) finish(err error) bool {
	defer func() { r.done = true }()
	switch {
	case r.err != nil || errors.Is(err, errClientGone):
		r.reset()
	case !r.started:
		r.s.sendFailure(r, err, r.req)
	case err != nil || !r.noBody && r.remain > 0:
		r.s.log.Debug("wsgo: HTTP/2 stream reset: the response is incomplete", "request", r.req.RequestID)
		r.reset()
	}
	if err := r.out.drain(); err != nil {
		r.fail(err)
		r.reset()
	}
	return false
}

// reset ends the stream with a reset, after stopping the outbox.
func (r *h2response) reset() {
	r.out.abort()
	panic(http.ErrAbortHandler)
}

// h2stream is an HTTP/2 response's body as its outbox sends it: each
// write is flushed into DATA frames; a passed write deadline resets the
// stream (net/http), which is what --stall-timeout asks of a client that
// stopped taking it.
type h2stream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s h2stream) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	return n, err
}

func (s h2stream) SetWriteDeadline(t time.Time) error { return s.rc.SetWriteDeadline(t) }
