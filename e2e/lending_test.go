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
	s, firstBr, busyPid, idlePid := oneWorkerBusy(t)
	for i := 0; i < 3; i++ {
		// A worker counts a request out just after its response's last
		// byte: give the idle one that moment.
		time.Sleep(200 * time.Millisecond)
		c := dial(t, s)
		if pid := pidOn(t, c, bufio.NewReader(c), "/"); pid != idlePid {
			t.Fatalf("new connection %d went to worker %s, busy in a request; want %s, idle (connections held: %d against 1)", i+1, pid, idlePid, i+1)
		}
	}
	checkLongAnswer(t, firstBr, busyPid)
}

// Connections that come together while a worker runs a request are shared
// between the workers: one lent and not yet heard from counts as a request
// to come. They all went to the worker that ran none when the burst began,
// as its count of running requests did not move while they were lent.
func TestABurstOfNewConnectionsIsShared(t *testing.T) {
	s, firstBr, busyPid, idlePid := oneWorkerBusy(t)
	burst := make([]net.Conn, 6)
	for i := range burst {
		burst[i] = dial(t, s)
	}
	time.Sleep(500 * time.Millisecond) // all lent before any speaks
	served := map[string]int{}
	for _, c := range burst {
		served[pidOn(t, c, bufio.NewReader(c), "/")]++
	}
	// Idle B, then busy A (1 running, 1 held) and B (1 lent, 2 held)
	// alternate: the tie goes to the worker holding fewer connections.
	if served[busyPid] != 3 || served[idlePid] != 3 {
		t.Errorf("a burst of 6 connections went %d to busy worker %s and %d to idle worker %s; want 3 each",
			served[busyPid], busyPid, served[idlePid], idlePid)
	}
	checkLongAnswer(t, firstBr, busyPid)
}

// oneWorkerBusy starts 2 workers, gives each a connection, and sends a
// request of 3 s on the busy one's, whose reader is br (checkLongAnswer
// reads the answer); it returns once that request runs.
func oneWorkerBusy(t *testing.T) (s *server, br *bufio.Reader, busyPid, idlePid string) {
	t.Helper()
	app := writeApp(t, "lending_app.py", lendingApp)
	s = start(t, nil, app, "--workers", "2")
	first, second := dial(t, s), dial(t, s)
	br = bufio.NewReader(first)
	busyPid, idlePid = pidOn(t, first, br, "/"), pidOn(t, second, bufio.NewReader(second), "/")
	if busyPid == idlePid {
		t.Fatalf("the first two connections both went to worker %s; want one each", busyPid)
	}
	io.WriteString(first, "GET /busy?3 HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(300 * time.Millisecond) // the busy loop runs
	return s, br, busyPid, idlePid
}

// pidOn GETs path on the raw connection c and returns the body, the pid of
// the worker that answered.
func pidOn(t *testing.T, c net.Conn, br *bufio.Reader, path string) string {
	t.Helper()
	status, body := getOn(t, c, br, path)
	if status != 200 {
		t.Fatalf("GET %s: %d %q", path, status, body)
	}
	return body
}

// checkLongAnswer reads the answer to the /busy request sent on br's
// connection: worker pid's.
func checkLongAnswer(t *testing.T, br *bufio.Reader, pid string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != pid {
		t.Errorf("the long request was answered %q; want worker %s's pid", body, pid)
	}
}
