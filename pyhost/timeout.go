package pyhost

/*
#include "wsgo.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"
	"unsafe"
)

// abandon takes over a request that ran past its time limit, once its
// client has been answered: it raises wsgo.RequestTimeout into the
// request's Python thread, logs where the thread was, and consumes the
// rest of the request's output (acknowledging chunks as unsent, so the
// response's close() runs). If the thread is still busy StuckAfter later
// (blocked in C code that never looks at the exception), it reports the
// host stuck through Config.OnStuck.
func (h *Host) abandon(j *job) {
	where := "it was still waiting for a free Python thread"
	if w := j.thread.Load(); w != nil {
		where = "its Python stack was:\n" + h.interrupt(w, j)
	}
	j.log.Warn("wsgo: request ran past --timeout; raising wsgo.RequestTimeout in its thread",
		"request", j.req.ID, "method", j.req.Method, "path", j.req.RequestURI, "traceback", where)
	var stuck <-chan time.Time
	if h.cfg.StuckAfter > 0 {
		t := time.NewTimer(h.cfg.StuckAfter)
		defer t.Stop()
		stuck = t.C
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
			j.acks <- false
		case <-stuck:
			j.log.Error("wsgo: a Python thread is still stuck in a request that timed out",
				"request", j.req.ID, "path", j.req.RequestURI, "stuck_for", h.cfg.StuckAfter)
			if h.cfg.OnStuck != nil {
				h.cfg.OnStuck()
			}
			stuck = nil
		}
	}
}

// interrupt raises RequestTimeout in w if it still runs j, and returns w's
// stack. It waits for the GIL on a thread of its own.
func (h *Host) interrupt(w *worker, j *job) string {
	runtime.LockOSThread() // the temporary thread state is bound to this thread
	defer runtime.UnlockOSThread()
	stack := takeString(C.wsgo_interrupt(h.st, w.t, C.uintptr_t(j.handle)))
	if stack == "" {
		return "(the request had just finished)\n"
	}
	return stack
}

// Stacks returns the Python stack of every thread of the interpreter,
// each headed by what the thread is: a wsgo thread and the request it
// serves, or another thread of the app. It waits for the GIL, so a thread
// holding the GIL forever in C code makes it wait forever.
func (h *Host) Stacks() string {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var n C.size_t
	buf := C.wsgo_stacks(h.st, &n)
	if buf == nil {
		return "(Python could not list its threads)\n"
	}
	defer C.wsgo_free(unsafe.Pointer(buf))
	stacks := parseStacks(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)))
	names := map[uint64]string{}
	for i, w := range h.threads {
		names[w.ident] = fmt.Sprintf("wsgo thread %d, idle", i+1)
		if j := w.current.Load(); j != nil {
			names[w.ident] = fmt.Sprintf("wsgo thread %d, serving request %d: %s %s", i+1, j.req.ID, j.req.Method, j.req.RequestURI)
		}
	}
	idents := make([]uint64, 0, len(stacks))
	for id := range stacks {
		idents = append(idents, id)
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
