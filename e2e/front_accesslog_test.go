package e2e

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The access log (--access-log, --access-log-format) and request ids.

// frontLogLines waits until the file holds n lines and returns them.
func frontLogLines(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		lines := strings.SplitAfter(string(data), "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) >= n || time.Now().After(deadline) {
			if len(lines) != n {
				t.Fatalf("%d lines in the access log, want %d:\n%s", len(lines), n, data)
			}
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// frontInRequestOrder orders log lines as the requests in want were
// made: the server logs a request once it is complete, so the client's
// next request may be logged first. Each path is unique; the request
// refused before it was parsed is the one with no path.
func frontInRequestOrder(lines []string, want []frontLogged) []string {
	out := make([]string, 0, len(lines))
	used := make([]bool, len(lines))
	for _, w := range want {
		for i, l := range lines {
			if !used[i] && (w.path != "" && strings.Contains(l, w.path) || w.path == "" && strings.Contains(l, strconv.Itoa(w.status))) {
				used[i] = true
				out = append(out, l)
				break
			}
		}
	}
	for i, l := range lines {
		if !used[i] {
			out = append(out, l)
		}
	}
	return out
}

// frontLogged is what the log must show of a request.
type frontLogged struct {
	remote, method, path, query, target string
	status, bytes                       int
	requestID, referer, userAgent       string
}

// frontLogRequests makes the requests both formats are tested with.
func frontLogRequests(t *testing.T, s *server) []frontLogged {
	t.Helper()
	var want []frontLogged

	// The client's id, kept: the app and the log see it, the response echoes it.
	resp, body := frontGet(t, s, "/hello?x=1", "Referer", "http://ref/", "User-Agent", "test-agent", "X-Request-ID", "my-id-1")
	env := frontEnviron(t, body)
	if resp.Header.Get("X-Request-ID") != "my-id-1" || frontStr(env["HTTP_X_REQUEST_ID"]) != "my-id-1" {
		t.Errorf("response X-Request-ID %q, app's HTTP_X_REQUEST_ID %q; want my-id-1", resp.Header.Get("X-Request-ID"), frontStr(env["HTTP_X_REQUEST_ID"]))
	}
	want = append(want, frontLogged{"127.0.0.1", "GET", "/hello", "x=1", "/hello?x=1", 200, len(body), "my-id-1", "http://ref/", "test-agent"})

	// No id: one is made, the same for the app, the response and the log.
	resp, body = frontGet(t, s, "/made", "User-Agent", `quote" and \ backslash`)
	id := resp.Header.Get("X-Request-ID")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) || frontStr(frontEnviron(t, body)["HTTP_X_REQUEST_ID"]) != id {
		t.Errorf("response X-Request-ID %q, app's %q; want the same new id", id, frontStr(frontEnviron(t, body)["HTTP_X_REQUEST_ID"]))
	}
	want = append(want, frontLogged{"127.0.0.1", "GET", "/made", "", "/made", 200, len(body), id, "", `quote" and \ backslash`})

	// Through a trusted proxy, the client's address.
	resp, body = frontGet(t, s, "/proxied", "X-Forwarded-For", "203.0.113.7", "User-Agent", "ua")
	want = append(want, frontLogged{"203.0.113.7", "GET", "/proxied", "", "/proxied", 200, len(body), resp.Header.Get("X-Request-ID"), "", "ua"})

	// A static file.
	resp, body = frontGet(t, s, "/static/nosuch.css", "User-Agent", "ua")
	want = append(want, frontLogged{"127.0.0.1", "GET", "/static/nosuch.css", "", "/static/nosuch.css", 404, len(body), resp.Header.Get("X-Request-ID"), "", "ua"})

	// A request refused before it was parsed: no request line, and an id
	// of wsgo's, sent with the refusal.
	got := s.raw("GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
	refusedHead, refusedBody, _ := strings.Cut(got, "\r\n\r\n")
	refusedID := regexp.MustCompile(`\r\nX-Request-ID: ([0-9a-f]{32})\r\n`).FindStringSubmatch(refusedHead + "\r\n")
	if refusedID == nil {
		t.Fatalf("the 414 has no X-Request-ID of wsgo's: %q", refusedHead)
	}
	want = append(want, frontLogged{"127.0.0.1", "", "", "", "", 414, len(refusedBody), refusedID[1], "", ""})

	return want
}

// frontTimeWindow checks a logged time against the test's run.
func frontTimeWindow(t *testing.T, logged time.Time, started time.Time) {
	t.Helper()
	if logged.Before(started.Add(-time.Second)) || logged.After(time.Now().Add(time.Second)) {
		t.Errorf("logged time %v is outside the test's run (%v to now)", logged, started)
	}
}

func TestAccessLogCombined(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	started := time.Now()
	s := frontStart(t, nil, "--access-log", path, "--static", "/static="+t.TempDir())
	want := frontLogRequests(t, s)
	lines := frontInRequestOrder(frontLogLines(t, path, len(want)), want)
	re := regexp.MustCompile(`^(\S+) - - \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"\n$`)
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	escape := strings.NewReplacer(`"`, `\"`, `\`, `\\`).Replace
	for i, w := range want {
		m := re.FindStringSubmatch(lines[i])
		if m == nil {
			t.Errorf("line %d is not in the combined format: %q", i, lines[i])
			continue
		}
		request := "-"
		if w.method != "" {
			request = w.method + " " + w.target + " HTTP/1.1"
		}
		bytes := strconv.Itoa(w.bytes)
		if w.bytes == 0 {
			bytes = "-"
		}
		gotFields := []string{m[1], m[3], m[4], m[5], m[6], m[7], m[8]}
		wantFields := []string{w.remote, request, strconv.Itoa(w.status), bytes, dash(w.referer), escape(dash(w.userAgent)), dash(w.requestID)}
		if strings.Join(gotFields, "|") != strings.Join(wantFields, "|") {
			t.Errorf("line %d: %q\n got  %q\n want %q", i, lines[i], gotFields, wantFields)
		}
		logged, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[2])
		if err != nil {
			t.Errorf("line %d: time %q: %v", i, m[2], err)
		}
		frontTimeWindow(t, logged, started.Truncate(time.Second))
	}
}

func TestAccessLogJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.json")
	started := time.Now()
	s := frontStart(t, nil, "--access-log", path, "--access-log-format", "json", "--static", "/static="+t.TempDir())
	want := frontLogRequests(t, s)
	lines := frontInRequestOrder(frontLogLines(t, path, len(want)), want)
	for i, w := range want {
		var got map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Errorf("line %d is not JSON: %v: %q", i, err, lines[i])
			continue
		}
		proto := "HTTP/1.1"
		if w.method == "" {
			proto = ""
		}
		for k, v := range map[string]any{
			"remote_addr": w.remote, "method": w.method, "path": w.path, "query": w.query, "proto": proto,
			"status": float64(w.status), "bytes": float64(w.bytes), "request_id": w.requestID,
			"referer": w.referer, "user_agent": w.userAgent,
		} {
			if got[k] != v {
				t.Errorf("line %d: %s = %#v; want %#v", i, k, got[k], v)
			}
		}
		if d, ok := got["duration_us"].(float64); !ok || d < 0 || d != float64(int64(d)) {
			t.Errorf("line %d: duration_us = %#v; want a whole number of microseconds", i, got["duration_us"])
		}
		logged, err := time.Parse(time.RFC3339Nano, got["time"].(string))
		if err != nil {
			t.Errorf("line %d: time %q: %v", i, got["time"], err)
		}
		frontTimeWindow(t, logged, started)
		if len(got) != 12 {
			t.Errorf("line %d has %d fields, want 12: %q", i, len(got), lines[i])
		}
	}
}

func TestAccessLogToStandardOutput(t *testing.T) {
	s := frontStart(t, nil, "--access-log", "-")
	resp, _ := frontGet(t, s, "/out")
	want := `127\.0\.0\.1 - - \[[^]]+\] "GET /out HTTP/1\.1" 200 \d+ "-" "Go-http-client/1\.1" "` + resp.Header.Get("X-Request-ID") + `"\n`
	if !s.waitLog(want, 10*time.Second) {
		t.Errorf("no access line %q on standard output", want)
	}
	if strings.Contains(s.logs.String(), "\x1b[") {
		t.Error("colour codes written to a pipe")
	}
}

func TestAccessLogErrors(t *testing.T) {
	app := writeApp(t, "app.py", frontApp)
	missing := filepath.Join(t.TempDir(), "nosuch", "access.log")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--access-log", missing},
			"wsgo run: --access-log \"" + missing + "\": open " + missing + ": no such file or directory; its directory does not exist; create it, or give - for standard output"},
		{[]string{"--error-log", missing},
			"wsgo run: --error-log \"" + missing + "\": open " + missing + ": no such file or directory; its directory does not exist; create it, or give - for standard error"},
		{[]string{"--access-log", "-", "--access-log-format", "xml"}, `wsgo run: --access-log-format "xml": use combined or json`},
	} {
		code, out := cliExit(t, nil, append(append([]string{"run"}, tc.args...), app)...)
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d; want 2 and %q in:\n%s", tc.args, code, tc.want, out)
		}
	}
}

// frontOpenPTY opens a pseudo-terminal pair, so that wsgo's standard
// output can be a terminal.
func frontOpenPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatal(e)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// startOnTerminal runs `wsgo run --bind 127.0.0.1:0 ARGS...` with stdout
// on the terminal slave, stderr on stderr (the slave, or a buffer) and
// NO_COLOR unset; logs is where the test reads wsgo's log lines.
func startOnTerminal(t *testing.T, slave *os.File, stderr io.Writer, logs *logBuffer, args ...string) *server {
	s := &server{t: t, logs: logs, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, append([]string{"run", "--bind", "127.0.0.1:0"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NO_COLOR=") {
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	s.cmd.Stdout, s.cmd.Stderr = slave, stderr
	return awaitStart(t, s.run())
}

func TestAccessLogColoursOnATerminal(t *testing.T) {
	master, slave := frontOpenPTY(t)
	tty := newLogBuffer()
	go io.Copy(tty, master)

	staticDir := t.TempDir()
	os.WriteFile(filepath.Join(staticDir, "f.txt"), []byte("f"), 0o644)
	logs := newLogBuffer()
	s := startOnTerminal(t, slave, logs, logs, "--access-log", "-", "--static", "/s="+staticDir,
		writeApp(t, "front_app.py", frontApp))

	frontGet(t, s, "/ok")
	frontGet(t, s, "/s/f.txt", "If-None-Match", "*")
	frontGet(t, s, "/s/nosuch")
	frontGet(t, s, "/boom")
	for status, colour := range map[string]string{"200": "32", "304": "36", "404": "33", "500": "31"} {
		line := "\x1b\\[" + colour + `m127\.0\.0\.1 - - \[[^]]+\] "GET \S+ HTTP/1\.1" ` + status + ` [^\n]*"\x1b\[0m\r?\n`
		if _, ok := tty.waitFor(regexp.MustCompile(line), 10*time.Second, s.exited); !ok {
			t.Errorf("no %s line in colour %s on the terminal:\n%q", status, colour, tty.String())
		}
	}
}

