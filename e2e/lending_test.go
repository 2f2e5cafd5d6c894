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

// stuckApp answers with its worker's pid; /sleep?S sleeps in Python
// first, /csleep?S in C with the GIL released, /gilsleep?S in C with the
// GIL held.
const stuckApp = `
import ctypes, os, time

released, held = ctypes.CDLL(None), ctypes.PyDLL(None)

def application(environ, start_response):
    path, secs = environ["PATH_INFO"], environ["QUERY_STRING"]
    if path == "/sleep":
        time.sleep(float(secs))
    elif path == "/csleep":
        released.sleep(int(secs))
    elif path == "/gilsleep":
        held.sleep(int(secs))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d" % os.getpid()]
`

// A request past --timeout gets 504 while its thread runs on: it still
// counts on its worker, whose load otherwise looked nil and drew new
// connections that could only wait (504) or be refused (503).
func TestNewConnectionsPassOverAWorkerStuckPastTimeout(t *testing.T) {
	t.Parallel() // long waits, little CPU: run beside the others (Makefile: -parallel 4)
	cases := []struct {
		name, threads, stuck string
		busyOther            int // requests of 1.5 s the other worker runs meanwhile
	}{
		{"its only thread sleeps in C", "1", "/csleep?20", 0},
		{"a thread keeps the GIL in C", "4", "/gilsleep?20", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, nil, writeApp(t, "stuck_app.py", stuckApp), "--workers", "2", "--threads", tc.threads, "--timeout", "2")
			first, second := dial(t, s), dial(t, s)
			br := bufio.NewReader(first)
			stuckPid, otherPid := pidOn(t, first, br, "/"), pidOn(t, second, bufio.NewReader(second), "/")
			if stuckPid == otherPid {
				t.Fatalf("the first two connections both went to worker %s; want one each", stuckPid)
			}
			if status, body := getOn(t, first, br, tc.stuck); status != 504 {
				t.Fatalf("GET %s: %d %q; want 504 at --timeout", tc.stuck, status, body)
			}
			if tc.stuck == "/gilsleep?20" && !s.waitLog(`its thread has held the GIL for over 1s in C code`, 5*time.Second) {
				t.Fatal("the GIL held in C was not reported")
			}
			var sleepers []*bufio.Reader
			for range tc.busyOther {
				c := dial(t, s)
				io.WriteString(c, "GET /sleep?1.5 HTTP/1.1\r\nHost: x\r\n\r\n")
				sleepers = append(sleepers, bufio.NewReader(c))
			}
			time.Sleep(200 * time.Millisecond) // they run
			for i := range 5 {
				c := dial(t, s)
				if status, body := getOn(t, c, bufio.NewReader(c), "/"); status != 200 || body != otherPid {
					t.Fatalf("new connection %d: %d %q; want 200 from worker %s (worker %s is stuck)", i+1, status, body, otherPid, stuckPid)
				}
			}
			for _, br := range sleepers {
				checkLongAnswer(t, br, otherPid)
			}
		})
	}
}
