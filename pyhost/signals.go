package pyhost

/*
#include "wsgo.h"
*/
import "C"

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// appSignals relays the signals the app has Python handlers for to the
// interpreter's thread (runInterpreter), which runs the handlers: Python
// runs them on its main thread only. One per process, as the interpreter.
var appSignals = make(chan os.Signal, 8)

// wsgoSignal is called when the app sets a signal's handler with
// signal.signal (signals.c): Go keeps the signal and relays it, ignores
// it, or restores its default action. It is called with the GIL held and
// returns at once.
//
//export wsgoSignal
func wsgoSignal(sig C.int, kind C.int) {
	s := syscall.Signal(sig)
	switch kind {
	case C.WSGO_SIGNAL_HANDLER:
		signal.Notify(appSignals, s)
	case C.WSGO_SIGNAL_IGNORE:
		signal.Ignore(s)
	default:
		signal.Reset(s)
	}
}

// runSignalHandler runs the app's handler for sig, on the interpreter's
// thread, and logs an exception it raised.
func (h *Host) runSignalHandler(sig os.Signal) {
	s := sig.(syscall.Signal)
	if report := takeString(C.wsgo_run_signal_handler(h.st, C.int(s))); report != "" {
		h.cfg.Logger.Error("wsgo: the app's handler for "+unix.SignalName(s)+" raised an exception", "traceback", report)
	}
}
