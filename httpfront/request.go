package httpfront

import (
	"net/netip"
	"strings"
)

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
// says wins), else from the listening socket. PEP 3333 wants neither
// empty: a unix socket has no port, so the scheme's stands for it.
func (c *conn) serverAddr(host string) (name, port string) {
	if host == "" {
		if c.localPort == "" {
			return c.localName, schemePort(c.scheme())
		}
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
func validToken[T string | []byte](s T) bool {
	if len(s) == 0 {
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
func validFieldValue[T string | []byte](s T) bool {
	for i := range len(s) {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether s is a Host field's value (RFC 9112 3.2,
// RFC 3986 3.2.2): a registered name (an IPv4 address is one), or an IP
// literal in brackets, then optionally ':' and a port. Empty is valid (a
// client with no authority to send); an empty host before a port (":8080")
// is not: RFC 9110 4.2.1 makes an http URI with an empty host invalid, so
// it is no authority a Host may carry, and RFC 9112 3.2 says 400. A
// fallback to the socket's name would answer for a host nobody named.
func validHost(s string) bool {
	host := s
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, ']') {
		host = s[:i]
		if port := s[i+1:]; host == "" || port != "" && !validPort(port) {
			return false
		}
	}
	if strings.HasPrefix(host, "[") {
		return strings.HasSuffix(host, "]") && validIPLiteral(host[1:len(host)-1])
	}
	return validRegName(host)
}

// validRegName reports whether s is a reg-name: unreserved characters,
// sub-delims and %XX escapes.
func validRegName(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case regNameByte(c):
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

// validIPLiteral reports whether s, found between brackets, is an IPv6
// address (no zone) or an IPvFuture ("v" HEX "." then unreserved,
// sub-delims or ':').
func validIPLiteral(s string) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Is6() && a.Zone() == ""
	}
	if len(s) < 4 || s[0] != 'v' && s[0] != 'V' {
		return false
	}
	dot := strings.IndexByte(s, '.')
	if dot < 2 || dot == len(s)-1 {
		return false
	}
	for i := 1; i < dot; i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	for i := dot + 1; i < len(s); i++ {
		if !regNameByte(s[i]) && s[i] != ':' {
			return false
		}
	}
	return true
}

// regNameByte reports whether c is unreserved or a sub-delim (RFC 3986).
func regNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=", c) >= 0
}
