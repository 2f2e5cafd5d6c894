package httpfront

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"wsgo/wsgi"
)

var (
	errStarted    = errors.New("wsgo: response already started")
	errNotStarted = errors.New("wsgo: response body sent before its start")
	errDone       = errors.New("wsgo: response used after its request ended")
)

// Headers of the responses we make up for a failed application.
var (
	plainText  = []wsgi.Header{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
	htmlText   = []wsgi.Header{{Name: "Content-Type", Value: "text/html; charset=utf-8"}}
	retryLater = []wsgi.Header{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}, {Name: "Retry-After", Value: "1"}}
)

// responseState is what the HTTP/1 and HTTP/2 responders share: where the
// response is in its life, and how many body bytes it may still send.
type responseState struct {
	req       *wsgi.Request
	requestID string             // echoed as X-Request-ID
	start     time.Time          // when the request's head began to arrive
	status    int                // as sent, for the access log
	sent      int64              // body bytes sent, for the access log
	out       *outbox            // HTTP/1: the connection's; nil for HTTP/2
	cancel    context.CancelFunc // ends the request's context once the client is gone
	started   bool
	done      bool  // ServeWSGI returned
	noBody    bool  // HEAD, 1xx, 204, 205, 304: body bytes are dropped
	remain    int64 // bytes a declared length still allows, or -1
	truncated bool  // bytes past the declared length were dropped
	err       error // the client cannot be written to; every later call returns it
}

// response is the wsgi.Responder of one HTTP/1 request. The host decides
// the content; the response frames it (RFC 9112) and decides whether the
// connection lives on.
type response struct {
	responseState
	c      *conn
	body   *body
	isHead bool
	http10 bool
	close  bool // the client asked to close, or must be made to

	chunked   bool // each body write is one chunk
	ended     bool // End wrote the body's end
	keepAlive bool // the connection may carry another request after this one
	scratch   [24]byte
}

// head is what Start learns from the status and headers an app gives.
type head struct {
	declared            int64 // the app's Content-Length, or -1
	hasDate, hasServer  bool
	hasRequestID        bool
	close               bool // Connection: close
	length, remain      int64
	noBody, knownLength bool
}

// checkStart checks that the response may start, then its head (checkHead).
func (r *responseState) checkStart(status int, header []wsgi.Header, isHead bool, bodyLen int64) (head, error) {
	if err := r.usable(); err != nil {
		return head{}, err
	}
	if r.started {
		return head{}, errStarted
	}
	return checkHead(status, header, isHead, bodyLen)
}

// checkHead checks a response's framing, and decides the Content-Length
// to send (length, -1 for none) and the body bytes allowed (remain, -1
// for any). bodyLen is the length the host knows, or -1. Names, values
// and the reason phrase are the host's to validate (wsgi.Responder.Start).
// Everything is checked before anything is written, so that a refused
// start leaves the host free to answer 500.
func checkHead(status int, header []wsgi.Header, isHead bool, bodyLen int64) (head, error) {
	h := head{declared: -1, length: -1, remain: -1}
	if status < 100 || status > 999 {
		return h, fmt.Errorf("wsgo: invalid response status %d", status)
	}
	for _, f := range header {
		switch {
		case strings.EqualFold(f.Name, "Content-Length"):
			n, ok := parseLength(f.Value)
			if !ok || h.declared >= 0 && n != h.declared {
				return h, fmt.Errorf("wsgo: invalid or conflicting response Content-Length %q", f.Value)
			}
			h.declared = n
		case strings.EqualFold(f.Name, "Connection"):
			h.close = h.close || hasToken([]string{f.Value}, "close")
		case strings.EqualFold(f.Name, "Date"):
			h.hasDate = true
		case strings.EqualFold(f.Name, "Server"):
			h.hasServer = true
		case strings.EqualFold(f.Name, "X-Request-ID"):
			h.hasRequestID = true
		}
	}
	// These never carry a body, whatever the app yields (RFC 9112 6.3,
	// RFC 9110 15.3.6).
	bodiless := status < 200 || status == 204 || status == 205 || status == 304
	switch {
	case status < 200 || status == 204:
		// RFC 9110 8.6 forbids Content-Length.
	case status == 304:
		h.length = h.declared // describes the representation; no body follows
	case status == 205:
		h.length = 0 // RFC 9110 15.3.6: a server MUST NOT generate content
	case h.declared >= 0:
		h.length, h.remain = h.declared, h.declared
	case bodyLen > 0, bodyLen == 0 && !isHead:
		// A HEAD's empty body tells nothing of a GET's: frameworks
		// (Werkzeug, Bottle) return none for HEAD, and RFC 9110 8.6
		// allows a HEAD no Content-Length but a GET's.
		h.length, h.remain = bodyLen, bodyLen
	}
	h.knownLength = h.length >= 0 || bodiless
	h.noBody = isHead || bodiless
	return h, nil
}

