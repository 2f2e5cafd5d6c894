package httpfront

import (
	"bytes"
	"iter"
	"net/http"
	"net/textproto"
	"strings"

	"wsgo/wsgi"
)

// checkRequest returns the status a parsed request must be refused with,
// or 0 when it may be served. head is its raw head (see measureHead).
func checkRequest(hreq *http.Request, head []byte) (int, string) {
	if hreq.ProtoMajor != 1 || hreq.ProtoMinor > 1 {
		return http.StatusHTTPVersionNotSupported, "unsupported protocol " + hreq.Proto
	}
	if status, why := framingStatus(head, hreq.ProtoMinor == 0); status != 0 {
		return status, why
	}
	hosts := hostFields(head)
	switch {
	case len(hosts) == 0 && hreq.ProtoMinor == 1:
		return http.StatusBadRequest, "HTTP/1.1 request without Host"
	case len(hosts) > 1:
		return http.StatusBadRequest, "more than one Host"
	case len(hosts) == 1 && !validHost(hosts[0]):
		return http.StatusBadRequest, "malformed Host"
	}
	// http.ReadRequest checks these already; a header that reaches an
	// application must not depend on it.
	for name, values := range hreq.Header {
		if !validToken(name) {
			return http.StatusBadRequest, "invalid header name"
		}
		for _, v := range values {
			if !validFieldValue(v) {
				return http.StatusBadRequest, "invalid header value"
			}
		}
	}
	return 0, ""
}

// framingStatus refuses a head whose body framing is ambiguous or
// unsupported; http.ReadRequest hides both by deleting the field it
// ignores. A message with both Content-Length and Transfer-Encoding is
// how requests are smuggled past a proxy that reads the other one.
func framingStatus(head []byte, http10 bool) (int, string) {
	cl, te, chunked := framing(head)
	switch {
	case te && !chunked:
		return http.StatusNotImplemented, "unsupported Transfer-Encoding"
	case te && cl:
		return http.StatusBadRequest, "both Content-Length and Transfer-Encoding"
	case te && http10:
		// RFC 9112 6.1: the framing of such a message cannot be trusted.
		return http.StatusBadRequest, "Transfer-Encoding in an HTTP/1.0 request"
	}
	return 0, ""
}

// framing reports whether head has Content-Length and Transfer-Encoding
// fields, and whether Transfer-Encoding is a single "chunked".
func framing(head []byte) (cl, te, chunked bool) {
	teFields := 0
	for name, value := range fields(head) {
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			cl = true
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			te = true
			teFields++
			chunked = bytes.EqualFold(value, []byte("chunked"))
		}
	}
	return cl, te, chunked && teFields == 1
}

// hostFields returns the values of the Host fields of a raw head, which
// http.ReadRequest removes from the header map.
func hostFields(head []byte) []string {
	var hosts []string
	for name, value := range fields(head) {
		if bytes.EqualFold(name, []byte("Host")) {
			hosts = append(hosts, string(value))
		}
	}
	return hosts
}

// fields yields the name and value of each header field line of a raw
// head, in order. The request line is skipped, and so are obs-fold
// continuation lines, whose text http.ReadRequest joins to the field above.
func fields(head []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func(name, value []byte) bool) {
		_, rest, _ := bytes.Cut(head, []byte("\n"))
		for len(rest) > 0 {
			var line []byte
			line, rest, _ = bytes.Cut(rest, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
				continue
			}
			name, value, ok := bytes.Cut(line, []byte(":"))
			if ok && !yield(name, bytes.Trim(value, " \t")) {
				return
			}
		}
	}
}

