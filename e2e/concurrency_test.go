package e2e

// Tests of how requests share wsgo's Python threads: --threads requests run
// at once, --queue-size more wait and the rest get 503, and the app's own
// threads keep running between requests.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ccResult is a response received in the background.
type ccResult struct {
	name   string
	status int
	header http.Header
	body   string
	err    error
}

// ccSend writes a GET for /NAME on a new connection before it returns, then
// reads the response in the background. The connection has a 40 s deadline.
func ccSend(t *testing.T, addr, name string) <-chan ccResult {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(40 * time.Second))
	if _, err := io.WriteString(c, "GET /"+name+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		c.Close()
		t.Fatal(err)
	}
	ch := make(chan ccResult, 1)
	go func() {
		defer c.Close()
		r := ccResult{name: name}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			r.err = err
			ch <- r
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.status, r.header, r.body, r.err = resp.StatusCode, resp.Header, string(b), err
		ch <- r
	}()
	return ch
}

// ccAwait waits for a background result.
func ccAwait(t *testing.T, ch <-chan ccResult, timeout time.Duration) ccResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(timeout):
		t.Fatalf("no response within %v", timeout)
		return ccResult{}
	}
}

func TestThreadsRunRequestsAtOnce(t *testing.T) {
	dir := cliData(t, "cli")
	tests := []struct {
		name       string
		threads    string
		timeout    string // the barrier's, in seconds
		allSucceed bool
	}{
		{"with --threads 4, four requests meet at a barrier of 4", "4", "10", true},
		{"with --threads 1, four requests cannot meet at a barrier of 4", "1", "2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, nil, filepath.Join(dir, "barrier_app.py"), "--threads", tc.threads,
				"--env", "BARRIER_TIMEOUT="+tc.timeout)
			var pending []<-chan ccResult
			for i := 0; i < 4; i++ {
				pending = append(pending, ccSend(t, s.Addr, "r"+strconv.Itoa(i)))
			}
			passed := 0
			for _, ch := range pending {
				r := ccAwait(t, ch, 30*time.Second)
				switch {
				case r.err != nil:
					t.Errorf("/%s: %v", r.name, r.err)
				case r.status == 200 && r.body == "passed\n":
					passed++
				case r.status == 504 && r.body == "the barrier broke\n":
				default:
					t.Errorf("/%s = %d %q; want 200 passed or 504 the barrier broke", r.name, r.status, r.body)
				}
			}
			if tc.allSucceed && passed != 4 {
				t.Errorf("%d of 4 requests passed the barrier; want all 4 running at once", passed)
			}
			if !tc.allSucceed && passed == 4 {
				t.Errorf("all 4 requests passed the barrier with one thread")
			}
		})
	}
}

