package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The master's signals while workers import the app, and SIGQUIT.

// hangingImport is an app whose import never ends.
const hangingImport = "import time\ntime.sleep(1000)\n"

// secondImportHangs is an app that imports at once the first time and
// hangs in every later import (a replacement's), by a file beside it. Its
// /slow writes the file "running" beside it, then takes 2 s.
const secondImportHangs = `import os, time
_here = os.path.dirname(os.path.abspath(__file__))
if os.path.exists(os.path.join(_here, "imported")):
    time.sleep(1000)
open(os.path.join(_here, "imported"), "w").close()

def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        open(os.path.join(_here, "running"), "w").write("yes")
        time.sleep(2)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"served"]
`

// alive reports whether process pid exists (and is not a zombie).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

// startedPid waits for the start line of worker id's process other than
// notPid, and returns its pid.
func startedPid(t *testing.T, s *server, id, notPid int) int {
	t.Helper()
	started := regexp.MustCompile(fmt.Sprintf(`worker %d \(pid (\d+)\) started`, id))
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range started.FindAllStringSubmatch(s.logs.String(), -1) {
			if pid, _ := strconv.Atoi(m[1]); pid != notPid {
				return pid
			}
		}
	}
	t.Fatalf("no worker %d started; output:\n%s", id, s.logs.String())
	return 0
}

// awaitExit fails the test unless s exits with code want within 15 s; it
// should have done what says.
func awaitExit(t *testing.T, s *server, want int, what string) {
	t.Helper()
	code, ok := s.wait(15 * time.Second)
	if !ok {
		t.Fatalf("wsgo did not exit within 15 s; it should %s", what)
	}
	if code != want {
		t.Errorf("exit code %d; want %d (%s)", code, want, what)
	}
}

// killAtEnd kills pids when the test ends, before its server is stopped:
// a worker that outlived its master would hold the output pipe open.
func killAtEnd(t *testing.T, pids ...int) {
	t.Cleanup(func() {
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

func TestStopSignalWhileTheAppImports(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			app := writeApp(t, "hang.py", hangingImport)
			s := launch(t, nil, app, "--workers", "2", "--graceful-timeout", "60")
			pids := []int{startedPid(t, s, 1, 0), startedPid(t, s, 2, 0)}
			killAtEnd(t, pids...)
			s.cmd.Process.Signal(sig)
			awaitExit(t, s, 0, fmt.Sprintf("stop on %v while its workers import the app", sig))
			if !strings.Contains(s.logs.String(), "received while the workers were importing the app: stopping") {
				t.Errorf("no line saying why it stopped")
			}
			for _, pid := range pids {
				if alive(pid) {
					t.Errorf("worker pid %d outlived the master", pid)
				}
			}
		})
	}
}

func TestWorkerExitsWhenTheMasterDiesDuringImport(t *testing.T) {
	app := writeApp(t, "hang.py", hangingImport)
	s := launch(t, nil, app)
	pid := startedPid(t, s, 1, 0)
	killAtEnd(t, pid)
	s.cmd.Process.Kill() // s.exited waits for the pipe the worker shares
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker (pid %d) still imports 10 s after its master was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(s.logs.String(), "the master process is gone while the app was importing; exiting") {
		t.Errorf("the worker did not say why it exited")
	}
}

func TestImportThatEndsTheWorkerExits4(t *testing.T) {
	for name, src := range map[string]string{
		"os_exit_0": "import os\nos._exit(0)\n",
		"segfault":  "import ctypes\nctypes.string_at(0)\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := launch(t, nil, writeApp(t, name+".py", src))
			awaitExit(t, s, 4, "exit 4: the app cannot be imported")
			if !strings.Contains(s.logs.String(), "worker 1 ended while importing the app") {
				t.Errorf("no line saying the import ended the worker")
			}
		})
	}
}

