package cpusched

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// startBatch runs StartBatch on the test's own thread, so that thread's
// policy afterwards is the forking thread's, and returns the child's
// policy as the child read it.
func startBatch(t *testing.T) string {
	t.Helper()
	var out strings.Builder
	cmd := exec.Command("/bin/sh", "-c", "cut -d' ' -f41 /proc/$$/stat") // field 41: policy
	cmd.Stdout = &out
	startErr, schedErr := StartBatch(cmd)
	if startErr != nil || schedErr != nil {
		t.Fatalf("start: %v, policy: %v", startErr, schedErr)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String())
}

func TestStartBatchChildInheritsItAndTheForkingThreadGetsItsOwnBack(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if got := startBatch(t); got != "3" {
		t.Errorf("the child's policy is %q; want 3 (SCHED_BATCH)", got)
	}
	if Batch() {
		t.Error("the forking thread stayed under SCHED_BATCH; want SCHED_NORMAL back")
	}

	// A caller already under SCHED_BATCH (`chrt -b wsgo run`) keeps it.
	if _, err := setPolicy(unix.SCHED_BATCH); err != nil {
		t.Fatal(err)
	}
	defer setPolicy(unix.SCHED_NORMAL)
	if got := startBatch(t); got != "3" {
		t.Errorf("the child's policy is %q; want 3 (SCHED_BATCH)", got)
	}
	if !Batch() {
		t.Error("a forking thread under SCHED_BATCH was set to SCHED_NORMAL; want its own policy back")
	}
}
