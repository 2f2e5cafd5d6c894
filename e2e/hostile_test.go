package e2e

// Apps that misbehave the way real ones do by mistake (issue 12): none
// may crash or wedge a worker for good.

import (
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

// startHostile serves testdata/hostile/app.py with flags.
func startHostile(t *testing.T, env []string, flags ...string) *server {
	t.Helper()
	app, err := filepath.Abs(filepath.Join("testdata", "hostile", "app.py"))
	if err != nil {
		t.Fatal(err)
	}
	return start(t, append(env, "PYTHONDONTWRITEBYTECODE=1"), append([]string{app}, flags...)...)
}

// A request spinning in C with the GIL held: the client gets 504, the log
// names the request at once and says why there is no stack, requests
// meanwhile are refused at once instead of timing out, and the worker is
// replaced once --graceful-timeout has passed since the timeout.
func TestRequestHoldingTheGILInCIsReportedAndItsWorkerReplaced(t *testing.T) {
	s := startHostile(t, nil, "--timeout", "1", "--graceful-timeout", "2", "--threads", "2")
	pid := readyPids(s)["1"]
	if resp, _ := s.get("/regex"); resp.StatusCode != 504 {
		t.Fatalf("status %d; want 504", resp.StatusCode)
	}
	if !s.waitLog(`wsgo: request ran past --timeout; raising wsgo.RequestTimeout in its thread request=\S+ method=GET path=/regex\nits thread has held the GIL for over 1s in C code, so no Python stack can be shown`, 5*time.Second) {
		t.Fatal("the timeout of the request was not logged")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 && resp.StatusCode != 200 {
		t.Errorf("a request while the GIL is held got %d; want 503 (or 200 from a new worker)", resp.StatusCode)
	}
	if !s.waitLog(`a Python thread is still stuck in a request that timed out request=\S+ path=/regex`, 10*time.Second) ||
		!s.waitLog(`wsgo: worker 1 \(pid `+strconv.Itoa(pid)+`\) asks to be replaced: a Python thread stays stuck`, 10*time.Second) {
		t.Fatal("the stuck thread was not reported")
	}
	if !s.waitLog(`wsgo: worker 1 \(pid `+strconv.Itoa(pid)+`\) (exited|still running)`, 15*time.Second) {
		t.Fatal("the stuck worker was not replaced")
	}
	if _, body := s.get("/"); body == "pid "+strconv.Itoa(pid) || readyPids(s)["1"] == pid {
		t.Errorf("after the replacement: %q from worker pids %v", body, readyPids(s))
	}
}

// A request past --timeout whose body is done but whose close() runs on
// is not interrupted there (close() releases what the app holds), and the
// log says so, with the stack that shows where close() is.
func TestATimeoutInCloseShowsItsStack(t *testing.T) {
	s := startHostile(t, nil, "--timeout", "1")
	if resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(s.URL + "/slow-close?3"); err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if !s.waitLog(`request ran past --timeout; raising wsgo.RequestTimeout in its thread request=\S+ method=GET path=/slow-close\?3\n`+
		`its Python stack was:\n\(the body is done; its thread is in the response's close\(\), which is not interrupted, `+
		`so that it releases what the app holds\)\n(.*\n)*.*in close\n`, 10*time.Second) {
		t.Fatal("the timeout in close() was not logged with its stack")
	}
}

// Without --timeout, a request whose C code keeps the GIL stops every
// other request of its worker: that is logged within seconds, naming it,
// and again when it lets go; the requests that waited are then served.
func TestAThreadKeepingTheGILIsLoggedWithoutTimeout(t *testing.T) {
	s := startHostile(t, nil)
	held := make(chan int, 1)
	go func() { // s.get would end the test from this goroutine
		resp, err := http.Get(s.URL + "/hold-gil?4")
		if err != nil {
			held <- 0
			return
		}
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	if !s.waitLog(`wsgo: a Python thread has held the GIL for over 1s in C code: no other request of this worker runs `+
		`until it lets go; past 30s \(--graceful-timeout\) the worker is replaced; --timeout would cut such a request sooner `+
		`running="request \d+: GET /hold-gil\?4"`, 10*time.Second) {
		t.Fatal("the thread keeping the GIL was not logged")
	}
	if resp, body := s.get("/"); resp.StatusCode != 200 || !strings.HasPrefix(body, "pid ") {
		t.Errorf("a request that waited for the GIL got %d %q", resp.StatusCode, body)
	}
	if code := <-held; code != 200 {
		t.Errorf("/hold-gil got %d", code)
	}
	if !s.waitLog(`wsgo: the GIL is free again, after \d+\.\ds`, 5*time.Second) {
		t.Error("the GIL's release was not logged")
	}
}

// Without --timeout, a thread that keeps the GIL in C code for good (a
// regular expression that backtracks) would stop its worker for good: past
// --graceful-timeout the worker is replaced, and until then the requests
// it has not begun get 503 rather than wait.
func TestAThreadKeepingTheGILForGoodReplacesItsWorkerWithoutTimeout(t *testing.T) {
	s := startHostile(t, nil, "--graceful-timeout", "2", "--threads", "2")
	pid := readyPids(s)["1"]
	go func() { // s.get would end the test from this goroutine
		if resp, err := (&http.Client{Timeout: 60 * time.Second}).Get(s.URL + "/regex"); err == nil {
			resp.Body.Close()
		}
	}()
	if !s.waitLog(`wsgo: a Python thread has held the GIL in C code for 2s \(--graceful-timeout\): replacing the worker; `+
		`requests it has not begun get 503 meanwhile; set --timeout to cut such a request sooner running="request \d+: GET /regex"`, 10*time.Second) ||
		!s.waitLog(`wsgo: worker 1 \(pid `+strconv.Itoa(pid)+`\) asks to be replaced: a Python thread keeps the GIL in C code`, 5*time.Second) {
		t.Fatal("the thread keeping the GIL did not get its worker replaced")
	}
	if !s.waitLog(`wsgo: worker 1 \(pid `+strconv.Itoa(pid)+`\) (exited|still running)`, 15*time.Second) {
		t.Fatal("the wedged worker was not replaced")
	}
	if resp, body := s.get("/"); resp.StatusCode != 200 || body == "pid "+strconv.Itoa(pid) {
		t.Errorf("after the replacement: %d %q; want 200 from a new worker (not pid %d)", resp.StatusCode, body, pid)
	}
}

// An app that ends its worker with os._exit(4) mid-request is not taken
// for one that failed to import (4 is wsgo's code for that): the log says
// what ended it, and the client gets 502.
func TestAnAppEndingItsWorkerWithCode4IsNotAnImportError(t *testing.T) {
	s := startHostile(t, nil)
	pid := readyPids(s)["1"]
	if resp, _ := s.get("/os-exit?4"); resp.StatusCode != 502 {
		t.Errorf("status %d; want 502 from the master", resp.StatusCode)
	}
	if !s.waitLog(`wsgo: worker 1 \(pid `+strconv.Itoa(pid)+`\) exited: exit code 4 \(after the app was imported: its own code `+
		`ended the process, with os\._exit\(4\) or a C extension's exit\(4\)\); 1 request\(s\) it was running got 502`, 10*time.Second) {
		t.Fatal("the exit was not described as the app's")
	}
}

// PYTHON* variables of the environment do not configure the server's
// interpreter (PYTHONOPTIMIZE would strip the app's asserts, PYTHONVERBOSE
// floods the log), except PYTHONPATH and PYTHONDONTWRITEBYTECODE, which a
// deployment sets on purpose.
func TestPythonVariablesOfTheEnvironmentAreIgnoredButPYTHONPATH(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "from_pythonpath.py"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startHostile(t, []string{"PYTHONOPTIMIZE=2", "PYTHONVERBOSE=1", "PYTHONPATH=" + dir})
	if _, body := s.get("/flags"); body != "optimize=0 verbose=0 module on PYTHONPATH found" {
		t.Fatalf("got %q", body)
	}
	if _, err := os.Stat(filepath.Join(dir, "__pycache__")); !os.IsNotExist(err) {
		t.Errorf("PYTHONDONTWRITEBYTECODE=1 was not honoured: %v", err)
	}
}

// An app's handlers for signals wsgo does not use run on Python's main
// thread when the signal comes; an exception in one is logged. A handler
// for a signal wsgo uses is refused at install, saying why.
func TestAppSignalHandlersRunAndWsgosSignalsAreNotInstalled(t *testing.T) {
	app, err := filepath.Abs(filepath.Join("testdata", "hostile", "signals_app.py"))
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, []string{"PYTHONDONTWRITEBYTECODE=1"}, app)
	pid := readyPids(s)["1"]
	refused := "SIGTERM: RuntimeWarning: wsgo uses SIGTERM to stop a worker gracefully, so the app's handler is " +
		"not installed: for cleanup when a worker stops, use atexit.register(); handlers for other signals " +
		"(SIGUSR2, SIGALRM, SIGWINCH, SIGRTMIN+n) run on Python's main thread"
	want := func(n int) string { return fmt.Sprintf("pid %d usr2=%d; %s", pid, n, refused) }
	if _, body := s.get("/"); body != want(0) {
		t.Fatalf("got  %q\nwant %q", body, want(0))
	}
	syscall.Kill(pid, syscall.SIGUSR2)
	var body string
	for deadline := time.Now().Add(10 * time.Second); body != want(1); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the SIGUSR2 handler did not run: %q", body)
		}
		_, body = s.get("/")
	}
	if _, body := s.get("/in-request"); body != "signal.signal() works only in Python's main thread, and wsgo runs each request "+
		"on a thread of its own: install the handler when the app is imported (at module level, not in a module that a request imports "+
		"or reloads); it then runs on the main thread when the signal comes" {
		t.Errorf("signal.signal() in a request: %q", body)
	}
	syscall.Kill(pid, syscall.SIGALRM)
	if !s.waitLog(`wsgo: the app's handler for SIGALRM raised an exception\n(.*\n)*RuntimeError: the SIGALRM handler failed`, 10*time.Second) {
		t.Error("the exception of the SIGALRM handler was not logged")
	}
	if _, body := s.get("/"); body != want(1) || readyPids(s)["1"] != pid {
		t.Errorf("after the signals: %q from workers %v", body, readyPids(s))
	}
}

