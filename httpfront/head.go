package httpfront

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"

	"wsgo/wsgi"
)

// requestHead is an HTTP/1 request head, read once from the connection
// by a headReader: the request line, the header fields in the order they
// came, and what they say of the body and the connection. Its strings
// share one allocation.
type requestHead struct {
	method, target, proto string
	http10                bool
	// header lists the fields the app sees as HTTP_*: every field but
	// Content-Length, Content-Type, Transfer-Encoding and names with '_'
	// (see forApp). Names are canonical (content-type: Content-Type).
	header      []wsgi.Header
	host        string // Host, or the authority of an absolute-form target; "" when none
	contentType string
	length      int64 // the body's Content-Length; -1 when chunked; 0 without a body
	hasLength   bool  // Content-Length was given
	chunked     bool
	close       bool // the client wants the connection closed after this request
	expect      bool // Expect: 100-continue, for a body
}

// headError refuses a request for its head, with the status to answer.
type headError struct {
	status int
	why    string
}

func (e *headError) Error() string { return e.why }

func badRequest(why string) *headError { return &headError{http.StatusBadRequest, why} }

// maxEmptyLines is how many empty lines may come before a request line
// (RFC 9112 2.2: a server SHOULD ignore at least one, left by a client
// that ended a body with an extra CRLF).
const maxEmptyLines = 8

// keptHeadBuffer is the most a connection keeps of its head buffer
// between requests.
const keptHeadBuffer = 16 << 10

// isBlank reports whether b is a space or a tab: the whitespace around a
// field's value (RFC 9110 5.6.3).
func isBlank(b byte) bool { return b == ' ' || b == '\t' }

// fieldSpan locates one header field in headReader.buf.
type fieldSpan struct{ name, colon, value, end int }

// headReader reads request heads from a connection. Its buffers are
// reused from one request to the next: a head costs one string (the
// whole head, every other string a slice of it) and the header list.
type headReader struct {
	br     *bufio.Reader
	limits limits
	// budget, if set, counts what buf holds past keptHeadBuffer (counted):
	// heads within the limits may each take about 800 KiB, and a thousand
	// slow ones must not take a worker's memory.
	budget  *bufferBudget
	counted int
	buf     []byte      // the head's lines, without their line ends
	fields  []fieldSpan // the header fields in buf
	line    int         // end of the request line in buf
	bareLF  bool        // a line read ended in LF alone (RFC 9112 2.2 allows it in a head)
}

// read reads one request head. A *headError means the request must be
// refused with its status; any other error is the connection's (the
// client went quiet or away) and gets no answer.
func (r *headReader) read() (*requestHead, error) {
	if cap(r.buf) > keptHeadBuffer {
		r.buf = nil // an idle connection should not hold a large head's memory
		r.release()
	}
	r.buf, r.fields = r.buf[:0], r.fields[:0]
	for empty := 0; ; empty++ {
		n, err := r.readLine(r.limits.line, r.requestLineTooLong)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			break
		}
		if empty == maxEmptyLines {
			return nil, badRequest("too many empty lines before the request line")
		}
	}
	r.line = len(r.buf)
	h := &requestHead{}
	if err := r.requestLine(h); err != nil {
		return nil, err
	}
	for {
		start := len(r.buf)
		n, err := r.readLine(r.limits.fieldSize, r.limits.fieldTooLong)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		if len(r.fields) == r.limits.fields {
			return nil, &headError{http.StatusRequestHeaderFieldsTooLarge, r.limits.fieldsWhy()}
		}
		if err := r.field(start); err != nil {
			return nil, err
		}
	}
	return h, r.finish(h) // h, even refused, for the access log
}

// forHEAD reports whether the head last read, even refused or cut short,
// is a HEAD request's.
func (r *headReader) forHEAD() bool {
	return bytes.HasPrefix(r.buf, []byte("HEAD "))
}

