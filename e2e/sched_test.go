package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// onePolicy fails unless every thread of pid has the scheduling policy want.
func onePolicy(t *testing.T, what string, pid int, want uint32) {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatalf("%s (pid %d): %v", what, pid, err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue // the thread ended
		}
		if attr.Policy != want {
			t.Errorf("%s (pid %d): thread %d has policy %d; want %d", what, pid, tid, attr.Policy, want)
		}
	}
}

func workerPid(t *testing.T, s *server) int {
	t.Helper()
	if !s.waitLog(workerReady.String(), 10*time.Second) {
		t.Fatal("no worker ready line")
	}
	return readyPids(s)["1"]
}

func TestWorkersRunUnderSCHEDBATCHAndTheMasterDoesNot(t *testing.T) {
	app := writeApp(t, "a.py", procApp)
	s := start(t, nil, app)
	if resp, _ := s.get("/"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	onePolicy(t, "worker", workerPid(t, s), unix.SCHED_BATCH)
	onePolicy(t, "master", s.cmd.Process.Pid, unix.SCHED_NORMAL)

	s = start(t, nil, app, "--worker-sched", "normal")
	onePolicy(t, "worker with --worker-sched normal", workerPid(t, s), unix.SCHED_NORMAL)
}

// On one CPU, a worker under SCHED_BATCH runs two Go Ps, so the pythread
// keeps its own across calls into Python (worker/procs.go).
func TestWorkerOnOneCPUUnderBATCHTakesASecondP(t *testing.T) {
	app := writeApp(t, "a.py", procApp)
	raised := `GOMAXPROCS 2 on 1 CPU under SCHED_BATCH`
	s := awaitStart(t, launchProgram(t, nil, "taskset", "-c", "0", binary, "run", app, "--bind", "127.0.0.1:0", "--log-level", "debug"))
	if resp, body := s.get("/"); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if !strings.Contains(s.logs.String(), raised) {
		t.Errorf("no %q line at debug", raised)
	}

	s = awaitStart(t, launchProgram(t, nil, "taskset", "-c", "0", binary, "run", app, "--bind", "127.0.0.1:0", "--log-level", "debug", "--worker-sched", "normal"))
	if resp, body := s.get("/"); resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if strings.Contains(s.logs.String(), raised) {
		t.Errorf("%q under --worker-sched normal", raised)
	}
}
