package supervisor

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"unsafe"

	"wsgo/internal/exitcode"
)

// As a container's entrypoint wsgo is PID 1, which has two duties no
// other process has: the kernel delivers it no signal it has no handler
// for, and every orphaned process in the container becomes its child, to
// be reaped. A reaper inside the server would race the server's own
// waits for its worker processes (wait4(-1) takes any child's exit
// status), so PID 1 is a tiny init instead, as tini is: it runs the same
// command again as its only child (which is then not PID 1), forwards
// signals to it, reaps every child, and exits with the server's status.

// forwardedSignals are those a container runtime or a user sends to stop
// or steer the server (docker stop sends SIGTERM).
var forwardedSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU}

// RunInit runs os.Args as a child of this PID 1 and returns the exit code
// to leave with: the child's, or 128+N if signal N killed it.
func RunInit() int {
	// Registered before the child starts, so that no signal is missed.
	forward := make(chan os.Signal, 8)
	signal.Notify(forward, forwardedSignals...)
	exited := make(chan os.Signal, 1)
	signal.Notify(exited, syscall.SIGCHLD)

	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsgo: running as PID 1, cannot find my own executable (is /proc mounted?): %v\n", err)
		return exitcode.Failure
	}
	// The child gets a process group of its own, so that a signal sent to
	// ours is not delivered twice; on a terminal (docker run -t), its group
	// takes the foreground, so that Ctrl-C reaches it once, from the tty.
	sys := &syscall.SysProcAttr{Setpgid: true}
	if ownsTerminal(0) {
		sys.Foreground, sys.Ctty = true, 0
	}
	pid, err := syscall.ForkExec(exe, os.Args, &syscall.ProcAttr{
		Env: os.Environ(), Files: []uintptr{0, 1, 2}, Sys: sys,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsgo: running as PID 1, cannot start the server process: %v\n", err)
		return exitcode.Failure
	}
	for {
		select {
		case sig := <-forward:
			syscall.Kill(pid, sig.(syscall.Signal))
		case <-exited:
			if code, done := reapChildren(pid); done {
				return code
			}
		}
	}
}

// reapChildren collects every child that has exited: the server, and the
// orphans the kernel gave PID 1. It reports the server's exit code once
// the server is among them.
func reapChildren(server int) (code int, done bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil || pid <= 0:
			return code, done
		case pid != server:
			continue
		case ws.Signaled():
			code, done = 128+int(ws.Signal()), true
		default:
			code, done = ws.ExitStatus(), true
		}
	}
}

// ownsTerminal reports whether fd is this process's controlling terminal.
func ownsTerminal(fd int) bool {
	var pgrp int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp)))
	return errno == 0
}
