// Package cpusched runs worker processes under Linux's SCHED_BATCH policy.
//
// On a busy core a worker has two kinds of threads: the pythread, which
// runs Python for tens to thousands of microseconds per request, and the
// Go runtime's threads, which read and write the sockets for a few each.
// Under the default policy every wake-up of a Go thread (a socket ready,
// a goroutine handed a response) preempts the pythread: about two context
// switches per request, each costing the pythread its caches.
// SCHED_BATCH keeps the fair share of CPU but drops wake-up preemption,
// so each thread runs until it blocks or its slice ends, and the Go side's
// work gathers into batches. docs/PERFORMANCE.md has the measurements.
package cpusched

import (
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// StartBatch starts cmd under SCHED_BATCH, which every thread of the new
// process inherits from the thread that forks it (and the process's own
// children from it). The calling thread is set to SCHED_BATCH around the
// fork and back to its own policy after; between SCHED_NORMAL and
// SCHED_BATCH a thread needs no privilege to switch. Where setting it is
// refused (a seccomp profile), cmd starts under the caller's policy, and
// schedErr says why.
func StartBatch(cmd *exec.Cmd) (startErr, schedErr error) {
	runtime.LockOSThread()
	was, schedErr := setPolicy(unix.SCHED_BATCH)
	if schedErr != nil {
		runtime.UnlockOSThread()
		return cmd.Start(), schedErr
	}
	startErr = cmd.Start()
	if _, err := setPolicy(was); err == nil {
		runtime.UnlockOSThread()
	} // else the thread stays the caller's, so no other goroutine runs under SCHED_BATCH
	return startErr, nil
}

// Batch reports whether the calling thread runs under SCHED_BATCH.
func Batch() bool {
	attr, err := unix.SchedGetAttr(0, 0)
	return err == nil && attr.Policy == unix.SCHED_BATCH
}

// setPolicy sets the calling thread's policy, keeping its nice value
// (`nice wsgo run` stays nice), and returns the policy it had.
func setPolicy(policy uint32) (was uint32, err error) {
	attr, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return 0, err
	}
	was, attr.Policy = attr.Policy, policy
	return was, unix.SchedSetAttr(0, attr, 0)
}
