// Package e2e tests the real wsgo binary: it is built once, started per
// test on a loopback port, and spoken to over real HTTP.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the wsgo executable under test, built by TestMain with the
// same environment `make` gives (PKG_CONFIG_PATH, CGO_LDFLAGS pick the Python).
var binary string

func TestMain(m *testing.M) {
	if os.Getenv(denySchedEnv) != "" {
		execDenyingSchedSetattr() // this process is a test's wrapper
	}
	dir, err := os.MkdirTemp("", "wsgo-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "wsgo")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building wsgo failed:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logBuffer collects a process's output and lets tests wait for a line.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return len(p), nil
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the output matches re, or timeout; it returns the match.
func (b *logBuffer) waitFor(re *regexp.Regexp, timeout time.Duration, exited <-chan struct{}) ([]string, bool) {
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		m := re.FindStringSubmatch(b.buf.String())
		changed := b.changed
		b.mu.Unlock()
		if m != nil {
			return m, true
		}
		select {
		case <-changed:
		case <-exited:
			b.mu.Lock()
			m := re.FindStringSubmatch(b.buf.String())
			b.mu.Unlock()
			return m, m != nil
		case <-deadline:
			return nil, false
		}
	}
}

// server is a running wsgo.
type server struct {
	t      testing.TB
	cmd    *exec.Cmd
	URL    string // e.g. http://127.0.0.1:40123 (https:// with --certfile)
	Addr   string // e.g. 127.0.0.1:40123
	logs   *logBuffer
	exited chan struct{}
	err    error // the process's exit, once exited is closed
}

var startLine = regexp.MustCompile(`wsgo: serving .* on (\S+?)[, ]`)

// start runs `wsgo run ARGS...` and waits for its start line. Unless ARGS
// has a --bind/-b, it binds 127.0.0.1:0. env entries are added to the
// process environment. The server is stopped when the test ends.
func start(t testing.TB, env []string, args ...string) *server {
	t.Helper()
	return awaitStart(t, launch(t, env, args...))
}

// awaitStart waits for s's start line and takes its first URL.
func awaitStart(t testing.TB, s *server) *server {
	t.Helper()
	m, ok := s.logs.waitFor(startLine, 20*time.Second, s.exited)
	if !ok {
		t.Fatalf("wsgo did not start; output:\n%s", s.logs.String())
	}
	s.URL = m[1]
	s.Addr = strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
	return s
}

// launch runs `wsgo run ARGS...` without waiting for anything.
func launch(t testing.TB, env []string, args ...string) *server {
	t.Helper()
	full := append([]string{"run"}, args...)
	if !hasBind(args) {
		full = append(full, "--bind", "127.0.0.1:0")
	}
	return launchRaw(t, env, full...)
}

// launchRaw runs the binary with exactly ARGS.
func launchRaw(t testing.TB, env []string, args ...string) *server {
	t.Helper()
	return launchProgram(t, env, binary, args...)
}

// launchProgram runs program with ARGS as the server under test (a
// program that runs the binary in turn, such as unshare).
func launchProgram(t testing.TB, env []string, program string, args ...string) *server {
	t.Helper()
	return launchProgramIn(t, "", env, program, args...)
}

// launchProgramIn is launchProgram in the working directory dir ("":
// the test's).
func launchProgramIn(t testing.TB, dir string, env []string, program string, args ...string) *server {
	t.Helper()
	s := &server{t: t, logs: newLogBuffer(), exited: make(chan struct{})}
	s.cmd = exec.Command(program, args...)
	s.cmd.Dir = dir
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	// A worker left behind (a bug under test) holds the output pipe: the
	// wait for the server's exit must not wait for it too.
	s.cmd.WaitDelay = 5 * time.Second
	return s.run()
}

// run starts s.cmd as it is set up, and kills it at the end of the test.
func (s *server) run() *server {
	s.t.Helper()
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	s.t.Cleanup(func() {
		s.stop(syscall.SIGKILL)
		if s.t.Failed() {
			s.t.Logf("wsgo output:\n%s", s.logs.String())
		}
	})
	return s
}

func hasBind(args []string) bool {
	for _, a := range args {
		if a == "-b" || a == "--bind" || strings.HasPrefix(a, "--bind=") || strings.HasPrefix(a, "-b=") {
			return true
		}
	}
	return false
}

// stop sends sig and waits (up to 30 s) for the exit; it returns the exit code.
func (s *server) stop(sig syscall.Signal) int {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(sig)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("wsgo did not exit within 30 s of %v", sig)
	}
	return s.cmd.ProcessState.ExitCode()
}

// wait waits for the process to exit by itself; it returns the exit code.
func (s *server) wait(timeout time.Duration) (int, bool) {
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// waitLog waits until the output matches the regular expression.
func (s *server) waitLog(expr string, timeout time.Duration) bool {
	_, ok := s.logs.waitFor(regexp.MustCompile(expr), timeout, s.exited)
	return ok
}

// get fetches path with Go's client and returns status, headers and body.
func (s *server) get(path string) (*http.Response, string) {
	s.t.Helper()
	return s.do(mustRequest(s.t, "GET", s.URL+path, nil))
}

func (s *server) do(req *http.Request) (*http.Response, string) {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, string(body)
}

func mustRequest(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// raw sends bytes on a new connection and returns everything the server
// sends until it closes the connection (or 10 s pass).
func (s *server) raw(request string) string {
	s.t.Helper()
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		s.t.Fatal(err)
	}
	got, _ := io.ReadAll(bufio.NewReader(c))
	return string(got)
}

// writeApp writes a Python file into a fresh directory and returns its path.
func writeApp(t testing.TB, name, source string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// examplesDir is the repository's examples/.
func examplesDir(t testing.TB) string {
	dir, err := filepath.Abs("../examples")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
