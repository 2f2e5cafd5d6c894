package e2e

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

// TestJSONLogsEveryLine: under --log-format json every line on standard
// error is one JSON object, the app's wsgi.errors tracebacks and a failed
// import included.
func TestJSONLogsEveryLine(t *testing.T) {
	app := writeApp(t, "app.py", `import sys
def application(environ, start_response):
    try:
        1 / 0
    except ZeroDivisionError:
        import traceback
        environ["wsgi.errors"].write(traceback.format_exc())
    start_response("200 OK", [])
    return [b"ok"]
`)
	s := start(t, nil, "--log-format", "json", "--access-log", "", app)
	s.get("/")
	if !s.waitLog(`ZeroDivisionError`, 10*time.Second) {
		t.Fatal("the app's wsgi.errors line was not logged")
	}
	s.stop(15) // SIGTERM: the stop lines too
	lines := strings.Split(strings.TrimRight(s.logs.String(), "\n"), "\n")
	var sawTraceback bool
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not a JSON object: %q", line)
			continue
		}
		if rec["msg"] == nil || rec["level"] == nil || rec["pid"] == nil || rec["time"] == nil {
			t.Errorf("a record lacks time, level, msg or pid: %q", line)
		}
		if strings.Contains(line, "ZeroDivisionError") && strings.Contains(line, `Traceback (most recent call last)`) {
			sawTraceback = true
		}
	}
	if !sawTraceback {
		t.Errorf("no record holds the whole traceback:\n%s", s.logs.String())
	}

	broken := writeApp(t, "broken.py", "import no_such_module_at_all\n")
	code, out := cliExit(t, nil, "run", "--log-format", "json", "--bind", "127.0.0.1:0", broken)
	if code != 4 {
		t.Errorf("a failed import exits %d; want 4", code)
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a failed import's line is not JSON: %q", line)
		} else if rec["msg"] == "" {
			t.Errorf("a failed import's record says nothing: %q", line)
		}
	}
	if !strings.Contains(out, `No module named 'no_such_module_at_all'`) {
		t.Errorf("the import error is not in the log:\n%s", out)
	}

	// The errors wsgo stops with before serving: a usage error (the
	// format given by its variable) and a port taken.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := busy.Addr().String()
	stops := []struct {
		name string
		env  []string
		args []string
		code int
		msg  string
	}{
		{"a flag's bad value", []string{"WSGO_LOG_FORMAT=json"}, []string{"run", "--workers", "abc", broken}, 2,
			`wsgo run: --workers "abc": give a number of at least 1, or auto (one per CPU)`},
		{"a port in use", nil, []string{"run", "--log-format", "json", "--bind", taken, broken}, 3,
			"wsgo: cannot listen on " + taken + ": address already in use; stop the other server or pick another port with --bind"},
	}
	for _, tc := range stops {
		code, out := cliExit(t, tc.env, tc.args...)
		var rec map[string]any
		if err := json.Unmarshal([]byte(strings.TrimRight(out, "\n")), &rec); err != nil || code != tc.code ||
			rec["level"] != "ERROR" || rec["msg"] != tc.msg {
			t.Errorf("%s: exit %d, output %q; want exit %d and one JSON line at ERROR with msg %q", tc.name, code, out, tc.code, tc.msg)
		}
	}
}

// TestJSONLogsTheWholeTracebackPastANUL: a NUL the client put in an
// exception's message is shown escaped, and the traceback goes on past it
// to the error chained after it.
func TestJSONLogsTheWholeTracebackPastANUL(t *testing.T) {
	app := writeApp(t, "app.py", `from urllib.parse import unquote
def application(environ, start_response):
    try:
        raise ValueError("bad name: " + unquote(environ["QUERY_STRING"]))
    except ValueError as e:
        raise RuntimeError("THE REAL ERROR") from e
`)
	s := start(t, nil, "--log-format", "json", "--access-log", "", app)
	if resp, _ := s.get("/?a%00b"); resp.StatusCode != 500 {
		t.Errorf("status %d; want 500", resp.StatusCode)
	}
	if !s.waitLog(`"traceback":`, 10*time.Second) {
		t.Fatalf("no traceback was logged:\n%s", s.logs.String())
	}
	for _, line := range strings.Split(strings.TrimRight(s.logs.String(), "\n"), "\n") {
		var rec struct{ Traceback string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Traceback == "" {
			continue
		}
		if !strings.Contains(rec.Traceback, "ValueError: bad name: a\\x00b\n") ||
			!strings.Contains(rec.Traceback, "RuntimeError: THE REAL ERROR\n") {
			t.Errorf("the traceback lacks the escaped NUL or the chained error:\n%s", rec.Traceback)
		}
	}
}