func TestQueueBoundAnswers503(t *testing.T) {
	dir := cliData(t, "cli")
	tests := []struct {
		name string
		env  []string
		args []string
	}{
		{"--threads 1 --queue-size 1", nil, []string{"--threads", "1", "--queue-size", "1"}},
		{"WSGO_THREADS=1 WSGO_QUEUE_SIZE=1", []string{"WSGO_THREADS=1", "WSGO_QUEUE_SIZE=1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name+": one request runs, one waits, the next gets 503 with Retry-After", func(t *testing.T) {
			release := filepath.Join(t.TempDir(), "release")
			args := append([]string{filepath.Join(dir, "queue_app.py"), "--env", "RELEASE_FILE=" + release}, tc.args...)
			s := start(t, tc.env, args...)
			a := ccSend(t, s.Addr, "a")
			if !s.waitLog(`queue_app: a started`, 10*time.Second) {
				t.Fatal("request a did not reach the app")
			}
			// b must be in the queue before c is sent. Nothing shows when
			// it is: wsgo accepts connections in goroutines, whose order
			// is not the order of arrival, so give it a moment (a margin
			// for ordering, not a timing assertion).
			b := ccSend(t, s.Addr, "b")
			time.Sleep(200 * time.Millisecond)
			c := ccSend(t, s.Addr, "c")
			var refused, queued ccResult
			var waiting <-chan ccResult
			select {
			case refused = <-c:
				waiting = b
			case refused = <-b:
				t.Fatalf("b, sent first while a ran, was answered before c: %+v", refused)
			case <-time.After(10 * time.Second):
				t.Fatal("c was not refused while a ran and b filled the queue")
			}
			if refused.err != nil || refused.status != 503 {
				t.Errorf("/%s = %d (err %v); want 503", refused.name, refused.status, refused.err)
			}
			if ra := refused.header.Get("Retry-After"); ra == "" {
				t.Errorf("/%s's 503 has no Retry-After header (headers %v)", refused.name, refused.header)
			} else if _, err := strconv.Atoi(ra); err != nil {
				t.Errorf("/%s's Retry-After %q is not a number of seconds", refused.name, ra)
			}
			select {
			case r := <-a:
				t.Fatalf("a ended before it was released: %+v", r)
			case r := <-waiting:
				t.Fatalf("queued /%s ended before a was released: %+v", r.name, r)
			default:
			}
			if err := os.WriteFile(release, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			ra := ccAwait(t, a, 20*time.Second)
			if ra.err != nil || ra.status != 200 || ra.body != "a done\n" {
				t.Errorf("/a = %d %q (err %v); want 200 %q", ra.status, ra.body, ra.err, "a done\n")
			}
			queued = ccAwait(t, waiting, 20*time.Second)
			if want := queued.name + " done\n"; queued.err != nil || queued.status != 200 || queued.body != want {
				t.Errorf("queued /%s = %d %q (err %v); want 200 %q", queued.name, queued.status, queued.body, queued.err, want)
			}
		})
	}
}

func TestAppThreadsRunBetweenRequests(t *testing.T) {
	s := start(t, nil, filepath.Join(cliData(t, "cli"), "ticker_app.py"))
	count := func() int {
		t.Helper()
		resp, body := cliFetch(t, "GET", s.URL+"/", nil)
		n, err := strconv.Atoi(strings.TrimSpace(body))
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("GET / = %d %q; want 200 and a count", resp.StatusCode, body)
		}
		return n
	}
	// A request lasts far less than the 200 ms twenty ticks take, so a
	// growth of 20 between two requests happened while none was running.
	deadline := time.Now().Add(10 * time.Second)
	before := count()
	for {
		time.Sleep(500 * time.Millisecond)
		after := count()
		if after-before >= 20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app's daemon thread counted from %d only to %d in 500 ms with no request running; want 20 more",
				before, after)
		}
		before = after
	}
}

// C extensions rely on one Python thread state per OS thread
// (PyGILState_Ensure, which their callbacks call, finds it by thread): each
// request checks that it runs on its OS thread's own state, while requests
// overlap on many threads and stack dumps (SIGUSR2) enter Python from
// outside. A pythread moved between OS threads with one state fails it
// (docs/PERFORMANCE.md, "The hand-off itself", tried such moves).
func TestRequestsRunOnTheirOSThreadsOwnPythonThreadState(t *testing.T) {
	s := start(t, nil, filepath.Join(cliData(t, "cli"), "threadstate_app.py"), "--threads", "8")
	var pending []<-chan ccResult
	for round := range 10 {
		for i := range 12 {
			pending = append(pending, ccSend(t, s.Addr, fmt.Sprintf("r%d-%d?0.0%d", round, i, i%4)))
		}
		s.cmd.Process.Signal(syscall.SIGUSR2)
		for range 20 { // one at a time: each wakes an idle pythread
			if resp, body := cliFetch(t, "GET", s.URL+"/quick", nil); resp.StatusCode != 200 || body != "ok\n" {
				t.Fatalf("GET /quick = %d %q", resp.StatusCode, body)
			}
		}
	}
	for _, ch := range pending {
		if r := ccAwait(t, ch, 30*time.Second); r.err != nil || r.status != 200 || r.body != "ok\n" {
			t.Errorf("GET /%s = %d %q, %v; want 200 ok", r.name, r.status, r.body, r.err)
		}
	}
	if !s.waitLog(`Thread 0x[0-9a-f]+ \(wsgo thread \d+, serving request \d+: GET /r\d`, 10*time.Second) {
		t.Error("no stack dump named a request in flight")
	}
}