// slowRequestRunning starts secondImportHangs with a graceful timeout of
// 30 s, and returns once a request of 2 s runs in it; the channel gets
// that request's status line.
func slowRequestRunning(t *testing.T, args ...string) (*server, <-chan string) {
	t.Helper()
	app := writeApp(t, "app.py", secondImportHangs)
	s := start(t, nil, append([]string{app, "--graceful-timeout", "30"}, args...)...)
	status := statusInBackground(s, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	waitFile(t, filepath.Join(filepath.Dir(app), "running"), "yes")
	return s, status
}

// statusInBackground sends request on a connection of its own, in the background;
// the channel gets the status line of the answer.
func statusInBackground(s *server, request string) <-chan string {
	status := make(chan string, 1)
	go func() { status <- strings.SplitN(s.raw(request), "\r\n", 2)[0] }()
	return status
}

func TestSIGQUITStopsAtOnce(t *testing.T) {
	accessLog := filepath.Join(t.TempDir(), "access.log")
	s, status := slowRequestRunning(t, "--access-log", accessLog)
	s.cmd.Process.Signal(syscall.SIGQUIT)
	awaitExit(t, s, 0, "stop at once on SIGQUIT")
	if got := <-status; got != "HTTP/1.1 502 Bad Gateway" {
		t.Errorf("the request in flight got %q; want 502 from the master", got)
	}
	// The master's 502 has its access line, with the request line and id
	// the worker recorded for it (the master never reads a request).
	b, _ := os.ReadFile(accessLog)
	body := "Bad Gateway: the worker process serving this request died\n"
	if !regexp.MustCompile(`^127\.0\.0\.1 - - \[[^]]+\] "GET /slow HTTP/1\.1" 502 ` + strconv.Itoa(len(body)) + ` "-" "-" "[0-9a-f]{32}"\n$`).Match(b) {
		t.Errorf("the access log holds %q; want the master's 502 naming GET /slow and its id", b)
	}
	out := s.logs.String()
	if strings.Contains(out, "goroutine ") {
		t.Errorf("a Go goroutine dump in the output: SIGQUIT reached Go's default handler")
	}
	if !strings.Contains(out, "wsgo: SIGQUIT, stopping now") {
		t.Errorf("no line about SIGQUIT")
	}
}

// The unix socket file wsgo made is gone after a quick stop, as after a
// graceful one.
func TestSIGQUITRemovesTheUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	s := start(t, nil, writeApp(t, "app.py", secondImportHangs), "--bind", "unix:"+sock)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("no socket file once started: %v", err)
	}
	s.cmd.Process.Signal(syscall.SIGQUIT)
	awaitExit(t, s, 0, "stop at once on SIGQUIT")
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket file outlived wsgo (%v)", err)
	}
}

func TestGroupSIGTERMDoesNotWaitForAReplacementsImport(t *testing.T) {
	app := writeApp(t, "app.py", secondImportHangs)
	s := start(t, nil, app, "--graceful-timeout", "60")
	// SIGTERM to the worker alone, as a process-group signal may deliver
	// it before the master's: it asks to be replaced, and the
	// replacement's import hangs.
	pid := readyPids(s)["1"]
	syscall.Kill(pid, syscall.SIGTERM)
	replacement := startedPid(t, s, 1, pid)
	killAtEnd(t, replacement)
	s.cmd.Process.Signal(syscall.SIGTERM)
	awaitExit(t, s, 0, "stop without waiting for a replacement worker's import")
	if alive(replacement) {
		t.Errorf("the replacement (pid %d) outlived the master", replacement)
	}
	if !s.waitLog(fmt.Sprintf(`\[INFO\] wsgo: worker 1 \(pid %d\) exited: killed by wsgo \(SIGKILL\): wsgo is stopping`, replacement), time.Second) {
		t.Errorf("no INFO line for the replacement dismissed")
	}
}

func TestAReplacementsHangingImportIsGivenUp(t *testing.T) {
	app := writeApp(t, "app.py", secondImportHangs)
	s := start(t, nil, app, "--graceful-timeout", "1")
	s.cmd.Process.Signal(syscall.SIGHUP)
	killAtEnd(t, startedPid(t, s, 1, readyPids(s)["1"]))
	if !s.waitLog(`reload \(SIGHUP\): worker 1 \(pid \d+\) is still importing the app after \d+s \(--graceful-timeout\); killing it`, 30*time.Second) {
		t.Fatal("the hanging import of the reload's worker was not given up")
	}
	if !s.waitLog(`reload \(SIGHUP\) failed: the new worker could not start; the old workers keep serving \(fix the error above, then send SIGHUP to reload\)`, 10*time.Second) {
		t.Fatal("no line saying the reload failed")
	}
	if resp, body := s.get("/"); resp.StatusCode != 200 || body != "served" {
		t.Fatalf("after the failed reload: %d %q", resp.StatusCode, body)
	}
	// A fixed app reloads: the reload under way no longer holds it back.
	os.Remove(filepath.Join(filepath.Dir(app), "imported"))
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog(`reload \(SIGHUP\) done`, 30*time.Second) {
		t.Fatal("the next reload did not complete")
	}
}

