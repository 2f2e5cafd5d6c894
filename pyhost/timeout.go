package pyhost

/*
#include "wsgo.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"time"
	"unsafe"
)

// gilWait is how long wsgo waits for the GIL to look at Python from
// outside (a timeout's interrupt, the stacks). A thread running Python
// hands the GIL over within milliseconds when asked (sys.getswitchinterval
// is 5 ms); one that keeps it this long is in C code that does not let go
// (a regular expression that backtracks, a C extension's loop), and may
// never.
const gilWait = time.Second

// abandon takes over a request that ran past its time limit, once its
// client has been answered: it raises wsgo.RequestTimeout into the
// request's Python thread, logs where the thread was, and consumes the
// rest of the request's output (acknowledging chunks as unsent, so the
// response's close() runs). If the thread is still busy StuckAfter later
// (blocked in C code that never looks at the exception), it reports the
// host stuck through Config.OnStuck: counted from the timeout, whether or
// not the GIL could be had meanwhile. stopping: the limit was a stop's
// graceful timeout; wsgo.GracefulTimeout is raised, and the worker is
// ending anyway.
func (h *Host) abandon(j *job, stopping bool) {
	defer h.load.abandon(-1)
	var stuck <-chan time.Time
	if h.cfg.StuckAfter > 0 && !stopping {
		t := time.NewTimer(h.cfg.StuckAfter)
		defer t.Stop()
		stuck = t.C
	}
	msg := "wsgo: request ran past --timeout; raising wsgo.RequestTimeout in its thread"
	if stopping {
		msg = "wsgo: request cut at --graceful-timeout as its worker stops; raising wsgo.GracefulTimeout in its thread"
	}
	logTimeout := func(where string) {
		j.log.Warn(msg, "request", j.req.RequestID, "method", j.req.Method, "path", j.req.RequestURI, "traceback", where)
	}
	if h.sched.withdraw(j) { // still queued: no thread will take it, and its place is free
		limit := "--timeout"
		if stopping {
			limit = "--graceful-timeout"
		}
		j.log.Warn("wsgo: request reached "+limit+" while it waited for a free Python thread; the app never ran it",
			"request", j.req.RequestID, "method", j.req.Method, "path", j.req.RequestURI)
		jobs.remove(j.handle)
		return
	}
	var interrupted chan string
	if p := j.pythread.Load(); p == nil {
		logTimeout("it was still waiting for a free Python thread")
	} else {
		interrupted = make(chan string, 1)
		go func() { interrupted <- h.interrupt(p, j, stopping) }()
		select {
		case stack := <-interrupted:
			logTimeout("its Python stack was:\n" + stack)
			interrupted = nil
		case <-time.After(gilWait):
			logTimeout(fmt.Sprintf("its thread has held the GIL for over %v in C code, so no Python stack "+
				"can be shown, and no request can run: new ones get 503 until it lets go; "+
				"wsgo.RequestTimeout is raised then", gilWait))
			h.sched.setWedged(true)
			h.load.gilHeld(1)
			defer func() {
				if interrupted != nil { // the GIL was not seen free: the worker ends
					h.load.gilHeld(-1)
				}
			}()
		}
	}
	for {
		select {
		case ev := <-j.events:
			if ev.final() {
				jobs.remove(j.handle)
			}
			freeOut(&ev.out)
			if ev.final() {
				return
			}
			if !ev.closing { // a chunk whose ack the pythread waits for
				j.acks <- false
			}
		case stack := <-interrupted:
			h.sched.setWedged(false)
			h.load.gilHeld(-1)
			j.log.Warn("wsgo: the thread of a timed-out request let go of the GIL; wsgo.RequestTimeout raised",
				"request", j.req.RequestID, "path", j.req.RequestURI, "traceback", "its Python stack was:\n"+stack)
			interrupted = nil
		case <-stuck:
			j.log.Error("wsgo: a Python thread is still stuck in a request that timed out",
				"request", j.req.RequestID, "path", j.req.RequestURI, "stuck_for", h.cfg.StuckAfter)
			if h.cfg.OnStuck != nil {
				h.cfg.OnStuck("a Python thread stays stuck in a request that timed out")
			}
			stuck = nil
		}
	}
}

// interrupt raises RequestTimeout (GracefulTimeout when stopping) in p if
// it still runs j, and returns p's stack. It waits for the GIL on a thread
// state of its own, for as long as it takes.
func (h *Host) interrupt(p *pythread, j *job, stopping bool) string {
	var stack string
	var closing, graceful C.int
	if stopping {
		graceful = 1
	}
	exited := false
	if !h.withPython(func() {
		if exited = p.t == nil; !exited {
			stack = takeString(C.wsgo_interrupt(h.st, p.t, C.uintptr_t(j.handle), graceful, &closing))
		}
	}) {
		return "(Python has been finalized)\n"
	}
	if exited {
		return "(its thread has exited)\n"
	}
	switch {
	case closing != 0 && stack != "":
		return "(the body is done; its thread is in the response's close(), which is not interrupted, " +
			"so that it releases what the app holds)\n" + stack
	case stack == "":
		return "(the request had just finished)\n"
	}
	return stack
}

// isFinalized reports whether Python has been finalized (see Shutdown).
func (h *Host) isFinalized() bool {
	h.pyMu.RLock()
	defer h.pyMu.RUnlock()
	return h.finalized
}

// withPython runs f, which enters Python from outside its threads, unless
// Python has been finalized; it reports whether f ran. Finalization
// waits for f (see Shutdown).
func (h *Host) withPython(f func()) bool {
	h.pyMu.RLock()
	defer h.pyMu.RUnlock()
	if h.finalized {
		return false
	}
	f()
	return true
}

// Stacks returns the Python stack of every thread of the interpreter,
// each headed by what the thread is: a wsgo thread and the request it
// serves, or another thread of the app. It waits gilWait for the GIL;
// when a thread keeps it (in C code), it lists what each wsgo thread
// serves instead, and says so.
func (h *Host) Stacks() string {
	names := map[uint64]string{}
	var idents []uint64
	for i, p := range h.pythreads {
		if j := p.current.Load(); j != nil {
			names[p.ident] = fmt.Sprintf("wsgo thread %d, serving %s", i+1, j)
		} else {
			names[p.ident] = fmt.Sprintf("wsgo thread %d, idle", i+1)
		}
		idents = append(idents, p.ident)
	}
	read := make(chan map[uint64]string, 1)
	go func() { read <- h.stacks() }()
	var stacks map[uint64]string
	select {
	case stacks = <-read:
		switch {
		case stacks == nil && h.isFinalized():
			return "(Python has been finalized)\n"
		case stacks == nil:
			return "(Python could not list its threads)\n"
		}
		idents = idents[:0]
		for id := range stacks {
			idents = append(idents, id)
		}
	case <-time.After(gilWait):
		stacks = map[uint64]string{}
		for _, id := range idents {
			stacks[id] = fmt.Sprintf("  (unknown: a thread has held the GIL for over %v in C code)\n", gilWait)
		}
	}
	sort.Slice(idents, func(a, b int) bool { return idents[a] < idents[b] })
	var b strings.Builder
	for _, id := range idents {
		name, ok := names[id]
		if !ok {
			name = "a thread of the app"
		}
		fmt.Fprintf(&b, "Thread %#x (%s), most recent call last:\n%s\n", id, name, stacks[id])
	}
	return b.String()
}

// stacks reads every thread's stack, waiting for the GIL as long as it
// takes; nil if Python failed or is finalized.
func (h *Host) stacks() map[uint64]string {
	var stacks map[uint64]string
	h.withPython(func() {
		var n C.size_t
		buf := C.wsgo_stacks(h.st, &n)
		if buf != nil {
			stacks = parseStacks(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)))
			C.wsgo_free(unsafe.Pointer(buf))
		}
	})
	return stacks
}

// parseStacks reads wsgo_stacks' packing: u32 count, then per thread u64
// id, u32 length, text.
func parseStacks(b []byte) map[uint64]string {
	out := map[uint64]string{}
	count := binary.NativeEndian.Uint32(b)
	b = b[4:]
	for range count {
		id := binary.NativeEndian.Uint64(b)
		n := binary.NativeEndian.Uint32(b[8:])
		out[id] = string(b[12 : 12+n])
		b = b[12+n:]
	}
	return out
}