// Start writes the status line and headers into the buffer.
func (r *response) Start(status int, reason string, header []wsgi.Header, bodyLen int64) error {
	h, err := r.checkStart(status, header, r.isHead, bodyLen)
	if err != nil {
		return err
	}
	keep := !r.close && !h.close && status >= 200 && !r.c.s.shuttingDown() && !r.body.willClose()
	switch {
	case h.knownLength:
	case !r.http10:
		r.chunked = true
	default:
		keep = false // an HTTP/1.0 body of unknown length ends with the connection
	}
	length := h.length // the Content-Length we send
	r.noBody, r.remain = h.noBody, h.remain
	r.keepAlive = keep
	r.started = true
	r.status = status

	bw := r.c.bw
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(r.scratch[:0], int64(status), 10))
	bw.WriteByte(' ')
	bw.WriteString(reason)
	bw.WriteString("\r\n")
	if !h.hasServer {
		bw.WriteString("Server: wsgo\r\n")
	}
	if !h.hasDate {
		r.field("Date", httpDate(time.Now()))
	}
	for _, f := range header {
		// Framing and connection management are ours.
		if !strings.EqualFold(f.Name, "Content-Length") && !strings.EqualFold(f.Name, "Transfer-Encoding") &&
			!strings.EqualFold(f.Name, "Connection") && !strings.EqualFold(f.Name, "Keep-Alive") {
			r.field(f.Name, f.Value)
		}
	}
	if !h.hasRequestID {
		r.field("X-Request-ID", r.requestID)
	}
	if length >= 0 {
		r.field("Content-Length", string(strconv.AppendInt(r.scratch[:0], length, 10)))
	}
	if r.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	switch {
	case !keep:
		bw.WriteString("Connection: close\r\n")
	case r.http10:
		bw.WriteString("Connection: keep-alive\r\n")
	}
	// bufio.Writer keeps its first error, so the last write reports it.
	if _, err := bw.WriteString("\r\n"); err != nil {
		return r.fail(err)
	}
	return nil
}

// Write adds body bytes to the buffer; with chunked framing, as one chunk.
func (r *response) Write(p []byte) error {
	if err := r.writable(); err != nil {
		return err
	}
	p = p[:r.allow(int64(len(p)))]
	if len(p) == 0 {
		return nil
	}
	r.sent += int64(len(p))
	bw := r.c.bw
	var err error
	switch {
	case r.chunked && len(p) > bw.Available() && r.c.sink == r.c.out:
		// Larger than the buffer has room for: sent with its framing,
		// gathered (a streamed 64 KiB chunk: 2 system calls instead of
		// 3, and no copy into the buffer).
		if err = bw.Flush(); err == nil {
			size := strconv.AppendInt(r.scratch[:0], int64(len(p)), 16)
			err = r.c.out.writeGathered(append(size, "\r\n"...), p, chunkEnd)
		}
	case r.chunked:
		r.chunkHeader(int64(len(p)))
		bw.Write(p)
		_, err = bw.WriteString("\r\n")
	default:
		_, err = bw.Write(p)
	}
	if err != nil {
		return r.fail(err)
	}
	return nil
}

// Release implements wsgi.Releaser: the rest of the response is queued
// in the connection's outbox rather than waited for.
func (r *response) Release() { r.c.out.release() }

// Flush writes the buffer through to the socket. With the declared
// length given in full, the response is whole once it is written: what
// the app does next (its iterable's close()) does not change that.
func (r *response) Flush() error {
	if err := r.usable(); err != nil {
		return err
	}
	if r.started && r.remain == 0 {
		r.ending()
	}
	return r.flush(r.c.bw.Flush)
}

