package httpfront

import (
	"bytes"
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

// headCap is the most bytes a head within the limits can take, with its
// line ends and the empty line that ends it, plus one. Reading no more
// than this is safe: a record cut there always breaks a limit (see
// measureHead), so no valid head is ever cut short.
func (l limits) headCap() int {
	return l.line + 2 + l.fields*(l.fieldSize+2) + 2 + 1
}

// measureHead finds the request head in the bytes read for it and checks
// it against the limits. The head excludes the empty line that ends it; it
// is nil when that line has not arrived. Lines end in CRLF or a bare LF,
// as http.ReadRequest accepts both.
func (l limits) measureHead(rec []byte) (head []byte, status int, why string) {
	lineEnd := bytes.IndexByte(rec, '\n')
	if lineEnd < 0 {
		if len(rec) > l.line+1 { // +1 for a CR still to come
			return nil, http.StatusRequestURITooLong, l.lineWhy()
		}
		return nil, 0, ""
	}
	if len(bytes.TrimSuffix(rec[:lineEnd], []byte("\r"))) > l.line {
		return nil, http.StatusRequestURITooLong, l.lineWhy()
	}
	fields, fieldStart := 0, -1
	for i := lineEnd + 1; ; {
		j := bytes.IndexByte(rec[i:], '\n')
		line := rec[i:]
		if j >= 0 {
			line = rec[i : i+j]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case len(line) == 0 && j >= 0:
			return rec[:i], 0, ""
		case len(line) == 0:
			return nil, 0, "" // the rest has yet to arrive
		}
		if line[0] != ' ' && line[0] != '\t' || fieldStart < 0 { // a new field; obs-fold lines extend the one above
			fields++
			fieldStart = i
		}
		switch {
		case fields > l.fields:
			return nil, http.StatusRequestHeaderFieldsTooLarge,
				fmt.Sprintf("more than --limit-request-fields (%d) header fields", l.fields)
		case i+len(line)-fieldStart > l.fieldSize:
			return nil, http.StatusRequestHeaderFieldsTooLarge,
				fmt.Sprintf("a header field longer than --limit-request-field_size (%d bytes)", l.fieldSize)
		case j < 0:
			return nil, 0, "" // the rest has yet to arrive
		}
		i += j + 1
	}
}

func (l limits) lineWhy() string {
	return fmt.Sprintf("request line longer than --limit-request-line (%d bytes)", l.line)
}

// bodyStatus refuses a request whose declared body is over the limit.
func (l limits) bodyStatus(hreq *http.Request) (int, string) {
	if l.body > 0 && hreq.ContentLength > l.body {
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
