package e2e

// HTTP/2 keeps every limit and timeout HTTP/1.1 has: the request limits,
// --max-body-size with or without content-length, the stall timeout on a
// body that never comes (which costs no Python thread), and a client's
// stream resets are no application error.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2App answers with the length of the body it read; /seen lists the
// paths it was asked for; /slow takes a tenth of a second.
const h2App = `import json, time
seen = []

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/seen":
        body = json.dumps(seen).encode()
    else:
        seen.append(path)
        if path == "/slow":
            time.sleep(0.1)
        body = b"%d" % len(environ["wsgi.input"].read())
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
`

// startH2 serves h2App over TLS with cert and ARGS.
func startH2(t *testing.T, cert testCert, args ...string) *server {
	t.Helper()
	env := []string{"WSGO_CERTFILE=" + cert.certFile, "WSGO_KEYFILE=" + cert.keyFile}
	return start(t, env, append([]string{writeApp(t, "h2_app.py", h2App)}, args...)...)
}

// h2Seen lists the paths h2App was asked for.
func h2Seen(t *testing.T, s *server, client *http.Client) []string {
	t.Helper()
	_, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/seen", nil))
	var seen []string
	if err := json.Unmarshal([]byte(body), &seen); err != nil {
		t.Fatalf("/seen: %v: %q", err, body)
	}
	return seen
}

func TestH2RequestLimits(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "limits")
	limits := []string{"--max-body-size", "1000", "--limit-request-fields", "20",
		"--limit-request-field_size", "200", "--limit-request-line", "100"}
	s := startH2(t, cert, limits...)
	big := strings.Repeat("b", 2000)
	tests := []struct {
		name, method, path string
		body               func() io.Reader // nil: none
		header             []string
		host               string // :authority (Host), when not the server's address
		status             int
	}{
		{"a request within the limits", "POST", "/ok", func() io.Reader { return strings.NewReader("small") }, nil, "", 200},
		{"a port that is not a number", "GET", "/host", nil, nil, "localhost:abc", 400},
		{"25 header fields", "GET", "/fields", nil, func() []string {
			var h []string
			for i := range 25 {
				h = append(h, fmt.Sprintf("X-F%d", i), "v")
			}
			return h
		}(), "", 431},
		{"a header field of 300 bytes", "GET", "/field-size", nil, []string{"X-Big", strings.Repeat("v", 300)}, "", 431},
		// Over twice what the limits allow (net/http's own bound then).
		{"60 header fields of 190 bytes", "GET", "/many-fields", nil, func() []string {
			var h []string
			for i := range 60 {
				h = append(h, fmt.Sprintf("X-F%d", i), strings.Repeat("v", 190))
			}
			return h
		}(), "", 431},
		{"a target of 150 bytes", "GET", "/line?" + strings.Repeat("q", 150), nil, nil, "", 414},
		{"a method of 150 bytes", strings.Repeat("M", 150), "/method", nil, nil, "", 501}, // RFC 9112 3
		{"a declared body over --max-body-size", "POST", "/declared", func() io.Reader { return strings.NewReader(big) }, nil, "", 413},
		// io.MultiReader hides the length: the client sends no content-length.
		{"an undeclared body over --max-body-size", "POST", "/undeclared", func() io.Reader { return io.MultiReader(strings.NewReader(big)) }, nil, "", 413},
	}
	plain := start(t, nil, append([]string{writeApp(t, "h2_app.py", h2App)}, limits...)...)
	for _, via := range []struct {
		name      string
		s         *server
		client    *http.Client
		wantProto string
	}{
		{"HTTP/2 over TLS", s, tlsClient(false, cert), "HTTP/2.0"},
		{"HTTP/1.1 over TLS", s, tlsClient(true, cert), "HTTP/1.1"},
		{"h2c", plain, h2cClient(), "HTTP/2.0"},
	} {
		s, client, wantProto := via.s, via.client, via.wantProto
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s: %s gets %d", via.name, tc.name, tc.status), func(t *testing.T) {
				var body io.Reader
				if tc.body != nil {
					body = tc.body()
				}
				req := mustRequest(t, tc.method, s.URL+tc.path, body)
				for i := 0; i < len(tc.header); i += 2 {
					req.Header.Add(tc.header[i], tc.header[i+1])
				}
				if tc.host != "" {
					req.Host = tc.host
				}
				resp, _ := frontDo(t, client, req)
				if resp.Proto != wantProto || resp.StatusCode != tc.status {
					t.Fatalf("got %s %d; want %s %d", resp.Proto, resp.StatusCode, wantProto, tc.status)
				}
				if resp.Header.Get("X-Request-ID") == "" {
					t.Errorf("the %d has no X-Request-ID: not wsgo's answer (headers %v)", resp.StatusCode, resp.Header)
				}
			})
		}
		if seen := h2Seen(t, s, client); slices.ContainsFunc(seen, func(p string) bool { return p != "/ok" }) {
			t.Errorf("%s: the app saw refused requests: %q", via.name, seen)
		}
	}
}

