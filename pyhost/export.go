package pyhost

// The C-to-Go callbacks. They are off the hot path: a request whose app
// returns a list never crosses back into Go. Each runs with the GIL
// released, so it may block.

/*
#include <sys/types.h>
#include "wsgo.h"
*/
import "C"

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// What wsgoBodyRead and wsgoEmit return for a request that has ended.
const (
	bodyEnded = C.WSGO_ENDED
	emitEnded = C.WSGO_ENDED
)

// jobRegistry is how C callbacks find a job. A thread the app started
// may call back with a request's handle at any time, even after the
// request has ended: handles are never reused, and one removed finds
// nothing, so there is no window in which a stale handle finds a wrong
// job or fails (unlike cgo.Handle, whose Value panics).
type jobRegistry struct {
	m    sync.Map // uintptr -> *job
	last atomic.Uintptr
}

var jobs jobRegistry

func (r *jobRegistry) add(j *job) uintptr {
	h := r.last.Add(1)
	r.m.Store(h, j)
	return h
}

func (r *jobRegistry) remove(h uintptr) { r.m.Delete(h) }

// find returns the job of handle h, or nil once it is gone.
func (r *jobRegistry) find(h C.uintptr_t) *job {
	if v, ok := r.m.Load(uintptr(h)); ok {
		return v.(*job)
	}
	return nil
}

// wsgoBodyRead fills p[0:n] from the request body: wsgi.input's reads.
//
//export wsgoBodyRead
func wsgoBodyRead(h C.uintptr_t, p *C.char, n C.size_t) C.ssize_t {
	j := jobs.find(h)
	if j == nil {
		return bodyEnded
	}
	return C.ssize_t(j.bodyRead(unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))))
}

// wsgoEmit writes what write() was given, before returning. out.buf
// becomes Go's to free. Returns 0, -1 when the client is gone, or
// WSGO_ENDED when the request has ended.
//
//export wsgoEmit
func wsgoEmit(h C.uintptr_t, out *C.wsgo_out) C.int {
	j := jobs.find(h)
	if j == nil {
		freeOut(out)
		return emitEnded
	}
	if j.writeHere(out) {
		return 0
	}
	if j.ended.Load() {
		return emitEnded
	}
	return -1
}

// wsgoLog logs text the app wrote to wsgi.errors (level 0) or an error
// report (level 1), marked with the request while it runs.
//
//export wsgoLog
func wsgoLog(h C.uintptr_t, level C.int, p *C.char, n C.size_t) {
	logAppText(jobs.find(h), int(level), C.GoStringN(p, C.int(n)))
}
