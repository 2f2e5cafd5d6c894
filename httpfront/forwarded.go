package httpfront

// Parsing the client's node out of X-Forwarded-For and RFC 7239
// Forwarded; proxy.go decides what to believe.

import (
	"net/netip"
	"slices"
	"strings"
)

// forwardedForClient reads the X-Forwarded-For fields as one list and
// returns the hop that names the client: walking from the right, the
// first that is not a trusted proxy. What lies left of it the client
// wrote, and is never read, so junk there changes nothing. Empty items
// are skipped (RFC 9110 5.6.1). When every hop is trusted, the leftmost
// is the client; when the walk meets an item that is not an address (not
// a node, or "unknown", or an obfuscated one), the last trusted hop
// before it, or none.
func forwardedForClient(values []string, trust *AllowList) hop {
	var items []string
	for _, v := range values {
		items = appendListItems(items, v)
	}
	var last hop
	for i := len(items) - 1; i >= 0; i-- {
		h, ok := parseNode(items[i])
		switch {
		case !ok || !h.ip.IsValid():
			return last
		case !trust.trusts(h.ip):
			return h
		}
		last = h
	}
	return last
}

// parseNode reads a node (RFC 7239 6): an IPv4 address, a bracketed IPv6
// address, "unknown" or an obfuscated identifier, each with an optional
// port; a bare IPv6 address is taken too, as X-Forwarded-For has them.
func parseNode(s string) (hop, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return hop{ip: ip.WithZone("")}, true
	}
	name, port := s, ""
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, ']') {
		name, port = s[:i], s[i+1:]
		switch {
		case obfuscated(port):
			port = ""
		case validPort(port):
			port = checkedPort(port)
		default:
			return hop{}, false
		}
	}
	h := hop{port: port}
	if inner, ok := strings.CutPrefix(name, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		ip, err := netip.ParseAddr(inner)
		if !ok || err != nil || !ip.Is6() {
			return hop{}, false
		}
		h.ip = ip.WithZone("")
		return h, true
	}
	if ip, err := netip.ParseAddr(name); err == nil && ip.Is4() {
		h.ip = ip
		return h, true
	}
	return h, name == "unknown" || obfuscated(name)
}

// obfuscated reports whether s is an obfuscated identifier (RFC 7239 6.3).
func obfuscated(s string) bool {
	if len(s) < 2 || s[0] != '_' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseForwarded reads the Forwarded fields (RFC 7239 4): elements
// separated by commas, each of name=value pairs separated by semicolons,
// values tokens or quoted strings. Any malformed part voids them all.
func parseForwarded(values []string) []hop {
	var elems []hop
	for _, v := range values {
		p := pairReader{s: v}
		var e hop
		var names []string // the element's, each at most once (RFC 7239 4)
		for {
			p.skipSpace()
			if p.more() && p.peek() != ',' && p.peek() != ';' { // else an empty pair
				name, ok := p.pair(&e)
				if !ok || slices.Contains(names, name) {
					return nil
				}
				names = append(names, name)
				p.skipSpace()
			}
			end := !p.more()
			if end || p.take(',') {
				if len(names) > 0 { // an empty element is ignored (RFC 9110 5.6.1.2)
					elems = append(elems, e)
				}
				if end {
					break
				}
				e, names = hop{}, nil
				continue
			}
			if !p.take(';') {
				return nil
			}
		}
	}
	return elems
}

// set records one Forwarded pair; it reports false for a malformed one.
// Unknown names (by=, extensions) are ignored.
func (h *hop) set(name, value string) bool {
	switch name {
	case "for":
		n, ok := parseNode(value)
		if !ok {
			return false
		}
		n.proto, n.host = h.proto, h.host
		*h = n
	case "proto":
		h.proto = checkedProto(value)
		return h.proto != ""
	case "host":
		h.host = checkedHost(value)
		return h.host != ""
	}
	return true
}

// pairReader scans a Forwarded field.
type pairReader struct {
	s string
	i int
}

func (p *pairReader) more() bool { return p.i < len(p.s) }
func (p *pairReader) peek() byte { return p.s[p.i] }

func (p *pairReader) skipSpace() {
	for p.more() && isBlank(p.peek()) {
		p.i++
	}
}

func (p *pairReader) take(c byte) bool {
	if p.more() && p.peek() == c {
		p.i++
		return true
	}
	return false
}

// pair reads one name=value pair into e and returns its name; it reports
// false for a malformed one.
func (p *pairReader) pair(e *hop) (string, bool) {
	name := strings.ToLower(p.token())
	if name == "" || !p.take('=') {
		return "", false
	}
	value, ok := p.value()
	return name, ok && e.set(name, value)
}

func (p *pairReader) token() string {
	start := p.i
	for p.more() && validToken(p.s[p.i:p.i+1]) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a token or a quoted string (RFC 9110 5.6.4), unquoted.
func (p *pairReader) value() (string, bool) {
	if !p.take('"') {
		t := p.token()
		return t, t != ""
	}
	var b strings.Builder
	for p.more() {
		c := p.peek()
		p.i++
		switch {
		case c == '"':
			return b.String(), true
		case c == '\\' && p.more():
			b.WriteByte(p.peek())
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}
