package e2e

// Tests of the scripts in examples/, served as their docstrings promise,
// and of wsgiref scripts that wsgo runs unchanged.

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// exCopy copies examples/NAME into a fresh directory (so Python's
// __pycache__ stays out of the repository), replacing each old with new.
func exCopy(t testing.TB, name string, replace ...string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(replace...).Replace(string(data))
	return writeApp(t, name, text)
}

// exFreePort returns a TCP port that was free a moment ago.
func exFreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// exParse parses a raw HTTP response as received.
func exParse(t testing.TB, raw string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("cannot parse the response %q: %v", raw, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body of %q: %v", raw, err)
	}
	return resp, string(body)
}

func TestExampleHello(t *testing.T) {
	s := start(t, nil, exCopy(t, "hello.py"))
	for _, tc := range []struct{ name, path, want string }{
		{"greets the name in the path", "/world", "Hello, world!\n"},
		{"greets a stranger at /", "/", "Hello, stranger!\n"},
		{"decodes a percent-encoded name", "/Ada%20Lovelace", "Hello, Ada Lovelace!\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := cliFetch(t, "GET", s.URL+tc.path, nil)
			if resp.StatusCode != 200 || body != tc.want {
				t.Errorf("GET %s = %d %q; want 200 %q", tc.path, resp.StatusCode, body, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q; want text/plain; charset=utf-8", ct)
			}
			if resp.ContentLength != int64(len(tc.want)) {
				t.Errorf("Content-Length %d; want %d", resp.ContentLength, len(tc.want))
			}
		})
	}
}

func TestExampleCallableClass(t *testing.T) {
	t.Run("the instance's counter increments across requests", func(t *testing.T) {
		s := start(t, nil, exCopy(t, "callable_class.py"))
		for i := 1; i <= 3; i++ {
			cliExpect(t, s.URL+"/", 200, "request number "+strconv.Itoa(i)+"\n")
		}
	})
	t.Run("callable_class.py:AppClass makes an instance per request", func(t *testing.T) {
		s := start(t, nil, exCopy(t, "callable_class.py")+":AppClass")
		for i := 0; i < 2; i++ {
			cliExpect(t, s.URL+"/", 200, "Hello from a class\n")
		}
	})
}

func TestExampleMiddleware(t *testing.T) {
	s := start(t, nil, exCopy(t, "middleware.py"))
	t.Run("the body is upper-cased and X-Elapsed-Ms is added", func(t *testing.T) {
		resp, body := cliFetch(t, "GET", s.URL+"/", nil)
		if resp.StatusCode != 200 || body != "HELLO FROM THE INNER APP\n" {
			t.Errorf("GET / = %d %q; want 200 %q", resp.StatusCode, body, "HELLO FROM THE INNER APP\n")
		}
		if ms := resp.Header.Get("X-Elapsed-Ms"); !regexp.MustCompile(`\A\d+\.\d\d\z`).MatchString(ms) {
			t.Errorf("X-Elapsed-Ms %q; want milliseconds like 0.05", ms)
		}
	})
	t.Run("/boom gets CatchErrors' 500 page", func(t *testing.T) {
		got := s.raw("GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 500 Internal Server Error\r\n") {
			t.Errorf("status line of %q; want HTTP/1.1 500 Internal Server Error", got)
		}
		resp, body := exParse(t, got)
		if body != "something went wrong; see the server log\n" {
			t.Errorf("body %q; want CatchErrors' page", body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
			t.Errorf("Content-Type %q; want text/plain", ct)
		}
		// The page sends the reader to the log: the traceback is there.
		if !s.waitLog(`(?s)Traceback \(most recent call last\):.*RuntimeError: boom`, 5*time.Second) {
			t.Errorf("the server log lacks the traceback the page points to:\n%s", s.logs.String())
		}
	})
}

func TestExampleStreaming(t *testing.T) {
	s := start(t, nil, exCopy(t, "streaming.py"))
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Read until the first line of the countdown is here, then check that
	// the last one is not: the response is streamed, not buffered whole.
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("5...\n")) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("the first chunk never came (%v); got %q", err, got)
		}
	}
	if bytes.Contains(got, []byte("liftoff!")) {
		t.Errorf("the last chunk came with the first: the response was not streamed: %q", got)
	}
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the rest: %v", err)
	}
	resp, body := exParse(t, string(append(got, rest...)))
	if resp.StatusCode != 200 || body != "5...\n4...\n3...\n2...\n1...\nliftoff!\n" {
		t.Errorf("got %d %q; want 200 and the whole countdown", resp.StatusCode, body)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("Transfer-Encoding %v; want chunked", resp.TransferEncoding)
	}
}

func TestExampleForm(t *testing.T) {
	const form = "<!doctype html><title>Echo</title>\n" +
		`<form method="post"><input name="name" placeholder="name">` + "\n" +
		`<input name="message" placeholder="message"><button>Send</button></form>`
	const echoed = form + "<h2>You sent</h2><ul><li>message: hi</li><li>name: Ada</li></ul>"
	s := start(t, nil, exCopy(t, "form.py"))
	tests := []struct {
		name    string
		request string
		want    string
	}{
		{"GET shows the form",
			"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", form},
		{"POST with Content-Length echoes the fields",
			"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
				"Content-Length: 19\r\n\r\nname=Ada&message=hi", echoed},
		{"chunked POST echoes the fields",
			"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
				"Transfer-Encoding: chunked\r\n\r\n8\r\nname=Ada\r\nb\r\n&message=hi\r\n0\r\n\r\n", echoed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := exParse(t, s.raw(tc.request))
			if resp.StatusCode != 200 || body != tc.want {
				t.Errorf("got %d %q; want 200 %q", resp.StatusCode, body, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q; want text/html; charset=utf-8", ct)
			}
		})
	}
}