// h2cClient speaks HTTP/2 without TLS, with prior knowledge (h2c).
func h2cClient() *http.Client {
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Protocols: &h2c}}
}

// A client that knows the server speaks HTTP/2 may open a plaintext
// connection with HTTP/2's preface (RFC 9113 section 3.3), as proxies do
// to their upstreams. It used to get HTTP/1's 505. The connection is
// served by the worker it was lent to, HTTP/1 clients as before.
func TestH2CWithPriorKnowledge(t *testing.T) {
	s := start(t, nil, writeApp(t, "tls_app.py", tlsApp), "--workers", "2")
	_, port, _ := net.SplitHostPort(s.Addr)
	client := h2cClient()
	for i := range 3 { // one connection, several streams
		req := mustRequest(t, "GET", s.URL+"/some/path?q=1", nil)
		req.Header.Set("X-Test", "yes")
		resp, body := frontDo(t, client, req)
		if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
			t.Fatalf("request %d: got %s %s; want HTTP/2.0 200", i, resp.Proto, resp.Status)
		}
		checkEnviron(t, tlsEnviron(t, body), map[string]any{
			"wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/2.0", "HTTPS": nil,
			"SERVER_NAME": "127.0.0.1", "SERVER_PORT": port, "HTTP_HOST": s.Addr,
			"REQUEST_METHOD": "GET", "REQUEST_URI": "/some/path?q=1", "PATH_INFO": "/some/path",
			"QUERY_STRING": "q=1", "CONTENT_LENGTH": nil, "HTTP_X_TEST": "yes", "body": "",
		})
	}
	payload := strings.Repeat("payload ", 5000)
	resp, body := frontDo(t, client, mustRequest(t, "POST", s.URL+"/post", strings.NewReader(payload)))
	if resp.Proto != "HTTP/2.0" {
		t.Fatalf("POST: got %s; want HTTP/2.0", resp.Proto)
	}
	checkEnviron(t, tlsEnviron(t, body), map[string]any{"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "40000", "body": payload})

	resp, body = frontDo(t, &http.Client{Timeout: 20 * time.Second}, mustRequest(t, "POST", s.URL+"/post", strings.NewReader("PRI")))
	if resp.Proto != "HTTP/1.1" || resp.StatusCode != 200 {
		t.Fatalf("HTTP/1.1 POST: got %s %s", resp.Proto, resp.Status)
	}
	checkEnviron(t, tlsEnviron(t, body), map[string]any{"SERVER_PROTOCOL": "HTTP/1.1", "body": "PRI"})

	t.Run("no Content-Type is made up for a response without one", func(t *testing.T) {
		resp, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/untyped", nil))
		if resp.Proto != "HTTP/2.0" || resp.Header.Values("Content-Type") != nil || body != "<html><script>alert(1)</script></html>" {
			t.Errorf("%s Content-Type %q, body %q; want HTTP/2.0, none (as on HTTP/1: the app said nosniff), the page",
				resp.Proto, resp.Header.Values("Content-Type"), body)
		}
	})
	t.Run("a Trailer field sends no trailers", func(t *testing.T) {
		// A WSGI app cannot send trailers; net/http would repeat the
		// named fields after the body (RFC 9110 6.5.1 forbids most there).
		resp, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/trailer", nil))
		if body != "body" || len(resp.Trailer) != 0 || resp.Header.Get("X-Checksum") != "abc" {
			t.Errorf("body %q, trailers %v, X-Checksum %q; want \"body\", none, \"abc\" in the head", body, resp.Trailer, resp.Header.Get("X-Checksum"))
		}
	})
	t.Run("HEAD answered with no body has no made-up Content-Length (RFC 9110 8.6)", func(t *testing.T) {
		if _, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/head-bodiless", nil)); body != "part1-part2" {
			t.Fatalf("GET: %q, want \"part1-part2\"", body)
		}
		resp, _ := frontDo(t, client, mustRequest(t, "HEAD", s.URL+"/head-bodiless", nil))
		if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 || resp.Header.Values("Content-Length") != nil || resp.ContentLength != -1 {
			t.Errorf("HEAD: %s %d, Content-Length %q (%d); want HTTP/2.0 200 and none: the GET's is unknown",
				resp.Proto, resp.StatusCode, resp.Header.Values("Content-Length"), resp.ContentLength)
		}
	})
	t.Run("OPTIONS * reaches the app, as on HTTP/1", func(t *testing.T) {
		req := mustRequest(t, "OPTIONS", s.URL, nil)
		req.URL.Opaque = "*"
		resp, body := frontDo(t, client, req)
		if resp.Proto != "HTTP/2.0" || body != "options *" || resp.Header.Get("Allow") != "GET, POST, OPTIONS" {
			t.Errorf("%s %q, Allow %q; want HTTP/2.0 \"options *\" and the app's Allow", resp.Proto, body, resp.Header.Get("Allow"))
		}
	})

	t.Run("behind a PROXY header, the client's address", func(t *testing.T) {
		s := start(t, nil, writeApp(t, "addr_app.py", `def application(environ, start_response):
    start_response("200 OK", [])
    return [("%s %s %s" % (environ["SERVER_PROTOCOL"], environ["REMOTE_ADDR"], environ["REMOTE_PORT"])).encode()]
`), "--proxy-protocol", "--forwarded-allow-ips", "127.0.0.1")
		client := h2cClient()
		client.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				_, err = io.WriteString(c, "PROXY TCP4 203.0.113.7 127.0.0.1 4567 80\r\n")
			}
			return c, err
		}
		if _, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/", nil)); body != "HTTP/2.0 203.0.113.7 4567" {
			t.Errorf("got %q; want \"HTTP/2.0 203.0.113.7 4567\"", body)
		}
	})
}

