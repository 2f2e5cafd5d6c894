package e2e

// Helpers of the front's tests (front_*_test.go): static files, proxy
// headers, limits, the access log and --debug.

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"
)

// frontApp answers every request with the environ keys the front sets, as
// JSON, and remembers the paths it was asked for: /seen lists them, so
// that a test can tell that a request never reached Python.
const frontApp = `import json
seen = []
KEYS = ["REMOTE_ADDR", "REMOTE_PORT", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT",
        "HTTP_X_REQUEST_ID", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
        "HTTP_FORWARDED", "CONTENT_LENGTH", "SERVER_PROTOCOL"]

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/seen":
        body = json.dumps(seen)
    else:
        seen.append(path)
        if path == "/boom":
            raise ValueError('<b>bad</b> & "quoted"')
        environ["wsgi.input"].read()
        body = json.dumps({k: environ.get(k) for k in KEYS})
    body = body.encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
`

// frontHTTP is the client of these tests: no keep-alive (each request
// its own connection, so flags about connections are seen), no
// transparent decompression, a deadline.
var frontHTTP = &http.Client{Timeout: 15 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}

// frontStart starts frontApp with ARGS.
func frontStart(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	return start(t, env, append([]string{writeApp(t, "front_app.py", frontApp)}, args...)...)
}

// frontDo sends req with client (frontHTTP when nil) and returns the
// response and its body.
func frontDo(t *testing.T, client *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	if client == nil {
		client = frontHTTP
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp, string(b)
}

// frontGet GETs s.URL+path with the given header name/value pairs.
func frontGet(t *testing.T, s *server, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req := mustRequest(t, "GET", s.URL+path, nil)
	for i := 0; i < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	}
	return frontDo(t, nil, req)
}

// frontEnviron decodes frontApp's answer.
func frontEnviron(t *testing.T, body string) map[string]*string {
	t.Helper()
	var env map[string]*string
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("not the app's environ: %v: %q", err, body)
	}
	return env
}

// frontSeen reports whether frontApp was ever asked for path.
func frontSeen(t *testing.T, s *server, path string) bool {
	t.Helper()
	_, body := frontGet(t, s, "/seen")
	var seen []string
	if err := json.Unmarshal([]byte(body), &seen); err != nil {
		t.Fatalf("/seen: %v: %q", err, body)
	}
	return slices.Contains(seen, path)
}

// frontClientFrom is a client whose connections come from the local
// address ip, so that a server on 127.0.0.1 sees a peer it may not trust.
func frontClientFrom(ip string) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}}}
}

// frontStr reads an environ value; nil (key absent) is "<absent>".
func frontStr(v *string) string {
	if v == nil {
		return "<absent>"
	}
	return *v
}

// frontMetrics is s, started with --metrics-bind, with its metrics page.
func frontMetrics(t *testing.T, s *server) *metricsServer {
	t.Helper()
	m := metricsLine.FindStringSubmatch(s.logs.String())
	if m == nil {
		t.Fatalf("no metrics line in the output:\n%s", s.logs.String())
	}
	return &metricsServer{server: s, metricsURL: m[1]}
}
