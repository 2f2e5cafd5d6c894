package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procState is the state letter of a process (R, S, T, ...) and the CPU
// ticks it has used, from /proc/PID/stat.
func procState(pid int) (state string, ticks int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone", 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	user, _ := strconv.Atoi(f[11])
	sys, _ := strconv.Atoi(f[12])
	return f[0], user + sys
}

// A shell with job control runs wsgo in the background of a terminal set
// to `stty tostop`, so that a write there raises SIGTTOU. The master used
// to catch it as "one worker fewer", which makes the kernel retry the
// write and raise it again: it spun on its first log line, drained its
// workers and never served. Now it stops, as any job does, and serves once
// the shell brings it to the foreground, where SIGTTOU drains a worker
// again.
func TestABackgroundMasterOnATostopTerminalStops(t *testing.T) {
	ptm, pts := frontOpenPTY(t)
	tty := newLogBuffer()
	go io.Copy(tty, ptm)
	dir := t.TempDir()
	pidFile, fgFile := filepath.Join(dir, "pid"), filepath.Join(dir, "fg")
	port := freePort(t)
	script := `set -m; stty tostop
"$WSGO" run --workers 2 --bind "127.0.0.1:$PORT" "$APP" &
echo $! > "$PIDFILE"
while [ ! -e "$FGFILE" ]; do sleep 0.05; done
fg %1`
	shell := exec.Command("bash", "--norc", "--noprofile", "-c", script)
	shell.Env = append(os.Environ(), "WSGO="+binary, "PORT="+port, "PIDFILE="+pidFile, "FGFILE="+fgFile,
		"APP="+filepath.Join(examplesDir(t), "hello.py"))
	shell.Stdin, shell.Stdout, shell.Stderr = pts, pts, pts
	shell.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := shell.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	t.Cleanup(func() {
		if pid > 0 {
			syscall.Kill(-pid, syscall.SIGKILL) // the job's process group
		}
		shell.Process.Kill()
		shell.Wait()
		if t.Failed() {
			t.Logf("terminal:\n%s", tty.String())
		}
	})
	waitFile(t, pidFile, "\n")
	b, _ := os.ReadFile(pidFile)
	if pid, _ = strconv.Atoi(strings.TrimSpace(string(b))); pid <= 0 {
		t.Fatal("the shell did not start wsgo")
	}

	awaitStopped(t, pid) // by its terminal write
	_, ticks := procState(pid)
	time.Sleep(300 * time.Millisecond)
	if again, later := procState(pid); again != "T" || later != ticks {
		t.Errorf("the stopped master ran on: state %s, CPU ticks %d then %d", again, ticks, later)
	}

	os.WriteFile(fgFile, nil, 0o644) // the shell's fg: foreground, and SIGCONT
	start := regexp.MustCompile(`wsgo: serving .* on http://127\.0\.0\.1:` + port)
	if _, ok := tty.waitFor(start, 20*time.Second, nil); !ok {
		t.Fatal("wsgo did not start in the foreground")
	}
	res, err := http.Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(string(body), "Hello") {
		t.Errorf("GET /: %d %q", res.StatusCode, body)
	}
	if strings.Contains(tty.String(), "SIGTTOU") {
		t.Error("the terminal's SIGTTOU was taken for a request to drain a worker")
	}

	syscall.Kill(pid, syscall.SIGTTOU)
	if _, ok := tty.waitFor(regexp.MustCompile(`wsgo: SIGTTOU: one worker fewer, 1 in all`), 10*time.Second, nil); !ok {
		t.Error("in the foreground, SIGTTOU did not drain a worker")
	}
}