// h2Conn is a raw HTTP/2 client connection, for what Go's client will
// not do: declare a body and never send it, reset streams at once.
type h2Conn struct {
	t   *testing.T
	c   *tls.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
}

func dialH2(t *testing.T, s *server, cert testCert) *h2Conn {
	t.Helper()
	c, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: certPool(cert), NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	h := &h2Conn{t: t, c: c, fr: http2.NewFramer(c, c)}
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.enc = hpack.NewEncoder(&h.buf)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := h.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return h
}

// request sends the HEADERS of a request on stream id: pseudo-headers
// for method and path, then the name/value pairs given.
func (h *h2Conn) request(id uint32, method, path string, endStream bool, header ...string) {
	h.t.Helper()
	h.headers(id, endStream, append([]string{":method", method, ":scheme", "https", ":authority", "127.0.0.1", ":path", path}, header...)...)
}

// headers sends a HEADERS frame of exactly the name/value pairs given.
func (h *h2Conn) headers(id uint32, endStream bool, fields ...string) {
	h.t.Helper()
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.block(fields...), EndStream: endStream, EndHeaders: true}); err != nil {
		h.t.Fatal(err)
	}
}

// block is the HPACK encoding of the name/value pairs given.
func (h *h2Conn) block(fields ...string) []byte {
	h.buf.Reset()
	for i := 0; i < len(fields); i += 2 {
		h.enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return bytes.Clone(h.buf.Bytes())
}

// response reads frames until stream id ends, and returns its response's
// header fields and body.
func (h *h2Conn) response(id uint32) (map[string]string, string) {
	h.t.Helper()
	header := map[string]string{}
	var body bytes.Buffer
	for {
		f := h.frame()
		if f.Header().StreamID != id {
			continue
		}
		ended := false
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			for _, hf := range f.Fields {
				header[hf.Name] = hf.Value
			}
			ended = f.StreamEnded()
		case *http2.DataFrame:
			body.Write(f.Data())
			ended = f.StreamEnded()
		case *http2.RSTStreamFrame:
			h.t.Fatalf("stream %d reset: %v", id, f.ErrCode)
		}
		if ended {
			return header, body.String()
		}
	}
}

// goAway reads frames until the server's GOAWAY, and returns its code.
func (h *h2Conn) goAway() http2.ErrCode {
	h.t.Helper()
	for {
		if f, ok := h.frame().(*http2.GoAwayFrame); ok {
			return f.ErrCode
		}
	}
}

