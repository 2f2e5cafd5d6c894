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

// rawConn is a keep-alive client connection read one response at a time.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(requests string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, requests); err != nil {
		r.t.Fatal(err)
	}
}

// answer reads one response and returns its body: the worker's pid.
func (r *rawConn) answer() string {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		r.t.Fatalf("status %d, body %q, err %v", resp.StatusCode, body, err)
	}
	return string(body)
}

func (r *rawConn) get(path string) string {
	r.t.Helper()
	r.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
	return r.answer()
}

// A new connection goes to the worker running fewest requests, not to
// the one holding fewest connections: a worker busy in a long request
// gets none while another is idle, though that one holds more.
func TestNewConnectionsGoToTheWorkerRunningFewestRequests(t *testing.T) {
	app := writeApp(t, "lending_app.py", lendingApp)
	s := start(t, nil, app, "--workers", "2")
	first, second := dialRaw(t, s.Addr), dialRaw(t, s.Addr)
	busyPid, idlePid := first.get("/"), second.get("/")
	if busyPid == idlePid {
		t.Fatalf("the first two connections both went to worker %s; want one each", busyPid)
	}
	first.send("GET /busy?3 HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(300 * time.Millisecond) // the busy loop runs
	for i := 0; i < 3; i++ {
		// A worker counts a request out just after its response's last
		// byte: give the idle one that moment.
		time.Sleep(200 * time.Millisecond)
		c := dialRaw(t, s.Addr)
		if pid := c.get("/"); pid != idlePid {
			t.Fatalf("new connection %d went to worker %s, busy in a request; want %s, idle (connections held: %d against 1)", i+1, pid, idlePid, i+1)
		}
	}
	if pid := first.answer(); pid != busyPid {
		t.Errorf("the long request was answered by worker %s; want %s", pid, busyPid)
	}
}