// A request whose client hangs up while it waits in the queue is dropped:
// the app never runs it, and its place in the queue goes to the next
// request at once (a load balancer that gave up, a user who reloaded).
func TestAQueuedRequestWhoseClientLeftIsDropped(t *testing.T) {
	s, release, a := startWithAHeldThread(t, "--queue-size", "1")
	b := requestB(t, s)
	time.Sleep(200 * time.Millisecond) // b reaches the queue (see TestQueueBoundAnswers503)
	b.Close()
	c := ccQueuedWithin(t, s.Addr, "c", 10*time.Second, "the queue still held b, whose client had left")
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		ch   <-chan ccResult
		name string
	}{{a, "a"}, {c, "c"}} {
		if r := ccAwait(t, want.ch, 20*time.Second); r.err != nil || r.status != 200 || r.body != want.name+" done\n" {
			t.Errorf("/%s = %d %q (err %v); want 200 %q", want.name, r.status, r.body, r.err, want.name+" done\n")
		}
	}
	if strings.Contains(s.logs.String(), "queue_app: b started") {
		t.Errorf("the app ran b, whose client had left while it was queued; output:\n%s", s.logs.String())
	}
}

// holdingApp is queue_app.py whose requests hold their thread past
// wsgo.RequestTimeout, which they swallow.
const holdingApp = `import os, time

def application(environ, start_response):
    name = environ["PATH_INFO"].strip("/")
    environ["wsgi.errors"].write("queue_app: %s started\n" % name)
    environ["wsgi.errors"].flush()
    deadline = time.monotonic() + 20
    while not os.path.exists(os.environ["RELEASE_FILE"]) and time.monotonic() < deadline:
        try:
            time.sleep(0.01)
        except BaseException:
            pass
    body = ("%s done\n" % name).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
`

// A client that half-closes its socket after its request (nc -N, some
// health checks) still reads: its request, queued a moment, is answered.
// It sends the FIN of a client that left, which counts only once the
// request has waited a second.
func TestAQueuedRequestOfAHalfClosedClientIsAnswered(t *testing.T) {
	s, release, a := startWithAHeldThread(t)
	b := requestB(t, s)
	b.(*net.TCPConn).CloseWrite()
	time.Sleep(300 * time.Millisecond) // three looks for hung-up clients while b waits
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ccAwait(t, a, 20*time.Second)
	got, _ := io.ReadAll(b)
	if !strings.HasPrefix(string(got), "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(string(got), "\r\n\r\nb done\n") {
		t.Errorf("the half-closed client got %q; want its 200 and \"b done\\n\"", got)
	}
}

// A request that runs past --timeout while it waits in the queue gets its
// 504 and frees its place at once, rather than when a thread comes to it.
func TestAQueuedRequestThatTimesOutFreesItsPlace(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	s := start(t, nil, writeApp(t, "holding_app.py", holdingApp), "--env", "RELEASE_FILE="+release,
		"--threads", "1", "--queue-size", "1", "--timeout", "1")
	a := ccSend(t, s.Addr, "a")
	if !s.waitLog(`queue_app: a started`, 10*time.Second) {
		t.Fatal("request a did not reach the app")
	}
	time.Sleep(200 * time.Millisecond) // b is sent after a holds the thread (see TestQueueBoundAnswers503)
	if r := ccAwait(t, ccSend(t, s.Addr, "b"), 10*time.Second); r.err != nil || r.status != 504 {
		t.Fatalf("queued /b = %d (err %v); want 504 at --timeout", r.status, r.err)
	}
	if !s.waitLog(`WARNING\] wsgo: request reached --timeout while it waited for a free Python thread; the app never ran it request=\w+ method=GET path=/b`, 10*time.Second) {
		t.Error("no log line for b's timeout in the queue")
	}
	// a holds the thread past its own timeout, until released.
	c := ccQueuedWithin(t, s.Addr, "c", 5*time.Second, "the queue still held b, which had timed out")
	os.WriteFile(release, nil, 0o644)
	ccAwait(t, a, 20*time.Second)
	if r := ccAwait(t, c, 20*time.Second); r.err != nil || r.status != 200 || r.body != "c done\n" {
		t.Errorf("/c = %d %q (err %v); want 200 \"c done\\n\"", r.status, r.body, r.err)
	}
	if strings.Contains(s.logs.String(), "queue_app: b started") {
		t.Errorf("the app ran b after its timeout; output:\n%s", s.logs.String())
	}
}

