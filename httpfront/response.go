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
	errShortFile  = errors.New("wsgo: file ended before the length to send")
)

// Headers of the responses we make up for a failed application.
var (
	plainText  = []wsgi.Header{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
	htmlText   = []wsgi.Header{{Name: "Content-Type", Value: "text/html; charset=utf-8"}}
	retryLater = []wsgi.Header{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}, {Name: "Retry-After", Value: "1"}}
)

// response is the wsgi.Responder of one request. The host decides the
// content; the response frames it (RFC 9112) and decides whether the
// connection lives on.
type response struct {
	c         *conn
	body      *body
	req       *wsgi.Request
	requestID string             // echoed as X-Request-ID
	start     time.Time          // when the request's head began to arrive
	cancel    context.CancelFunc // ends the request's context once the client is gone
	isHead    bool
	http10    bool
	close     bool // the client asked to close, or must be made to

	started   bool
	status    int   // as sent, for the access log
	sent      int64 // body bytes sent, for the access log
	done      bool  // ServeWSGI returned
	noBody    bool  // HEAD, 1xx, 204, 304: body bytes are dropped
	chunked   bool  // each body write is one chunk
	remain    int64 // bytes a declared length still allows, or -1
	truncated bool  // bytes past the declared length were dropped
	keepAlive bool  // the connection may carry another request after this one
	err       error // the client cannot be written to; every later call returns it
	scratch   [24]byte
}

// Start writes the status line and headers into the buffer.
func (r *response) Start(status int, reason string, header []wsgi.Header, bodyLen int64) error {
	if err := r.usable(); err != nil {
		return err
	}
	if r.started {
		return errStarted
	}
	// Check everything before writing anything, so that a refused start
	// leaves the host free to answer 500.
	if status < 100 || status > 999 {
		return fmt.Errorf("wsgo: invalid response status %d", status)
	}
	if !validFieldValue(reason) {
		return fmt.Errorf("wsgo: response reason phrase %q has a control character", reason)
	}
	declared := int64(-1)
	var hasDate, hasServer, hasRequestID, appClose bool
	for _, h := range header {
		if !validToken(h.Name) {
			return fmt.Errorf("wsgo: invalid response header name %q", h.Name)
		}
		if !validFieldValue(h.Value) {
			return fmt.Errorf("wsgo: response header %s has a control character in its value", h.Name)
		}
		switch {
		case strings.EqualFold(h.Name, "Content-Length"):
			n, ok := parseLength(h.Value)
			if !ok || declared >= 0 && n != declared {
				return fmt.Errorf("wsgo: invalid or conflicting response Content-Length %q", h.Value)
			}
			declared = n
		case strings.EqualFold(h.Name, "Connection"):
			appClose = appClose || hasToken([]string{h.Value}, "close")
		case strings.EqualFold(h.Name, "Date"):
			hasDate = true
		case strings.EqualFold(h.Name, "Server"):
			hasServer = true
		case strings.EqualFold(h.Name, "X-Request-ID"):
			hasRequestID = true
		}
	}

	keep := !r.close && !appClose && status >= 200 && !r.c.s.shuttingDown() && !r.body.willClose()
	length := int64(-1) // the Content-Length we send
	switch {
	case status < 200 || status == 204:
		// Never a body, and RFC 9110 8.6 forbids Content-Length.
	case status == 304:
		length = declared // describes the representation; no body follows
	case declared >= 0:
		length, r.remain = declared, declared
	case bodyLen >= 0:
		length, r.remain = bodyLen, bodyLen
	case !r.http10:
		r.chunked = true
	default:
		keep = false // an HTTP/1.0 body of unknown length ends with the connection
	}
	r.noBody = r.isHead || status < 200 || status == 204 || status == 304
	r.keepAlive = keep
	r.started = true
	r.status = status

	bw := r.c.bw
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(r.scratch[:0], int64(status), 10))
	bw.WriteByte(' ')
	bw.WriteString(reason)
	bw.WriteString("\r\n")
	if !hasServer {
		bw.WriteString("Server: wsgo\r\n")
	}
	if !hasDate {
		r.field("Date", httpDate(time.Now()))
	}
	for _, h := range header {
		// Framing and connection management are ours.
		if !strings.EqualFold(h.Name, "Content-Length") && !strings.EqualFold(h.Name, "Transfer-Encoding") &&
			!strings.EqualFold(h.Name, "Connection") && !strings.EqualFold(h.Name, "Keep-Alive") {
			r.field(h.Name, h.Value)
		}
	}
	if !hasRequestID {
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
	if r.chunked {
		r.chunkHeader(int64(len(p)))
		bw.Write(p)
		_, err = bw.WriteString("\r\n")
	} else {
		_, err = bw.Write(p)
	}
	if err != nil {
		return r.fail(err)
	}
	return nil
}

