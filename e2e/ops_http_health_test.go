package e2e

// --health-path: /-/healthz and /-/readyz on the app's own listener,
// answered by Go while every pythread is busy, and readiness 503 from
// SIGTERM on through --shutdown-delay.

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// busyApp: /sleep writes $RELEASE.started, then holds its pythread until
// the file $RELEASE exists;
// /seen lists the paths that reached Python.
const busyApp = `import os, time
seen = []

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path != "/seen":
        seen.append(path)
    if path == "/sleep":
        open(os.environ["RELEASE"] + ".started", "w").close()
        while not os.path.exists(os.environ["RELEASE"]):
            time.sleep(0.01)
    body = (" ".join(seen) if path == "/seen" else "done").encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
`

// healthGet GETs s's path, within the bound of frontHTTP.
func healthGet(t *testing.T, s *server, path string) (int, string, http.Header) {
	t.Helper()
	resp, body := frontDo(t, nil, mustRequest(t, "GET", s.URL+path, nil))
	return resp.StatusCode, body, resp.Header
}

func TestOpsHTTPHealthPathWhileEveryThreadIsBusy(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	s := start(t, []string{"RELEASE=" + release}, writeApp(t, "busy.py", busyApp),
		"--threads", "1", "--health-path", "/-/", "--root-path", "/app")
	slept := make(chan string, 1)
	go func() {
		resp, err := frontHTTP.Get(s.URL + "/app/sleep")
		if err != nil {
			slept <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slept <- string(b)
	}()
	// The only pythread is taken once /sleep reached Python; then the
	// checks must not wait for it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(release + ".started"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/sleep never reached Python")
		}
	}
	for _, path := range []string{"/-/healthz", "/-/readyz"} {
		status, body, h := healthGet(t, s, path)
		if status != 200 || body != "ok\n" || h.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s while the pythread sleeps: %d %q %v", path, status, body, h)
		}
	}
	select {
	case got := <-slept:
		t.Fatalf("/sleep ended before its release: %s", got)
	default:
	}
	os.WriteFile(release, nil, 0o644)
	if got := <-slept; got != "done" {
		t.Fatalf("/sleep: %s", got)
	}
	if status, body, _ := healthGet(t, s, "/app/seen"); status != 200 || body != "/sleep" {
		t.Fatalf("Python saw %q (status %d); want only /sleep", body, status)
	}
	if status, _, _ := healthGet(t, s, "/-/other"); status != 404 {
		t.Fatalf("/-/other: %d, want 404 (outside --root-path)", status)
	}
}

func TestOpsHTTPHealthPathReadinessDrains(t *testing.T) {
	s := start(t, nil, writeApp(t, "hello.py", opsHelloApp), "--health-path", "/", "--shutdown-delay", "30")
	if status, body, _ := healthGet(t, s, "/readyz"); status != 200 || body != "ok\n" {
		t.Fatalf("/readyz before SIGTERM: %d %q", status, body)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body, _ := healthGet(t, s, "/readyz")
		if status == 503 && body == "draining\n" {
			break
		}
		if status != 200 || time.Now().After(deadline) {
			t.Fatalf("/readyz after SIGTERM: %d %q; want 503 draining", status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, body, _ := healthGet(t, s, "/healthz"); status != 200 || body != "ok\n" {
		t.Fatalf("/healthz during --shutdown-delay: %d %q", status, body)
	}
	if status, body, _ := healthGet(t, s, "/"); status != 200 || body != "hello\n" {
		t.Fatalf("the app during --shutdown-delay: %d %q", status, body)
	}
}
