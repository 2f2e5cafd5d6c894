package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// lendingApp answers with its worker's pid; /busy keeps the worker's
// Python busy for the query's seconds first.
const lendingApp = `
import os, time

def application(environ, start_response):
    if environ["PATH_INFO"] == "/busy":
        end = time.monotonic() + float(environ["QUERY_STRING"])
        while time.monotonic() < end:
            pass
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d" % os.getpid()]
`

// A new connection goes to the worker running fewest requests, not to
// the one holding fewest connections: a worker busy in a long request
// gets none while another is idle, though that one holds more.
func TestNewConnectionsGoToTheWorkerRunningFewestRequests(t *testing.T) {
	app := writeApp(t, "lending_app.py", lendingApp)
	s := start(t, nil, app, "--workers", "2")
	pidOn := func(c net.Conn, br *bufio.Reader, path string) string {
		t.Helper()
		status, body := getOn(t, c, br, path)
		if status != 200 {
			t.Fatalf("GET %s: %d %q", path, status, body)
		}
		return body
	}
	first, second := dial(t, s), dial(t, s)
	firstBr := bufio.NewReader(first)
	busyPid, idlePid := pidOn(first, firstBr, "/"), pidOn(second, bufio.NewReader(second), "/")
	if busyPid == idlePid {
		t.Fatalf("the first two connections both went to worker %s; want one each", busyPid)
	}
	io.WriteString(first, "GET /busy?3 HTTP/1.1\r\nHost: x\r\n\r\n") // answered at the end
	time.Sleep(300 * time.Millisecond)                               // the busy loop runs
	for i := 0; i < 3; i++ {
		// A worker counts a request out just after its response's last
		// byte: give the idle one that moment.
		time.Sleep(200 * time.Millisecond)
		c := dial(t, s)
		if pid := pidOn(c, bufio.NewReader(c), "/"); pid != idlePid {
			t.Fatalf("new connection %d went to worker %s, busy in a request; want %s, idle (connections held: %d against 1)", i+1, pid, idlePid, i+1)
		}
	}
	resp, err := http.ReadResponse(firstBr, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != busyPid {
		t.Errorf("the long request was answered %q; want worker %s's pid", body, busyPid)
	}
}
