package httpfront

import (
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"wsgo/wsgi"
)

func mustAllow(t *testing.T, list string) *AllowList {
	t.Helper()
	a, err := ParseAllowList(list)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseAllowList(t *testing.T) {
	a := mustAllow(t, " 10.0.0.0/8, 192.168.1.7 ,2001:db8::/32,::1,unix")
	for ip, want := range map[string]bool{
		"10.1.2.3": true, "11.0.0.1": false, "192.168.1.7": true, "192.168.1.8": false,
		"2001:db8::5": true, "2001:db9::5": false, "::1": true, "::ffff:10.9.9.9": true, "127.0.0.1": false,
	} {
		if got := a.trusts(netip.MustParseAddr(ip)); got != want {
			t.Errorf("trusts(%s) = %v, want %v", ip, got, want)
		}
	}
	unix := &net.UnixAddr{Name: "/run/wsgo.sock", Net: "unix"}
	if !a.trustsPeer(unix) || mustAllow(t, "127.0.0.1").trustsPeer(unix) || !mustAllow(t, "*").trustsPeer(unix) {
		t.Error(`a unix peer is trusted only with "unix" or "*" in the list`)
	}
	if !mustAllow(t, "*").trusts(netip.MustParseAddr("203.0.113.9")) {
		t.Error(`"*" does not trust everyone`)
	}
	if mustAllow(t, "").trustsPeer(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}) || (*AllowList)(nil).trustsPeer(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}) {
		t.Error("an empty or nil list trusts someone")
	}
	for _, bad := range []string{"10.0.0.0/33", "localhost", "1.2.3", "10.0.0.1/8/8"} {
		_, err := ParseAllowList("127.0.0.1," + bad)
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) || !strings.Contains(err.Error(), "CIDR") {
			t.Errorf("ParseAllowList(%q) = %v; want an error naming the entry and the forms", bad, err)
		}
	}
}

