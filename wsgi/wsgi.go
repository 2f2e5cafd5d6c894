// Package wsgi is the contract between wsgo's HTTP front (httpfront, no cgo)
// and its Python host (pyhost, the only cgo package). It holds types only, so
// either side can be built and tested without the other.
//
// The front parses HTTP and owns the connection; the host turns a Request
// into a PEP 3333 call and drives a Responder with what the application
// returns. The front decides framing (Content-Length, chunked, close); the
// host decides content.
package wsgi

import (
	"context"
	"errors"
	"io"
	"os"
)

// App serves WSGI requests. pyhost.Host implements it; httpfront.Server
// calls it once per request, from the connection's goroutine.
type App interface {
	// ServeWSGI runs the application for req and writes its response
	// through w. ctx is cancelled when the client is gone or the server
	// stops hard; the host then stops iterating the response and calls its
	// close(). When ctx is cancelled with cause ErrTimeout or ErrStopped,
	// ServeWSGI returns that cause at once and stops the application as
	// best it can.
	//
	// A nil error means the response is complete. A non-nil error before
	// w.Start means nothing was sent: the front answers it (503 for
	// ErrOverloaded, 504 for ErrTimeout, a *BodyError as the body's own
	// error, 500 otherwise). After w.Start it means the body is
	// incomplete: the front cuts the connection so the client cannot take
	// it for a whole response. The host logs application errors itself;
	// the front logs only what it decides.
	ServeWSGI(ctx context.Context, req *Request, w Responder) error
}

// ErrOverloaded is returned by ServeWSGI when the host's queue is full.
// The front answers 503 Service Unavailable with Retry-After.
var ErrOverloaded = errors.New("wsgi: all Python threads are busy and the queue is full")

// BodyError is ServeWSGI's error when the application raised after
// reading its request body failed (the client left, sent a malformed
// body, stopped sending, or sent more than allowed): the request's fault,
// not the app's. The front answers as it would have refused the body
// (Err: what the body's Read returned), and the host logs no traceback.
type BodyError struct{ Err error }

func (e *BodyError) Error() string {
	return "wsgi: the application failed after its request body could not be read: " + e.Err.Error()
}

func (e *BodyError) Unwrap() error { return e.Err }

// ErrClientGone is what a Responder's Start returns when the client left
// before the response began (it reset its HTTP/2 stream): the host ends
// the request with it and logs nothing of the app's, as nothing was sent.
// ServeWSGI returns it too when ctx was cancelled (the client gone) before
// the app ran the request: the host dropped it.
var ErrClientGone = errors.New("wsgi: the client left before the response began")

// ErrStopped is the cause a front gives the requests' context when a
// graceful stop runs out of time and cuts them: their connections are
// closed, so nothing is answered.
var ErrStopped = errors.New("wsgi: the server stopped before the request ended")

// ErrTimeout is the cause a front gives the request's context when the
// request has run past its time limit. ServeWSGI returns it; before
// w.Start the front answers 504 Gateway Timeout.
var ErrTimeout = errors.New("wsgi: the request ran past its time limit")

// TracebackError is an error of ServeWSGI that carries the application's
// traceback. Under --debug the front shows it on the 500 page when the
// exception came before the response started: Exception when the host
// described it (nil otherwise), else the Traceback text.
type TracebackError interface {
	error
	Traceback() string
	Exception() *Exception
}

// Header is one header field, in the order received or given.
type Header struct {
	Name, Value string
}

// Request is one HTTP request, flat and cheap to hand across. Its strings
// are borrowed for the ServeWSGI call only.
type Request struct {
	ID uint64 // unique per process
	// RequestID is its id as the client, the access log and every log
	// line about it know it (X-Request-ID: the client's valid one, or
	// one the front made).
	RequestID  string
	Method     string
	RequestURI string // the raw request target, as received
	RawPath    string // the path of the target, still percent-encoded; below RawScriptName
	// RawScriptName is where the app is mounted (SCRIPT_NAME), still
	// percent-encoded: "" or "/prefix"; RawScriptName+RawPath is the
	// path the client asked for.
	RawScriptName string
	RawQuery      string // the query of the target, without '?'
	Proto         string // "HTTP/1.1"
	Scheme        string // "http" or "https"
	ServerName    string
	ServerPort    string
	RemoteAddr    string // peer IP, or "" on a unix socket
	RemotePort    string

	// Header holds every request header but Content-Length, Content-Type
	// and hop-by-hop framing headers; repeated names appear repeatedly.
	Header      []Header
	ContentType string // "" when the request has none
	// ContentLength is the body's length, or -1 when it is known only by
	// reading to its end. httpfront reads chunked bodies whole first (see
	// spoolBody), so its requests always have a length.
	ContentLength    int64
	HasContentLength bool

	// Body reads the request body, already de-chunked and bounded: it
	// returns io.EOF at the body's end. The first Read answers a client's
	// Expect: 100-continue. Never nil.
	Body io.Reader
}

// Responder writes one response. It is dead once ServeWSGI returns.
type Responder interface {
	// Start sends the status line and headers. reason is sent as given.
	// The host validates what the application gave before calling Start,
	// where a mistake can still be raised in the application's own frame
	// (pyhost does it in start_response): a status of three digits,
	// header names that are RFC 9110 tokens, values and reason without
	// control characters (no header injection), no hop-by-hop headers.
	// The front only frames: it checks the status range and
	// Content-Length, which decide the framing, and nothing else.
	// bodyLen is the exact length of the body when the host knows it
	// (the whole response was produced at once), else -1; the front uses
	// it to frame the body when the application gave no Content-Length.
	Start(status int, reason string, header []Header, bodyLen int64) error
	// Write sends body bytes; the front buffers them.
	Write(p []byte) error
	// Flush pushes buffered bytes to the client.
	Flush() error
	// SendFile sends n bytes of f from offset off, zero-copy where the
	// platform allows. n < 0 means to the end of the file.
	SendFile(f *os.File, off, n int64) error
}

// ReadBody fills p from a request body, with fewer bytes only at the
// body's end: unlike io.ReadFull, an early end is no error, and an error
// of the body's own (io.ErrUnexpectedEOF for a cut one) passes unchanged.
func ReadBody(body io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := body.Read(p[n:])
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