// wsgiRequest turns a checked request into the contract's form. It
// consumes hreq.Header.
func (c *conn) wsgiRequest(hreq *http.Request, head []byte, b *body) *wsgi.Request {
	path, query := splitTarget(hreq.RequestURI)
	name, port := c.serverAddr(hreq.Host)
	req := &wsgi.Request{
		ID:               lastID.Add(1),
		Method:           hreq.Method,
		RequestURI:       hreq.RequestURI,
		RawPath:          path,
		RawQuery:         query,
		Proto:            hreq.Proto,
		Scheme:           c.scheme(),
		ServerName:       name,
		ServerPort:       port,
		RemoteAddr:       c.remoteIP,
		RemotePort:       c.remotePort,
		ContentType:      hreq.Header.Get("Content-Type"),
		ContentLength:    hreq.ContentLength,
		HasContentLength: len(hreq.Header["Content-Length"]) > 0,
		Body:             b,
	}
	if hosts := hostFields(head); hosts != nil {
		hreq.Header["Host"] = hosts // for HTTP_HOST
	}
	req.Header = headerList(hreq.Header, head)
	return req
}

// splitTarget splits a raw request target into its path, still
// percent-encoded, and its query. The absolute form (http://host/p?q)
// gives its path and query; the asterisk form "*" stays "*"; the authority
// form of CONNECT has no path.
func splitTarget(target string) (path, query string) {
	switch {
	case target == "*":
		return "*", ""
	case strings.HasPrefix(target, "/"):
	case strings.Contains(target, "://"):
		_, rest, _ := strings.Cut(target, "://")
		i := strings.IndexAny(rest, "/?")
		if i < 0 {
			return "/", ""
		}
		if target = rest[i:]; target[0] == '?' {
			return "/", target[1:]
		}
	default:
		return "", ""
	}
	path, query, _ = strings.Cut(target, "?")
	return path, query
}

// serverAddr gives SERVER_NAME and SERVER_PORT: from the request's host
// (its Host, or the authority of an absolute-form target, which RFC 9112
// says wins), else from the listening socket.
func (c *conn) serverAddr(host string) (name, port string) {
	if host == "" {
		return c.localName, c.localPort
	}
	return splitHost(host, schemePort(c.scheme()))
}

// schemePort is the port a scheme's URLs mean when they give none.
func schemePort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// splitHost splits a host into its name and port; the port is defPort
// when the host has none. An IPv6 literal keeps its brackets, so that
// name:port stays a valid authority.
func splitHost(host, defPort string) (name, port string) {
	name = host
	if i := strings.LastIndexByte(host, ':'); i > strings.LastIndexByte(host, ']') {
		name, port = host[:i], host[i+1:]
	}
	if port == "" {
		port = defPort
	}
	return name, port
}

// headerList lists the header fields in the order they arrived, which the
// map has lost: the raw head gives the order of first appearance, the map
// the values (repeats in order, obs-fold joined). It keeps those forApp
// lets through, and consumes h.
func headerList(h http.Header, head []byte) []wsgi.Header {
	list := make([]wsgi.Header, 0, len(h))
	for name := range fields(head) {
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		values, ok := h[key]
		if !ok {
			continue
		}
		delete(h, key) // later fields of that name were listed with the first
		if !forApp(key) {
			continue
		}
		for _, v := range values {
			list = append(list, wsgi.Header{Name: key, Value: v})
		}
	}
	return list
}

// forApp reports whether a request header reaches the app as HTTP_*.
// Content-Length and Content-Type have fields of their own. Names with
// '_' are dropped: CGI turns '-' into '_', so "X_User" would pass for an
// "X-User" that a proxy vouches for (nginx and gunicorn drop them too).
func forApp(key string) bool {
	return key != "Content-Length" && key != "Content-Type" && key != "Transfer-Encoding" && !strings.Contains(key, "_")
}

// hasToken reports whether any of the comma-separated lists in values
// holds token, case-insensitively.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.Trim(item, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// validToken reports whether s is a token (RFC 9110 5.6.2), the form of
// a field name.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether s may be sent as a field value or a
// reason phrase: no control characters but tab, so no CR or LF to split
// the message with.
func validFieldValue(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether s has only the characters of a host: a
// registered name, an IP literal, and a port.
func validHost(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:[]%", c) >= 0) {
			return false
		}
	}
	return true
}