// readLine appends the next line to buf, without its line end, and
// returns its length. A line may end in CRLF or a bare LF (RFC 9112 2.2
// allows the latter). A line longer than max bytes fails with tooLong()
// as soon as that is known.
func (r *headReader) readLine(max int, tooLong func() error) (int, error) {
	start := len(r.buf)
	for {
		frag, err := r.br.ReadSlice('\n')
		r.buf = append(r.buf, frag...)
		if err := r.count(); err != nil {
			return 0, err
		}
		switch {
		case err == nil:
			r.buf = r.buf[:len(r.buf)-1]
			if n := len(r.buf); n > start && r.buf[n-1] == '\r' {
				r.buf = r.buf[:n-1]
			} else {
				r.bareLF = true
			}
			if len(r.buf)-start > max {
				return 0, tooLong()
			}
			return len(r.buf) - start, nil
		case len(r.buf)-start > max+1: // +1: a CR may still come
			return 0, tooLong()
		case err != bufio.ErrBufferFull:
			return 0, err
		}
	}
}

// requestLineTooLong refuses a request line over the limit: 414, or 501
// when the method alone is over it. buf holds only that line (empty
// lines before it leave nothing).
func (r *headReader) requestLineTooLong() error {
	if method := bytes.IndexByte(r.buf, ' '); method < 0 || method > r.limits.line {
		return r.limits.methodTooLong()
	}
	return r.limits.lineTooLong()
}

// errHeadMemory refuses a large head while the worker's buffer memory is
// held by others (bufferBudget).
var errHeadMemory = &headError{http.StatusServiceUnavailable,
	"the worker's memory for large request heads and bodies is in use by other clients"}

// count takes from the budget what buf grew past keptHeadBuffer.
func (r *headReader) count() error {
	grown := cap(r.buf) - keptHeadBuffer - r.counted
	if r.budget == nil || grown <= 0 {
		return nil
	}
	if !r.budget.takeMemory(grown) {
		return errHeadMemory
	}
	r.counted += grown
	return nil
}

// release gives back what count took (the buffer is dropped, or the
// connection is over).
func (r *headReader) release() {
	if r.counted > 0 {
		r.budget.freeMemory(r.counted)
		r.counted = 0
	}
}

// requestLine parses the request line, buf[:r.line]: method, target and
// version, each separated by one space (RFC 9112 3).
func (r *headReader) requestLine(h *requestHead) error {
	line := r.buf[:r.line]
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 {
		return badRequest("malformed request line")
	}
	version := line[sp2+1:]
	if len(version) != len("HTTP/1.1") || !bytes.HasPrefix(version, []byte("HTTP/")) || !isDigit(version[5]) ||
		version[6] != '.' || !isDigit(version[7]) {
		return badRequest("malformed HTTP version")
	}
	if version[5] != '1' {
		return &headError{http.StatusHTTPVersionNotSupported, "unsupported protocol " + string(version)}
	}
	// A later HTTP/1 minor version is served as HTTP/1.1, the highest
	// this server implements (RFC 9110 2.5); the app sees the one sent,
	// as under gunicorn (waitress serves it as HTTP/1.0).
	h.http10 = version[7] == '0'
	switch {
	case h.http10:
		h.proto = "HTTP/1.0"
	case version[7] == '1':
		h.proto = "HTTP/1.1"
	default:
		h.proto = string(version)
	}
	h.close = h.http10 // unless Connection: keep-alive
	if !validToken(line[:sp1]) {
		return badRequest("invalid method")
	}
	if why := targetError(line[sp1+1 : sp2]); why != "" {
		return badRequest(why)
	}
	return nil
}

