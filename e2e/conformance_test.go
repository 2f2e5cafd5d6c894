package e2e

// PEP 3333 conformance: what a WSGI app sees (environ, start_response,
// wsgi.input, wsgi.errors, wsgi.file_wrapper) and what reaches the client
// for each kind of response. The app is testdata/conformance/app.py, one
// route per behaviour; routes that are about the app's view report it as
// JSON. Each Test function starts one wsgo and shares it across subtests.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// Helpers

// confTimeout bounds every network wait of these tests, so none can hang.
const confTimeout = 20 * time.Second

// confClient never reuses connections: several tests end a connection on
// purpose, and a reused one must not make another test flaky.
var confClient = &http.Client{
	Timeout:   confTimeout,
	Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true},
}

// startConformance serves testdata/conformance/app.py (TARGET suffix, e.g.
// ":make_validated()", and flags after it).
func startConformance(t *testing.T, suffix string, flags ...string) *server {
	t.Helper()
	app, err := filepath.Abs(filepath.Join("testdata", "conformance", "app.py"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{app + suffix}, flags...)
	return start(t, []string{"PYTHONDONTWRITEBYTECODE=1"}, args...)
}

// fetch sends one request with confClient; it fails the test if the
// request or the body read fails.
func fetch(t *testing.T, s *server, method, path string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	resp, got, err := tryFetch(t, s, method, path, body, header...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp, got
}

// tryFetch is fetch that returns the error of the request or of reading its body.
func tryFetch(t *testing.T, s *server, method, path string, body io.Reader, header ...string) (*http.Response, string, error) {
	t.Helper()
	req := mustRequest(t, method, s.URL+path, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := confClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return resp, string(got), err
}

// dial opens a raw connection that gives up after confTimeout.
func dial(t *testing.T, s *server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr, confTimeout)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(confTimeout))
	t.Cleanup(func() { c.Close() })
	return c
}

// getOn sends a GET of path on the raw connection c, kept alive between
// requests, and reads its response through br, c's reader.
func getOn(t *testing.T, c net.Conn, br *bufio.Reader, path string) (status int, body string) {
	t.Helper()
	resp, body := exchange(t, c, br, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
	return resp.StatusCode, body
}

// exchange sends the raw request on c and reads one response through br,
// c's reader, with Go's parser.
func exchange(t *testing.T, c net.Conn, br *bufio.Reader, raw string) (*http.Response, string) {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("sending %q: %v", firstLine(raw), err)
	}
	method, _, _ := strings.Cut(raw, " ")
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading the response to %q: %v", firstLine(raw), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body of the response to %q: %v", firstLine(raw), err)
	}
	return resp, string(body)
}

// roundTrip sends a raw request on a new connection and reads one response
// with Go's parser. It returns the connection's local address too.
func roundTrip(t *testing.T, s *server, raw string) (*http.Response, string, *net.TCPAddr) {
	t.Helper()
	c := dial(t, s)
	resp, body := exchange(t, c, bufio.NewReader(c), raw)
	return resp, body, c.LocalAddr().(*net.TCPAddr)
}

// rawUntilClose sends a raw request and returns every byte the server sends
// until it ends the connection, with the error that ended the reading (nil
// for a clean close). It fails the test if the server keeps the connection
// open for confTimeout.
func rawUntilClose(t *testing.T, s *server, raw string) (string, error) {
	t.Helper()
	c := dial(t, s)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%q: the server did not close the connection within %v; got so far:\n%q", firstLine(raw), confTimeout, got)
	}
	return string(got), err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// wireResponse is a response as it was on the wire: the body keeps its
// framing (chunk sizes), the header its names as sent.
type wireResponse struct {
	statusLine string
	header     http.Header
	names      []string // field names in order, as sent
	body       string
}

func parseWire(t *testing.T, raw string) wireResponse {
	t.Helper()
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no complete response head in %q", raw)
	}
	lines := strings.Split(head, "\r\n")
	w := wireResponse{statusLine: lines[0], header: http.Header{}, body: body}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("malformed header line %q in %q", l, raw)
		}
		w.names = append(w.names, name)
		w.header.Add(name, strings.TrimSpace(value))
	}
	return w
}

// key names the app state (close counters, events) of one subtest.
func key(t *testing.T) string {
	return strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
}

// release sets the app's threading.Event named k.
func release(t *testing.T, s *server, k string) {
	t.Helper()
	if resp, body := fetch(t, s, "GET", "/release?key="+url.QueryEscape(k), nil); resp.StatusCode != 200 || body != "released" {
		t.Fatalf("/release: %s %q", resp.Status, body)
	}
}

// closeCount asks the app how often close() ran for k.
func closeCount(t *testing.T, s *server, k string) int {
	t.Helper()
	_, body := fetch(t, s, "GET", "/closed?key="+url.QueryEscape(k), nil)
	n, err := strconv.Atoi(body)
	if err != nil {
		t.Fatalf("/closed: %q", body)
	}
	return n
}

// fetchKeyed GETs path with a fresh key, under which the app counts what
// the request did (close() and more), checks the answer is 200 with body
// want, and returns the key.
func fetchKeyed(t *testing.T, s *server, path, want string) string {
	t.Helper()
	k := key(t)
	resp, body := fetch(t, s, "GET", path+"?key="+k, nil)
	if resp.StatusCode != 200 || body != want {
		t.Errorf("%s %q, want 200 %q", resp.Status, body, want)
	}
	return k
}

// waitClosed polls until close() ran for k, then checks it ran exactly once.
func waitClosed(t *testing.T, s *server, k string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	n := closeCount(t, s, k)
	for n == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
		n = closeCount(t, s, k)
	}
	if n != 1 {
		t.Errorf("close() of the response ran %d times, want exactly 1", n)
	}
}

// logCount counts the log lines that contain text.
func logCount(s *server, text string) int {
	return strings.Count(s.logs.String(), text)
}

