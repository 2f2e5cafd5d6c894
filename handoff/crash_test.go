package handoff

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCrashSummaryReadsTheGoRuntimesReport runs this test binary again as
// a process that sets up its crash file as a worker does, then panics.
func TestCrashSummaryReadsTheGoRuntimesReport(t *testing.T) {
	if os.Getenv("WSGO_TEST_CRASH") == "1" {
		if err := reportCrashes(); err != nil {
			os.Exit(9)
		}
		// On a goroutine of its own, as in a worker: testing recovers
		// panics of the test's own goroutine.
		go panic("boom: the app did something bad")
		select {}
	}
	f, err := NewCrashFile()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSummaryReadsTheGoRuntimesReport$")
	cmd.Env = append(os.Environ(), "WSGO_TEST_CRASH=1")
	cmd.ExtraFiles = []*os.File{nil, nil, f} // descriptor 5
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit %v; want the Go runtime's 2; output:\n%s", err, out)
	}
	if got, want := CrashSummary(f), "panic: boom: the app did something bad"; got != want {
		t.Errorf("CrashSummary = %q; want %q", got, want)
	}
	if !strings.Contains(string(out), "panic: boom") {
		t.Errorf("the report did not go to standard error too:\n%s", out)
	}
}

func TestCrashSummaryOfAWorkerThatDidNotCrash(t *testing.T) {
	f, err := NewCrashFile()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := CrashSummary(f); got != "" {
		t.Errorf("CrashSummary of an empty file = %q", got)
	}
}
