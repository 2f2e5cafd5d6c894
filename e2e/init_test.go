package e2e

// Tests of wsgo as PID 1, as a container's entrypoint: run in a PID
// namespace of its own (unshare), it must forward signals to the server it
// runs as its child and reap the orphans the kernel gives it.

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// initApp tells its own PID, its parent's (the master) and its
// grandparent's, leaves orphans behind, and tells the state of a process
// in its PID namespace.
const initApp = `
import os, subprocess

def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/pids":
        with open("/proc/%d/stat" % os.getppid()) as f:
            grandparent = int(f.read().rsplit(")", 1)[1].split()[1])
        body = b"%d %d %d" % (os.getpid(), os.getppid(), grandparent)
    elif path == "/orphan":
        # sh exits at once; its background sleep is orphaned to PID 1.
        body = subprocess.run(["sh", "-c", "sleep 0.2 >/dev/null 2>&1 & echo $!"],
                              capture_output=True, check=True).stdout.strip()
    else:
        try:
            with open("/proc/%s/stat" % environ["QUERY_STRING"]) as f:
                body = f.read().rsplit(")", 1)[1].split()[0].encode()
        except FileNotFoundError:
            body = b"gone"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
`

// startAsPID1 runs `wsgo run app` as PID 1 of a new PID namespace with
// its own /proc, and returns it with the host PID of that PID 1.
func startAsPID1(t *testing.T, app string) (*server, int) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("unshare (util-linux) is needed to run wsgo as PID 1: %v", err)
	}
	args := []string{"--pid", "--fork", "--mount-proc"}
	if os.Geteuid() != 0 {
		args = append([]string{"--user", "--map-root-user"}, args...)
	}
	args = append(args, binary, "run", app, "--bind", "127.0.0.1:0")
	s := awaitStart(t, launchProgram(t, []string{"PYTHONDONTWRITEBYTECODE=1"}, unshare, args...))
	// unshare --fork has one child: the namespace's PID 1.
	pid := s.cmd.Process.Pid
	children, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
	if err != nil {
		t.Fatal(err)
	}
	init, err := strconv.Atoi(strings.TrimSpace(string(children)))
	if err != nil {
		t.Fatalf("unshare's children are %q; want one PID", children)
	}
	return s, init
}

func TestPID1(t *testing.T) {
	app := writeApp(t, "init_app.py", initApp)
	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT} {
		t.Run("reaps orphans, and "+name+" to PID 1 stops the server gracefully", func(t *testing.T) {
			s, init := startAsPID1(t, app)
			_, pids := s.get("/pids")
			if f := strings.Fields(pids); len(f) != 3 || f[0] == "1" || f[1] == "1" || f[2] != "1" {
				t.Errorf("the worker's PID, parent PID and grandparent PID are %q; want a worker of a master that is a child of PID 1", pids)
			}

			_, orphan := s.get("/orphan")
			state := ""
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if _, state = s.get("/state?" + orphan); state == "gone" {
					break
				}
			}
			if state != "gone" {
				t.Errorf("the orphan %s is still there (state %q) 10 s after it was made: PID 1 did not reap it", orphan, state)
			}

			syscall.Kill(init, sig)
			if !s.waitLog(`wsgo: \w+ received, finishing in-flight requests`, 10*time.Second) {
				t.Fatal("the server did not get the signal sent to PID 1")
			}
			code, ok := s.wait(20 * time.Second)
			if !ok || code != 0 {
				t.Errorf("exited: %v, code %d; want exit 0 after a graceful stop", ok, code)
			}
			if strings.Contains(s.logs.String(), "second signal") {
				t.Errorf("the server got the signal twice:\n%s", s.logs.String())
			}
		})
	}
}
