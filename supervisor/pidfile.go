package supervisor

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// runningIn returns the pid a --pid file names, when that process is a
// wsgo that runs (not this one): a second wsgo must not take the file of
// the first, whose signals (logrotate's USR1, a reload's HUP) would then
// reach the wrong process, or none once the second is gone. A stale
// file (its process gone, or its pid now another program's) is no one's.
func runningIn(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(data)))
	if err != nil || pid <= 0 || pid == os.Getpid() || pid == os.Getppid() { // the parent: wsgo as a container's init
		return 0
	}
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return 0
	}
	theirs, err1 := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	ours, err2 := os.ReadFile("/proc/self/comm")
	if err1 != nil || err2 != nil || !bytes.Equal(theirs, ours) {
		return 0
	}
	return pid
}

// checkPidFile refuses to start when path is a running wsgo's.
func checkPidFile(path string) error {
	if pid := runningIn(path); pid != 0 {
		return &ListenError{fmt.Errorf("wsgo: --pid %s: wsgo is already running as pid %d, which the file names; "+
			"stop it first, or give this one another --pid", path, pid)} // exit 3, as for an address in use
	}
	return nil
}

// writePidFile writes this process's pid to path (checkPidFile came
// first, before the workers, whose pids a stale file may name).
func writePidFile(path string) error {
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("wsgo: --pid %s: %w", path, err)
	}
	return nil
}

// removePidFile removes path if it still names this process.
func removePidFile(path string) {
	if data, err := os.ReadFile(path); err == nil && string(bytes.TrimSpace(data)) == strconv.Itoa(os.Getpid()) {
		os.Remove(path)
	}
}
