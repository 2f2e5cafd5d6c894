package httpfront

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"wsgo/wsgi"
)

// Proxy headers: a reverse proxy tells who the client is and how it
// connected (X-Forwarded-For, -Proto, -Host, -Port, and RFC 7239
// Forwarded). Anyone can send these headers, so they are believed only
// from peers in the --forwarded-allow-ips list; from anyone else they
// reach the application as plain HTTP_* variables and change nothing.
//
// Choices, documented in docs/deployment.md:
//   - The client is the rightmost address of the chain that is not a
//     trusted proxy: every proxy appends the address it saw, so what lies
//     left of the first untrusted hop was written by the client and may be
//     forged. When every hop is trusted, the leftmost is the client.
//   - X-Forwarded-* win over Forwarded, field by field: the common proxies
//     (nginx, HAProxy, cloud load balancers) set the former and pass a
//     client's Forwarded through untouched.
//   - Of X-Forwarded-Proto, -Host and -Port, the rightmost value counts:
//     it is the one the nearest proxy set.
//   - Forwarded's proto= and host= are taken from the element that names
//     the client, the one the first trusted proxy added.
//   - "unknown" and obfuscated identifiers ("_hidden") in for= become
//     REMOTE_ADDR as given; REMOTE_PORT is the port given with the
//     address, or empty.

// AllowList is a --forwarded-allow-ips list: the peers whose proxy
// headers are believed.
type AllowList struct {
	all      bool // "*"
	unix     bool // "unix": peers on unix sockets
	prefixes []netip.Prefix
}

// ParseAllowList reads a comma-separated list of IP addresses, CIDR
// ranges, "unix" and "*". An empty list trusts no one.
func ParseAllowList(s string) (*AllowList, error) {
	a := &AllowList{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case item == "*":
			a.all = true
		case item == "unix":
			a.unix = true
		case strings.Contains(item, "/"):
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, badAllowItem(item)
			}
			a.prefixes = append(a.prefixes, p.Masked())
		default:
			ip, err := netip.ParseAddr(item)
			if err != nil {
				return nil, badAllowItem(item)
			}
			ip = ip.WithZone("").Unmap()
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return a, nil
}

func badAllowItem(item string) error {
	return fmt.Errorf(`wsgo: bad --forwarded-allow-ips entry %q: use IP addresses (10.0.0.1), CIDR ranges (10.0.0.0/8), "unix" for unix-socket peers, or "*" for everyone, separated by commas`, item)
}

// trusts reports whether ip is a trusted proxy.
func (a *AllowList) trusts(ip netip.Addr) bool {
	if a.all {
		return true
	}
	ip = ip.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// trustsPeer reports whether a connection's peer is a trusted proxy. A
// unix-socket peer is, only if the list holds "unix" or "*": the socket's
// permissions are the operator's to vouch for.
func (a *AllowList) trustsPeer(addr net.Addr) bool {
	if a == nil {
		return false
	}
	switch addr := addr.(type) {
	case *net.TCPAddr:
		ip, ok := netip.AddrFromSlice(addr.IP)
		return ok && a.trusts(ip)
	case *net.UnixAddr:
		return a.all || a.unix
	}
	return false
}

// hop is one proxy's report: the address it saw a request from, and
// (Forwarded only) how that request came.
type hop struct {
	node        string     // an IP, "unknown" or an obfuscated identifier; "" when not given
	ip          netip.Addr // node, when it is an IP
	port        string     // the node's numeric port, if given
	proto, host string
}

// forward applies the proxy headers of a request from a trusted peer:
// REMOTE_ADDR and REMOTE_PORT, wsgi.url_scheme, HTTP_HOST, SERVER_NAME and
// SERVER_PORT. Malformed headers are ignored, each on its own.
func forward(req *wsgi.Request, trust *AllowList) {
	var xff, fwd, xproto, xhost, xport []string
	for _, h := range req.Header {
		switch h.Name {
		case "X-Forwarded-For":
			xff = append(xff, h.Value)
		case "Forwarded":
			fwd = append(fwd, h.Value)
		case "X-Forwarded-Proto":
			xproto = append(xproto, h.Value)
		case "X-Forwarded-Host":
			xhost = append(xhost, h.Value)
		case "X-Forwarded-Port":
			xport = append(xport, h.Value)
		}
	}
	elem := pickClient(parseForwarded(fwd), trust)
	client := pickClient(forwardedFor(xff), trust)
	if client.node == "" {
		client = elem
	}
	if client.node != "" {
		req.RemoteAddr, req.RemotePort = client.node, client.port
		if client.ip.IsValid() {
			req.RemoteAddr = client.ip.Unmap().String()
		}
	}

	proto := firstOf(checkedProto(lastItem(xproto)), elem.proto)
	host := firstOf(checkedHost(lastItem(xhost)), elem.host)
	port := checkedPort(lastItem(xport))
	if proto == "" && host == "" && port == "" {
		return
	}
	if proto != "" {
		req.Scheme = proto
	}
	defPort := "80"
	if req.Scheme == "https" {
		defPort = "443"
	}
	i := headerIndex(req.Header, "Host")
	if i < 0 && host == "" {
		if port != "" {
			req.ServerPort = port
		}
		return
	}
	if host == "" {
		host = req.Header[i].Value
	}
	if port != "" {
		name, _ := splitHost(host, "")
		host = name
		if port != defPort {
			host += ":" + port
		}
	}
	if i < 0 {
		req.Header = append(req.Header, wsgi.Header{Name: "Host", Value: host})
	} else {
		req.Header[i].Value = host
	}
	req.ServerName, req.ServerPort = splitHost(host, defPort)
}

// pickClient returns the hop that names the client: the rightmost one
// not from a trusted proxy, or the leftmost when all are.
func pickClient(hops []hop, trust *AllowList) hop {
	for i := len(hops) - 1; i >= 0; i-- {
		if !hops[i].ip.IsValid() || !trust.trusts(hops[i].ip) {
			return hops[i]
		}
	}
	if len(hops) > 0 {
		return hops[0]
	}
	return hop{}
}

// forwardedFor reads the X-Forwarded-For fields, left to right; nil when
// any item is not a node.
func forwardedFor(values []string) []hop {
	var hops []hop
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			h, ok := parseNode(strings.Trim(item, " \t"))
			if !ok {
				return nil
			}
			hops = append(hops, h)
		}
	}
	return hops
}