// exCheckWebApplication checks the routes of examples/web_application.py.
func exCheckWebApplication(t *testing.T, url string) {
	t.Helper()
	cliExpect(t, url+"/", 200, "<h1>Home</h1><p><a href='/abcd'>abcd</a></p>")
	cliExpect(t, url+"/abcd", 200, "<h1>abcd</h1><p>You found the other page.</p>")
	cliExpect(t, url+"/nosuch", 404, "<h1>Not Found</h1>")
}

func TestWsgirefScripts(t *testing.T) {
	const fromScript = " (the address the script gave make_server)"

	t.Run("web_application.py is served on the address it gives make_server", func(t *testing.T) {
		port := exFreePort(t)
		app := exCopy(t, "web_application.py", "8051", port)
		s := cliStartRaw(t, nil, "run", app)
		desc, urls, _, _ := cliStartParts(t, s)
		if !regexp.MustCompile(`\Ahttp://(127\.0\.0\.1|\[::1\]):` + port + regexp.QuoteMeta(fromScript) + `\z`).MatchString(urls) {
			t.Errorf("start line lists %q; want http://127.0.0.1:%s%s", urls, port, fromScript)
		}
		if want := app + " (the app given to make_server)"; desc != want {
			t.Errorf("start line describes the app as %q; want %q", desc, want)
		}
		exCheckWebApplication(t, s.URL)
		if !strings.Contains(s.logs.String(), "Serving on port "+port+"...") {
			t.Errorf("the script's print() before serve_forever() is not in the output")
		}
	})

	t.Run("web_application.py with --bind is served on the bind instead", func(t *testing.T) {
		port := exFreePort(t)
		s := start(t, nil, exCopy(t, "web_application.py", "8051", port), "--bind", "127.0.0.1:0")
		_, urls, _, _ := cliStartParts(t, s)
		if strings.Contains(urls, fromScript) || strings.HasSuffix(s.URL, ":"+port) {
			t.Errorf("start line lists %q; want only the --bind address", urls)
		}
		exCheckWebApplication(t, s.URL)
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			t.Errorf("the script's own port %s is listened on although --bind was given", port)
		}
	})

	scripts := []struct {
		name   string
		source string
		logged string // a line the log must have, or ""
	}{
		{"the `with make_server(...) as httpd: httpd.serve_forever()` form is served", `
from wsgiref.simple_server import make_server


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from a with-block\n"]


with make_server("127.0.0.1", PORT, hello) as httpd:
    httpd.serve_forever()
`, ""},
		{"a script guarded by if __name__ == \"__main__\" is served", `
from wsgiref.simple_server import make_server


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from __main__\n"]


if __name__ == "__main__":
    httpd = make_server("127.0.0.1", PORT, hello)
    httpd.serve_forever()
`, ""},
		{"make_server called through the module, imported inside a function, is served", `
def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from a function\n"]


def main():
    import wsgiref.simple_server as simple

    simple.make_server("127.0.0.1", PORT, hello).serve_forever()


main()
`, ""},
		// Bottle's run() serves with wsgiref by default. Under the guard,
		// the script used to be imported, not run: served on 127.0.0.1:8000.
		{"a Bottle script whose run() is guarded by if __name__ == \"__main__\" is served", `
import bottle

app = bottle.Bottle()


@app.route("/")
def hello():
    return "hello from bottle.run\n"


if __name__ == "__main__":
    bottle.run(app, server="wsgiref", host="127.0.0.1", port=PORT)
`, ""},
		{"Bottle's tutorial form, run() at the module's level, is served", `
from bottle import route, run


@route("/")
def hello():
    return "hello from the tutorial\n"


run(host="127.0.0.1", port=PORT)
`, ""},
		// Bottle's reloader would start a second Python serving by itself,
		// while the worker's import waited for it for good.
		{"a Bottle script with run(reloader=True) is served by wsgo, with a warning", `
from bottle import route, run


@route("/")
def hello():
    return "hello from bottle with its reloader off\n"


if __name__ == "__main__":
    run(host="127.0.0.1", port=PORT, reloader=True)
`, "RuntimeWarning: wsgo ignores Bottle's run(reloader=True): Bottle's reloader starts a second Python that serves the app by itself, outside wsgo; use `wsgo run --reload` to restart on changes"},
	}
	for _, tc := range scripts {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.source, "bottle") {
				requireSystemModule(t, "bottle", "python3-bottle")
			}
			port := exFreePort(t)
			s := cliStartRaw(t, nil, "run", writeApp(t, "script.py", strings.ReplaceAll(tc.source, "PORT", port)))
			_, urls, _, _ := cliStartParts(t, s)
			if want := "http://127.0.0.1:" + port + fromScript; urls != want {
				t.Errorf("start line lists %q; want %q", urls, want)
			}
			want := regexp.MustCompile(`b?"(hello from [^"]*)\\n"`).FindStringSubmatch(tc.source)[1] + "\n"
			cliExpect(t, s.URL+"/", 200, want)
			if tc.logged != "" && !strings.Contains(s.logs.String(), tc.logged) {
				t.Errorf("the log lacks %q", tc.logged)
			}
		})
	}

	// wsgo gives wsgiref its make_server when an app imports it, not up
	// front: wsgiref.simple_server brings http.server, email and ssl
	// (libssl, libcrypto), megabytes in every worker.
	t.Run("an app that does not use wsgiref does not load it", func(t *testing.T) {
		s := start(t, nil, writeApp(t, "plain.py", `
import sys


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    loaded = [m for m in ("wsgiref.simple_server", "http.server", "ssl") if m in sys.modules]
    return [("loaded: %s" % loaded).encode()]
`))
		cliExpect(t, s.URL+"/", 200, "loaded: []")
	})
}
