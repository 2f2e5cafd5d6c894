package pyhost

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"wsgo/wsgi"
)

// latin1 is what environ holds for bytes s: each byte as the code point
// of its value (PEP 3333 native strings).
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// FuzzPackedRequest packs arbitrary requests in Go, has C unpack them
// into environ (through the test app's /environ route, which answers
// every str item as JSON) and checks each field arrives as the bytes Go
// packed. headers holds "Name: value" lines. The seeds run under plain
// `go test`; `go test -fuzz FuzzPackedRequest ./pyhost` explores.
func FuzzPackedRequest(f *testing.F) {
	f.Add("GET", "/x%2Fy", "q=1", "HTTP/1.1", "http", "example.test", "80", "127.0.0.1", "4000", "text/plain", true, int64(3), "X-A: 1\nCookie: a=1\nCookie: b=2\nx-a: 2")
	f.Add("POST", "/caf%C3%A9", "", "HTTP/1.0", "https", "", "", "", "", "", false, int64(0), "")
	f.Add("\xff\x00", "/\xe9%zz", "\x7f", "", "", "\x01", "", "::1", "", "a/b; c=\xff", true, int64(-1), ":\n: \xe4")
	f.Fuzz(func(t *testing.T, method, path, query, proto, scheme, serverName, serverPort, remoteAddr, remotePort,
		contentType string, hasLength bool, length int64, headers string) {
		req := &wsgi.Request{
			ID: 7, Method: method, RawPath: "/environ" + path, RawQuery: query, Proto: proto, Scheme: scheme,
			ServerName: serverName, ServerPort: serverPort, RemoteAddr: remoteAddr, RemotePort: remotePort,
			ContentType: contentType, HasContentLength: hasLength, ContentLength: length, Body: strings.NewReader(""),
		}
		req.RequestURI = req.RawPath + "?" + query
		for _, line := range strings.Split(headers, "\n") {
			if name, value, ok := strings.Cut(line, ": "); ok {
				req.Header = append(req.Header, wsgi.Header{Name: name, Value: value})
			}
		}
		want := map[string]string{
			"REQUEST_METHOD": method, "PATH_INFO": unescapePath(req.RawPath), "QUERY_STRING": query,
			"REQUEST_URI": req.RequestURI, "SERVER_PROTOCOL": proto, "wsgi.url_scheme": scheme,
			"SERVER_NAME": serverName, "SERVER_PORT": serverPort, "REMOTE_ADDR": remoteAddr,
			"REMOTE_PORT": remotePort, "SCRIPT_NAME": "",
		}
		if contentType != "" {
			want["CONTENT_TYPE"] = contentType
		}
		if hasLength {
			want["CONTENT_LENGTH"] = strconv.FormatInt(length, 10)
		}
		keys, values := environHeaders(req.Header)
		for i, k := range keys {
			want[k] = values[i]
		}
		if scheme == "https" {
			want["HTTPS"] = "on"
		}
		rec, err := serve(t, req)
		if appErr, ok := err.(*AppError); ok {
			t.Fatal(appErr.Report)
		} else if err != nil {
			t.Fatal(err)
		}
		var env map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%v: %s", err, rec.Body.String())
		}
		decoded := map[string]string{}
		for k, v := range want {
			decoded[latin1(k)] = latin1(v)
		}
		for k, v := range decoded {
			if got, ok := env[k].(string); !ok || got != v {
				t.Errorf("environ[%q] = %#v, want %q", k, env[k], v)
			}
		}
		for k, v := range env {
			if _, ok := decoded[k]; !ok && !strings.HasPrefix(k, "wsgi.") {
				t.Errorf("environ has %q = %#v, which was not packed", k, v)
			}
		}
	})
}
