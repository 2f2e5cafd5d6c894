package httpfront

// Fuzz targets of what a client controls: the HTTP/1 head, chunked
// bodies, proxy headers, static paths and Range. Plain `go test` runs
// their seeds (below and in testdata/fuzz); `make fuzz` searches further.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"wsgo/wsgi"
)

// fuzzLimits are small, so that the fuzzer reaches them.
var fuzzLimits = limits{line: 200, fields: 8, fieldSize: 100}

func FuzzReadHead(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /a?b HTTP/1.0\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nabc",
		"PUT http://example.org:81/p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
		"\r\n\nOPTIONS * HTTP/1.1\nhost: h\nconnection: close\n\n",
		"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",
		"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
		"GET /%zz HTTP/1.1\r\nHost: h\r\nX_Y: 1\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := headReader{br: bufio.NewReaderSize(bytes.NewReader(data), 64), limits: fuzzLimits}
		h, err := r.read()
		var refused *headError
		switch {
		case errors.As(err, &refused):
			if refused.status < 400 || refused.status > 505 || refused.why == "" {
				t.Fatalf("refusal %d %q", refused.status, refused.why)
			}
			return
		case err != nil:
			if err != io.EOF {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !validToken(h.method) || h.target == "" || strings.ContainsAny(h.target, " \t\r\n\x00\x7f") {
			t.Fatalf("request line %q %q", h.method, h.target)
		}
		if len(h.method)+len(h.target)+len(" HTTP/1.1")+1 > fuzzLimits.line || len(h.header) > fuzzLimits.fields {
			t.Fatalf("over the limits: %q %q, %d fields", h.method, h.target, len(h.header))
		}
		if h.chunked != (h.length == -1) || h.chunked && h.hasLength || h.length < -1 || !validHost(h.host) {
			t.Fatalf("framing: %+v", h)
		}
		hosts := 0
		for _, f := range h.header {
			key := []byte(f.Name)
			canonicalName(key)
			if !validToken(f.Name) || string(key) != f.Name || !validFieldValue(f.Value) || !forApp(f.Name) ||
				strings.Trim(f.Value, " \t") != f.Value {
				t.Fatalf("field %q: %q", f.Name, f.Value)
			}
			if f.Name == "Host" {
				hosts++
				if f.Value != h.host {
					t.Fatalf("Host %q but host %q", f.Value, h.host)
				}
			}
		}
		if hosts > 1 || !h.http10 && hosts == 0 {
			t.Fatalf("%d Host fields in %q", hosts, h.header)
		}
	})
}

func FuzzChunked(f *testing.F) {
	for _, seed := range []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"3;ext=\"v\"\r\nabc\r\n0\r\nTrailer: t\r\n\r\n",
		"0000000000000000000000003\r\nabc\r\n000\r\n\r\n",
		"ffffffffffffffff\r\n",
		"3\nabc\r\n0\r\n\r\n",
		"2 ; a\r\nab\r\n0\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := &chunkedReader{br: bufio.NewReaderSize(bytes.NewReader(data), 64), limits: fuzzLimits}
		body, err := io.ReadAll(cr)
		if len(body) > len(data) {
			t.Fatalf("%d bytes decoded from %d", len(body), len(data))
		}
		if err != nil {
			return
		}
		// What decodes whole encodes again to the same body.
		var enc bytes.Buffer
		for rest := body; len(rest) > 0; rest = rest[min(len(rest), 7):] {
			fmt.Fprintf(&enc, "%x\r\n%s\r\n", len(rest[:min(len(rest), 7)]), rest[:min(len(rest), 7)])
		}
		enc.WriteString("0\r\n\r\n")
		again, err := io.ReadAll(&chunkedReader{br: bufio.NewReader(&enc), limits: fuzzLimits})
		if err != nil || !bytes.Equal(again, body) {
			t.Fatalf("re-encoded %q decodes to %q, %v", body, again, err)
		}
	})
}

func FuzzForward(f *testing.F) {
	f.Add("203.0.113.7, 10.0.0.1", `for="[2001:db8::1]:4711";proto=https;host=a.example, for=10.0.0.2`, "https", "b.example:8443", "8443")
	f.Add("unknown", `for=_hidden;by=_me`, "HTTP", "[::1]", "")
	f.Add("1.2.3.4:80, fe80::1%eth0", `for="_x:_y"`, "ftp", "a<b>", "0")
	trust, err := ParseAllowList("127.0.0.1,10.0.0.0/8")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, xff, fwd, proto, host, port string) {
		req := &wsgi.Request{Scheme: "http", ServerName: "local", ServerPort: "80", RemoteAddr: "127.0.0.1", RemotePort: "1",
			Header: []wsgi.Header{{Name: "Host", Value: "h"}, {Name: "X-Forwarded-For", Value: xff}, {Name: "Forwarded", Value: fwd},
				{Name: "X-Forwarded-Proto", Value: proto}, {Name: "X-Forwarded-Host", Value: host}, {Name: "X-Forwarded-Port", Value: port}}}
		forward(req, trust)
		if req.Scheme != "http" && req.Scheme != "https" {
			t.Fatalf("scheme %q", req.Scheme)
		}
		if i := headerIndex(req.Header, "Host"); i < 0 || !validHost(req.Header[i].Value) {
			t.Fatalf("Host %q", req.Header)
		}
		if !validHost(req.ServerName) || !validPort(req.ServerPort) {
			t.Fatalf("server %q %q", req.ServerName, req.ServerPort)
		}
		if _, err := netip.ParseAddr(req.RemoteAddr); err != nil {
			t.Fatalf("remote %q", req.RemoteAddr)
		}
		if req.RemotePort != "" && req.RemotePort != "1" && !validPort(req.RemotePort) {
			t.Fatalf("remote port %q", req.RemotePort)
		}
	})
}

func FuzzStaticPath(f *testing.F) {
	for _, seed := range []string{"/static/a.css", "/static/%2e%2e/etc/passwd", "/static/a%2fb", "/static/..%5c..", "/static", "/static/%00", "/staticx/a"} {
		f.Add(seed)
	}
	dir := f.TempDir()
	files := newStaticFiles([]StaticDir{{Prefix: "/static", Dir: dir}}, 0)
	f.Fuzz(func(t *testing.T, raw string) {
		app := files.match(raw)
		sf, ok := app.(*staticFile)
		if !ok || !sf.clean || !safeRelPath(sf.rel) {
			return // not served from the directory: 404 or the app
		}
		rel, err := filepath.Rel(dir, filepath.Join(dir, filepath.FromSlash(sf.rel)))
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			t.Fatalf("%q serves %q, outside the directory", raw, sf.rel)
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, seed := range []string{"bytes=0-99", "bytes=-5", "bytes=5-", "bytes=0-0,-1", "bytes=1-2,3-4,5-6", "items=0-1", "bytes= , 0-1", "bytes=9223372036854775807-"} {
		f.Add(seed, int64(100))
	}
	f.Fuzz(func(t *testing.T, s string, size int64) {
		if size <= 0 {
			return // parseRange's contract: a representation of size > 0
		}
		ranges, ok := parseRange(s, size)
		if !ok {
			return
		}
		if len(ranges) > maxRanges {
			t.Fatalf("%d ranges", len(ranges))
		}
		for _, r := range ranges {
			if r.start < 0 || r.length <= 0 || r.start+r.length > size || r.start+r.length < r.start {
				t.Fatalf("%q of %d: range %+v", s, size, r)
			}
		}
		if overlapping(ranges) {
			t.Fatalf("%q: overlapping %+v", s, ranges)
		}
	})
}