// maxFrameSize reads frames until the server's SETTINGS, and returns its
// SETTINGS_MAX_FRAME_SIZE.
func (h *h2Conn) maxFrameSize() uint32 {
	h.t.Helper()
	for {
		if s, ok := h.frame().(*http2.SettingsFrame); ok && !s.IsAck() {
			if v, ok := s.Value(http2.SettingMaxFrameSize); ok {
				return v
			}
			return 16384 // RFC 9113 6.5.2
		}
	}
}

// frame reads the next frame, answering the server's SETTINGS.
func (h *h2Conn) frame() http2.Frame {
	h.t.Helper()
	f, err := h.fr.ReadFrame()
	if err != nil {
		h.t.Fatalf("reading frames: %v", err)
	}
	if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
		h.fr.WriteSettingsAck()
	}
	return f
}

// statuses reads frames until each of streams has its response HEADERS
// or, first, a reset ("reset"); the server may reset a stream after its
// response too, to stop a body it did not read. It answers the server's
// SETTINGS on the way.
func (h *h2Conn) statuses(streams ...uint32) map[uint32]string {
	h.t.Helper()
	got := map[uint32]string{}
	first := func(id uint32, what string) {
		if _, seen := got[id]; !seen && slices.Contains(streams, id) {
			got[id] = what
		}
	}
	for len(got) < len(streams) {
		switch f := h.frame().(type) {
		case *http2.MetaHeadersFrame:
			first(f.StreamID, f.PseudoValue("status"))
		case *http2.RSTStreamFrame:
			first(f.StreamID, "reset")
		case *http2.GoAwayFrame:
			h.t.Fatalf("GOAWAY %v (got %v so far)", f.ErrCode, got)
		}
	}
	return got
}

// What an HTTP/1 request line may not hold, an HTTP/2 request may not
// either: net/http lets these through, wsgo refuses them as HTTP/1 does.
// What net/http refuses itself is counted in the metrics.
func TestH2RequestsRefusedAsOnHTTP1(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "refused")
	s := startH2(t, cert, "--metrics-bind", "127.0.0.1:0")
	raw := dialH2(t, s, cert)
	tests := []struct {
		name   string
		fields []string
		status string
	}{
		{"CONNECT", []string{":method", "CONNECT", ":authority", "127.0.0.1:443"}, "501"},
		{"a method that is not a token", []string{":method", "G T", ":scheme", "https", ":authority", "h", ":path", "/m"}, "400"},
		{"the asterisk form with GET", []string{":method", "GET", ":scheme", "https", ":authority", "h", ":path", "*"}, "400"},
		{"a fragment in the path", []string{":method", "GET", ":scheme", "https", ":authority", "h", ":path", "/a#frag"}, "400"},
		{"a space in the path", []string{":method", "GET", ":scheme", "https", ":authority", "h", ":path", "/a b"}, "400"},
		// net/http resets this stream itself: it cannot parse the URL.
		{"a malformed escape in the path", []string{":method", "GET", ":scheme", "https", ":authority", "h", ":path", "/a%zz"}, "reset"},
		{"neither :authority nor Host", []string{":method", "GET", ":scheme", "https", ":path", "/no-host"}, "400"},
		{"an :authority with an empty host", []string{":method", "GET", ":scheme", "https", ":authority", ":8443", ":path", "/empty-host"}, "400"},
		{"an expect wsgo cannot meet", []string{":method", "GET", ":scheme", "https", ":authority", "h", ":path", "/expect", "expect", "200-ok"}, "417"},
	}
	for i, tc := range tests {
		t.Run(tc.name+": "+tc.status, func(t *testing.T) {
			id := uint32(2*i + 1)
			raw.headers(id, true, tc.fields...)
			if got := raw.statuses(id)[id]; got != tc.status {
				t.Errorf("got %s; want %s", got, tc.status)
			}
		})
	}
	if seen := h2Seen(t, s, tlsClient(false, cert)); len(seen) != 0 {
		t.Errorf("the app saw refused requests: %q", seen)
	}
	var badPaths []float64
	for _, m := range withMetrics(t, s).scrape()["wsgo_http2_protocol_errors_total"] {
		if m.labels["type"] == "stream_PROTOCOL_ERROR_bad_path" {
			badPaths = append(badPaths, m.value)
		}
	}
	if len(badPaths) != 1 || badPaths[0] != 1 {
		t.Errorf("wsgo_http2_protocol_errors_total{type=\"stream_PROTOCOL_ERROR_bad_path\"} = %v; want one sample of 1, for the malformed escape net/http reset", badPaths)
	}
}