// End implements wsgi.Ender: the body's end goes out now, while the app's
// close() runs, and the connection is marked whole once it is written.
// A body short of its Content-Length is left for finish to report.
func (r *response) End() error {
	if err := r.writable(); err != nil {
		return err
	}
	if r.noBody || r.remain <= 0 {
		if r.chunked && !r.noBody {
			r.c.bw.WriteString("0\r\n\r\n")
		}
		r.ended = true
		r.ending()
	}
	return r.flush(r.c.bw.Flush)
}

// ending marks the response whole once the write buffer is written, when
// the connection may carry another request after it.
func (r *response) ending() {
	if r.keepAlive && !r.truncated && r.body.consumed() {
		r.c.ending()
	}
}

// SendFile sends n bytes of f from off (n < 0: to its end) straight from
// the file to the socket (sendfile(2)) while the client keeps up; a slow
// client's pythread does not wait for it (outbox.writeFile).
func (r *response) SendFile(f *os.File, off, n int64) error {
	n, err := r.fileSpan(f, off, n)
	if n == 0 || err != nil {
		return err
	}
	r.sent += n
	if r.chunked {
		r.chunkHeader(n)
	}
	if err := r.c.bw.Flush(); err != nil {
		return r.fail(err)
	}
	// Plain, the outbox sends straight from the file, or queues a
	// reference to it once released; under TLS the session encrypts it
	// into records, which the outbox queues once released.
	if r.c.tls == nil {
		err = r.c.out.writeFile(f, off, n)
	} else {
		_, err = copyFile(r.c.tls, f, off, n, nil)
	}
	if err != nil {
		// Part of what the framing announced may be out: the response is lost.
		return r.fail(err)
	}
	if r.chunked {
		r.c.bw.WriteString("\r\n")
	}
	return nil
}

func (r *response) state() *responseState { return &r.responseState }

// named tells a lent connection the request it runs (Lent.Request).
func (r *response) named() {
	if r.c.lent != nil {
		r.c.lent.Request(r.requestID, r.req.Method, r.req.RequestURI, r.req.Proto)
	}
	r.c.serving.Store(&r.responseState) // its cancel is set
	r.c.s.watchHangups()
}

func (r *response) refuse(status int, why string) {
	r.c.s.logRefusal(status, why, r.c.peer(), r.requestID)
	r.status, r.sent = status, r.c.reject(status, r.requestID, r.isHead)
}

// finish completes the response once ServeWSGI has returned err and reads
// what the app left of the body; it reports whether the connection may
// carry another request.
func (r *response) finish(err error) bool {
	if !r.complete(err) || !r.body.drain() {
		return false
	}
	r.c.idleNow()
	return true
}

func (r *response) complete(err error) bool {
	defer func() { r.done = true }()
	switch {
	case r.err != nil || errors.Is(err, errClientGone):
		return false
	case !r.started:
		// After a timeout the app may still hold the request body, and
		// a body that failed leaves no request behind it: the
		// connection cannot be read again.
		r.close = r.close || errors.Is(err, errPanic) || errors.Is(err, wsgi.ErrTimeout) || errors.As(err, new(*wsgi.BodyError))
		r.c.s.sendFailure(r, err, r.req)
	case err != nil:
		// Nothing we send now can make the response whole.
		r.c.s.log.Debug("wsgo: connection cut: the response failed after it started", "request", r.req.RequestID, "remote", r.c.peer())
		r.c.cut()
		return false
	}
	if !r.noBody && !r.ended {
		switch {
		case r.chunked:
			r.c.bw.WriteString("0\r\n\r\n")
		case r.remain > 0:
			// Closing after fewer bytes than announced shows the client
			// the response is incomplete.
			r.c.bw.Flush()
			return false
		}
	}
	r.ending()
	if err := r.c.bw.Flush(); err != nil {
		r.fail(err)
		return false
	}
	// What the client has not taken yet is sent from the outbox by now;
	// the app's thread is free, only this goroutine waits.
	if err := r.c.out.drain(); err != nil {
		r.fail(err)
		return false
	}
	return r.keepAlive && !r.truncated
}

