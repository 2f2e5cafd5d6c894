package pyhost

import (
	"os"
	"os/exec"
	"testing"
)

// childMode names what a child test process does instead of the tests:
// one of childModes, each of which needs a Host of its own (CPython starts
// and finalizes once per process) and returns the exit code.
const childMode = "PYHOST_CHILD_MODE"

var childModes = map[string]func() int{
	"after-shutdown":          afterShutdown,
	"out-of-memory":           outOfMemory,
	"interrupt-after-exit":    interruptAfterExit,
	"interrupt-while-exiting": interruptWhileExiting,
}

// runChild runs this test binary in child mode and returns its output.
func runChild(t *testing.T, mode string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// glibc fills freed memory with 0x55 bytes, so that a use after free
	// reads garbage rather than what was there.
	cmd.Env = append(os.Environ(), childMode+"="+mode, "MALLOC_PERTURB_=85")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	return string(out)
}