func TestH2StalledBodyHoldsNoPythonThread(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "stall")
	s := startH2(t, cert, "--threads", "1", "--stall-timeout", "3")
	raw := dialH2(t, s, cert)
	// Two requests that declare a body and never send it.
	raw.request(1, "POST", "/stalled-1", false, "content-length", "1000000")
	raw.request(3, "POST", "/stalled-2", false, "content-length", "1000000")

	// Meanwhile the one Python thread serves another client.
	resp, body := frontDo(t, tlsClient(false, cert), mustRequest(t, "GET", s.URL+"/meanwhile", nil))
	if resp.StatusCode != 200 || body != "0" {
		t.Fatalf("GET while two bodies stall: %s %q; want 200 \"0\"", resp.Status, body)
	}
	// And the stalled ones time out with 408, never reaching the app.
	if got := raw.statuses(1, 3); got[1] != "408" || got[3] != "408" {
		t.Errorf("stalled streams got %v; want 408 for both", got)
	}
	if seen := h2Seen(t, s, tlsClient(false, cert)); slices.Contains(seen, "/stalled-1") || slices.Contains(seen, "/stalled-2") {
		t.Errorf("the app saw the stalled requests: %q", seen)
	}
}

func TestH2RapidResetIsNoAppError(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "reset")
	env := []string{"WSGO_CERTFILE=" + cert.certFile, "WSGO_KEYFILE=" + cert.keyFile}
	srv := start(t, env, writeApp(t, "h2_app.py", h2App), "--threads", "2", "--metrics-bind", "127.0.0.1:0")
	s := frontMetrics(t, srv)

	raw := dialH2(t, srv, cert)
	const resets = 100
	for i := range uint32(resets) {
		id := 2*i + 1
		raw.request(id, "GET", "/slow", true)
		if err := raw.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
			t.Fatal(err)
		}
	}
	// A last request on the same connection: once it is answered, every
	// stream before it has reached the server.
	const last = 2*resets + 1
	raw.request(last, "GET", "/last", true)
	if got := raw.statuses(last); got[last] != "200" {
		t.Fatalf("the request after the resets got %v; want 200", got)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.scrape().sum("wsgo_requests_in_flight") > 0 {
		if time.Now().After(deadline) {
			t.Fatal("requests still in flight 30 s after the resets")
		}
		time.Sleep(50 * time.Millisecond)
	}
	sc := s.scrape()
	if n := sc.sum("wsgo_requests_total", "code", "5xx"); n != 0 {
		t.Errorf("%v requests counted as 5xx; a reset is the client's doing", n)
	}
	if n := sc.sum("wsgo_requests_total", "code", "2xx") + sc.sum("wsgo_requests_total", "code", "none"); n < 2 {
		t.Errorf("%v requests counted as 2xx or none; want at least /last and one reset", n)
	}
	if logs := srv.logs.String(); strings.Contains(logs, "[ERROR]") {
		t.Errorf("ERROR lines for client resets:\n%s", logs)
	}
}