// parseNode reads a node (RFC 7239 6): an IPv4 address, a bracketed IPv6
// address, "unknown" or an obfuscated identifier, each with an optional
// port; a bare IPv6 address is taken too, as X-Forwarded-For has them.
func parseNode(s string) (hop, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return hop{node: s, ip: ip.WithZone("")}, true
	}
	name, port := s, ""
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, ']') {
		name, port = s[:i], s[i+1:]
		if !validPort(port) && !obfuscated(port) {
			return hop{}, false
		}
		if obfuscated(port) {
			port = ""
		}
	}
	h := hop{node: name, port: port}
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
		for {
			p.skipSpace()
			if p.more() && p.peek() != ',' && p.peek() != ';' { // else an empty pair
				if !p.pair(&e) {
					return nil
				}
				p.skipSpace()
			}
			if !p.more() {
				elems = append(elems, e)
				break
			}
			switch {
			case p.take(';'):
			case p.take(','):
				elems = append(elems, e)
				e = hop{}
			default:
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
		if !ok || n.node == "" {
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
	for p.more() && (p.peek() == ' ' || p.peek() == '\t') {
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

// pair reads one name=value pair into e; it reports false for a
// malformed one.
func (p *pairReader) pair(e *hop) bool {
	name := strings.ToLower(p.token())
	if name == "" || !p.take('=') {
		return false
	}
	value, ok := p.value()
	return ok && e.set(name, value)
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

// lastItem is the last item of comma-separated lists, trimmed.
func lastItem(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	return strings.Trim(v[strings.LastIndexByte(v, ',')+1:], " \t")
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkedProto is a proxy's scheme, lower case, or "" when it is neither
// http nor https.
func checkedProto(s string) string {
	if s = strings.ToLower(s); s == "http" || s == "https" {
		return s
	}
	return ""
}

// checkedHost is a proxy's host, or "" when it is not one.
func checkedHost(s string) string {
	if s == "" || !validHost(s) {
		return ""
	}
	return s
}

// checkedPort is a proxy's port, or "" when it is not one.
func checkedPort(s string) string {
	if !validPort(s) {
		return ""
	}
	return s
}

func validPort(s string) bool {
	n, err := strconv.ParseUint(s, 10, 16)
	return err == nil && n > 0
}

// headerIndex is the index of the first header called name, or -1.
func headerIndex(hs []wsgi.Header, name string) int {
	for i, h := range hs {
		if h.Name == name {
			return i
		}
	}
	return -1
}
