package httpfront

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Defaults of the settings of Config, documented with their flags in
// docs/deployment.md. The request limits are gunicorn's, but for the
// request line: 8190 rather than 4094, because long query strings are
// common and the line is read into memory with the rest of the head anyway.
const (
	DefaultLimitRequestLine      = 8190
	DefaultLimitRequestFields    = 100
	DefaultLimitRequestFieldSize = 8190
	DefaultKeepAlive             = 5 * time.Second
	DefaultHeaderTimeout         = 30 * time.Second
	DefaultStallTimeout          = time.Minute
)

// errBodyTooLarge is a request body read past Config.MaxBodySize.
var errBodyTooLarge = errors.New("wsgo: request body larger than --max-body-size")

// limits bounds what a client may send. A request over one is refused
// with its status before the application sees it, and logged as a warning
// naming the flag to raise.
type limits struct {
	line      int   // bytes of the request line, without its line end
	fields    int   // header fields
	fieldSize int   // bytes of one field, name to value, obs-fold lines included
	body      int64 // bytes of the body; 0: no limit
}

// h2HeaderListSize bounds an HTTP/2 header list, as counted for
// SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 6.5.2: each field's name and
// value and 32 bytes). net/http answers a longer list itself, with a 431
// page of its own, and ends the connection if more of it comes; so the
// bound is twice what a list within the limits can take, and wsgo's own
// check (h2Status) answers any list up to twice over them, with its
// warning and count, as the HTTP/1 head is checked line by line. Tight
// limits still take minH2HeaderList, so that the lists clients commonly
// send get wsgo's answer too.
func (l limits) h2HeaderListSize() int {
	// Within the limits: the method and target (line), the fields, and
	// per field (and per pseudo-field) 32 bytes, a name and :scheme's value.
	within := l.line + l.fields*l.fieldSize + (l.fields+4)*64
	return max(2*within, minH2HeaderList)
}

// minH2HeaderList is the least header list an HTTP/2 client may send for
// wsgo to check: twice the 32 KiB of header lines nginx takes by default
// (large_client_header_buffers 4 8k), far below the default limits' 1.6
// MiB.
const minH2HeaderList = 64 << 10

func (l limits) lineWhy() string {
	return fmt.Sprintf("request line longer than --limit-request-line (%d bytes)", l.line)
}

// bodyStatus refuses a request whose declared body is over the limit.
func (l limits) bodyStatus(length int64) (int, string) {
	if l.body > 0 && length > l.body {
		return http.StatusRequestEntityTooLarge, l.bodyWhy()
	}
	return 0, ""
}

func (l limits) bodyWhy() string {
	return fmt.Sprintf("request body larger than --max-body-size (%d bytes)", l.body)
}

// isLimit tells the statuses of a limit, which the operator may want to
// raise, from those of malformed requests.
func isLimit(status int) bool {
	return status == http.StatusRequestURITooLong || status == http.StatusRequestHeaderFieldsTooLarge ||
		status == http.StatusRequestEntityTooLarge
}

func (l limits) lineTooLong() error {
	return &headError{http.StatusRequestURITooLong, l.lineWhy()}
}

// methodTooLong refuses a method longer than the whole request line may
// be: 501, as RFC 9112 3 asks for a method longer than any implemented,
// where 414 would blame a target the client never got to send.
func (l limits) methodTooLong() error {
	return &headError{http.StatusNotImplemented, fmt.Sprintf("a method longer than --limit-request-line (%d bytes)", l.line)}
}

func (l limits) fieldTooLong() error {
	return &headError{http.StatusRequestHeaderFieldsTooLarge,
		fmt.Sprintf("a header field longer than --limit-request-field_size (%d bytes)", l.fieldSize)}
}

func (l limits) fieldsWhy() string {
	return fmt.Sprintf("more than --limit-request-fields (%d) header fields", l.fields)
}

// h2Status applies the limits of an HTTP/1 head to an HTTP/2 request, as
// if it came as one (method SP target SP HTTP/1.1, "Name: value" lines),
// so that a limit does not depend on the protocol the client chose.
func (l limits) h2Status(hr *http.Request) (int, string) {
	if len(hr.Method) > l.line {
		return http.StatusNotImplemented, l.methodTooLong().Error()
	}
	if len(hr.Method)+len(hr.RequestURI)+len(" HTTP/1.1")+1 > l.line {
		return http.StatusRequestURITooLong, l.lineWhy()
	}
	fields, longest := 0, 0
	if hr.Host != "" {
		fields, longest = 1, len("Host: ")+len(hr.Host)
	}
	for name, values := range hr.Header {
		for _, v := range values {
			fields++
			longest = max(longest, len(name)+len(": ")+len(v))
		}
	}
	switch {
	case fields > l.fields:
		return http.StatusRequestHeaderFieldsTooLarge, l.fieldsWhy()
	case longest > l.fieldSize:
		return http.StatusRequestHeaderFieldsTooLarge, l.fieldTooLong().Error()
	}
	return l.bodyStatus(hr.ContentLength)
}