// h1OverTLS sends raw, an HTTP/1.1 request, over a TLS connection of its
// own, and returns the response and its body.
func h1OverTLS(t *testing.T, s *server, cert testCert, raw string) (*http.Response, string) {
	t.Helper()
	c, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: certPool(cert), NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// Fields that two servers could read two ways make an HTTP/2 request
// malformed as they make an HTTP/1.1 one (docs/deployment.md): two
// content-length values that differ, two host fields. A host that names
// another entity than :authority is malformed too (RFC 9113 8.3.1). They
// used to be served, the first value winning.
func TestH2FieldsThatDisagreeAreRefused(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "disagree")
	s := startH2(t, cert)
	raw := dialH2(t, s, cert)
	tests := []struct {
		name   string
		fields []string // after :method, :scheme and :path
		body   string   // "": the HEADERS end the stream
		http1  string   // the same fields on HTTP/1.1, when it has them
		status string
	}{
		{"two different content-length", []string{":authority", "h", "content-length", "5", "content-length", "100"}, "hello",
			"Host: h\r\nContent-Length: 5\r\nContent-Length: 100\r\n", "400"},
		{"the same content-length twice", []string{":authority", "h", "content-length", "5", "content-length", "5"}, "hello",
			"Host: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n", "200"},
		// With a body, net/http would reset the stream for the body's length.
		{"a content-length that is not a number", []string{":authority", "h", "content-length", "5x"}, "",
			"Host: h\r\nContent-Length: 5x\r\n", "400"},
		// net/http checks the length against DATA frames only: the
		// request reached the app, with no body and CONTENT_LENGTH 0.
		{"a content-length and no body", []string{":authority", "h", "content-length", "5"}, "", "", "400"},
		{"a content-length of 0 and no body", []string{":authority", "h", "content-length", "0"}, "", "", "200"},
		// Malformed on HTTP/2 (RFC 9113 8.2.1); HTTP/1.1 strips the blanks.
		{"a value that begins with a space", []string{":authority", "h", "x-a", " ab"}, "hello", "", "400"},
		{"a value that ends with a tab", []string{":authority", "h", "x-a", "ab\t"}, "hello", "", "400"},
		{"a value with blanks inside", []string{":authority", "h", "x-a", "a b\tc"}, "hello", "", "200"},
		{"two host without :authority", []string{"host", "a.example", "host", "b.example"}, "hello",
			"Host: a.example\r\nHost: b.example\r\nContent-Length: 5\r\n", "400"},
		{"the same host twice without :authority", []string{"host", "a.example", "host", "a.example"}, "hello",
			"Host: a.example\r\nHost: a.example\r\nContent-Length: 5\r\n", "400"},
		{":authority and another host", []string{":authority", "a.example", "host", "b.example"}, "hello", "", "400"},
		{":authority and another port in host", []string{":authority", "a.example", "host", "a.example:8443"}, "hello", "", "400"},
		{":authority and the same host, normalized", []string{":authority", "a.example", "host", "A.Example:443"}, "hello", "", "200"},
	}
	for i, tc := range tests {
		t.Run(tc.name+": "+tc.status, func(t *testing.T) {
			path := "/served"
			if tc.status != "200" {
				path = "/refused"
			}
			id := uint32(2*i + 1)
			raw.headers(id, tc.body == "", append([]string{":method", "POST", ":scheme", "https", ":path", path}, tc.fields...)...)
			if tc.body != "" {
				if err := raw.fr.WriteData(id, true, []byte(tc.body)); err != nil {
					t.Fatal(err)
				}
			}
			if got := raw.statuses(id)[id]; got != tc.status {
				t.Errorf("HTTP/2: got %s; want %s", got, tc.status)
			}
			if tc.http1 == "" {
				return
			}
			resp, _ := h1OverTLS(t, s, cert, "POST "+path+" HTTP/1.1\r\n"+tc.http1+"Connection: close\r\n\r\n"+tc.body)
			if got := strconv.Itoa(resp.StatusCode); got != tc.status {
				t.Errorf("HTTP/1.1: got %s; want %s", got, tc.status)
			}
		})
	}
	if seen := h2Seen(t, s, tlsClient(false, cert)); slices.Contains(seen, "/refused") {
		t.Errorf("the app saw refused requests: %q", seen)
	}
}

// A header block that does not end within --header-timeout ends its
// connection, as a request head that does not does on HTTP/1, also while
// another stream keeps the connection busy. It used to hold the
// connection until --keep-alive, or for as long as the other stream ran.
// A block that ends in time does not limit the connection after it.
func TestH2HeaderBlockWithinHeaderTimeout(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "header-timeout")
	const headerTimeout = 2 * time.Second
	s := startH2(t, cert, "--header-timeout", "2", "--keep-alive", "60")
	get := []string{":method", "GET", ":scheme", "https", ":authority", "h", ":path", "/in-pieces"}
	// ended reads raw until the server ends the connection, and says how
	// long after since that was.
	ended := func(t *testing.T, raw *h2Conn, since time.Time) time.Duration {
		t.Helper()
		raw.c.SetDeadline(time.Now().Add(15 * time.Second))
		for {
			if _, err := raw.fr.ReadFrame(); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("the connection is still open after %v", time.Since(since))
				}
				return time.Since(since)
			}
		}
	}

	t.Run("HEADERS without END_HEADERS, then nothing", func(t *testing.T) {
		raw := dialH2(t, s, cert)
		sent := time.Now()
		if err := raw.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: raw.block(get...), EndStream: true}); err != nil {
			t.Fatal(err)
		}
		if d := ended(t, raw, sent); d < headerTimeout {
			t.Errorf("ended after %v, before --header-timeout", d)
		}
	})
	t.Run("a CONTINUATION without END_HEADERS, while a body stalls on another stream", func(t *testing.T) {
		raw := dialH2(t, s, cert)
		raw.request(1, "POST", "/stalled", false, "content-length", "1000")
		sent := time.Now()
		block := raw.block(get...)
		err := raw.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block[:5], EndStream: true})
		if err == nil {
			err = raw.fr.WriteContinuation(3, false, block[5:])
		}
		if err != nil {
			t.Fatal(err)
		}
		if d := ended(t, raw, sent); d < headerTimeout {
			t.Errorf("ended after %v, before --header-timeout", d)
		}
	})
	t.Run("a block in pieces within the timeout, then another request after it", func(t *testing.T) {
		raw := dialH2(t, s, cert)
		block := raw.block(get...)
		if err := raw.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block[:5], EndStream: true}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(headerTimeout / 2)
		if err := raw.fr.WriteContinuation(1, true, block[5:]); err != nil {
			t.Fatal(err)
		}
		if got := raw.statuses(1)[1]; got != "200" {
			t.Fatalf("the request in pieces got %s; want 200", got)
		}
		time.Sleep(headerTimeout + time.Second)
		raw.request(3, "GET", "/later", true)
		if got := raw.statuses(3)[3]; got != "200" {
			t.Errorf("a request %v later got %s; want 200", headerTimeout+time.Second, got)
		}
	})
}