func TestTerminalShowsAccessLinesByDefault(t *testing.T) {
	t.Run("stderr a terminal: coloured access lines without --access-log", func(t *testing.T) {
		master, slave := frontOpenPTY(t)
		tty := newLogBuffer()
		go io.Copy(tty, master)
		s := startOnTerminal(t, slave, slave, tty, writeApp(t, "front_app.py", frontApp))
		frontGet(t, s, "/ok")
		line := "\x1b\\[32m127\\.0\\.0\\.1 - - \\[[^]]+\\] \"GET /ok HTTP/1\\.1\" 200 [^\\n]*\x1b\\[0m\\r?\\n"
		if _, ok := tty.waitFor(regexp.MustCompile(line), 10*time.Second, s.exited); !ok {
			t.Errorf("no green access line on the terminal:\n%q", tty.String())
		}
	})
	t.Run("stderr not a terminal: no access lines without --access-log", func(t *testing.T) {
		s := start(t, nil, writeApp(t, "front_app.py", frontApp))
		frontGet(t, s, "/ok")
		s.stop(syscall.SIGTERM)
		if strings.Contains(s.logs.String(), `"GET /ok HTTP/1.1" 200`) {
			t.Errorf("an access line without --access-log on a non-terminal:\n%s", s.logs.String())
		}
	})
}

// A request refused on its declared Content-Length (413, its head read
// whole) is logged as any other: the client a trusted proxy names, and
// the request id.
func TestAccessLogOfARequestRefusedOnItsLength(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.json")
	s := frontStart(t, nil, "--access-log", path, "--access-log-format", "json", "--max-body-size", "100")
	got := s.raw("POST /p413 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.5\r\nX-Request-ID: r413\r\nContent-Length: 1000\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 413 ") || !strings.Contains(got, "\r\nX-Request-ID: r413\r\n") {
		t.Fatalf("got %q; want 413 with X-Request-ID r413", got)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(frontLogLines(t, path, 1)[0]), &line); err != nil {
		t.Fatal(err)
	}
	if line["remote_addr"] != "203.0.113.5" || line["request_id"] != "r413" || line["status"] != float64(413) {
		t.Errorf("logged %v; want remote_addr 203.0.113.5, request_id r413 and status 413", line)
	}
}