// Flush writes the buffer through to the socket.
func (r *response) Flush() error {
	if err := r.usable(); err != nil {
		return err
	}
	if err := r.c.bw.Flush(); err != nil {
		return r.fail(err)
	}
	return nil
}

// SendFile sends n bytes of f from off (n < 0: to its end) straight from
// the file to the socket. Copying an io.LimitedReader of an *os.File into
// a *net.TCPConn is what makes Go use sendfile(2).
func (r *response) SendFile(f *os.File, off, n int64) error {
	if err := r.writable(); err != nil {
		return err
	}
	if r.noBody {
		return nil
	}
	if n < 0 {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		n = max(fi.Size()-off, 0)
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	n = r.allow(n)
	if n == 0 {
		return nil
	}
	r.sent += n
	if r.chunked {
		r.chunkHeader(n)
	}
	if err := r.c.bw.Flush(); err != nil {
		return r.fail(err)
	}
	// In slices, renewing the deadline: a slow client must not time out
	// while it still takes bytes (see stallWriter).
	const slice = 4 << 20
	for n > 0 {
		r.c.rwc.SetWriteDeadline(time.Now().Add(r.c.s.stallTimeout))
		k, err := io.Copy(r.c.rwc, &io.LimitedReader{R: f, N: min(n, slice)})
		n -= k
		if err == nil && k == 0 {
			err = errShortFile
		}
		if err != nil {
			// Part of what the framing announced may be out: the response is lost.
			return r.fail(err)
		}
	}
	if r.chunked {
		r.c.bw.WriteString("\r\n")
	}
	return nil
}

// finish completes the response once ServeWSGI has returned err, and
// reports whether the connection may carry another request.
func (r *response) finish(err error) bool {
	defer func() { r.done = true }()
	switch {
	case r.err != nil:
		return false
	case !r.started:
		r.sendError(err)
	case err != nil:
		// Nothing we send now can make the response whole.
		r.c.s.log.Debug("wsgo: connection cut: the response failed after it started", "id", r.req.ID, "remote", r.c.peer())
		r.c.cut()
		return false
	}
	if !r.noBody {
		switch {
		case r.chunked:
			r.c.bw.WriteString("0\r\n\r\n")
		case r.remain > 0:
			// Closing after fewer bytes than announced shows the client
			// the response is incomplete.
			r.c.bw.Flush()
			r.c.s.log.Debug("wsgo: connection closed: response shorter than its Content-Length", "id", r.req.ID, "remote", r.c.peer(), "missing", r.remain)
			return false
		}
	}
	if err := r.c.bw.Flush(); err != nil {
		r.fail(err)
		return false
	}
	return r.keepAlive && !r.truncated
}

// sendError answers for an application that failed, or returned nothing,
// before starting its response.
func (r *response) sendError(err error) {
	status, header, text := http.StatusInternalServerError, plainText, ""
	var tb wsgi.TracebackError
	switch {
	case errors.Is(err, wsgi.ErrOverloaded):
		status, header = http.StatusServiceUnavailable, retryLater
	case errors.Is(err, errPanic):
		r.close = true
	case err == nil:
		r.c.s.log.Error("wsgo: the application returned without a response", "id", r.req.ID)
	case r.c.s.debug && errors.As(err, &tb):
		header, text = htmlText, debugPage(r.req, tb.Traceback())
	}
	if text == "" {
		text = http.StatusText(status) + "\n"
	}
	if r.Start(status, http.StatusText(status), header, int64(len(text))) == nil {
		r.Write([]byte(text))
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

func (r *response) usable() error {
	switch {
	case r.err != nil:
		return r.err
	case r.done:
		return errDone
	}
	return nil
}

func (r *response) writable() error {
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
func (r *response) allow(n int64) int64 {
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
func (r *response) fail(err error) error {
	if r.err == nil {
		r.err = fmt.Errorf("wsgo: writing to the client: %w", err)
		r.cancel()
	}
	return r.err
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
