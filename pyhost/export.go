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
	"runtime/cgo"
	"unsafe"
)

// wsgoBodyRead fills p[0:n] from the request body: wsgi.input's reads.
//
//export wsgoBodyRead
func wsgoBodyRead(h C.uintptr_t, p *C.char, n C.size_t) C.ssize_t {
	j := cgo.Handle(h).Value().(*job)
	return C.ssize_t(j.bodyRead(unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))))
}

// wsgoEmit writes what write() was given, before returning. out.buf
// becomes Go's to free. Returns 0, or -1 when the client is gone.
//
//export wsgoEmit
func wsgoEmit(h C.uintptr_t, out *C.wsgo_out) C.int {
	j := cgo.Handle(h).Value().(*job)
	if j.writeHere(out) {
		return 0
	}
	return -1
}

// wsgoLog logs text the app wrote to wsgi.errors (level 0) or an error
// report (level 1), marked with the request when h is not 0.
//
//export wsgoLog
func wsgoLog(h C.uintptr_t, level C.int, p *C.char, n C.size_t) {
	text := C.GoStringN(p, C.int(n))
	if h == 0 {
		logAppText(nil, int(level), text)
		return
	}
	logAppText(cgo.Handle(h).Value().(*job), int(level), text)
}
