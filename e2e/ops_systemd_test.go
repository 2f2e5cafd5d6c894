package e2e

// Tests of systemd's protocols: socket activation through Debian's
// systemd-socket-activate (which opens the sockets, waits for the first
// connection, then execs wsgo with LISTEN_FDS), and sd_notify messages
// read from a NOTIFY_SOCKET datagram socket of the test's.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// opsEnvApp answers the variables systemd's protocols use, as the app
// sees them: none should reach it.
const opsEnvApp = `
import os

def application(environ, start_response):
    names = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_USEC"]
    body = " ".join(n + "=" + os.environ.get(n, "-") for n in names).encode() + b"\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
`

const opsNoSystemdVariables = "LISTEN_PID=- LISTEN_FDS=- LISTEN_FDNAMES=- NOTIFY_SOCKET=- WATCHDOG_USEC=-\n"

// opsNotifySocket listens for sd_notify datagrams; each arrives on the
// channel.
func opsNotifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ch := make(chan string, 1000)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return path, ch
}

// opsAwaitNotify waits for a datagram matching expr, skipping watchdog
// pings unless expr asks for them; it returns the datagram.
func opsAwaitNotify(t *testing.T, ch <-chan string, expr string) string {
	t.Helper()
	re := regexp.MustCompile(expr)
	deadline := time.After(20 * time.Second)
	var seen []string
	for {
		select {
		case msg, ok := <-ch:
			if !ok {
				t.Fatalf("the notify socket closed; seen %q", seen)
			}
			if re.MatchString(msg) {
				return msg
			}
			if msg != "WATCHDOG=1\n" {
				seen = append(seen, msg)
			}
		case <-deadline:
			t.Fatalf("no notify message matching %q within 20 s; seen %q", expr, seen)
		}
	}
}

// opsSocketActivate runs wsgo under systemd-socket-activate listening on
// each of listens, with the variables of env; wsgo starts at the first
// connection.
func opsSocketActivate(t *testing.T, listens []string, env []string, args ...string) *server {
	t.Helper()
	program, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Fatal("systemd-socket-activate is missing: make setup installs systemd (.ci/setup)")
	}
	var full []string
	for _, l := range listens {
		full = append(full, "--listen="+l)
	}
	full = append(full, "--fdname="+strings.Repeat("web:", len(listens)-1)+"web")
	for _, e := range env {
		full = append(full, "--setenv="+e)
	}
	full = append(append(full, binary, "run"), args...)
	return launchProgram(t, nil, program, full...)
}

// opsGetAsync GETs http://addr/ in the background, retrying while the
// port is not yet open; the body (or error) arrives on the channel.
func opsGetAsync(addr string) <-chan cliResult {
	ch := make(chan cliResult, 1)
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.Dial("tcp", addr)
			if errors.Is(err, syscall.ECONNREFUSED) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if err == nil {
				c.Close() // the connection that makes systemd-socket-activate start wsgo
			}
			break
		}
		ch <- <-cliGetAsync("http://" + addr + "/")
	}()
	return ch
}

func TestOpsSocketActivationAndNotify(t *testing.T) {
	notify, messages := opsNotifySocket(t)
	addr := "127.0.0.1:" + exFreePort(t)
	sock := filepath.Join(t.TempDir(), "app.sock")
	app := writeApp(t, "env_app.py", opsEnvApp)
	s := opsSocketActivate(t, []string{addr, sock},
		[]string{"NOTIFY_SOCKET=" + notify, "WATCHDOG_USEC=200000"}, app, "--workers", "2")
	first := opsGetAsync(addr)
	awaitStart(t, s)
	if want := fmt.Sprintf("on http://%s, unix:%s (sockets from systemd)", addr, sock); !strings.Contains(s.logs.String(), want) {
		t.Errorf("the start line does not say %q; output:\n%s", want, s.logs.String())
	}
	ready := opsAwaitNotify(t, messages, `READY=1`)
	if want := fmt.Sprintf("READY=1\nSTATUS=serving %s:application on http://%s, unix:%s\n", app, addr, sock); ready != want {
		t.Errorf("first message %q; want %q", ready, want)
	}
	select {
	case r := <-first:
		if r.err != nil || r.status != 200 || r.body != opsNoSystemdVariables {
			t.Errorf("first request: %v %d %q; want 200 %q", r.err, r.status, r.body, opsNoSystemdVariables)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no answer to the request that started wsgo")
	}
	if resp, err := cliUnixClient(sock).Get("http://x/"); err != nil || resp.StatusCode != 200 {
		t.Errorf("GET on the unix socket from systemd: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// The watchdog: pings every 100 ms, from the master.
	opsAwaitNotify(t, messages, `^WATCHDOG=1\n$`)
	opsAwaitNotify(t, messages, `^WATCHDOG=1\n$`)

	// Type=notify-reload: RELOADING=1 with the monotonic clock, then
	// READY=1 once the new workers serve.
	s.cmd.Process.Signal(syscall.SIGHUP)
	opsAwaitNotify(t, messages, `^RELOADING=1\nMONOTONIC_USEC=[1-9]\d*\nSTATUS=reload \(SIGHUP\)\n$`)
	opsAwaitNotify(t, messages, `^READY=1\nSTATUS=serving `)
	if !s.waitLog(`reload \(SIGHUP\) done`, 20*time.Second) {
		t.Fatal("the reload did not complete")
	}

	s.cmd.Process.Signal(syscall.SIGTERM)
	opsAwaitNotify(t, messages, `^STOPPING=1\nSTATUS=SIGTERM received: finishing in-flight requests\n$`)
	if code, ok := s.wait(20 * time.Second); !ok || code != 0 {
		t.Fatalf("after SIGTERM: exited %v, code %d; want 0", ok, code)
	}
	// The socket file is the .socket unit's: systemd removes it, not wsgo.
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("wsgo removed the socket systemd owns: %v", err)
	}
}

func TestOpsSocketActivationWithBindIsAUsageError(t *testing.T) {
	addr := "127.0.0.1:" + exFreePort(t)
	app := writeApp(t, "env_app.py", opsEnvApp)
	s := opsSocketActivate(t, []string{addr}, nil, app, "--bind", "127.0.0.1:0")
	opsGetAsync(addr)
	code, ok := s.wait(20 * time.Second)
	if !ok || code != 2 {
		t.Fatalf("exited %v, code %d; want 2", ok, code)
	}
	if want := "systemd passed listening sockets (LISTEN_FDS), which take the place of --bind"; !strings.Contains(s.logs.String(), want) {
		t.Errorf("output does not say %q:\n%s", want, s.logs.String())
	}
}

func TestOpsSystemdVariablesNeverReachTheApp(t *testing.T) {
	app := writeApp(t, "env_app.py", opsEnvApp)
	s := start(t, []string{"LISTEN_PID=1", "LISTEN_FDS=1"}, app)
	if resp, body := s.get("/"); resp.StatusCode != 200 || body != opsNoSystemdVariables {
		t.Errorf("GET /: %d %q; want 200 %q (another process's LISTEN_* are not wsgo's, nor the app's)",
			resp.StatusCode, body, opsNoSystemdVariables)
	}
}