func mustLog(t *testing.T, s *server, expr string) {
	t.Helper()
	if !s.waitLog(expr, 10*time.Second) {
		t.Errorf("the log has no line matching %s", expr)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// expectHello checks that the server still answers a normal request.
func expectHello(t *testing.T, s *server) {
	t.Helper()
	resp, body := fetch(t, s, "GET", "/hello", nil)
	if resp.StatusCode != 200 || body != "hello" {
		t.Errorf("after that, GET /hello = %s %q; want 200 \"hello\"", resp.Status, body)
	}
}

// ---------------------------------------------------------------------------
// 1. environ

// envReport is what the app's /environ route reports.
type envReport struct {
	ExactDict           bool              `json:"exact_dict"`
	KeyTypes            []string          `json:"key_types"`
	Str                 map[string]string `json:"str"`
	Types               map[string]string `json:"types"`
	Version             []int             `json:"wsgi.version"`
	Flags               map[string]bool   `json:"flags"`
	InputAPI            []string          `json:"input_api"`
	ErrorsAPI           []string          `json:"errors_api"`
	FileWrapperCallable bool              `json:"file_wrapper_callable"`
}

func environOf(t *testing.T, s *server, raw string) (envReport, *net.TCPAddr) {
	t.Helper()
	resp, body, local := roundTrip(t, s, raw)
	if resp.StatusCode != 200 {
		t.Fatalf("%q: %s %q, want 200 and the environ report", firstLine(raw), resp.Status, body)
	}
	var r envReport
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("%q: bad report %q: %v", firstLine(raw), body, err)
	}
	return r, local
}

func TestConformanceEnviron(t *testing.T) {
	s := startConformance(t, "")
	_, serverPort, _ := net.SplitHostPort(s.Addr)

	t.Run("a malformed percent-escape in the path is refused with 400, then serving goes on", func(t *testing.T) {
		// RFC 3986: '%' must start two hex digits; RFC 9112 3.2: an invalid request-line gets 400.
		for _, target := range []string{"/environ/%zz", "/environ/a%2", "/100%"} {
			got := s.raw("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n")
			if !strings.HasPrefix(got, "HTTP/1.1 400 ") {
				t.Errorf("%s: got %q, want a 400", target, got)
			}
		}
		if resp, _ := s.get("/environ/ok"); resp.StatusCode != 200 {
			t.Fatalf("after the 400s: status %d", resp.StatusCode)
		}
	})
	t.Run("has every PEP 3333 key with exact values", func(t *testing.T) {
		env, local := environOf(t, s, "GET /environ/base?x=1&y=%41 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: conformance\r\nX-Request-ID: conformance-1\r\n\r\n")
		want := map[string]string{
			"REQUEST_METHOD":  "GET",
			"SCRIPT_NAME":     "",
			"PATH_INFO":       "/environ/base",
			"QUERY_STRING":    "x=1&y=%41",
			"REQUEST_URI":     "/environ/base?x=1&y=%41",
			"SERVER_PROTOCOL": "HTTP/1.1",
			"SERVER_NAME":     "example.com",
			"SERVER_PORT":     "8080",
			"REMOTE_ADDR":     "127.0.0.1",
			"REMOTE_PORT":     strconv.Itoa(local.Port),
			"HTTP_HOST":       "example.com:8080",
			"HTTP_USER_AGENT": "conformance",
			// httpfront makes an id when the client sends none (front_accesslog_test.go)
			"HTTP_X_REQUEST_ID": "conformance-1",
			"wsgi.url_scheme":   "http",
		}
		for k, v := range want {
			got, ok := env.Str[k]
			if !ok {
				t.Errorf("environ[%q] is missing or not a str (type %q); want %q", k, env.Types[k], v)
			} else if got != v {
				t.Errorf("environ[%q] = %q, want %q", k, got, v)
			}
		}
		for k := range env.Types {
			if (strings.HasPrefix(k, "HTTP_") || strings.HasPrefix(k, "CONTENT_")) && want[k] == "" {
				t.Errorf("environ has %q = %q, but the request sent no such header", k, env.Str[k])
			}
		}
		if !reflect.DeepEqual(env.Version, []int{1, 0}) || env.Types["wsgi.version"] != "tuple" {
			t.Errorf("wsgi.version = %v (%s), want the tuple (1, 0)", env.Version, env.Types["wsgi.version"])
		}
		wantFlags := map[string]bool{"wsgi.multithread": true, "wsgi.multiprocess": false, "wsgi.run_once": false, "wsgi.input_terminated": true}
		if !reflect.DeepEqual(env.Flags, wantFlags) {
			t.Errorf("wsgi flags = %v, want %v", env.Flags, wantFlags)
		}
		for k := range wantFlags {
			if env.Types[k] != "bool" {
				t.Errorf("environ[%q] is a %s, want bool", k, env.Types[k])
			}
		}
		if want := []string{"read", "readline", "readlines", "__iter__"}; !reflect.DeepEqual(env.InputAPI, want) {
			t.Errorf("wsgi.input has %v, want %v", env.InputAPI, want)
		}
		if want := []string{"write", "writelines", "flush"}; !reflect.DeepEqual(env.ErrorsAPI, want) {
			t.Errorf("wsgi.errors has %v, want %v", env.ErrorsAPI, want)
		}
		if !env.FileWrapperCallable {
			t.Errorf("wsgi.file_wrapper is missing or not callable (type %q)", env.Types["wsgi.file_wrapper"])
		}
		if !env.ExactDict {
			t.Error("environ is not exactly a dict")
		}
		if !reflect.DeepEqual(env.KeyTypes, []string{"str"}) {
			t.Errorf("environ key types = %v, want only str", env.KeyTypes)
		}
		for k, typ := range env.Types {
			if !strings.Contains(k, ".") && typ != "str" {
				t.Errorf("environ[%q] is a %s, want a native str", k, typ)
			}
		}
	})

	cases := []struct {
		name   string
		raw    string
		want   map[string]string // exact values
		absent []string          // keys that must not be there
	}{
		{
			name: "PATH_INFO is percent-decoded and read as latin-1",
			raw:  "GET /environ/caf%C3%A9 HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"PATH_INFO": "/environ/caf\u00c3\u00a9", "REQUEST_URI": "/environ/caf%C3%A9", "QUERY_STRING": ""},
		},
		{
			name: "unencoded UTF-8 and characters outside RFC 3986 are taken as sent",
			raw:  "GET /environ/caf\xc3\xa9/<x>\"{|}^`\\?q=\xff HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"PATH_INFO": "/environ/caf\u00c3\u00a9/<x>\"{|}^`\\", "QUERY_STRING": "q=\u00ff"},
		},
		{
			name: "PATH_INFO decodes %2F to a slash",
			raw:  "GET /environ/a%2Fb HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"PATH_INFO": "/environ/a/b", "REQUEST_URI": "/environ/a%2Fb"},
		},
		{
			name: "QUERY_STRING is raw, not decoded",
			raw:  "GET /environ?a=1&b=%20x+y&c HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"PATH_INFO": "/environ", "QUERY_STRING": "a=1&b=%20x+y&c", "REQUEST_URI": "/environ?a=1&b=%20x+y&c"},
		},
		{
			name: "QUERY_STRING is empty for a bare question mark",
			raw:  "GET /environ? HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"PATH_INFO": "/environ", "QUERY_STRING": "", "REQUEST_URI": "/environ?"},
		},
		{
			name:   "CONTENT_TYPE and CONTENT_LENGTH are absent without a body",
			raw:    "GET /environ HTTP/1.1\r\nHost: h\r\n\r\n",
			want:   map[string]string{"REQUEST_METHOD": "GET"},
			absent: []string{"CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"},
		},
		{
			name:   "CONTENT_TYPE and CONTENT_LENGTH come without HTTP_ prefix",
			raw:    "POST /environ HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\nabc",
			want:   map[string]string{"REQUEST_METHOD": "POST", "CONTENT_TYPE": "text/plain; charset=utf-8", "CONTENT_LENGTH": "3"},
			absent: []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"},
		},
		{
			name: "REQUEST_METHOD is passed as sent",
			raw:  "DELETE /environ HTTP/1.1\r\nHost: h\r\n\r\n",
			want: map[string]string{"REQUEST_METHOD": "DELETE"},
		},
		{
			name: "other headers become HTTP_ keys with dashes as underscores",
			raw:  "GET /environ HTTP/1.1\r\nHost: h\r\nX-Custom-Thing: v1\r\nAccept: */*\r\n\r\n",
			want: map[string]string{"HTTP_X_CUSTOM_THING": "v1", "HTTP_ACCEPT": "*/*"},
		},
		{
			name: "repeated headers are joined with a comma",
			raw:  "GET /environ HTTP/1.1\r\nHost: h\r\nX-Multi: a\r\nX-Other: o\r\nX-Multi: b\r\n\r\n",
			want: map[string]string{"HTTP_X_MULTI": "a, b", "HTTP_X_OTHER": "o"},
		},
		{
			name: "two Cookie headers are joined with a semicolon",
			raw:  "GET /environ HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
			want: map[string]string{"HTTP_COOKIE": "a=1; b=2"},
		},
		{
			name:   "a header with an underscore in its name is not passed",
			raw:    "GET /environ HTTP/1.1\r\nHost: h\r\nX_Only: evil\r\n\r\n",
			want:   map[string]string{"HTTP_HOST": "h"},
			absent: []string{"HTTP_X_ONLY"},
		},
		{
			name: "an underscore header cannot pose as its dashed twin",
			raw:  "GET /environ HTTP/1.1\r\nHost: h\r\nX-User: good\r\nX_User: evil\r\n\r\n",
			want: map[string]string{"HTTP_X_USER": "good"},
		},
		{
			name: "SERVER_PORT is 80 for a Host without port",
			raw:  "GET /environ HTTP/1.1\r\nHost: example.org\r\n\r\n",
			want: map[string]string{"SERVER_NAME": "example.org", "SERVER_PORT": "80", "HTTP_HOST": "example.org"},
		},
		{
			name: "SERVER_PROTOCOL is HTTP/1.0 for an HTTP/1.0 request",
			raw:  "GET /environ HTTP/1.0\r\nHost: example.org:81\r\n\r\n",
			want: map[string]string{"SERVER_PROTOCOL": "HTTP/1.0", "SERVER_NAME": "example.org", "SERVER_PORT": "81"},
		},
		{
			name:   "without Host SERVER_NAME and SERVER_PORT come from the socket",
			raw:    "GET /environ HTTP/1.0\r\n\r\n",
			want:   map[string]string{"SERVER_PROTOCOL": "HTTP/1.0", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": serverPort},
			absent: []string{"HTTP_HOST"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, local := environOf(t, s, tc.raw)
			for k, v := range tc.want {
				if got, ok := env.Str[k]; !ok || got != v {
					t.Errorf("environ[%q] = %q (present: %v), want %q", k, got, ok, v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := env.Types[k]; ok {
					t.Errorf("environ has %q = %q; want it absent", k, env.Str[k])
				}
			}
			if got, want := env.Str["REMOTE_PORT"], strconv.Itoa(local.Port); got != want {
				t.Errorf("REMOTE_PORT = %q, want the client's port %q", got, want)
			}
			if got := env.Str["REMOTE_ADDR"]; got != "127.0.0.1" {
				t.Errorf("REMOTE_ADDR = %q, want 127.0.0.1", got)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 2. start_response

// wsgi.multithread and wsgi.multiprocess say whether the app may be
// called at the same time by another thread of its process, by another
// process (PEP 3333): they follow --threads and --workers.
func TestConformanceConcurrencyFlags(t *testing.T) {
	for _, tc := range []struct {
		workers, threads          string
		multithread, multiprocess bool
	}{
		{"1", "1", false, false},
		{"2", "1", false, true},
		{"1", "4", true, false},
		{"2", "4", true, true},
	} {
		t.Run("--workers "+tc.workers+" --threads "+tc.threads, func(t *testing.T) {
			s := startConformance(t, "", "--workers", tc.workers, "--threads", tc.threads)
			env, _ := environOf(t, s, "GET /environ/base HTTP/1.1\r\nHost: h\r\n\r\n")
			got := [2]bool{env.Flags["wsgi.multithread"], env.Flags["wsgi.multiprocess"]}
			if want := [2]bool{tc.multithread, tc.multiprocess}; got != want {
				t.Errorf("wsgi.multithread, wsgi.multiprocess = %v, want %v", got, want)
			}
		})
	}
}

func TestConformanceStartResponse(t *testing.T) {
	s := startConformance(t, "")

	// Each bad call is made inside the app, which catches the exception
	// and reports its type and message.
	cases := []struct {
		name    string
		typ     string // Python exception type, "" = accepted
		msgPart string
	}{
		{"status-bytes", "TypeError", "status must be a str"},
		{"status-int", "TypeError", "status must be a str"},
		{"status-no-reason", "ValueError", "'200'"},
		{"status-non-numeric", "ValueError", "'abc OK'"},
		{"status-two-digits", "ValueError", "'20 OK'"},
		{"status-crlf", "ValueError", "control character"},
		{"status-1xx", "ValueError", "informational (1xx)"},
		{"headers-tuple", "TypeError", "headers must be a list"},
		{"headers-dict", "TypeError", "headers must be a list"},
		{"headers-none", "TypeError", "headers must be a list"},
		{"header-str", "TypeError", "(name, value)"},
		{"header-3-tuple", "TypeError", "(name, value)"},
		{"header-1-tuple", "TypeError", "(name, value)"},
		{"header-name-bytes", "TypeError", "(str, str)"},
		{"header-value-bytes", "TypeError", "(str, str)"},
		{"header-value-int", "TypeError", "(str, str)"},
		{"header-name-space", "ValueError", "'X A'"},
		{"header-name-colon", "ValueError", "'X:A'"},
		{"header-name-empty", "ValueError", "empty name"},
		{"header-value-cr", "ValueError", "control character"},
		{"header-value-lf", "ValueError", "control character"},
		{"header-value-crlf", "ValueError", "control character"},
		{"hop-connection", "ValueError", "hop-by-hop header Connection"},
		{"hop-transfer-encoding", "ValueError", "hop-by-hop header Transfer-Encoding"},
		{"hop-keep-alive", "ValueError", "hop-by-hop header Keep-Alive"},
		{"hop-upgrade", "ValueError", "hop-by-hop header Upgrade"},
		{"hop-te", "ValueError", "hop-by-hop header TE"},
		{"length-words", "ValueError", "Content-Length must be a whole number of bytes, got 'ten'"},
		{"length-negative", "ValueError", "got '-5'"},
		{"length-plus", "ValueError", "got '+5'"},
		{"length-two", "ValueError", "two Content-Length headers that differ (5 and 6)"},
		{"length-same-twice", "", ""},
		{"hop-trailers", "ValueError", "hop-by-hop header Trailers"},
		{"hop-proxy-authenticate", "ValueError", "hop-by-hop header Proxy-Authenticate"},
		{"hop-lowercase", "ValueError", "hop-by-hop header connection"},
		{"good", "", ""},
	}
	for _, tc := range cases {
		name := "raises " + tc.typ + " for " + tc.name
		if tc.typ == "" {
			name = "accepts a valid call"
		}
		t.Run(name, func(t *testing.T) {
			resp, body := fetch(t, s, "GET", "/sr/bad?case="+tc.name, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%s %q, want 200 with the app's report", resp.Status, body)
			}
			var got struct {
				Type *string `json:"type"`
				Msg  string  `json:"msg"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("bad report %q: %v", body, err)
			}
			switch {
			case tc.typ == "" && got.Type != nil:
				t.Errorf("start_response raised %s: %s; want it accepted", *got.Type, got.Msg)
			case tc.typ != "" && got.Type == nil:
				t.Errorf("start_response accepted it; want %s", tc.typ)
			case tc.typ != "" && *got.Type != tc.typ:
				t.Errorf("start_response raised %s: %s; want %s", *got.Type, got.Msg, tc.typ)
			case !strings.Contains(got.Msg, tc.msgPart):
				t.Errorf("message %q does not mention %q", got.Msg, tc.msgPart)
			}
		})
	}

	t.Run("an uncaught CRLF header value gives 500 and injects nothing", func(t *testing.T) {
		raw, _ := rawUntilClose(t, s, "GET /sr/inject HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		w := parseWire(t, raw)
		if w.statusLine != "HTTP/1.1 500 Internal Server Error" {
			t.Errorf("status line %q, want HTTP/1.1 500 Internal Server Error", w.statusLine)
		}
		if strings.Contains(raw, "X-Injected") || strings.Contains(raw, "should not be sent") {
			t.Errorf("the app's header or body reached the wire:\n%q", raw)
		}
		mustLog(t, s, `ValueError: start_response: value of header X-A contains a control character`)
	})

	t.Run("returns a write callable that sends body bytes", func(t *testing.T) {
		resp, body := fetch(t, s, "GET", "/sr/write", nil)
		if resp.StatusCode != 200 || body != "via write, then the iterable" {
			t.Errorf("%s %q, want 200 %q", resp.Status, body, "via write, then the iterable")
		}
	})

	t.Run("a second call without exc_info raises", func(t *testing.T) {
		resp, body := fetch(t, s, "GET", "/sr/twice", nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-First") != "1" || resp.Header.Get("X-Second") != "" {
			t.Errorf("got %s X-First=%q X-Second=%q; want the first call's 200 with X-First only",
				resp.Status, resp.Header.Get("X-First"), resp.Header.Get("X-Second"))
		}
		if body == "second call accepted" || !strings.Contains(body, "exc_info") {
			t.Errorf("app reported %q; want an exception that points at exc_info", body)
		}
	})

	t.Run("a second call without exc_info raises even when the first raised", func(t *testing.T) {
		resp, body := fetch(t, s, "GET", "/sr/after-raising", nil)
		want := `{"type": "AssertionError", "msg": "start_response() was already called for this request; ` +
			`to replace the headers after an error, pass exc_info=sys.exc_info()"}`
		if resp.StatusCode != 200 || body != want || resp.Header.Get("X-Second") != "" {
			t.Errorf("%s X-Second=%q %q; want 200 %q", resp.Status, resp.Header.Get("X-Second"), body, want)
		}
	})

	replace := []struct{ name, path, status, body string }{
		{"exc_info before anything was sent replaces status and headers", "/sr/exc-before", "500 Oops", "replaced"},
		{"exc_info passed by keyword works", "/sr/exc-keyword", "503 Keyword", "replaced by keyword"},
	}
	for _, tc := range replace {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fetch(t, s, "GET", tc.path, nil)
			if resp.Status != tc.status || body != tc.body {
				t.Errorf("%q %q, want %q %q", resp.Status, body, tc.status, tc.body)
			}
			if resp.Header.Get("X-First") != "" || resp.Header.Get("X-Second") != "1" {
				t.Errorf("X-First=%q X-Second=%q; want only the second call's headers",
					resp.Header.Get("X-First"), resp.Header.Get("X-Second"))
			}
		})
	}

	t.Run("exc_info after the headers were sent re-raises and cuts the connection", func(t *testing.T) {
		k := key(t)
		c := dial(t, s)
		io.WriteString(c, "GET /sr/exc-after?key="+k+" HTTP/1.1\r\nHost: h\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %s, want the 200 sent before the error", resp.Status)
		}
		first := make([]byte, len("partial"))
		if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "partial" {
			t.Fatalf("first chunk %q, %v; want \"partial\"", first, err)
		}
		release(t, s, k)
		rest, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Errorf("the body ended cleanly after %q; want the connection cut", rest)
		}
		if strings.Contains(string(rest), "after the error") {
			t.Errorf("the app's later chunk reached the client: %q", rest)
		}
		mustLog(t, s, regexp.QuoteMeta(`start_response re-raised KeyError('late')`))
		mustLog(t, s, `\[ERROR\] the app raised an exception request=\S+ method=GET path="/sr/exc-after\?key=[^"]+"\n`)
		expectHello(t, s)
	})
}

// ---------------------------------------------------------------------------
// 3. Lazy start_response

func TestConformanceLazyStart(t *testing.T) {
	s := startConformance(t, "")

	cases := []struct {
		name, path, status, header, body string
	}{
		{"start_response on the first next() with empty chunks before the body", "/lazy", "200 OK", "1", "hello world"},
		{"an empty generator body still sends the headers", "/lazy-empty", "200 OK", "empty", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fetch(t, s, "GET", tc.path, nil)
			if resp.Status != tc.status || resp.Header.Get("X-Lazy") != tc.header || body != tc.body {
				t.Errorf("%q X-Lazy=%q body %q; want %q X-Lazy=%q body %q",
					resp.Status, resp.Header.Get("X-Lazy"), body, tc.status, tc.header, tc.body)
			}
		})
	}

	// Also where no body is sent (HEAD, 304): an empty chunk sent the
	// first head there, and the replacement was never asked for.
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/lazy-replace", "after replace"},
		{"HEAD", "/lazy-replace", ""},
		{"GET", "/lazy-replace?status=304", "after replace"},
	} {
		t.Run("headers wait for the first non-empty chunk so they can still be replaced: "+tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := fetch(t, s, tc.method, tc.path, nil)
			if resp.Status != "202 Replaced" || body != tc.body || resp.Header.Get("X-First") != "" || resp.Header.Get("X-Second") != "1" {
				t.Errorf("%q X-First=%q X-Second=%q %q; want \"202 Replaced\" with X-Second only and %q",
					resp.Status, resp.Header.Get("X-First"), resp.Header.Get("X-Second"), body, tc.body)
			}
		})
	}

	t.Run("a custom reason phrase goes on the wire as given", func(t *testing.T) {
		raw, _ := rawUntilClose(t, s, "GET /reason HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		if w := parseWire(t, raw); w.statusLine != "HTTP/1.1 200 Everything Fine" || w.body != "fine" {
			t.Errorf("status line %q body %q; want \"HTTP/1.1 200 Everything Fine\" and \"fine\"", w.statusLine, w.body)
		}
	})
}

// ---------------------------------------------------------------------------
// 4. Response iterables

func TestConformanceResponse(t *testing.T) {
	s := startConformance(t, "")

	t.Run("a list is sent with a computed Content-Length", func(t *testing.T) {
		raw, _ := rawUntilClose(t, s, "GET /list HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		w := parseWire(t, raw)
		if w.statusLine != "HTTP/1.1 200 OK" || w.header.Get("Content-Length") != "6" || w.header.Get("Transfer-Encoding") != "" || w.body != "abcdef" {
			t.Errorf("got %q Content-Length=%q Transfer-Encoding=%q body %q; want 200, 6, none, \"abcdef\"",
				w.statusLine, w.header.Get("Content-Length"), w.header.Get("Transfer-Encoding"), w.body)
		}
	})

	t.Run("whitespace around a header value is not sent (RFC 9110 5.5)", func(t *testing.T) {
		raw, _ := rawUntilClose(t, s, "GET /padded-headers HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		for _, want := range []string{"\r\nSet-Cookie: a=1; Path=/\r\n", "\r\nX-Tabbed: v w\r\n", "\r\nX-Blank: \r\n"} {
			if !strings.Contains(raw, want) {
				t.Errorf("the head lacks %q:\n%s", want, raw)
			}
		}
	})

	t.Run("a generator is chunked on HTTP/1.1", func(t *testing.T) {
		raw, _ := rawUntilClose(t, s, "GET /gen HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		w := parseWire(t, raw)
		if w.header.Get("Transfer-Encoding") != "chunked" || w.header.Get("Content-Length") != "" {
			t.Errorf("Transfer-Encoding=%q Content-Length=%q; want chunked and none", w.header.Get("Transfer-Encoding"), w.header.Get("Content-Length"))
		}
		if want := "4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n"; w.body != want {
			t.Errorf("wire body %q, want %q (one chunk per yield)", w.body, want)
		}
	})

	t.Run("chunks larger than the write buffer are framed one per yield, byte for byte", func(t *testing.T) {
		raw, _ := rawUntilClose(t, s, "GET /gen-big HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		w := parseWire(t, raw)
		var want strings.Builder
		for i, n := range []int{3, 20000, 65536, 100000, 1} { // BIG_CHUNKS
			fmt.Fprintf(&want, "%x\r\n", n)
			for k := range n {
				want.WriteByte(byte((k*7 + i) % 251))
			}
			want.WriteString("\r\n")
		}
		want.WriteString("0\r\n\r\n")
		if w.body != want.String() {
			t.Errorf("wire body of %d bytes differs from the %d expected, first at byte %d",
				len(w.body), want.Len(), firstDifference(w.body, want.String()))
		}
	})

	t.Run("each chunk reaches the client before the next is produced", func(t *testing.T) {
		k := key(t)
		c := dial(t, s)
		io.WriteString(c, "GET /stream-block?key="+k+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no response head while the generator waits: %v", err)
		}
		first := make([]byte, len("chunk1\n"))
		if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "chunk1\n" {
			t.Fatalf("first chunk %q, %v; want \"chunk1\\n\" before the generator is released", first, err)
		}
		release(t, s, k) // only now can the generator produce chunk 2
		rest, err := io.ReadAll(resp.Body)
		if err != nil || string(rest) != "chunk2\n" {
			t.Errorf("rest %q, %v; want \"chunk2\\n\"", rest, err)
		}
	})

	t.Run("HTTP/1.0 without Content-Length is delimited by close", func(t *testing.T) {
		raw, err := rawUntilClose(t, s, "GET /gen HTTP/1.0\r\n\r\n")
		if err != nil {
			t.Errorf("reading until close: %v; want a clean close", err)
		}
		w := parseWire(t, raw)
		if w.header.Get("Content-Length") != "" || w.header.Get("Transfer-Encoding") != "" || w.body != "one,two,three" {
			t.Errorf("Content-Length=%q Transfer-Encoding=%q body %q; want neither header and \"one,two,three\"",
				w.header.Get("Content-Length"), w.header.Get("Transfer-Encoding"), w.body)
		}
	})

	for _, kind := range []string{"list", "gen"} {
		t.Run("a declared Content-Length is never exceeded ("+kind+")", func(t *testing.T) {
			// No Connection: close: the server must close it by itself.
			raw, _ := rawUntilClose(t, s, "GET /cl-over?kind="+kind+" HTTP/1.1\r\nHost: h\r\n\r\n")
			w := parseWire(t, raw)
			if w.header.Get("Content-Length") != "5" || w.body != "01234" {
				t.Errorf("Content-Length=%q, then %q until close; want 5 and exactly \"01234\"", w.header.Get("Content-Length"), w.body)
			}
			mustLog(t, s, `WARNING\] wsgo: the app sent more body than its Content-Length; the rest was dropped.* path="/cl-over\?kind=`+kind+`"`)
		})

		t.Run("a short body closes the connection ("+kind+")", func(t *testing.T) {
			resp, body, err := tryFetch(t, s, "GET", "/cl-short?kind="+kind, nil)
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.ContentLength != 10 || body != "01234" || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Content-Length %d, body %q, error %v; want 10, \"01234\", unexpected EOF", resp.ContentLength, body, err)
			}
			mustLog(t, s, `WARNING\] wsgo: the app's body ended short of its Content-Length.* path="/cl-short\?kind=`+kind+`" missing=5`)
		})
	}

	// PEP 3333: once the declared length is sent, the server stops
	// iterating (an endless body would hold its thread), and write() past
	// it raises.
	clSeen := func(t *testing.T, k string) (seen struct {
		Pulled     int     `json:"pulled"`
		WriteError *string `json:"write_error"`
	}) {
		t.Helper()
		_, body := fetch(t, s, "GET", "/cl-seen?key="+k, nil)
		if err := json.Unmarshal([]byte(body), &seen); err != nil {
			t.Fatalf("/cl-seen: %q: %v", body, err)
		}
		return seen
	}
	t.Run("iteration stops once the declared Content-Length is sent", func(t *testing.T) {
		k := fetchKeyed(t, s, "/cl-endless", "abcabc")
		waitClosed(t, s, k)
		if n := clSeen(t, k).Pulled; n != 2 {
			t.Errorf("the server took %d chunks of the endless body, want the 2 that make its 6 bytes", n)
		}
	})
	for _, tc := range []struct{ method, status string }{{"HEAD", "200"}, {"GET", "204"}, {"GET", "205"}, {"GET", "304"}} {
		t.Run("iteration stops once the head is sent: "+tc.method+" "+tc.status, func(t *testing.T) {
			// Nothing of such a body reaches the socket, so a client gone
			// would not be seen: read on, the generator held a thread for good.
			k := key(t)
			resp, body := fetch(t, s, tc.method, "/bodiless-forever?status="+tc.status+"&key="+k, nil)
			if strconv.Itoa(resp.StatusCode) != tc.status || body != "" {
				t.Errorf("%s %q; want %s and no body", resp.Status, body, tc.status)
			}
			waitClosed(t, s, k)
			if n := clSeen(t, k).Pulled; n > 1 {
				t.Errorf("the server took %d chunks of a body it does not send, want at most the first", n)
			}
		})
	}
	t.Run("write() past the declared Content-Length raises", func(t *testing.T) {
		k := fetchKeyed(t, s, "/cl-write-past", "abcde")
		want := "ValueError: write() past the response's Content-Length: 5 bytes declared, 3 written before " +
			"these 3; fix the Content-Length header, or leave it out"
		if got := clSeen(t, k).WriteError; got == nil || *got != want {
			t.Errorf("write() past the length raised %v, want %q", got, want)
		}
	})

	t.Run("HEAD sends the Content-Length of GET and no body", func(t *testing.T) {
		raw, _ := rawUntilClose(t, s, "HEAD /list HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		w := parseWire(t, raw)
		if w.statusLine != "HTTP/1.1 200 OK" || w.header.Get("Content-Length") != "6" || w.body != "" {
			t.Errorf("%q Content-Length=%q and %q after the head; want 200, 6, nothing", w.statusLine, w.header.Get("Content-Length"), w.body)
		}
	})

	t.Run("HEAD answered with no body has no made-up Content-Length (RFC 9110 8.6)", func(t *testing.T) {
		raw, _ := rawUntilClose(t, s, "GET /head-bodiless HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		get := parseWire(t, raw)
		raw, _ = rawUntilClose(t, s, "HEAD /head-bodiless HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		head := parseWire(t, raw)
		if want := "6\r\npart1-\r\n5\r\npart2\r\n0\r\n\r\n"; get.body != want || get.header.Get("Transfer-Encoding") != "chunked" {
			t.Fatalf("GET: Transfer-Encoding %q, body %q; want chunked %q", get.header.Get("Transfer-Encoding"), get.body, want)
		}
		if head.statusLine != "HTTP/1.1 200 OK" || head.header.Values("Content-Length") != nil || head.body != "" {
			t.Errorf("HEAD: %q, Content-Length %q, body %q; want 200, none (the GET's is unknown), nothing",
				head.statusLine, head.header.Values("Content-Length"), head.body)
		}
	})

	t.Run("HEAD of a generator sends no body and the connection stays usable", func(t *testing.T) {
		c := dial(t, s)
		br := bufio.NewReader(c)
		io.WriteString(c, "HEAD /gen HTTP/1.1\r\nHost: h\r\n\r\n")
		resp, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("HEAD: %v %v", resp, err)
		}
		resp.Body.Close()
		// Stray body bytes would be read as the next response.
		io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
		resp, err = http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("GET after HEAD on the same connection: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "hello" || err != nil {
			t.Errorf("GET after HEAD: %s %q %v; want 200 \"hello\"", resp.Status, body, err)
		}
	})

	for _, code := range []string{"204", "205", "304"} {
		for _, kind := range []string{"list", "gen"} {
			t.Run(code+" carries no body even if the app yields one ("+kind+")", func(t *testing.T) {
				raw, _ := rawUntilClose(t, s, "GET /status?code="+code+"&kind="+kind+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
				w := parseWire(t, raw)
				if !strings.HasPrefix(w.statusLine, "HTTP/1.1 "+code+" ") || w.header.Get("X-Status") != code {
					t.Errorf("status line %q X-Status=%q, want %s", w.statusLine, w.header.Get("X-Status"), code)
				}
				if w.body != "" {
					t.Errorf("%q followed the head; want nothing", w.body)
				}
				if code == "204" && (w.header.Get("Content-Length") != "" || w.header.Get("Transfer-Encoding") != "") {
					t.Errorf("204 with Content-Length=%q Transfer-Encoding=%q; want neither", w.header.Get("Content-Length"), w.header.Get("Transfer-Encoding"))
				}
				if code == "205" && (w.header.Get("Content-Length") != "0" || w.header.Get("Transfer-Encoding") != "") {
					t.Errorf("205 with Content-Length=%q Transfer-Encoding=%q; want 0 and none (RFC 9110 15.3.6)", w.header.Get("Content-Length"), w.header.Get("Transfer-Encoding"))
				}
			})
		}
	}

	t.Run("close() is called after a normal response", func(t *testing.T) {
		waitClosed(t, s, fetchKeyed(t, s, "/close/normal", "abc"))
	})

	// PEP 3333 asks only that close() be called once the request is
	// complete: the client has the whole response, its chunked end
	// included, while a slow close() runs (gunicorn writes the end first
	// too), and the connection serves its next request once it returns.
	t.Run("the response ends before close() returns", func(t *testing.T) {
		k := key(t)
		c := dial(t, s)
		br := bufio.NewReader(c)
		resp, body := exchange(t, c, br, "GET /close/after-release?key="+k+" HTTP/1.1\r\nHost: h\r\n\r\n")
		if resp.StatusCode != 200 || body != "abc" || resp.TransferEncoding == nil {
			t.Errorf("%s %q chunked=%v, want 200 %q chunked", resp.Status, body, resp.TransferEncoding, "abc")
		}
		if n := closeCount(t, s, k); n != 0 {
			t.Errorf("close() had returned %d times before /release; the test cannot tell the end came first", n)
		}
		release(t, s, k)
		if status, body := getOn(t, c, br, "/closed?key="+k); status != 200 || body != "1" {
			t.Errorf("the next request on the connection got %d %q; want 200 and close() run once", status, body)
		}
	})

	t.Run("close() is called when the iterable raises before any chunk", func(t *testing.T) {
		k := key(t)
		resp, body := fetch(t, s, "GET", "/close/raise-first?key="+k, nil)
		if resp.StatusCode != 500 {
			t.Errorf("%s %q, want 500", resp.Status, body)
		}
		waitClosed(t, s, k)
	})

	t.Run("close() is called when the iterable raises after a chunk", func(t *testing.T) {
		k := key(t)
		resp, body, err := tryFetch(t, s, "GET", "/close/raise-later?key="+k, nil)
		if err == nil {
			t.Errorf("the response ended cleanly (%s %q); want the connection cut", resp.Status, body)
		}
		waitClosed(t, s, k)
	})

	t.Run("close() is called when the client disconnects mid-stream", func(t *testing.T) {
		k := key(t)
		c := dial(t, s)
		io.WriteString(c, "GET /close/forever?key="+k+" HTTP/1.1\r\nHost: h\r\n\r\n")
		if _, err := io.ReadFull(c, make([]byte, 32<<10)); err != nil {
			t.Fatalf("reading the start of the endless body: %v", err)
		}
		c.Close()
		waitClosed(t, s, k)
	})
}

// ---------------------------------------------------------------------------
// 5. wsgi.input

type inputReport struct {
	Results       []any   `json:"results"`
	ContentLength *string `json:"CONTENT_LENGTH"`
}

func parseInput(t *testing.T, resp *http.Response, body string) inputReport {
	t.Helper()
	if resp.StatusCode != 200 {
		t.Fatalf("%s %q, want 200 with the input report", resp.Status, body)
	}
	var r inputReport
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("bad report %q: %v", body, err)
	}
	return r
}

func TestConformanceInput(t *testing.T) {
	s := startConformance(t, "")
	const lines = "line1\nline2\nline3\n"
	l := func(s ...string) []any {
		out := make([]any, len(s))
		for i := range s {
			out[i] = s[i]
		}
		return out
	}

	cases := []struct {
		name, body, ops string
		want            []any
	}{
		{"read() returns everything then b''", lines, "read,read", l(lines, "")},
		{"read(n) returns n bytes at most", lines, "read:3,read:4,read:100,read:1", l("lin", "e1\nl", "ine2\nline3\n", "")},
		{"readline() returns one line with its newline", lines, "readline,readline,readline,readline", l("line1\n", "line2\n", "line3\n", "")},
		{"readline(n) stops at n bytes", lines, "readline:3,readline,readline:100,readline:0", l("lin", "e1\n", "line2\n", "")},
		{"readline() returns a last line without newline", "a\nb", "readline,readline,readline", l("a\n", "b", "")},
		{"readlines() returns every line", lines, "readlines,readlines", []any{l("line1\n", "line2\n", "line3\n"), l()}},
		{"iteration yields lines", lines, "iter,iter", []any{l("line1\n", "line2\n", "line3\n"), l()}},
		{"iteration yields a last line without newline", "a\n\nb", "iter", []any{l("a\n", "\n", "b")}},
		{"readline then read() gives the rest", lines, "readline,read", l("line1\n", "line2\nline3\n")},
		{"readline then read(n) gives the next bytes", lines, "readline,read:3,readline", l("line1\n", "lin", "e2\n")},
		{"reads past the end return b''", "xy", "read,read,read:5,readline,readline:3", l("xy", "", "", "", "")},
		{"reads past the end return empty lists", "xy", "read,readlines,iter", []any{"xy", l(), l()}},
		{"an empty body reads as b''", "", "read,read:1,readline", l("", "", "")},
		{"read(0) returns b'' before, between and after reads", lines, "read:0,read:6,read:0,read,read:0", l("", "line1\n", "", "line2\nline3\n", "")},
		{"read(0) of an empty body returns b''", "", "read:0,readline:0,read", l("", "", "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fetch(t, s, "POST", "/input?ops="+tc.ops, strings.NewReader(tc.body))
			r := parseInput(t, resp, body)
			if !reflect.DeepEqual(r.Results, tc.want) {
				t.Errorf("ops %s on %q gave %#v, want %#v", tc.ops, tc.body, r.Results, tc.want)
			}
			if r.ContentLength == nil || *r.ContentLength != strconv.Itoa(len(tc.body)) {
				t.Errorf("CONTENT_LENGTH = %v, want %q", r.ContentLength, strconv.Itoa(len(tc.body)))
			}
		})
	}

	t.Run("readlines(hint) returns whole lines and the rest stays readable", func(t *testing.T) {
		// PEP 3333 lets a server ignore the hint; the lines must still be whole.
		resp, body := fetch(t, s, "POST", "/input?ops=readlines:7,readlines", strings.NewReader(lines))
		r := parseInput(t, resp, body)
		if len(r.Results) != 2 {
			t.Fatalf("results %#v", r.Results)
		}
		first, _ := r.Results[0].([]any)
		second, _ := r.Results[1].([]any)
		if len(first) < 2 || !reflect.DeepEqual(append(first, second...), l("line1\n", "line2\n", "line3\n")) {
			t.Errorf("readlines(7) = %#v, then readlines() = %#v; want at least 2 whole lines, then the rest", first, second)
		}
	})

	chunked := []struct {
		name, ops, chunks, length string
		want                      []any
	}{
		{"a chunked body is read whole by read()", "read", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "11", l("hello world")},
		{"a chunked body is iterated by lines across chunks", "iter", "3\r\na\nb\r\n3\r\n\nc\n\r\n0\r\n\r\n", "6", []any{l("a\n", "b\n", "c\n")}},
	}
	for _, tc := range chunked {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, _ := roundTrip(t, s, "POST /input?ops="+tc.ops+" HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"+tc.chunks)
			r := parseInput(t, resp, body)
			if !reflect.DeepEqual(r.Results, tc.want) {
				t.Errorf("got %#v, want %#v", r.Results, tc.want)
			}
			// wsgo reads a chunked body whole first, so apps that trust
			// CONTENT_LENGTH (Django) see all of it.
			if r.ContentLength == nil || *r.ContentLength != tc.length {
				t.Errorf("CONTENT_LENGTH = %v; want %q, the de-chunked length", r.ContentLength, tc.length)
			}
		})
	}

	t.Run("Expect 100-continue is answered when the app reads", func(t *testing.T) {
		c := dial(t, s)
		io.WriteString(c, "POST /input?ops=read HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
		br := bufio.NewReader(c)
		var interim string
		for !strings.HasSuffix(interim, "\r\n\r\n") {
			line, err := br.ReadString('\n')
			interim += line
			if err != nil {
				t.Fatalf("waiting for 100 Continue before sending the body: %v (got %q)", err, interim)
			}
		}
		if interim != "HTTP/1.1 100 Continue\r\n\r\n" {
			t.Fatalf("interim response %q, want \"HTTP/1.1 100 Continue\\r\\n\\r\\n\"", interim)
		}
		io.WriteString(c, "hello")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if r := parseInput(t, resp, string(body)); !reflect.DeepEqual(r.Results, l("hello")) {
			t.Errorf("app read %#v, want [\"hello\"]", r.Results)
		}
	})

	t.Run("with --stream-request-body, Expect 100-continue is not answered when the app never reads", func(t *testing.T) {
		// By default the body is received before the app runs, so the
		// front asks for it at once (the test above).
		s := startConformance(t, "", "--stream-request-body")
		raw, _ := rawUntilClose(t, s, "POST /noread HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		if strings.Contains(raw, "100 Continue") {
			t.Errorf("the server sent 100 Continue to an app that never reads:\n%q", raw)
		}
		if w := parseWire(t, raw); w.statusLine != "HTTP/1.1 200 OK" || w.body != "did not read" {
			t.Errorf("%q %q, want the final 200 \"did not read\"", w.statusLine, w.body)
		}
	})

	// 1 MiB and more goes to a temporary file before the app runs; a body
	// over 64 KiB and under 1 MiB to a buffer the front reuses, so the
	// second one below lands where the first one was.
	big, medium, shorter := randomBytes(t, 1<<20+7), randomBytes(t, 300<<10+5), randomBytes(t, 200<<10+3)
	bodies := []struct {
		name, mode string
		data       []byte
		chunked    bool
	}{
		{"a 1 MiB body comes through read() intact", "read", big, false},
		{"a 1 MiB body comes through read(65536) intact", "chunks", big, false},
		{"a 1 MiB body comes through iteration intact", "lines", big, false},
		// No length known to the client: Go sends it chunked.
		{"a 1 MiB chunked body comes through read() intact", "read", big, true},
		{"a 300 KiB body comes through read() intact", "read", medium, false},
		{"a 200 KiB body after it comes through read() intact", "read", shorter, false},
		{"a 300 KiB chunked body comes through read() intact", "read", medium, true},
	}
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tc.data)
			if tc.chunked {
				r = io.MultiReader(r)
			}
			resp, body := fetch(t, s, "POST", "/hash?mode="+tc.mode, r)
			var got struct {
				Len    int    `json:"len"`
				Sha256 string `json:"sha256"`
			}
			if err := json.Unmarshal([]byte(body), &got); resp.StatusCode != 200 || err != nil {
				t.Fatalf("%s %q (%v)", resp.Status, body, err)
			}
			if want := sha(tc.data); got.Len != len(tc.data) || got.Sha256 != want {
				t.Errorf("app read %d bytes with sha256 %s; want %d bytes, %s", got.Len, got.Sha256, len(tc.data), want)
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 6. wsgi.errors

func TestConformanceErrorsStream(t *testing.T) {
	s := startConformance(t, "")

	t.Run("write and writelines reach the log marked with the request", func(t *testing.T) {
		resp, body := fetch(t, s, "GET", "/errors", nil)
		if resp.StatusCode != 200 || body != "logged" {
			t.Fatalf("%s %q", resp.Status, body)
		}
		re := regexp.MustCompile(`\[WARNING\] hello errors request=(\S+) path=/errors from=wsgi.errors\n`)
		m, ok := s.logs.waitFor(re, 10*time.Second, s.exited)
		if !ok {
			t.Fatalf("no wsgi.errors line for 'hello errors' in the log")
		}
		for _, text := range []string{"writelines one", "writelines two"} {
			mustLog(t, s, `\[WARNING\] `+text+` request=`+m[1]+` path=/errors from=wsgi.errors\n`)
		}
	})

	t.Run("flush sends a partial line at once", func(t *testing.T) {
		k := key(t)
		type result struct {
			body string
			err  error
		}
		done := make(chan result, 1)
		go func() {
			_, body, err := tryFetch(t, s, "GET", "/errors-flush?key="+k, nil)
			done <- result{body, err}
		}()
		// The request is still running: only flush() can have logged it.
		mustLog(t, s, `\[WARNING\] partial line before flush request=\S+ path="/errors-flush\?key=[^"]+" from=wsgi.errors`)
		release(t, s, k)
		if r := <-done; r.err != nil || r.body != "flushed" {
			t.Errorf("response %q, %v; want \"flushed\"", r.body, r.err)
		}
	})
}

// ---------------------------------------------------------------------------
// 7. wsgi.file_wrapper

func TestConformanceFileWrapper(t *testing.T) {
	s := startConformance(t, "")
	data := randomBytes(t, 1<<20+12345)
	// The front queues a large file at once and sends a small one from
	// the pythread (httpfront's fileDirect): one of each.
	path, small := filepath.Join(t.TempDir(), "big.bin"), filepath.Join(t.TempDir(), "small.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(small, data[:5000], 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, path, query string
		want              []byte
	}{
		{"a real file arrives byte-exact", path, "", data},
		{"a real file with Content-Length arrives byte-exact", path, "&cl=1", data},
		{"a real file is sent from its current position", path, "&seek=1000&cl=1", data[1000:]},
		{"a small real file arrives byte-exact", small, "", data[:5000]},
		{"a small real file is sent from its current position", small, "&seek=1000&cl=1", data[1000:5000]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := key(t)
			resp, body := fetch(t, s, "GET", "/file?key="+k+"&path="+url.QueryEscape(tc.path)+tc.query, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("%s %.200q", resp.Status, body)
			}
			if len(body) != len(tc.want) || sha([]byte(body)) != sha(tc.want) {
				t.Errorf("got %d bytes (sha256 %s), want %d bytes (sha256 %s)", len(body), sha([]byte(body)), len(tc.want), sha(tc.want))
			}
			waitClosed(t, s, k)
		})
	}

	// A file the kernel makes up as it is read has a size that is not its
	// length (0 in /proc, a page in /sys): it used to be framed by that
	// size and sent with sendfile, which gave an empty body or a broken one.
	for _, made := range []string{"/proc/version", "/sys/kernel/mm/transparent_hugepage/enabled"} {
		t.Run("a file of "+strings.Split(made, "/")[1]+" arrives as its read() gives it", func(t *testing.T) {
			want, err := os.ReadFile(made)
			if err != nil {
				t.Fatal(err)
			}
			k := key(t)
			resp, body := fetch(t, s, "GET", "/file?key="+k+"&path="+url.QueryEscape(made), nil)
			if resp.StatusCode != 200 || body != string(want) {
				t.Errorf("%s %q; want 200 and %q", resp.Status, body, want)
			}
			waitClosed(t, s, k)
		})
	}

	t.Run("a file that shrinks while it is sent closes the connection, with a warning", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "shrinks.bin")
		if err := os.WriteFile(path, make([]byte, 64<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(64 << 10)
		fmt.Fprintf(c, "GET /file-shrinks?path=%s&len=%d HTTP/1.1\r\nHost: h\r\n\r\n", url.QueryEscape(path), 64<<20)
		time.Sleep(1500 * time.Millisecond) // the file is cut to 1 MiB while most of it waits to be sent
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		got, err := io.Copy(io.Discard, c)
		if err != nil || got >= 64<<20 {
			t.Errorf("read %d bytes, %v; want the connection closed before the 64 MiB announced", got, err)
		}
		mustLog(t, s, `\[WARNING\] wsgo: a file ended before the size it had when its response began \(it shrank while it was sent\), `+
			`so the connection was closed; .* path="/file-shrinks\?path=`)
	})

	// PEP 3333: what is sent is what the file-like's read() gives. These
	// file-likes' fileno() is a regular file's, but read() gives other
	// bytes; sendfile used to send the file's.
	fileLikeText := strings.Repeat("DECOMPRESSED CONTENT\n", 1000)
	for _, kind := range []string{"gzip", "bz2", "lzma", "read-subclass", "read-assigned"} {
		t.Run("a "+kind+" file-like arrives as its read() gives it", func(t *testing.T) {
			where := url.QueryEscape(filepath.Join(t.TempDir(), "file"))
			resp, body := fetch(t, s, "GET", "/file-like?kind="+kind+"&path="+where, nil)
			if resp.StatusCode != 200 || body != fileLikeText {
				t.Errorf("%s %.60q (%d bytes); want 200 and %d bytes of %.60q", resp.Status, body, len(body), len(fileLikeText), fileLikeText)
			}
		})
	}

	// The app's BytesIO holds bytes 0 to 255, 1200 times, then "tail".
	var inBytesIO []byte
	for range 1200 {
		for i := range 256 {
			inBytesIO = append(inBytesIO, byte(i))
		}
	}
	inBytesIO = append(inBytesIO, "tail"...)
	t.Run("a BytesIO arrives byte-exact", func(t *testing.T) {
		k := key(t)
		resp, body := fetch(t, s, "GET", "/bytesio?key="+k, nil)
		if resp.StatusCode != 200 || body != string(inBytesIO) {
			t.Errorf("%s, %d bytes; want 200 and the %d bytes of the BytesIO", resp.Status, len(body), len(inBytesIO))
		}
		waitClosed(t, s, k)
	})

	// PEP 3333: a file_wrapper is sent "until the end is reached, or until
	// Content-Length bytes have been written". A Content-Length short of
	// what the file holds (a 206 of part of it) makes a whole response;
	// wsgo used to log it as an overrun and close the connection.
	parts := []struct {
		name, target string
		want         []byte
		readTo       string // where a BytesIO's reads must have stopped
	}{
		{"part of a real file", "/file?seek=7&len=300000&path=" + url.QueryEscape(path), data[7:300007], ""},
		{"part of a small real file", "/file?seek=7&len=10&path=" + url.QueryEscape(small), data[7:17], ""},
		{"part of a BytesIO", "/bytesio?seek=7&len=20000", inBytesIO[7:20007], "24583"}, // three blocks of 8192, the last cut
	}
	h2c := h2cClient()
	for _, tc := range parts {
		t.Run(tc.name+" is sent up to its Content-Length, the connection kept", func(t *testing.T) {
			k := key(t)
			c := dial(t, s)
			br := bufio.NewReader(c)
			resp, body := exchange(t, c, br, "GET "+tc.target+"&key="+k+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp.StatusCode != 200 || resp.Close || body != string(tc.want) {
				t.Errorf("%s, close %v, %d bytes; want 200, the connection kept and the %d bytes of the part",
					resp.Status, resp.Close, len(body), len(tc.want))
			}
			if status, body := getOn(t, c, br, "/hello"); status != 200 || body != "hello" {
				t.Errorf("the next request on the connection: %d %q; want 200 \"hello\"", status, body)
			}
			waitClosed(t, s, k)
			if tc.readTo != "" {
				if _, pos := fetch(t, s, "GET", "/read-to?key="+k, nil); pos != tc.readTo {
					t.Errorf("the BytesIO was read to %s; want %s (the block that reaches the length, no further)", pos, tc.readTo)
				}
			}
		})
		t.Run(tc.name+" is sent up to its Content-Length over HTTP/2", func(t *testing.T) {
			k := key(t)
			resp, body := frontDo(t, h2c, mustRequest(t, "GET", s.URL+tc.target+"&key="+k, nil))
			if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 || body != string(tc.want) {
				t.Errorf("%s %s, %d bytes; want HTTP/2.0 200 and the %d bytes of the part", resp.Proto, resp.Status, len(body), len(tc.want))
			}
			waitClosed(t, s, k)
		})
	}
	t.Run("no part was logged as an overrun", func(t *testing.T) {
		logSettled(t, s, key(t))
		if n := logCount(s, "more body than its Content-Length"); n != 0 {
			t.Errorf("%d overrun warnings in the log; want none:\n%s", n, s.logs.String())
		}
	})
}

// logSettled returns once the log holds every line the server wrote
// before the call: a worker writes its lines in order, so the wsgi.errors
// line of a request made now, marked with k, comes after them.
func logSettled(t *testing.T, s *server, k string) {
	t.Helper()
	fetch(t, s, "GET", "/errors?key="+k, nil)
	mustLog(t, s, `hello errors request=\S+ path="/errors\?key=`+regexp.QuoteMeta(k)+`"`)
}

// ---------------------------------------------------------------------------
// 8. Application errors

func TestConformanceAppErrors(t *testing.T) {
	s := startConformance(t, "")

	cases := []struct {
		name, path string
		logs       []string // regular expressions the log must match
	}{
		{"an exception before start_response gives 500 and a traceback", "/raise-before", []string{
			`\[ERROR\] the app raised an exception request=\S+ method=GET path=/raise-before\n`,
			`Traceback \(most recent call last\):`,
			`File ".*testdata/conformance/app\.py", line \d+, in r_raise_before`,
			`RuntimeError: boom before start_response`,
		}},
		{"a NUL in an exception's message cuts neither it nor the error chained after it", "/raise-nul?name=a%00b", []string{
			`path="/raise-nul\?name=a%00b"\n(.*\n)*ValueError: bad name: a\\x00b\n(.*\n)*RuntimeError: THE REAL ERROR\n`,
		}},
		{"a client's control characters in an exception reach the log escaped", "/raise-nul?name=a%1b]0;T%07%0d[x%c2%9b", []string{
			`ValueError: bad name: a\\x1b\]0;T\\x07\\x0d\[x\\u009b\n(.*\n)*RuntimeError: THE REAL ERROR\n`,
		}},
		{"returning None gives 500", "/return-none", []string{`path=/return-none\n(.*\n)*.*the app returned None`}},
		{"returning an int gives 500", "/return-int", []string{`path=/return-int\n(.*\n)*TypeError: the app returned int, which is not iterable; a WSGI app must return an iterable of bytes, e\.g\. ` + "`" + `return \[b"Hello"\]` + "`"}},
		{"returning a list holding an int gives 500", "/return-list-int", []string{`path=/return-list-int\n(.*\n)*.*must be an iterable of bytes, but it holds int`}},
		{"returning without start_response gives 500", "/no-start-response", []string{`path=/no-start-response\n(.*\n)*.*without calling start_response`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fetch(t, s, "GET", tc.path, nil)
			if resp.StatusCode != 500 || body != "Internal Server Error\n" {
				t.Errorf("%s %q, want 500 \"Internal Server Error\\n\"", resp.Status, body)
			}
			for _, re := range tc.logs {
				mustLog(t, s, re)
			}
			expectHello(t, s)
		})
	}

	t.Run("a NUL in the message of close()'s exception cuts neither it nor the error chained after it", func(t *testing.T) {
		if resp, body := fetch(t, s, "GET", "/close-raise-nul", nil); resp.StatusCode != 200 || body != "ok" {
			t.Errorf("%s %q, want 200 \"ok\"", resp.Status, body)
		}
		mustLog(t, s, `the response's close\(\) raised an exception .*path=/close-raise-nul\n(.*\n)*ValueError: bad name: a\\x00b\n(.*\n)*RuntimeError: THE REAL CLOSE ERROR\n`)
	})

	t.Run("an exception after the headers fails the client's read", func(t *testing.T) {
		k := key(t)
		c := dial(t, s)
		io.WriteString(c, "GET /raise-after?key="+k+" HTTP/1.1\r\nHost: h\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("head before the error: %v %v", resp, err)
		}
		first := make([]byte, len("partial"))
		if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "partial" {
			t.Fatalf("first chunk %q, %v", first, err)
		}
		release(t, s, k)
		// Below the chunked decoder: the terminating chunk must never come,
		// and the connection must be reset, not closed as if complete.
		rest, err := io.ReadAll(br)
		if bytes.Contains(rest, []byte("0\r\n\r\n")) {
			t.Errorf("the response was terminated as complete: %q", rest)
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("reading after the error: %q, %v; want the connection reset", rest, err)
		}
		mustLog(t, s, `path="/raise-after\?key=[^"]+"\n(.*\n)*RuntimeError: boom after the headers`)
		expectHello(t, s)
	})
}

// ---------------------------------------------------------------------------
// 9. str where bytes are needed

const (
	strBodyAdvice  = "the response body holds a str, but WSGI needs bytes: encode it, e.g. `return [body.encode(\"utf-8\")]`"
	strWriteAdvice = "write() was given a str, but WSGI needs bytes: encode it, e.g. `write(data.encode(\"utf-8\"))`"
	strYieldAdvice = "the response body holds a str, but WSGI needs bytes: encode it, e.g. `yield body.encode(\"utf-8\")`"
	strFileAdvice  = "the file given to wsgi.file_wrapper read a str, but WSGI needs bytes: open it in binary mode, e.g. `open(path, \"rb\")`"
)

func TestConformanceStrBodyNotStrict(t *testing.T) {
	s := startConformance(t, "", "--strict=false")
	cases := []struct {
		name, path, body, advice string
	}{
		{"a str in the returned list is sent as UTF-8 with one warning under --strict=false", "/str-body", "h\u00e9llo", strBodyAdvice},
		{"a str given to write is sent as UTF-8 with one warning under --strict=false", "/str-write", "h\u00e9llo from write", strWriteAdvice},
		{"a str a generator yields is sent as UTF-8 with one warning under --strict=false", "/str-yield", "h\u00e9llo from a generator", strYieldAdvice},
		{"a text file given to file_wrapper is sent as it reads, in UTF-8, with one warning under --strict=false", "/str-file", "h\u00e9llo\n", strFileAdvice},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 2; i++ {
				resp, body := fetch(t, s, "GET", tc.path, nil)
				if resp.StatusCode != 200 || body != tc.body {
					t.Errorf("request %d: %s %q, want 200 and the UTF-8 bytes %q", i+1, resp.Status, body, tc.body)
				}
			}
			// The warning is logged before the response is written, so both are in by now.
			mustLog(t, s, `\[WARNING\] `+regexp.QuoteMeta(tc.advice)+`.* request=\S+ path=`+regexp.QuoteMeta(tc.path))
			if n := logCount(s, tc.advice); n != 1 {
				t.Errorf("the advice was logged %d times after two requests, want once", n)
			}
		})
	}
}

// PEP 3333: the body must be bytes. A str is a 500 by default, and the
// error names the fix.
func TestConformanceStrBody(t *testing.T) {
	s := startConformance(t, "")
	cases := []struct{ name, path, advice string }{
		{"a str in the returned list gives 500", "/str-body", strBodyAdvice},
		{"a str given to write gives 500", "/str-write", strWriteAdvice},
		{"another type given to write gives 500 naming write()", "/bytearray-write",
			"write() needs bytes, but was given bytearray; give bytes, e.g. `write(bytes(data))`"},
		{"a str a generator yields gives 500", "/str-yield", strYieldAdvice},
		{"a text file given to file_wrapper gives 500", "/str-file", strFileAdvice},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fetch(t, s, "GET", tc.path, nil)
			if resp.StatusCode != 500 || body != "Internal Server Error\n" {
				t.Errorf("%s %q, want 500", resp.Status, body)
			}
			mustLog(t, s, `\[ERROR\] the app raised an exception request=\S+ method=GET path=`+regexp.QuoteMeta(tc.path)+`\n(.*\n)*TypeError: `+regexp.QuoteMeta(tc.advice)+`\n`)
			expectHello(t, s)
		})
	}
}

// ---------------------------------------------------------------------------
// 10. wsgiref.validate

func TestConformanceValidator(t *testing.T) {
	s := startConformance(t, ":make_validated()")
	file := randomBytes(t, 300<<10)
	path := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	post := "hello\nline2\nline3\n"

	cases := []struct {
		name, method, path, body, want string
	}{
		{"GET with a query", "GET", "/hello?x=1&y=two", "", "hello"},
		{"a generator response", "GET", "/gen", "", "one,two,three"},
		{"a lazy generator with empty chunks", "GET", "/lazy", "", "hello world"},
		{"HEAD", "HEAD", "/hello", "", ""},
		{"write()", "GET", "/sr/write", "", "via write, then the iterable"},
		{"wsgi.errors", "POST", "/errors", "", "logged"},
		{"POST read by read(n), readline and iteration", "POST", "/input?ops=read:5,readline,iter,read:1", post,
			`{"results": ["hello", "\n", ["line2\n", "line3\n"], ""], "CONTENT_LENGTH": "18", "CONTENT_TYPE": "text/plain"}`},
		{"POST read by readlines", "POST", "/input?ops=readline,readlines", post,
			`{"results": ["hello\n", ["line2\n", "line3\n"]], "CONTENT_LENGTH": "18", "CONTENT_TYPE": "text/plain"}`},
		{"file_wrapper", "GET", "/file?key=validated&path=" + url.QueryEscape(path), "", string(file)},
	}
	for _, tc := range cases {
		t.Run(tc.name+" passes the validator", func(t *testing.T) {
			var hdr []string
			if tc.method == "POST" {
				hdr = []string{"Content-Type", "text/plain"}
			}
			resp, body := fetch(t, s, tc.method, tc.path, strings.NewReader(tc.body), hdr...)
			if resp.StatusCode != 200 || body != tc.want {
				t.Errorf("%s %.300q, want 200 %.300q", resp.Status, body, tc.want)
			}
		})
	}
	waitClosed(t, s, "validated")
	for _, bad := range []string{"AssertionError", "WSGIWarning", "garbage collected without being closed", "[ERROR]"} {
		if strings.Contains(s.logs.String(), bad) {
			t.Errorf("the log has %q: wsgo broke a rule wsgiref's validator checks", bad)
		}
	}

	// The control: the validator is really in the way. A str body breaks
	// its rules, so it must turn into a 500 with its AssertionError logged.
	t.Run("the validator is active: a str body fails it", func(t *testing.T) {
		resp, body := fetch(t, s, "GET", "/str-body", nil)
		if resp.StatusCode != 500 {
			t.Errorf("%s %q, want 500 from the validator's AssertionError", resp.Status, body)
		}
		mustLog(t, s, `AssertionError: Iterator yielded non-bytestring \('h\x{e9}llo'\)`)
	})
}

// firstDifference is the offset of the first byte where a and b differ,
// or the shorter one's length.
func firstDifference(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
