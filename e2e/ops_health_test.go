package e2e

// Tests of the health checks (/healthz, /readyz on --metrics-bind) and of
// --shutdown-delay: what a kubelet and a load balancer see.

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// opsHelloApp answers "hello\n". With $GATE set, importing it waits until
// the test writes to that FIFO: the worker stays "starting" until then.
const opsHelloApp = `
import os
if os.environ.get("GATE"):
    with open(os.environ["GATE"], "rb") as gate:
        gate.read()

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    return [b"hello\n"]
`

// opsHealthBase waits for the metrics line of s and returns the base URL
// of the health checks (http://127.0.0.1:PORT).
func opsHealthBase(t *testing.T, s *server) string {
	t.Helper()
	m, ok := s.logs.waitFor(metricsLine, 20*time.Second, s.exited)
	if !ok {
		t.Fatalf("no metrics line in the output:\n%s", s.logs.String())
	}
	return strings.TrimSuffix(m[1], "/metrics")
}

// opsCheck GETs a health check and returns its status and body.
func opsCheck(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q; want text/plain; charset=utf-8", url, ct)
	}
	return resp.StatusCode, string(body)
}

func opsExpectCheck(t *testing.T, url string, status int, body string) {
	t.Helper()
	if gotStatus, gotBody := opsCheck(t, url); gotStatus != status || gotBody != body {
		t.Errorf("GET %s: %d %q; want %d %q", url, gotStatus, gotBody, status, body)
	}
}

func TestOpsReadinessWaitsForAWorker(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	app := writeApp(t, "hello.py", opsHelloApp)
	s := launch(t, []string{"GATE=" + gate}, app, "--metrics-bind", "127.0.0.1:0")
	base := opsHealthBase(t, s)
	if !s.waitLog(`worker 1 \(pid \d+\) started`, 20*time.Second) {
		t.Fatal("no worker started")
	}
	opsExpectCheck(t, base+"/healthz", 200, "ok\n")
	opsExpectCheck(t, base+"/readyz", 503, "starting\n")

	w, err := os.OpenFile(gate, os.O_WRONLY, 0) // the importing worker holds the other end
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	awaitStart(t, s)
	opsExpectCheck(t, base+"/readyz", 200, "ok\n")
	opsExpectCheck(t, base+"/healthz", 200, "ok\n")
	if resp, body := s.get("/readyz"); resp.StatusCode != 200 || body != "hello\n" {
		t.Errorf("the app's own /readyz: %d %q; want the app's 200 \"hello\\n\" (checks live on --metrics-bind only)",
			resp.StatusCode, body)
	}
}

// opsLoad is clients sending requests on fresh connections, as a load
// balancer spreads them, and counting what fails.
type opsLoad struct {
	mu       sync.Mutex
	ok       int
	failures []string
}

// run sends n requests from each of clients goroutines and returns when
// all have answered.
func (l *opsLoad) run(url string, clients, n int) {
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			for range n {
				resp, err := client.Get(url)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				l.mu.Lock()
				switch {
				case err != nil:
					l.failures = append(l.failures, err.Error())
				case resp.StatusCode != 200 || string(body) != "hello\n":
					l.failures = append(l.failures, resp.Status+" "+string(body))
				default:
					l.ok++
				}
				l.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestOpsShutdownDelayLosesNoRequest(t *testing.T) {
	app := writeApp(t, "hello.py", opsHelloApp)
	s := launch(t, nil, app, "--workers", "2", "--metrics-bind", "127.0.0.1:0", "--shutdown-delay", "2")
	base := opsHealthBase(t, s)
	awaitStart(t, s)
	opsExpectCheck(t, base+"/readyz", 200, "ok\n")

	// Load runs across the signal; once /readyz says 503 (the moment a
	// balancer would stop sending), more load follows: within the delay,
	// every request is still served.
	var load opsLoad
	during := make(chan struct{})
	go func() { load.run(s.URL+"/", 4, 40); close(during) }()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := opsCheck(t, base+"/readyz")
		if status == 503 && body == "draining\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d %q 10 s after SIGTERM; want 503 \"draining\\n\"", status, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	opsExpectCheck(t, base+"/healthz", 200, "ok\n")
	load.run(s.URL+"/", 4, 25)
	<-during
	if len(load.failures) > 0 || load.ok != 4*40+4*25 {
		t.Fatalf("%d requests served, %d failed (first: %q); want all %d served",
			load.ok, len(load.failures), load.failures[:min(len(load.failures), 1)], 4*40+4*25)
	}
	if code, ok := s.wait(20 * time.Second); !ok || code != 0 {
		t.Fatalf("wsgo did not exit 0 after the delay and the drain (exited %v, code %d)", ok, code)
	}
	if !strings.Contains(s.logs.String(), "--shutdown-delay over, finishing in-flight requests") {
		t.Errorf("no line saying the delay ended; output:\n%s", s.logs.String())
	}
}

func TestOpsSecondSignalEndsTheShutdownDelay(t *testing.T) {
	app := writeApp(t, "hello.py", opsHelloApp)
	s := start(t, nil, app, "--shutdown-delay", "600")
	s.cmd.Process.Signal(syscall.SIGTERM)
	if !s.waitLog(`still serving new connections for --shutdown-delay 10m0s`, 10*time.Second) {
		t.Fatal("no line saying the delay began")
	}
	if resp, body := s.get("/"); resp.StatusCode != 200 || body != "hello\n" {
		t.Errorf("during the delay: %d %q; want 200 \"hello\\n\"", resp.StatusCode, body)
	}
	// The README: once stopping, reloads and worker counts are ignored.
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU} {
		s.cmd.Process.Signal(sig)
		if !s.waitLog(`\[WARNING\] wsgo: `+unix.SignalName(sig)+` ignored: wsgo is stopping`, 5*time.Second) {
			t.Errorf("no line saying %s was ignored during the delay", unix.SignalName(sig))
		}
	}
	if out := s.logs.String(); strings.Contains(out, "reload (SIGHUP)") || strings.Contains(out, "one worker") {
		t.Errorf("a signal was acted on during the delay:\n%s", out)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code, ok := s.wait(20 * time.Second); !ok || code != 1 {
		t.Fatalf("after a second SIGTERM: exited %v, code %d; want exit 1 at once", ok, code)
	}
	if !strings.Contains(s.logs.String(), "second signal, stopping now") {
		t.Errorf("no line about the second signal; output:\n%s", s.logs.String())
	}
}