// A header list over the limits gets wsgo's 431 on HTTP/2 as on HTTP/1.1:
// the plain-text body, the Server header, a warning naming the flag to
// raise, a count in wsgo_requests_total. This list (250 fields of 4000
// bytes) used to get net/http's own HTML page, unlogged and uncounted:
// it is longer than the header list size net/http advertised.
func TestH2HeaderListOverTheLimitsGetsWsgos431(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "431")
	s := withMetrics(t, startH2(t, cert, "--metrics-bind", "127.0.0.1:0"))
	fields := []string{":method", "GET", ":scheme", "https", ":authority", "h", ":path", "/many-fields"}
	for i := range 250 {
		fields = append(fields, fmt.Sprintf("x-f%d", i), strings.Repeat("v", 4000))
	}
	raw := dialH2(t, s.server, cert)
	// In one frame: net/http ends the connection at a CONTINUATION that
	// follows a list it has cut.
	block := raw.block(fields...)
	if max := raw.maxFrameSize(); uint32(len(block)) > max {
		t.Fatalf("a block of %d bytes; the server takes frames of %d", len(block), max)
	}
	if err := raw.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	header, body := raw.response(1)
	want := map[string]string{":status": "431", "content-type": "text/plain; charset=utf-8", "server": "wsgo"}
	for name, value := range want {
		if header[name] != value {
			t.Errorf("%s: %q; want %q", name, header[name], value)
		}
	}
	if id := header["x-request-id"]; !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("x-request-id %q; want the request's id, as on any response", id)
	}
	if body != "Request Header Fields Too Large\n" {
		t.Errorf("body %q; want \"Request Header Fields Too Large\\n\"", body)
	}
	if !s.waitLog(`\[WARNING\] wsgo: request refused status=431 why="more than --limit-request-fields \(100\) header fields; raise the flag`, 10*time.Second) {
		t.Errorf("no warning naming --limit-request-fields:\n%s", s.logs.String())
	}
	if sc, ok := s.eventually(func(sc scrape) bool { return sc.sum("wsgo_requests_total", "code", "4xx") == 1 }); !ok {
		t.Errorf("wsgo_requests_total{code=\"4xx\"} = %v; want 1", sc.sum("wsgo_requests_total", "code", "4xx"))
	}
	if seen := h2Seen(t, s.server, tlsClient(false, cert)); len(seen) != 0 {
		t.Errorf("the app saw %q", seen)
	}
}