// An app that closes fds 0 to 2 frees their numbers. The next sockets lent
// to the worker must not take them: print() and wsgo's own log would then
// write into other clients' responses (one client received another's
// path, query and traceback).
func TestAppClosingItsStandardStreamsLeaksNothingToClients(t *testing.T) {
	s := startHostile(t, nil, "--threads", "1")
	if resp, body := s.get("/close-stdio"); resp.StatusCode != 200 {
		t.Fatalf("/close-stdio: %d %q", resp.StatusCode, body)
	}
	var held []net.Conn
	for range 3 { // enough to take fds 0 to 2 if they were free for sockets
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	// The master lends a connection as it accepts it: make sure the worker
	// holds the three before anything is written.
	if resp, _ := s.get("/"); resp.StatusCode != 200 {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	s.get("/print?printed-secret")
	if resp, _ := s.get("/raise?raised-secret"); resp.StatusCode != 500 {
		t.Fatalf("/raise: %d, want 500", resp.StatusCode)
	}
	if !s.waitLog(`ValueError: raised-secret`, 5*time.Second) {
		t.Error("the app's exception did not reach wsgo's log")
	}
	for i, c := range held {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		got, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(got), "HTTP/1.1 200 OK\r\n") || strings.Contains(string(got), "secret") {
			t.Errorf("connection %d received %q; want only its own response", i+1, got)
		}
	}
}

// A process the app forks is one thread of a Go program: it cannot run
// on into wsgo, where it waited for ever on Go's missing threads (and the
// parent's request with it). It is ended at the first call into Go, its
// exception printed, with its SystemExit code or 1.
func TestAForkedChildThatRunsOnIntoWsgoExits(t *testing.T) {
	s := startHostile(t, nil)
	for _, tc := range []struct{ how, want, log string }{
		{"raise", "child exited with 1", `RuntimeError: raised in the forked child\n`},
		{"exit-3", "child exited with 3", ""},
		{"return", "child exited with 1", ""},
	} {
		t.Run(tc.how, func(t *testing.T) {
			client := &http.Client{Timeout: 20 * time.Second}
			resp, err := client.Get(s.URL + "/fork?" + tc.how)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != tc.want {
				t.Errorf("%d %q; want 200 %q", resp.StatusCode, body, tc.want)
			}
			code := strings.TrimPrefix(tc.want, "child exited with ")
			if !s.waitLog(tc.log+`wsgo: a process the app forked \(pid \d+\) ran on into wsgo, which a forked child cannot do; `+
				`it exits with `+code+`\. End a forked child with os\._exit\(\), or use subprocess or multiprocessing\.`, 5*time.Second) {
				t.Error("the child's end was not reported")
			}
		})
	}
	if resp, body := s.get("/"); resp.StatusCode != 200 || !strings.HasPrefix(body, "pid ") {
		t.Errorf("after the forks: %d %q", resp.StatusCode, body)
	}
}

// A multiprocessing child the app starts from a request ends as a child
// of a Python program does. Its exit code was 1 whatever it did on Python
// 3.10 to 3.12 once threading had seen the request's thread (which
// logging does): threading made it the child's main thread without the
// lock its shutdown asserts on. And it inherited Go's signal handlers,
// which queue a signal for goroutines it does not have: terminate() did
// nothing, and a join() waited for ever. A child has the signal
// dispositions of a Python process: the default action (the worker's
// SIGINT and SIGHUP, which it drops for the master's sake, included),
// SIGPIPE ignored, the handlers the app set (SIGUSR2, which Go relays in
// the worker), and signal.signal() of its own, even for signals wsgo
// keeps in the worker.
func TestAMultiprocessingChildEndsAsInPython(t *testing.T) {
	s := startHostile(t, nil)
	for _, tc := range []struct{ how, want string }{
		{"return", "exit code 0"},
		{"exit-3", "exit code 3"},
		{"TERM", "exit code -15"},
		{"INT", "exit code -2"},
		{"HUP", "exit code -1"},
		{"QUIT", "exit code -3"},
		{"USR2-handled", "exit code 42"},
		{"TERM-handled", "exit code 7"},
		{"write-to-closed-pipe", "exit code 32"},
	} {
		t.Run(tc.how, func(t *testing.T) {
			if resp, body := s.get("/fork-child?" + tc.how); resp.StatusCode != 200 || body != tc.want {
				t.Errorf("%d %q; want 200 %q", resp.StatusCode, body, tc.want)
			}
		})
	}
	// The worker itself still drops SIGINT and SIGHUP, and SIGUSR2 runs
	// its handler there, whose SystemExit is logged.
	pid := readyPids(s)["1"]
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR2} {
		if err := syscall.Kill(pid, sig); err != nil {
			t.Fatal(err)
		}
	}
	if !s.waitLog(`the app's handler for SIGUSR2 raised an exception`, 5*time.Second) {
		t.Error("SIGUSR2's handler did not run in the worker")
	}
	if resp, body := s.get("/"); resp.StatusCode != 200 || body != fmt.Sprintf("pid %d", pid) {
		t.Errorf("after the signals: %d %q; want the same worker, pid %d", resp.StatusCode, body, pid)
	}
}

