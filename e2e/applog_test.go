package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// applogApp writes to wsgi.errors as apps do: a traceback printed in many
// writes without a flush, logging's StreamHandler (one write, then a
// flush) at ERROR, CRITICAL and WARNING, and a plain line.
const applogApp = `import logging, traceback
def application(environ, start_response):
    errors = environ["wsgi.errors"]
    path = environ["PATH_INFO"]
    if path == "/print-exc":
        try:
            1 / 0
        except ZeroDivisionError:
            traceback.print_exc(file=errors)
    elif path == "/held":  # a traceback that never ends, while the request waits
        import os, time
        errors.write("Traceback (most recent call last):\n")
        for i in range(2000):
            errors.write("  line %04d of a traceback held for one entry\n" % i)
        release = environ["QUERY_STRING"]
        for _ in range(2000):
            if os.path.exists(release):
                break
            time.sleep(0.01)
    elif path.startswith("/logging/"):
        log = logging.getLogger("app")
        log.propagate = False
        if not log.handlers:  # logging.basicConfig's format: "ERROR:app:..."
            log.addHandler(logging.StreamHandler(errors))
            log.handlers[0].setFormatter(logging.Formatter(logging.BASIC_FORMAT))
        log.handlers[0].stream = errors
        level = path.rsplit("/", 1)[1]
        log.log(getattr(logging, level.upper()), "%s from logging", level)
    elif path.startswith("/forge"):  # a client's input, decoded, in the app's log
        from urllib.parse import unquote
        said = unquote(environ["QUERY_STRING"])
        if path == "/forge-raise":
            raise ValueError(said)
        errors.write("a client said: %s\n" % said)
    else:
        print("a plain line", file=errors)
    start_response("200 OK", [])
    return [b"ok"]
`

// entry matches one log entry at level with the request named once after
// its first line, then the lines of rest (a regular expression).
func entry(level, first, path, rest string) *regexp.Regexp {
	return regexp.MustCompile(`\[` + level + `\] ` + regexp.QuoteMeta(first) +
		` request=\S+ path=` + regexp.QuoteMeta(path) + ` from=wsgi.errors\n` + rest)
}

// TestAppErrorsOneEntry: what the app writes to wsgi.errors is logged as
// entries, not lines: a traceback written piecewise is one ERROR entry
// with the request named once; logging's ERROR lines are ERROR, others
// WARNING.
func TestAppErrorsOneEntry(t *testing.T) {
	s := start(t, nil, "--access-log", "", writeApp(t, "app.py", applogApp))
	for _, tc := range []struct {
		path string
		want *regexp.Regexp
	}{
		{"/print-exc", entry("ERROR", "Traceback (most recent call last):", "/print-exc",
			`  File ".*app.py", line 7, in application\n    1 / 0\n(?:.*\^.*\n)?ZeroDivisionError: division by zero\n`)},
		{"/logging/error", entry("ERROR", "ERROR:app:error from logging", "/logging/error", "")},
		{"/logging/critical", entry("ERROR", "CRITICAL:app:critical from logging", "/logging/critical", "")},
		{"/logging/warning", entry("WARNING", "WARNING:app:warning from logging", "/logging/warning", "")},
		{"/plain", entry("WARNING", "a plain line", "/plain", "")},
	} {
		if resp, body := s.get(tc.path); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("GET %s = %d %q", tc.path, resp.StatusCode, body)
		}
		if !s.waitLog(tc.want.String(), 10*time.Second) {
			t.Errorf("GET %s: no log entry matching %s", tc.path, tc.want)
		}
	}
	s.stop(15)
	if n := strings.Count(s.logs.String(), "from=wsgi.errors"); n != 5 {
		t.Errorf("%d entries from wsgi.errors; want 5, one per request:\n%s", n, s.logs.String())
	}
}

