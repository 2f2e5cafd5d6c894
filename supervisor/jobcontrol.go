package supervisor

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// A master in the background of a terminal set to `stty tostop` is sent
// SIGTTOU by the kernel whenever it writes to that terminal. A SIGTTOU
// that is caught (to drain a worker, as gunicorn does) makes the kernel
// restart the write, which raises it again: such a master spun on its
// first log line and never served. So SIGTTOU is caught only while the
// terminal lets the master write; otherwise it keeps its default action,
// which stops the master until the shell's `fg` (or `bg`), as it stops any
// background job under tostop. The workers ignore SIGTTOU (worker.go), so
// their writes go through.

// watchTTOU passes the SIGTTOUs that ask for one worker fewer on to sigs,
// until done is closed. SIGTTOU is caught, or not, when it returns.
func watchTTOU(sigs chan<- os.Signal, done <-chan struct{}) {
	ttou := make(chan os.Signal, 1)
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	catch := func() {
		if writesStopped() {
			signal.Reset(syscall.SIGTTOU)
		} else {
			signal.Notify(ttou, syscall.SIGTTOU)
		}
	}
	catch()
	go func() {
		defer signal.Stop(cont)
		defer signal.Stop(ttou)
		for {
			select {
			case <-ttou:
				if writesStopped() { // the terminal's: the write is retried, and now stops us
					signal.Reset(syscall.SIGTTOU)
					continue
				}
				select {
				case sigs <- syscall.SIGTTOU:
				default: // the loop has signals waiting: dropped, as os/signal drops one for a full channel
				}
			case <-cont: // fg or bg: the terminal may let us write now, or not
				catch()
			case <-done:
				return
			}
		}
	}()
}

// writesStopped reports whether the master's standard output or error is
// its terminal, set to tostop, with another process group in the
// foreground: a write there raises SIGTTOU.
func writesStopped() bool {
	for _, fd := range []int{1, 2} {
		t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
		if err != nil || t.Lflag&unix.TOSTOP == 0 {
			continue
		}
		if fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil && fg != unix.Getpgrp() {
			return true
		}
	}
	return false
}
