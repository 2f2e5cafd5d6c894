package cpusched

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartBatchChildInheritsItAndNoThreadHereKeepsIt(t *testing.T) {
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
	if got := strings.TrimSpace(out.String()); got != "3" {
		t.Errorf("the child's policy is %q; want 3 (SCHED_BATCH)", got)
	}
	stats, _ := filepath.Glob("/proc/self/task/*/stat")
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			continue // the thread ended
		}
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if fields[41-3] != "0" {
			t.Errorf("%s: policy %s after StartBatch; want 0 (SCHED_NORMAL)", stat, fields[41-3])
		}
	}
	if Batch() {
		t.Error("Batch() is true on the test's thread")
	}
}
