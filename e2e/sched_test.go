package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Linux scheduling policies, as /proc/PID/task/TID/stat gives them.
const (
	schedNormal = 0
	schedBatch  = 3
)

// threadPolicies returns the scheduling policy of each thread of pid.
func threadPolicies(t *testing.T, pid int) map[string]int {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of pid %d: %v", pid, err)
	}
	policies := map[string]int{}
	for _, stat := range tasks {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue // the thread ended
		}
		// After the command's closing parenthesis, fields start at state
		// (3); policy is field 41.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		policy, err := strconv.Atoi(fields[41-3])
		if err != nil {
			t.Fatalf("%s: %v", stat, err)
		}
		policies[filepath.Base(filepath.Dir(stat))] = policy
	}
	return policies
}

// onePolicy fails unless every thread of pid has policy want.
func onePolicy(t *testing.T, what string, pid, want int) {
	t.Helper()
	for tid, got := range threadPolicies(t, pid) {
		if got != want {
			t.Errorf("%s (pid %d): thread %s has policy %d; want %d", what, pid, tid, got, want)
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
	onePolicy(t, "worker", workerPid(t, s), schedBatch)
	onePolicy(t, "master", s.cmd.Process.Pid, schedNormal)

	s = start(t, nil, app, "--worker-sched", "normal")
	onePolicy(t, "worker with --worker-sched normal", workerPid(t, s), schedNormal)
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