// A child the app forks and signals as soon as fork returns (as
// Pool.terminate() may, right after forking a worker) ends: the signal
// waits, blocked, for the child's own handlers. It reached Go's handlers,
// which the child had not yet replaced, and was lost: a Pool('fork')
// request waited for ever in terminate()'s join, about once in 80.
func TestAChildSignalledAsSoonAsItIsForkedEnds(t *testing.T) {
	s := startHostile(t, nil)
	if resp, body := s.get("/fork-killed-at-once"); resp.StatusCode != 200 || body != "0 of 20 lived on" {
		t.Errorf("%d %q; want 200 \"0 of 20 lived on\"", resp.StatusCode, body)
	}
}

// An app that closes the worker's channel to the master (a careless
// os.closerange) cut it off: the master went on lending it connections
// that hung for ever. The master sees the channel fail, kills the worker
// and replaces it.
// A write to a closed socket from a thread the app started (not one of
// Go's) is BrokenPipeError, as under python3: SIGPIPE used to end the
// worker there.
func TestABrokenPipeInAnAppsThreadIsBrokenPipeError(t *testing.T) {
	s := start(t, nil, writeApp(t, "pipe.py", `import socket, threading
def application(environ, start_response):
    a, b = socket.socketpair()
    b.close()
    got = []
    def send():
        try:
            for _ in range(3):
                a.send(b"x" * 65536)
            got.append("sent")
        except BrokenPipeError:
            got.append("BrokenPipeError")
    t = threading.Thread(target=send)
    t.start()
    t.join()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [got[0].encode()]
`))
	for i := 0; i < 2; i++ {
		if resp, body := s.get("/"); resp.StatusCode != 200 || body != "BrokenPipeError" {
			t.Fatalf("request %d: %d %q; want 200 \"BrokenPipeError\"", i, resp.StatusCode, body)
		}
	}
	if strings.Contains(s.logs.String(), "exited") {
		t.Errorf("a worker exited:\n%s", s.logs.String())
	}
}