// Each connection the HTTP/2 layer ends on a connection error (a GOAWAY
// with an error code) is counted, also when net/http names no error: a
// CONTINUATION flood, a header block that does not decode, a frame over
// the size the server advertised. These used to be counted nowhere.
func TestH2ConnectionErrorsAreCounted(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "goaway")
	s := withMetrics(t, startH2(t, cert, "--metrics-bind", "127.0.0.1:0"))
	get := []string{":method", "GET", ":scheme", "https", ":authority", "h", ":path", "/flood"}
	tests := []struct {
		name string
		send func(raw *h2Conn) error
		code http2.ErrCode
	}{
		{"a CONTINUATION flood", func(raw *h2Conn) error {
			raw.maxFrameSize() // the server's SETTINGS, answered before the flood takes the framer
			if err := raw.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: raw.block(get...), EndStream: true}); err != nil {
				return err
			}
			// New fields in each frame, until the server stops reading.
			go func() {
				for i := range 10000 {
					var fields []string
					for j := range 100 {
						fields = append(fields, fmt.Sprintf("x-c%d-%d", i, j), strings.Repeat("v", 40))
					}
					if raw.fr.WriteContinuation(1, false, raw.block(fields...)) != nil {
						return
					}
				}
			}()
			return nil
		}, http2.ErrCodeProtocol},
		{"a header block that does not decode", func(raw *h2Conn) error {
			// An indexed field of index 0, which does not exist (RFC 7541 6.1).
			return raw.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: []byte{0x80}, EndStream: true, EndHeaders: true})
		}, http2.ErrCodeCompression},
		{"a frame over SETTINGS_MAX_FRAME_SIZE", func(raw *h2Conn) error {
			length := raw.maxFrameSize() + 1
			_, err := raw.c.Write([]byte{byte(length >> 16), byte(length >> 8), byte(length), byte(http2.FrameData), 0, 0, 0, 0, 1})
			return err
		}, http2.ErrCodeFrameSize},
	}
	for _, tc := range tests {
		t.Run(tc.name+": "+tc.code.String(), func(t *testing.T) {
			raw := dialH2(t, s.server, cert)
			if err := tc.send(raw); err != nil {
				t.Fatal(err)
			}
			if got := raw.goAway(); got != tc.code {
				t.Errorf("GOAWAY %v; want %v", got, tc.code)
			}
		})
	}
	counted := func(sc scrape) bool {
		for _, tc := range tests {
			if sc.sum("wsgo_http2_connection_errors_total", "code", tc.code.String()) != 1 {
				return false
			}
		}
		return true
	}
	if sc, ok := s.eventually(counted); !ok {
		t.Errorf("wsgo_http2_connection_errors_total: %v; want 1 of each code", sc["wsgo_http2_connection_errors_total"])
	}
}

// An HTTP/2 client that resets its stream while the app runs gets no
// response: its request is counted as none and logged with status 0,
// where the response the app gave later was counted and logged as sent.
func TestAnHTTP2StreamResetBeforeTheResponseIsLoggedAsNone(t *testing.T) {
	accessLog := filepath.Join(t.TempDir(), "access.log")
	s := frontMetrics(t, start(t, nil, writeApp(t, "slow_app.py", `import time

def application(environ, start_response):
    time.sleep(1)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"late"]
`), "--metrics-bind", "127.0.0.1:0", "--access-log", accessLog))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req := mustRequest(t, "GET", s.URL+"/left", nil).WithContext(ctx)
	if resp, err := h2cClient().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the request was answered %s before the client left", resp.Status)
	}
	line := regexp.MustCompile(`"GET /left HTTP/2\.0" 0 - `)
	if got := frontLogLines(t, accessLog, 1)[0]; !line.MatchString(got) {
		t.Errorf("access log line %q; want status 0 and no bytes", got)
	}
	sc := s.scrape()
	if none, ok := sc.sum("wsgo_requests_total", "code", "none"), sc.sum("wsgo_requests_total", "code", "2xx"); none != 1 || ok != 0 {
		t.Errorf("wsgo_requests_total none %v, 2xx %v; want 1 and 0", none, ok)
	}
	if strings.Contains(s.logs.String(), "[ERROR]") { // the client's doing, not the app's
		t.Errorf("an ERROR line for a client that left:\n%s", s.logs.String())
	}
}

// A body short of its Content-Length resets the HTTP/2 stream, and is
// logged as on HTTP/1 (the reset leaves the request by a panic, which
// once skipped the warning).
func TestH2ShortBodyIsReportedAsOnHTTP1(t *testing.T) {
	s := start(t, nil, writeApp(t, "short.py", `def application(environ, start_response):
    start_response("200 OK", [("Content-Length", "10")])
    return [b"01234"]
`))
	resp, err := h2cClient().Get(s.URL + "/short")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
		t.Errorf("reading /short over h2c: %v; want its stream reset with INTERNAL_ERROR", err)
	}
	if !s.waitLog(`WARNING\] wsgo: the app's body ended short of its Content-Length.* path=/short missing=5`, 10*time.Second) {
		t.Errorf("no warning for the short body; output:\n%s", s.logs.String())
	}
}