func TestForward(t *testing.T) {
	trust := mustAllow(t, "127.0.0.1,10.0.0.0/8")
	base := func(hs ...string) *wsgi.Request {
		req := &wsgi.Request{Scheme: "http", ServerName: "internal", ServerPort: "8000", RemoteAddr: "127.0.0.1", RemotePort: "5555",
			Header: []wsgi.Header{{Name: "Host", Value: "internal:8000"}}}
		for i := 0; i < len(hs); i += 2 {
			req.Header = append(req.Header, wsgi.Header{Name: hs[i], Value: hs[i+1]})
		}
		return req
	}
	// result is what forward may change.
	type result struct{ remoteAddr, remotePort, scheme, host, serverName, serverPort string }
	unchanged := result{"127.0.0.1", "5555", "http", "internal:8000", "internal", "8000"}
	tests := []struct {
		name string
		req  *wsgi.Request
		want result
	}{
		{"no proxy headers", base(), unchanged},
		{"X-Forwarded-For of one hop", base("X-Forwarded-For", "203.0.113.7"),
			result{"203.0.113.7", "", "http", "internal:8000", "internal", "8000"}},
		{"rightmost untrusted address wins", base("X-Forwarded-For", "198.51.100.1, 203.0.113.7, 10.0.0.2"),
			result{"203.0.113.7", "", "http", "internal:8000", "internal", "8000"}},
		{"repeated X-Forwarded-For fields form one list", base("X-Forwarded-For", "198.51.100.1", "X-Forwarded-For", "203.0.113.7,10.1.1.1"),
			result{"203.0.113.7", "", "http", "internal:8000", "internal", "8000"}},
		{"all hops trusted: the leftmost", base("X-Forwarded-For", "10.0.0.5, 10.0.0.2"),
			result{"10.0.0.5", "", "http", "internal:8000", "internal", "8000"}},
		{"IPv6 and ports in X-Forwarded-For", base("X-Forwarded-For", "[2001:db8::1]:4711"),
			result{"2001:db8::1", "4711", "http", "internal:8000", "internal", "8000"}},
		{"garbage right of the client is where the walk stops: nothing to believe", base("X-Forwarded-For", "203.0.113.7, <script>"), unchanged},
		{"garbage left of the client is never read", base("X-Forwarded-For", "x, 198.51.100.9"),
			result{"198.51.100.9", "", "http", "internal:8000", "internal", "8000"}},
		{"empty items are skipped", base("X-Forwarded-For", ", 198.51.100.9,, 10.0.0.2"),
			result{"198.51.100.9", "", "http", "internal:8000", "internal", "8000"}},
		{"garbage after trusted hops: the last trusted one", base("X-Forwarded-For", "junk, 10.0.0.5, 10.0.0.2"),
			result{"10.0.0.5", "", "http", "internal:8000", "internal", "8000"}},
		{"X-Forwarded-Proto https sets the scheme and the default port", base("X-Forwarded-Proto", "https", "X-Forwarded-Host", "example.com"),
			result{"127.0.0.1", "5555", "https", "example.com", "example.com", "443"}},
		{"X-Forwarded-Proto keeps a port the Host gives", base("X-Forwarded-Proto", "HTTPS"),
			result{"127.0.0.1", "5555", "https", "internal:8000", "internal", "8000"}},
		{"X-Forwarded-Proto other than http(s) is ignored", base("X-Forwarded-Proto", "gopher"), unchanged},
		{"X-Forwarded-Port sets SERVER_PORT and the Host's port", base("X-Forwarded-Host", "example.com", "X-Forwarded-Port", "8443"),
			result{"127.0.0.1", "5555", "http", "example.com:8443", "example.com", "8443"}},
		{"X-Forwarded-Port of the scheme's default leaves no port in Host", base("X-Forwarded-Proto", "https", "X-Forwarded-Port", "443"),
			result{"127.0.0.1", "5555", "https", "internal", "internal", "443"}},
		{"the rightmost X-Forwarded-Host counts", base("X-Forwarded-Host", "evil.example, good.example"),
			result{"127.0.0.1", "5555", "http", "good.example", "good.example", "80"}},
		{"a malformed X-Forwarded-Host is ignored", base("X-Forwarded-Host", "a b"), unchanged},
		{"a malformed X-Forwarded-Port is ignored", base("X-Forwarded-Port", "99999"), unchanged},
		// A port with leading zeros means the same port; kept as sent, the
		// default one would reach Host as "internal:0443".
		{"X-Forwarded-Port with leading zeros is the port it means", base("X-Forwarded-Proto", "https", "X-Forwarded-Port", "0443"),
			result{"127.0.0.1", "5555", "https", "internal", "internal", "443"}},
		{"a port with leading zeros in X-Forwarded-For", base("X-Forwarded-For", "[2001:db8::1]:04711"),
			result{"2001:db8::1", "4711", "http", "internal:8000", "internal", "8000"}},
		{"a port with leading zeros in Forwarded", base("Forwarded", `for="203.0.113.7:00080"`),
			result{"203.0.113.7", "80", "http", "internal:8000", "internal", "8000"}},
		{"Forwarded with quoted IPv6 and port", base("Forwarded", `for="[2001:db8:cafe::17]:4711";proto=https;host=example.com`),
			result{"2001:db8:cafe::17", "4711", "https", "example.com", "example.com", "443"}},
		{"Forwarded: the element naming the client gives proto and host", base("Forwarded", `for=198.51.100.9;proto=http;host=spoof.example, for=203.0.113.7;proto=https;host="example.com:8443", for=10.0.0.2;proto=http;host=internal`),
			result{"203.0.113.7", "", "https", "example.com:8443", "example.com", "8443"}},
		{"Forwarded names case-insensitive, spaces allowed", base("Forwarded", `For=203.0.113.7 ; Proto=https`),
			result{"203.0.113.7", "", "https", "internal:8000", "internal", "8000"}},
		// REMOTE_ADDR is an address (RFC 3875 4.1.8): a client that is not
		// one leaves the address of the trusted proxy that named it.
		{"Forwarded obfuscated identifier: the scheme, not the address", base("Forwarded", "for=_hidden;proto=https"),
			result{"127.0.0.1", "5555", "https", "internal:8000", "internal", "8000"}},
		{"Forwarded unknown with an obfuscated port", base("Forwarded", `for="unknown:_p1"`), unchanged},
		{"Forwarded unknown named by a trusted proxy: that proxy", base("Forwarded", `for=unknown;host=example.com, for="10.0.0.2:81"`),
			result{"10.0.0.2", "81", "http", "example.com", "example.com", "80"}},
		{"X-Forwarded-For unknown", base("X-Forwarded-For", "unknown"), unchanged},
		{"X-Forwarded-For unknown named by a trusted proxy: that proxy", base("X-Forwarded-For", "198.51.100.1, _hidden, 10.0.0.2"),
			result{"10.0.0.2", "", "http", "internal:8000", "internal", "8000"}},
		{"Forwarded quoted-pair", base("Forwarded", `for="\_x";host="a\.b"`),
			result{"127.0.0.1", "5555", "http", "a.b", "a.b", "80"}},
		{"malformed Forwarded is ignored", base("Forwarded", `for=203.0.113.7;proto=https;host="unterminated`), unchanged},
		// RFC 7239 4: a parameter at most once per element.
		{"Forwarded with a parameter twice in an element is malformed", base("Forwarded", "for=203.0.113.7;for=6.6.6.6"), unchanged},
		{"Forwarded with proto twice in an element is malformed", base("Forwarded", "for=203.0.113.7;proto=http;PROTO=https"), unchanged},
		// RFC 9110 5.6.1.2: empty list elements are ignored.
		{"Forwarded's empty elements are skipped", base("Forwarded", ",,for=203.0.113.7, ,;, for=10.0.0.2,,"),
			result{"203.0.113.7", "", "http", "internal:8000", "internal", "8000"}},
		{"Forwarded with an unquoted IPv6 is malformed", base("Forwarded", "for=[2001:db8::1]:80"), unchanged},
		// Beside X-Forwarded-*, a Forwarded header is the client's own (nginx
		// passes it through): it may pick neither the address, nor Host, nor
		// the scheme.
		{"Forwarded beside X-Forwarded-* is ignored", base("Forwarded", "for=198.51.100.9;proto=http;host=f.example", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https"),
			result{"203.0.113.7", "", "https", "internal:8000", "internal", "8000"}},
		{"Forwarded cannot set Host beside X-Forwarded-For", base("X-Forwarded-For", "203.0.113.7", "Forwarded", "for=1.1.1.1;host=evil.example;proto=https"),
			result{"203.0.113.7", "", "http", "internal:8000", "internal", "8000"}},
		{"Forwarded cannot name the client when X-Forwarded-For holds junk", base("X-Forwarded-For", "junk", "Forwarded", "for=10.1.2.3"), unchanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forward(tt.req, trust)
			host := ""
			if i := headerIndex(tt.req.Header, "Host"); i >= 0 {
				host = tt.req.Header[i].Value
			}
			got := result{tt.req.RemoteAddr, tt.req.RemotePort, tt.req.Scheme, host, tt.req.ServerName, tt.req.ServerPort}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}

	t.Run("without a Host, a forwarded host is added", func(t *testing.T) {
		req := &wsgi.Request{Scheme: "http", ServerName: "127.0.0.1", ServerPort: "8000",
			Header: []wsgi.Header{{Name: "X-Forwarded-Host", Value: "example.com"}}}
		forward(req, trust)
		if i := headerIndex(req.Header, "Host"); i < 0 || req.Header[i].Value != "example.com" || req.ServerName != "example.com" || req.ServerPort != "80" {
			t.Errorf("got %+v", req)
		}
	})
}