func TestAWorkerCutOffFromTheMasterIsReplaced(t *testing.T) {
	s := startHostile(t, nil, "--threads", "1")
	old := readyPids(s)["1"]
	quick := &http.Client{Timeout: 3 * time.Second}
	if resp, err := quick.Get(s.URL + "/close-channel"); err == nil {
		resp.Body.Close() // the worker may or may not still answer it
	}
	if !s.waitLog(`wsgo: worker 1 \(pid `+strconv.Itoa(old)+`\) lost its channel to the master, yet runs on`, 10*time.Second) {
		t.Fatal("the master did not notice the lost channel")
	}
	deadline := time.Now().Add(15 * time.Second)
	for readyPids(s)["1"] == old && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if readyPids(s)["1"] == old {
		t.Fatal("no new worker within 15 s")
	}
	resp, err := quick.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "pid "+strconv.Itoa(readyPids(s)["1"]) {
		t.Errorf("after the replacement: %d %q; want 200 from the new worker", resp.StatusCode, body)
	}
}

// lingeringApp starts a thread that never ends, and a daemon one; with
// STUCK_AT_EXIT set, it has no such thread but an atexit handler that
// never returns.
const lingeringApp = `import atexit, os, threading, time

def loop():
    while True:
        time.sleep(0.05)

if os.environ.get("STUCK_AT_EXIT"):
    atexit.register(time.sleep, 3600)
else:
    threading.Thread(target=loop, name="poller").start()
threading.Thread(target=loop, name="helper", daemon=True).start()

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
`