// TestAppTextCannotForgeALogRecord: a line of what the app logs (here a
// client's input) that starts like a record, '[', is indented under its
// entry, in wsgi.errors' text and in a traceback alike.
func TestAppTextCannotForgeALogRecord(t *testing.T) {
	s := start(t, nil, "--access-log", "", writeApp(t, "app.py", applogApp))
	forged := "[2026-01-01 00:00:00 +0000] [1] [ERROR] wsgo: forged"
	query := "hi%0A" + strings.ReplaceAll(forged, " ", "%20")
	if resp, body := s.get("/forge?" + query); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("GET /forge = %d %q", resp.StatusCode, body)
	}
	if resp, _ := s.get("/forge-raise?" + query); resp.StatusCode != 500 {
		t.Fatalf("GET /forge-raise = %d; want 500", resp.StatusCode)
	}
	for _, want := range []*regexp.Regexp{
		entry("WARNING", "a client said: hi", "/forge?"+query, "  "+regexp.QuoteMeta(forged)+"\n"),
		regexp.MustCompile(`ValueError: hi\n  ` + regexp.QuoteMeta(forged) + `\n`),
	} {
		if !s.waitLog(want.String(), 10*time.Second) {
			t.Errorf("no log entry matching %s", want)
		}
	}
	if strings.Contains(s.logs.String(), "\n"+forged) {
		t.Errorf("a forged record starts a line of the log:\n%s", s.logs.String())
	}
}

// TestFlaskErrorOneEntry: Flask logs an exception in a view through its
// default handler, to wsgi.errors ("ERROR in app: Exception on /boom
// [GET]" and the traceback): one ERROR entry.
func TestFlaskErrorOneEntry(t *testing.T) {
	if code, out := cliExit(t, nil, "python", "-c", "import flask"); code != 0 {
		t.Skipf("the embedded Python cannot import flask: %s", out)
	}
	app := writeApp(t, "flask_boom.py", `from flask import Flask
app = Flask(__name__)

@app.route("/boom")
def boom():
    return str(1 / 0)
`)
	s := start(t, nil, "--access-log", "", app)
	if resp, _ := s.get("/boom"); resp.StatusCode != 500 {
		t.Fatalf("GET /boom = %d; want Flask's 500", resp.StatusCode)
	}
	want := regexp.MustCompile(`\[ERROR\] \[[^\]]+\] ERROR in app: Exception on /boom \[GET\] request=\S+ path=/boom from=wsgi.errors\n` +
		`Traceback \(most recent call last\):\n(?:  .*\n)+ZeroDivisionError: division by zero\n`)
	if !s.waitLog(want.String(), 10*time.Second) {
		t.Errorf("no single ERROR entry for Flask's exception")
	}
	s.stop(15)
	if n := strings.Count(s.logs.String(), "from=wsgi.errors"); n != 1 {
		t.Errorf("%d entries from wsgi.errors; want 1:\n%s", n, s.logs.String())
	}
}

// TestAppErrorsHeldBounded: a traceback is held for one entry, but not
// without bound: past 64 KiB it is logged while the request still runs.
func TestAppErrorsHeldBounded(t *testing.T) {
	s := start(t, nil, "--access-log", "", writeApp(t, "app.py", applogApp))
	release := filepath.Join(t.TempDir(), "release")
	done := make(chan string, 1)
	go func() {
		resp, err := cliHTTP.Get(s.URL + "/held?" + release)
		if err == nil {
			resp.Body.Close()
			done <- resp.Status
			return
		}
		done <- err.Error()
	}()
	first := entry("ERROR", "Traceback (most recent call last):", "/held?"+release, `(?:  line \d{4} of a traceback held for one entry\n)+`)
	if !s.waitLog(first.String(), 10*time.Second) {
		t.Errorf("64 KiB of a traceback were not logged while its request ran")
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if status := <-done; status != "200 OK" {
		t.Fatalf("GET /held: %s", status)
	}
	s.stop(15)
	if got := strings.Count(s.logs.String(), "line 1999 of a traceback"); got != 1 {
		t.Errorf("the traceback's last line is logged %d times; want once", got)
	}
}

// Log lines name a request by its X-Request-ID, as the access log and
// the client know it, so an app's entries and the access log join.
func TestLogLinesNameTheRequestID(t *testing.T) {
	s := start(t, nil, writeApp(t, "app.py", `def application(environ, start_response):
    environ["wsgi.errors"].write("noted\n")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["HTTP_X_REQUEST_ID"].encode()]
`), "--access-log", "-")
	req := mustRequest(t, "GET", s.URL+"/x", nil)
	req.Header.Set("X-Request-ID", "client-id-42")
	if _, body := s.do(req); body != "client-id-42" {
		t.Fatalf("the app saw X-Request-ID %q", body)
	}
	if !s.waitLog(`\[WARNING\] noted request=client-id-42 path=/x from=wsgi.errors\n`, 10*time.Second) ||
		!s.waitLog(`"GET /x HTTP/1.1" 200 .*client-id-42`, 10*time.Second) {
		t.Errorf("the app's entry and the access log do not both name client-id-42")
	}
}