// sendFailure answers for an application that failed, or returned
// nothing, before starting its response; with debug, an exception's
// traceback page.
func (s *Server) sendFailure(w wsgi.Responder, err error, req *wsgi.Request) {
	status, header, text := http.StatusInternalServerError, plainText, ""
	var tb wsgi.TracebackError
	var body *wsgi.BodyError
	switch {
	case errors.As(err, &body):
		status, _ = s.bodyRefusal(body.Err)
	case errors.Is(err, wsgi.ErrOverloaded):
		status, header = http.StatusServiceUnavailable, retryLater
	case errors.Is(err, wsgi.ErrTimeout):
		status = http.StatusGatewayTimeout
		s.log.Warn("wsgo: request timed out; answered 504", "request", req.RequestID)
	case err == nil:
		s.log.Error("wsgo: the application returned without a response", "request", req.RequestID)
	case s.debug && errors.As(err, &tb):
		header, text = htmlText, debugPage(req, tb)
	}
	if text == "" {
		text = statusText(status) + "\n"
	}
	if w.Start(status, statusText(status), header, int64(len(text))) == nil {
		w.Write([]byte(text))
	}
}

// sendContinue answers Expect: 100-continue.
func (r *response) sendContinue() error {
	if err := r.usable(); err != nil {
		return err
	}
	r.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	if err := r.c.bw.Flush(); err != nil {
		return r.fail(err)
	}
	return nil
}

// begin readies the response for the app, whose context is ctx.
func (r *responseState) begin(ctx context.Context) {
	if r.out != nil {
		r.out.begin(ctx.Done()) // a write waiting for room gives up with the request
	}
}

func (r *responseState) usable() error {
	switch {
	case r.err != nil:
		return r.err
	case r.done:
		return errDone
	}
	return nil
}

func (r *responseState) writable() error {
	if err := r.usable(); err != nil {
		return err
	}
	if !r.started {
		return errNotStarted
	}
	return nil
}

// allow returns how many of n body bytes may go out: none without a body,
// at most what a declared length has left.
func (r *responseState) allow(n int64) int64 {
	if r.noBody {
		return 0
	}
	if r.remain >= 0 {
		if n > r.remain {
			n, r.truncated = r.remain, true
		}
		r.remain -= n
	}
	return n
}

// fail records that the client cannot be written to. The application
// learns it from its context and from every later call.
func (r *responseState) fail(err error) error {
	if r.err == nil {
		r.err = fmt.Errorf("wsgo: writing to the client: %w", err)
		r.cancel()
	}
	return r.err
}

// flush runs a flush of the response's writer, if the client can still
// be written to.
func (r *responseState) flush(flush func() error) error {
	if err := r.usable(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return r.fail(err)
	}
	return nil
}

// fileSpan readies f for sending n bytes from off (n < 0: to its end),
// and returns how many of them the response may send.
func (r *responseState) fileSpan(f *os.File, off, n int64) (int64, error) {
	if err := r.writable(); err != nil {
		return 0, err
	}
	if r.noBody {
		return 0, nil
	}
	if n < 0 {
		fi, err := f.Stat()
		if err != nil {
			return 0, err
		}
		n = max(fi.Size()-off, 0)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return r.allow(n), nil
}

func (r *response) field(name, value string) {
	bw := r.c.bw
	bw.WriteString(name)
	bw.WriteString(": ")
	bw.WriteString(value)
	bw.WriteString("\r\n")
}

func (r *response) chunkHeader(n int64) {
	r.c.bw.Write(strconv.AppendInt(r.scratch[:0], n, 16))
	r.c.bw.WriteString("\r\n")
}

// parseLength parses a Content-Length value: digits only, no sign.
func parseLength(s string) (int64, bool) {
	s = strings.Trim(s, " \t")
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// statusText is RFC 9110's reason phrase for a status the front answers
// itself: Go's net/http keeps RFC 7231's older names for some of them.
func statusText(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "Content Too Large"
	case http.StatusRequestURITooLong:
		return "URI Too Long"
	case http.StatusRequestedRangeNotSatisfiable:
		return "Range Not Satisfiable"
	}
	return http.StatusText(status)
}

// dateCache holds the Date value of the current second: formatting it for
// every response would cost more than writing the rest of the head.
var dateCache atomic.Pointer[dateValue]

type dateValue struct {
	unix int64
	text string
}

func httpDate(now time.Time) string {
	if d := dateCache.Load(); d != nil && d.unix == now.Unix() {
		return d.text
	}
	d := &dateValue{now.Unix(), now.UTC().Format(http.TimeFormat)}
	dateCache.Store(d)
	return d.text
}

// chunkEnd ends a chunk's data (RFC 9112 7.1).
var chunkEnd = []byte("\r\n")
