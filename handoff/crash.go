package handoff

import (
	"io"
	"os"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/unix"
)

// A worker's Go runtime report of a crash (a panic, a fatal error, a
// signal in C code) goes to its standard error, which the master shares,
// and the process exits with code 2. The master cannot tell that exit from
// any other code 2, so each worker also writes its crash report into a
// memory file the master gave it (descriptor 5), which the master reads
// once the worker is gone. A file, not a pipe: a report larger than a
// pipe's buffer would block the dying worker.

// crashFD is the crash file's descriptor in a worker.
const crashFD = 5

// NewCrashFile makes the memory file a worker writes its crash report
// into; the master passes it as the worker's descriptor 5.
func NewCrashFile() (*os.File, error) {
	fd, err := unix.MemfdCreate("wsgo-crash", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "wsgo-crash"), nil
}

// reportCrashes sends this worker's Go crash reports to the crash file
// too (standard error keeps them).
func reportCrashes() error {
	f := os.NewFile(crashFD, "wsgo-crash")
	defer f.Close() // SetCrashOutput keeps a duplicate
	return debug.SetCrashOutput(f, debug.CrashOptions{})
}

// CrashSummary is the head of the crash report in f, the lines before the
// first goroutine's stack, joined by "; " (e.g. "SIGSEGV: segmentation
// violation; PC=0x7f14ce185ad8 m=19 sigcode=1 addr=0x0; signal arrived
// during cgo execution"), or "" when the worker wrote none.
func CrashSummary(f *os.File) string {
	head := make([]byte, 4096)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return ""
	}
	var lines []string
	for _, line := range strings.Split(string(head[:n]), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "goroutine ") || strings.HasPrefix(line, "runtime stack:") {
			if len(lines) > 0 {
				break
			}
			continue
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "; ")
}
