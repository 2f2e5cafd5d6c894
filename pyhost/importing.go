package pyhost

/*
#include "wsgo.h"
*/
import "C"

import (
	"sync/atomic"
	"time"
)

// ImportProbe looks into the app's import while it runs, from another
// goroutine: where it is (Stack) and, for --reload, the app's files it
// has read so far (SourceFiles). Each takes the GIL for a moment, which
// an import waiting (a sleep, a socket, a lock) lets go; one that keeps it
// in C code leaves them without an answer after gilWait. Once the import
// has ended, it must not be used.
type ImportProbe struct {
	st      *C.wsgo_interp
	waiting atomic.Bool // a call still waits for the GIL
}

// Stack is the Python stack of the thread importing the app, most recent
// call last; false if the GIL could not be had in time.
func (p *ImportProbe) Stack() (string, bool) {
	var stack string
	if !p.withGIL(func() { stack = takeString(C.wsgo_main_stack(p.st)) }) {
		return "", false // f may still write stack
	}
	return stack, stack != ""
}

// SourceFiles lists the app's own Python files imported so far, as
// Host.SourceFiles; false if the GIL could not be had in time, or the
// listing failed.
func (p *ImportProbe) SourceFiles() ([]string, bool) {
	var text string
	var rc C.int
	if !p.withGIL(func() {
		var out *C.char
		rc = C.wsgo_interp_source_files(p.st, &out)
		text = takeString(out)
	}) {
		return nil, false // f may still write text
	}
	return lines(text), rc == 0
}

// withGIL runs f, which takes the GIL, waiting gilWait at most; f runs on
// to its end regardless (its results then unread). One call at a time: a
// call while one still waits fails at once.
func (p *ImportProbe) withGIL(f func()) bool {
	if !p.waiting.CompareAndSwap(false, true) {
		return false
	}
	done := make(chan struct{})
	go func() {
		defer p.waiting.Store(false)
		f()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(gilWait):
		return false
	}
}