// targetError says what is wrong with the characters of a request target
// (HTTP/1's or HTTP/2's :path), or "".
func targetError[T string | []byte](target T) string {
	for i := range len(target) {
		// '#' too: a fragment is never sent (RFC 9112 3.2), and one taken
		// into PATH_INFO would route the request wrongly.
		if c := target[i]; c <= ' ' || c == 0x7f || c == '#' {
			return "invalid character in the request target"
		}
	}
	for i := 0; i < len(target) && target[i] != '?'; i++ {
		// RFC 3986 2.1: in the path, '%' starts two hex digits.
		if target[i] == '%' && (i+2 >= len(target) || !isHex(target[i+1]) || !isHex(target[i+2])) {
			return "malformed percent-escape in the request path"
		}
	}
	return ""
}

// field checks the header field line at buf[start:] and records it.
// Obsolete line folding is refused (RFC 9112 5.2 allows either that or
// joining): a folded line is read as part of its field by some servers
// and as a field of its own by others, which is how a second Host slips
// past a proxy.
func (r *headReader) field(start int) error {
	line := r.buf[start:]
	if isBlank(line[0]) {
		return badRequest("obsolete line folding (a header line starting with whitespace); send each field on one line")
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !validToken(line[:colon]) {
		return badRequest("invalid header field name")
	}
	f := fieldSpan{name: start, colon: start + colon, value: start + colon + 1, end: len(r.buf)}
	for f.value < f.end && isBlank(r.buf[f.value]) {
		f.value++
	}
	for f.end > f.value && isBlank(r.buf[f.end-1]) {
		f.end--
	}
	if !validFieldValue(r.buf[f.value:f.end]) {
		return badRequest("invalid header field value")
	}
	canonicalName(r.buf[f.name:f.colon])
	r.fields = append(r.fields, f)
	return nil
}

// finish turns the head read into h's strings and checks what the fields
// say together: framing, Host, the target's form.
func (r *headReader) finish(h *requestHead) error {
	text := string(r.buf)
	line := text[:r.line]
	sp1 := strings.IndexByte(line, ' ')
	sp2 := strings.LastIndexByte(line, ' ')
	h.method, h.target = line[:sp1], line[sp1+1:sp2]
	h.header = make([]wsgi.Header, 0, len(r.fields)+1) // room for the X-Request-Id that requestID adds
	hosts, hostAt := 0, -1
	var codings []string // Transfer-Encoding's, across its fields
	var expects []string // Expect's items, across its fields
	teField, closes, keepAlive := false, false, false
	for _, f := range r.fields {
		name, value := text[f.name:f.colon], text[f.value:f.end]
		switch name {
		case "Host":
			hosts++
			hostAt = len(h.header)
			h.host = value
		case "Content-Length":
			n, ok := parseLength(value)
			if !ok || h.hasLength && n != h.length {
				return badRequest("invalid or conflicting Content-Length")
			}
			h.length, h.hasLength = n, true
		case "Transfer-Encoding":
			teField = true
			codings = appendListItems(codings, value)
		case "Connection": // its fields make one list (RFC 9110 5.3): close wins
			closes = closes || hasToken([]string{value}, "close")
			keepAlive = keepAlive || hasToken([]string{value}, "keep-alive")
		case "Expect":
			expects = appendListItems(expects, value)
		case "Content-Type":
			if h.contentType == "" {
				h.contentType = value
			}
		}
		if forApp(name) {
			h.header = append(h.header, wsgi.Header{Name: name, Value: value})
		}
	}
	if closes || keepAlive {
		h.close = closes
	}
	if teField {
		if err := h.transferCodings(codings); err != nil {
			return err
		}
	}
	switch {
	case h.chunked && h.hasLength:
		// How requests are smuggled past a proxy that reads the other one.
		return badRequest("both Content-Length and Transfer-Encoding")
	case h.chunked && h.http10:
		return badRequest("Transfer-Encoding in an HTTP/1.0 request") // RFC 9112 6.1
	case hosts == 0 && !h.http10:
		return badRequest("HTTP/1.1 request without Host")
	case hosts > 1:
		return badRequest("more than one Host")
	case !validHost(h.host):
		return badRequest("malformed Host")
	case unmetExpectation(expects):
		return &headError{http.StatusExpectationFailed, "an Expect other than 100-continue"}
	}
	h.expect = len(expects) > 0
	if h.chunked {
		h.length = -1
	}
	if !h.chunked && h.length == 0 {
		h.expect = false // no body to wait for
	}
	return r.target(h, hostAt)
}

// transferCodings checks a request's Transfer-Encoding list and sets
// chunked (RFC 9112 6.1, 6.3): chunked must come last, once, or the body's
// end cannot be found (400); any other coding is one wsgo does not
// decode (501).
func (h *requestHead) transferCodings(codings []string) error {
	n := len(codings)
	if n == 0 || !strings.EqualFold(codings[n-1], "chunked") {
		return badRequest("Transfer-Encoding without chunked as its last coding")
	}
	for _, c := range codings[:n-1] {
		if strings.EqualFold(c, "chunked") {
			return badRequest("Transfer-Encoding with chunked more than once")
		}
	}
	if n > 1 {
		return &headError{http.StatusNotImplemented, "unsupported Transfer-Encoding"}
	}
	h.chunked = true
	return nil
}

// unmetExpectation reports whether an Expect list asks for anything but
// 100-continue, the one expectation HTTP defines: wsgo cannot meet
// another, and says so with 417 (RFC 9110 10.1.1) rather than serve the
// request as if it had not been asked.
func unmetExpectation(items []string) bool {
	for _, item := range items {
		if !strings.EqualFold(item, "100-continue") {
			return true
		}
	}
	return false
}

// appendListItems appends the items of a comma-separated field value to
// items, trimmed, leaving out empty ones (RFC 9110 5.6.1).
func appendListItems(items []string, value string) []string {
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.Trim(item, " \t"); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// target checks the form of the request target against the method (RFC
// 9112 3.2): origin form (/path?query) for any; the absolute form, whose
// authority then replaces Host (3.2.2), so that HTTP_HOST and SERVER_NAME
// cannot disagree; the asterisk form for OPTIONS only. CONNECT asks for a
// tunnel, which a WSGI server cannot make: 501, as for a method the
// server does not implement for any resource (405 would claim some
// resource allows it, and must list those that do).
func (r *headReader) target(h *requestHead, hostAt int) error {
	t := h.target
	switch {
	case h.method == http.MethodConnect:
		return &headError{http.StatusNotImplemented, "CONNECT: wsgo is not a proxy"}
	case t[0] == '/':
		return nil
	case t == "*":
		if h.method != http.MethodOptions {
			return badRequest("asterisk-form target for a method other than OPTIONS")
		}
		return nil
	}
	authority, ok := absoluteAuthority(t)
	if !ok {
		return badRequest("request target neither a path nor an http(s) URL")
	}
	if authority == "" || !validHost(authority) {
		return badRequest("malformed authority in the request target")
	}
	h.host = authority
	if hostAt < 0 {
		h.header = append(h.header, wsgi.Header{Name: "Host", Value: authority})
	} else {
		h.header[hostAt].Value = authority
	}
	return nil
}

// absoluteAuthority returns the authority of an absolute-form target
// (http://host:port/path), whose scheme must be http or https.
func absoluteAuthority(t string) (string, bool) {
	var rest string
	switch {
	case len(t) > 7 && strings.EqualFold(t[:7], "http://"):
		rest = t[7:]
	case len(t) > 8 && strings.EqualFold(t[:8], "https://"):
		rest = t[8:]
	default:
		return "", false
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		return rest[:i], true
	}
	return rest, true
}

// canonicalName rewrites a valid field name in place to the canonical
// form: upper case first and after '-', lower case elsewhere
// (content-type and CONTENT-TYPE become Content-Type).
func canonicalName(name []byte) {
	upper := true
	for i, c := range name {
		switch {
		case upper && 'a' <= c && c <= 'z':
			name[i] = c - ('a' - 'A')
		case !upper && 'A' <= c && c <= 'Z':
			name[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	_, ok := hexDigit(c)
	return ok
}
