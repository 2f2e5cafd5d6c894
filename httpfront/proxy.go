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
//   - Forwarded is read only when no X-Forwarded-* header came: the
//     common proxies (nginx, HAProxy, cloud load balancers) set those and
//     pass a client's Forwarded through untouched, so beside them it is
//     the client's, and would let it pick REMOTE_ADDR, Host or scheme.
//   - Of X-Forwarded-Proto, -Host and -Port, the rightmost value counts:
//     it is the one the nearest proxy set.
//   - Forwarded's proto= and host= are taken from the element that names
//     the client, the one the first trusted proxy added.
//   - REMOTE_ADDR only ever becomes an IP address, as CGI (RFC 3875
//     4.1.8) defines it and apps parse it: a client named "unknown" or by
//     an obfuscated identifier ("_hidden") leaves the address of the
//     trusted proxy that named it, as nginx's realip module does.
//     REMOTE_PORT is the port given with the address, or empty.

// AllowList is a --forwarded-allow-ips list: the peers whose proxy
// headers are believed.
type AllowList struct {
	all      bool // "*"
	unix     bool // "unix": peers on unix sockets
	prefixes []netip.Prefix
}

// ParseAllowList reads a comma-separated list of IP addresses, CIDR
// ranges, "unix" and "*". An empty list trusts no one. Its error names
// the bad entry; the caller names the list.
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
	return fmt.Errorf(`bad entry %q: use IP addresses (10.0.0.1), CIDR ranges (10.0.0.0/8), "unix" for unix-socket peers, or "*" for everyone, separated by commas`, item)
}

// MarshalText gives the list back in ParseAllowList's form, so that it
// can travel from the master to its workers with the rest of the
// configuration.
func (a *AllowList) MarshalText() ([]byte, error) {
	var items []string
	if a.all {
		items = append(items, "*")
	}
	if a.unix {
		items = append(items, "unix")
	}
	for _, p := range a.prefixes {
		items = append(items, p.String())
	}
	return []byte(strings.Join(items, ",")), nil
}

// UnmarshalText reads what MarshalText gave.
func (a *AllowList) UnmarshalText(text []byte) error {
	b, err := ParseAllowList(string(text))
	if err != nil {
		return err
	}
	*a = *b
	return nil
}

// Empty reports whether the list trusts no one.
func (a *AllowList) Empty() bool {
	return !a.all && !a.unix && len(a.prefixes) == 0
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
	ip          netip.Addr // invalid for "unknown", an obfuscated identifier, or none given
	port        string     // the node's numeric port, if given
	proto, host string
}

// forward applies the proxy headers of a request from a trusted peer:
// REMOTE_ADDR and REMOTE_PORT, wsgi.url_scheme, HTTP_HOST, SERVER_NAME and
// SERVER_PORT, and the start of SCRIPT_NAME (X-Forwarded-Prefix: the path
// the proxy stripped). Malformed headers are ignored, each on its own.
func forward(req *wsgi.Request, trust *AllowList) {
	var xff, fwd, xproto, xhost, xport, xprefix []string
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
		case "X-Forwarded-Prefix":
			xprefix = append(xprefix, h.Value)
		}
	}
	if prefix, ok := checkedPrefix(lastItem(xprefix)); ok {
		req.RawScriptName = prefix // SCRIPT_NAME before --root-path's (mount.go)
	}
	var elem, client hop
	if len(xff)+len(xproto)+len(xhost)+len(xport)+len(xprefix) == 0 {
		hops := parseForwarded(fwd)
		if i := pickClient(hops, trust); i >= 0 {
			elem, client = hops[i], hops[i]
			if !client.ip.IsValid() && i+1 < len(hops) {
				client = hops[i+1] // the trusted proxy that named an unknown client
			}
		}
	}
	if len(xff) > 0 {
		client = forwardedForClient(xff, trust)
	}
	if client.ip.IsValid() {
		req.RemoteAddr, req.RemotePort = client.ip.Unmap().String(), client.port
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
	defPort := schemePort(req.Scheme)
	i := headerIndex(req.Header, "Host")
	// No host to name (no Host, or an empty one): only the port changes;
	// SERVER_NAME stays the socket's, as PEP 3333 wants it never empty.
	if host == "" && (i < 0 || req.Header[i].Value == "") {
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

// pickClient returns the index of the Forwarded element that names the
// client: the rightmost one not from a trusted proxy, or the leftmost
// when all are; -1 when there are none.
func pickClient(hops []hop, trust *AllowList) int {
	for i := len(hops) - 1; i >= 0; i-- {
		if !hops[i].ip.IsValid() || !trust.trusts(hops[i].ip) {
			return i
		}
	}
	if len(hops) == 0 {
		return -1
	}
	return 0
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

// checkedPort is a proxy's port in decimal without leading zeros ("0443"
// is 443, as the proxy meant), or "" when it is not a port.
func checkedPort(s string) string {
	if !validPort(s) {
		return ""
	}
	n, _ := strconv.ParseUint(s, 10, 16)
	return strconv.FormatUint(n, 10)
}

func validPort(s string) bool {
	n, err := strconv.ParseUint(s, 10, 16)
	return err == nil && n > 0
}

// headerValue is the value of the first header called name, or "".
func headerValue(hs []wsgi.Header, name string) string {
	if i := headerIndex(hs, name); i >= 0 {
		return hs[i].Value
	}
	return ""
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