// startWithAHeldThread serves queue_app.py with --threads 1 and flags, and
// sends /a, which holds the thread until the file release is written.
func startWithAHeldThread(t *testing.T, flags ...string) (s *server, release string, a <-chan ccResult) {
	t.Helper()
	release = filepath.Join(t.TempDir(), "release")
	s = start(t, nil, append([]string{filepath.Join(cliData(t, "cli"), "queue_app.py"), "--env", "RELEASE_FILE=" + release,
		"--threads", "1"}, flags...)...)
	a = ccSend(t, s.Addr, "a")
	if !s.waitLog(`queue_app: a started`, 10*time.Second) {
		t.Fatal("request a did not reach the app")
	}
	return s, release, a
}

// requestB sends GET /b on a connection of its own, which it returns (it
// closes at the test's end, with a 20 s deadline).
func requestB(t *testing.T, s *server) net.Conn {
	t.Helper()
	b, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	b.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(b, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	return b
}

// ccQueuedWithin sends /NAME until it is queued rather than refused with
// 503 (a refusal comes at once; a queued request waits), for up to
// within; why says what a refusal all along means.
func ccQueuedWithin(t *testing.T, addr, name string, within time.Duration, why string) <-chan ccResult {
	t.Helper()
	for deadline := time.Now().Add(within); ; {
		sent := ccSend(t, addr, name)
		select {
		case r := <-sent:
			if r.err != nil || r.status != 503 {
				t.Fatalf("/%s = %d (err %v); want 503 or a wait in the queue", name, r.status, r.err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("/%s was refused for %v: %s", name, within, why)
			}
			time.Sleep(50 * time.Millisecond)
		case <-time.After(300 * time.Millisecond):
			return sent
		}
	}
}

// A request whose client left while the app runs it is still under
// --timeout: its thread gets wsgo.RequestTimeout and serves again. The
// client's leaving ends the request's context, which once took the
// timeout's timer with it (HTTP/1 hang-ups, HTTP/2 resets).
func TestARequestWhoseClientLeftIsStillUnderTimeout(t *testing.T) {
	app := writeApp(t, "spin.py", `import time

def application(environ, start_response):
    if environ["PATH_INFO"] == "/spin":
        environ["wsgi.errors"].write("spin started\n")
        environ["wsgi.errors"].flush()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pass
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
`)
	for _, tc := range []struct {
		name  string
		leave func(t *testing.T, s *server)
	}{
		{"HTTP/1.1, the connection closed", func(t *testing.T, s *server) {
			c, err := net.Dial("tcp", s.Addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "GET /spin HTTP/1.1\r\nHost: x\r\n\r\n")
			if !s.waitLog(`spin started`, 10*time.Second) {
				t.Fatal("/spin did not reach the app")
			}
			c.Close()
		}},
		{"h2c, the stream reset", func(t *testing.T, s *server) {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/spin", nil)
			go func() {
				if s.waitLog(`spin started`, 10*time.Second) {
					cancel() // the client resets its stream
				}
			}()
			if resp, err := h2cClient().Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("/spin answered %s before its client left", resp.Status)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, nil, app, "--threads", "1", "--timeout", "1")
			tc.leave(t, s)
			if !s.waitLog(`request ran past --timeout; raising wsgo.RequestTimeout in its thread.* path=/spin`, 10*time.Second) {
				t.Fatalf("no timeout for /spin, whose client left; output:\n%s", s.logs.String())
			}
			if r := ccAwait(t, ccSend(t, s.Addr, "ok"), 10*time.Second); r.err != nil || r.status != 200 || r.body != "ok" {
				t.Errorf("/ok after the timeout = %d %q (err %v); want 200 \"ok\": the thread is free again", r.status, r.body, r.err)
			}
		})
	}
}