func TestAFailedReloadSaysToReloadAgain(t *testing.T) {
	s, app := procStart(t, nil)
	os.WriteFile(app, []byte("def application(:\n"), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog(`failed with the error above; fix it and send wsgo SIGHUP again \(the running workers serve on meanwhile\)`, 20*time.Second) {
		t.Fatal("the replacement's import error does not say to reload again")
	}
	if strings.Contains(s.logs.String(), "start wsgo again") {
		t.Error("a failed reload says to start wsgo again, while wsgo serves on")
	}
}

func TestSignalsDuringAGracefulStopDoNotCutIt(t *testing.T) {
	s, status := slowRequestRunning(t)
	s.cmd.Process.Signal(syscall.SIGTERM)
	if !s.waitLog(`finishing in-flight requests`, 10*time.Second) {
		t.Fatal("no graceful stop")
	}
	// logrotate's SIGUSR1 and a SIGHUP are not a second stop signal, and
	// SIGUSR2 shows what the stop waits for.
	s.cmd.Process.Signal(syscall.SIGUSR1)
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.cmd.Process.Signal(syscall.SIGUSR2)
	if !s.waitLog(`serving request \d+: GET /slow\)`, 5*time.Second) {
		t.Error("SIGUSR2 during the stop logged no stack of the request it waits for")
	}
	if got := <-status; got != "HTTP/1.1 200 OK" {
		t.Errorf("the request in flight got %q; want 200", got)
	}
	awaitExit(t, s, 0, "finish the request, then stop")
	if !strings.Contains(s.logs.String(), "wsgo: SIGHUP ignored: wsgo is stopping") {
		t.Errorf("no line saying SIGHUP was ignored")
	}
}

// cutApp sends 20 MiB from /big, counts an upload's bytes on /up, naps
// for 8 s on /sleep (writing what ends it to MARK_FILE.<its request id>),
// and writes MARK_FILE from an atexit handler.
const cutApp = `import atexit, os, time

atexit.register(lambda: open(os.environ["MARK_FILE"], "w").write("atexit ran"))

def application(environ, start_response):
    if environ["PATH_INFO"] == "/sleep":
        mark = os.environ["MARK_FILE"] + "." + environ["HTTP_X_REQUEST_ID"]
        with open(mark + ".started", "w") as f:
            f.write("yes")
        try:
            for _ in range(800):
                time.sleep(0.01)
        except BaseException as e:
            with open(mark, "w") as f:
                f.write("%s: %s" % (type(e).__name__, e))
            raise
    if environ["PATH_INFO"] == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"x" * (20 << 20)]
    n = len(environ["wsgi.input"].read())
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(n).encode()]
`

// Requests a stop cuts at the graceful timeout each get an access-log
// line that says what the client got; one in Python gets
// wsgo.GracefulTimeout, so that it ends and Python can finish (atexit).
// The download's line and the one in Python had none (the worker exited
// first), the upload's read as a 400 it never sent, and Python was said
// to be busy, its atexit handlers skipped, whenever the requests took
// the whole timeout.
func TestRequestsCutAtTheGracefulTimeoutAreLoggedAsTheyEnded(t *testing.T) {
	for _, sleeper := range []bool{false, true} {
		t.Run(fmt.Sprintf("a request in Python: %v", sleeper), func(t *testing.T) {
			app := writeApp(t, "cut.py", cutApp)
			mark, accessLog := filepath.Join(filepath.Dir(app), "mark"), filepath.Join(filepath.Dir(app), "access.log")
			s := start(t, []string{"MARK_FILE=" + mark}, app, "--graceful-timeout", "1", "--access-log", accessLog)
			var conns []net.Conn
			send := func(request string) {
				c, err := net.Dial("tcp", s.Addr)
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
				c.Write([]byte(request))
			}
			// Neither client reads nor sends more: the upload is cut
			// while it is received, the download while it is sent.
			send("POST /up HTTP/1.1\r\nHost: x\r\nX-Request-ID: up\r\nContent-Length: 1000000\r\n\r\n" + strings.Repeat("u", 1000))
			send("GET /big HTTP/1.1\r\nHost: x\r\nX-Request-ID: down\r\n\r\n")
			if sleeper { // on HTTP/1.1 and HTTP/2
				send("GET /sleep HTTP/1.1\r\nHost: x\r\nX-Request-ID: sleep\r\n\r\n")
				req := mustRequest(t, "GET", s.URL+"/sleep", nil)
				req.Header.Set("X-Request-ID", "sleep2")
				go h2cClient().Do(req)
			}
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			time.Sleep(300 * time.Millisecond) // the requests are in
			if sleeper {
				waitFile(t, mark+".sleep.started", "yes")
				waitFile(t, mark+".sleep2.started", "yes")
			}
			if code := s.stop(syscall.SIGTERM); code != 0 {
				t.Errorf("exit code %d", code)
			}
			b, _ := os.ReadFile(accessLog)
			lines := string(b)
			for _, want := range []string{
				`"POST /up HTTP/1.1" 0 - "-" "-" "up"`,
				`"GET /big HTTP/1.1" 200 `,
			} {
				if !strings.Contains(lines, want) {
					t.Errorf("no access-log line with %s:\n%s", want, lines)
				}
			}
			if sleeper {
				if !strings.Contains(lines, `"GET /sleep HTTP/1.1" 0 - "-" "-" "sleep"`) ||
					!regexp.MustCompile(`"GET /sleep HTTP/2.0" 0 - "-" "[^"]*" "sleep2"`).MatchString(lines) {
					t.Errorf("no access-log line for a request in Python:\n%s", lines)
				}
				if !s.waitLog(`wsgo: request cut at --graceful-timeout as its worker stops; raising wsgo.GracefulTimeout in its thread request=sleep method=GET path=/sleep\n`+
					`its Python stack was:\n(?:  .*\n)*  File ".*cut\.py", line \d+, in application\n    time\.sleep\(0\.01\)\n`, time.Second) {
					t.Errorf("the request in Python is not logged as cut, with its stack:\n%s", s.logs.String())
				}
				want := "GracefulTimeout: its wsgo worker is stopping, and the request ran past --graceful-timeout"
				for _, id := range []string{"sleep", "sleep2"} {
					if got, _ := os.ReadFile(mark + "." + id); string(got) != want {
						t.Errorf("request %s: the app saw %q; want %q", id, got, want)
					}
				}
			}
			got, _ := os.ReadFile(mark)
			if strings.Contains(s.logs.String(), "Python threads still busy") || string(got) != "atexit ran" {
				t.Errorf("Python said busy, or atexit did not run (%q):\n%s", got, s.logs.String())
			}
		})
	}
}

// At a stop, a keep-alive connection that is idle while another request
// runs stays open until no request runs: a request its client sent as the
// stop began is answered (with Connection: close) instead of meeting a
// closed socket, which reset it. Once the last request is done, the idle
// connections close.
func TestAnIdleConnectionIsServedWhileAStopWaitsForARequest(t *testing.T) {
	s := start(t, nil, writeApp(t, "stop_app.py", `import time

def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(1.5)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode()]
`))
	busy, idle, later := dial(t, s), dial(t, s), dial(t, s)
	busyBr, idleBr, laterBr := bufio.NewReader(busy), bufio.NewReader(idle), bufio.NewReader(later)
	for _, c := range []struct {
		conn net.Conn
		br   *bufio.Reader
	}{{idle, idleBr}, {later, laterBr}} {
		if status, body := getOn(t, c.conn, c.br, "/first"); status != 200 || body != "/first" {
			t.Fatalf("GET /first: %d %q", status, body)
		}
	}
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(200 * time.Millisecond) // /slow runs
	s.cmd.Process.Signal(syscall.SIGTERM)
	if !s.waitLog(`SIGTERM received, finishing in-flight requests`, 5*time.Second) {
		t.Fatal("no shutdown line after the signal")
	}
	time.Sleep(300 * time.Millisecond) // the worker has its order to stop
	resp, body := exchange(t, idle, idleBr, "GET /during HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != 200 || body != "/during" || !resp.Close {
		t.Errorf("a request on an idle connection during the stop: %d %q, close %v; want 200 \"/during\" with Connection: close",
			resp.StatusCode, body, resp.Close)
	}
	if resp, err := http.ReadResponse(busyBr, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the running request: %v %v", resp, err)
	}
	// No request runs now: the other idle connection is closed, cleanly.
	later.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := laterBr.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the idle connection after the last request: read %d, %v; want EOF", n, err)
	}
	if code, ok := s.wait(5 * time.Second); !ok || code != 0 {
		t.Errorf("exit %d (exited: %v); want 0", code, ok)
	}
}