// Python's finalization waits for the app's threads that are not daemons:
// at a stop, the worker is stopped at --graceful-timeout, and the log names
// each such thread with the line it ran, and the fix. When no thread is
// to blame, it says what else can keep finalization waiting.
func TestWhatKeepsPythonsFinalizationWaitingIsNamed(t *testing.T) {
	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"a thread that is not a daemon", nil, "these ran on: 'poller' at %s line 5, in loop. " +
			"Start such a thread with daemon=True (threading.Thread(..., daemon=True)), or make it return when the app stops"},
		{"an atexit handler that never returns", []string{"STUCK_AT_EXIT=1"}, "no thread of the app that Python waits for " +
			"was running when it began, so an atexit handler or an object's __del__ of the app may not return"},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := writeApp(t, "lingering_app.py", lingeringApp)
			s := start(t, c.env, app, "--graceful-timeout", "1")
			if resp, body := s.get("/"); resp.StatusCode != 200 || body != "ok" {
				t.Fatalf("GET /: %d %q", resp.StatusCode, body)
			}
			s.stop(syscall.SIGTERM)
			logs := s.logs.String()
			want := c.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, app)
			}
			if !strings.Contains(logs, want) {
				t.Errorf("the log does not say %q:\n%s", want, logs)
			}
			if strings.Contains(logs, "'helper'") {
				t.Errorf("the log names the daemon thread 'helper':\n%s", logs)
			}
		})
	}
}

// A thread that a request starts is no daemon, as one started on Python's
// main thread is not: the stop waits for it to finish its work. It used
// to inherit daemon from wsgo's thread and was killed at the stop.
func TestAThreadARequestStartsFinishesItsWorkAtTheStop(t *testing.T) {
	done := filepath.Join(t.TempDir(), "done")
	app := writeApp(t, "thread_app.py", `import threading, time

def work(path):
    time.sleep(1)
    with open(path, "w") as f:
        f.write("sent")

def application(environ, start_response):
    t = threading.Thread(target=work, args=(environ["QUERY_STRING"],))
    t.start()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"daemon=%r" % t.daemon]
`)
	s := start(t, nil, app, "--graceful-timeout", "10")
	if resp, body := s.get("/?" + done); resp.StatusCode != 200 || body != "daemon=False" {
		t.Fatalf("GET: %d %q; want 200 \"daemon=False\"", resp.StatusCode, body)
	}
	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d; want 0", code)
	}
	if got, err := os.ReadFile(done); err != nil || string(got) != "sent" {
		t.Errorf("the thread's work: %q, %v; want \"sent\" written before the exit", got, err)
	}
}

// Without --timeout nothing cuts a request that never ends: once every
// thread has run the same one for 10 s while others wait, the log says
// so, naming them and the fix. Requests used to wait in silence.
func TestEveryThreadHeldWhileRequestsWaitIsLogged(t *testing.T) {
	t.Parallel() // long waits, little CPU: run beside the others (Makefile: -parallel 4)
	s := start(t, nil, writeApp(t, "held_app.py", `import time

def application(environ, start_response):
    time.sleep(float(environ["QUERY_STRING"] or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
`), "--threads", "2")
	for _, path := range []string{"/?60", "/?60", "/"} {
		c := dial(t, s)
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
	}
	warning := `\[WARNING\] wsgo: requests wait for a Python thread: all 2 have run the same requests for over 10s; ` +
		`set --timeout SECONDS to cut requests that run too long, or raise --threads if they wait on I/O ` +
		`running="request \d+: GET /\?60 \(for 1\ds\); request \d+: GET /\?60 \(for 1\ds\)" waiting=1`
	if !s.waitLog(warning, 15*time.Second) {
		t.Errorf("no warning matching %s", warning)
	}
}
