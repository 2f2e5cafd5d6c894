package e2e

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// denySchedEnv makes this test binary a wrapper (see TestMain): it execs
// its arguments with sched_setattr(2) refused, as a container's seccomp
// profile may refuse it.
const denySchedEnv = "WSGO_E2E_DENY_SCHED_SETATTR"

// execDenyingSchedSetattr installs a seccomp filter that fails
// sched_setattr with EPERM, which the program exec'd and all its children
// inherit, then execs os.Args[1:]. It does not return.
func execDenyingSchedSetattr() {
	runtime.LockOSThread() // the filter is the thread's, and this thread execs
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_SCHED_SETATTR, Jt: 0, Jf: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	fail := func(what string, err error) {
		fmt.Fprintf(os.Stderr, "e2e seccomp wrapper: %s: %v\n", what, err)
		os.Exit(1)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fail("PR_SET_NO_NEW_PRIVS", err)
	}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
		fail("PR_SET_SECCOMP", err)
	}
	os.Unsetenv(denySchedEnv)
	fail("exec "+os.Args[1], unix.Exec(os.Args[1], os.Args[1:], os.Environ()))
}

// Where a seccomp profile refuses sched_setattr, workers start all the
// same, under the normal policy, and the master says so once, naming the
// refusal and the two ways out; --worker-sched normal asks for no batch
// policy, so nothing is refused and nothing said.
func TestWorkersStartUnderTheNormalPolicyWhereSeccompRefusesBatch(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	app := writeApp(t, "a.py", procApp)
	const warning = "wsgo: workers run under the normal CPU policy, as setting SCHED_BATCH was refused (operation not permitted), " +
		"which costs throughput on a busy core; allow sched_setattr (a seccomp profile), or pass --worker-sched normal to say this is intended"

	s := awaitStart(t, launchProgram(t, []string{denySchedEnv + "=1"}, self, binary, "run", app, "--bind", "127.0.0.1:0", "--workers", "2"))
	for i := 0; i < 4; i++ {
		if resp, body := s.get("/"); resp.StatusCode != 200 || body != "v1" {
			t.Fatalf("status %d %q; want 200 v1", resp.StatusCode, body)
		}
	}
	if n := strings.Count(s.logs.String(), warning); n != 1 {
		t.Errorf("the refusal's warning appears %d times for 2 workers; want once:\n%s", n, s.logs.String())
	}
	for id, pid := range readyPids(s) {
		onePolicy(t, "worker "+id, pid, unix.SCHED_NORMAL)
	}

	s = awaitStart(t, launchProgram(t, []string{denySchedEnv + "=1"}, self, binary, "run", app, "--bind", "127.0.0.1:0", "--worker-sched", "normal"))
	if resp, body := s.get("/"); resp.StatusCode != 200 || body != "v1" {
		t.Fatalf("--worker-sched normal: status %d %q; want 200 v1", resp.StatusCode, body)
	}
	if strings.Contains(s.logs.String(), "SCHED_BATCH was refused") {
		t.Errorf("--worker-sched normal still warns:\n%s", s.logs.String())
	}
}
