package httpfront

import (
	"bytes"
	"io"
	"os"
	"sync"

	"wsgo/wsgi"
)

// spoolMemory is how much of a body is kept in memory; the rest goes to
// an unlinked temporary file.
const spoolMemory = 1 << 20

// spoolPooled is the size from which a body's memory comes from
// spoolBuffers rather than a new allocation.
const spoolPooled = 64 << 10

// spoolClasses are the capacities of the pooled buffers: a body takes the
// smallest that holds it and the byte past it, and the budget counts that
// capacity, which is what it holds (one 1 MiB class let a thousand 65 KiB
// bodies hold 1 GiB under a budget of 64 MiB).
var spoolClasses = [...]int{128 << 10, 256 << 10, 512 << 10, spoolMemory + 1}

// spoolBuffers recycles the memory of large spooled bodies, a pool per
// class. A fresh 1 MiB buffer per upload costs more than receiving it:
// the runtime zeroes it, the heap grows and gives pages back, and each new
// page faults (1 MiB POSTs ran at a third of uWSGI's rate).
var spoolBuffers [len(spoolClasses)]sync.Pool

func init() {
	for i, n := range spoolClasses {
		spoolBuffers[i].New = func() any {
			b := make([]byte, n)
			return &b
		}
	}
}

// spoolClass is the class of a buffer of size bytes, or -1 for one too
// small to pool.
func spoolClass(size int) int {
	if size <= spoolPooled {
		return -1
	}
	for i, n := range spoolClasses {
		if size <= n {
			return i
		}
	}
	panic("httpfront: a spool buffer larger than spoolMemory+1")
}

// spoolBody reads a request body whole before the app runs and returns
// it with its length; length is its Content-Length, or -1 for a chunked
// one. Why: frameworks such as Django read exactly CONTENT_LENGTH bytes
// of wsgi.input and see an empty body without it; and a slow uploader
// then costs a goroutine, never a Python thread. Its memory is counted in
// budget; when the worker's is taken (many uploads at once), the body
// goes to the file from its first byte. release frees the spool once
// nothing reads the body any more (the request is over).
func spoolBody(r io.Reader, length int64, budget *bufferBudget) (body io.Reader, n int64, release func(), err error) {
	// One byte more than the body has, so that its end is seen.
	size := spoolMemory + 1
	if length >= 0 && length < spoolMemory {
		size = int(length) + 1
	}
	class, held := spoolClass(size), size
	if class >= 0 {
		held = spoolClasses[class]
	}
	if !budget.takeMemory(held) {
		return spoolToFile(nil, func() {}, r)
	}
	var buf []byte
	release = func() { budget.freeMemory(held) }
	if class >= 0 {
		pooled := spoolBuffers[class].Get().(*[]byte)
		buf, release = (*pooled)[:size], func() { spoolBuffers[class].Put(pooled); budget.freeMemory(held) }
	} else {
		buf = make([]byte, size)
	}
	k, err := wsgi.ReadBody(r, buf)
	if err != nil {
		release()
		return nil, 0, nil, err
	}
	if k < len(buf) {
		return bytes.NewReader(buf[:k]), int64(k), release, nil
	}
	return spoolToFile(buf, release, r)
}

// spoolToFile writes head, then the rest of r, to an unlinked temporary
// file, and returns it read from its start with its length and what
// closes it. done is called once head is written: its memory is not held
// while the rest arrives.
func spoolToFile(head []byte, done func(), r io.Reader) (body io.Reader, n int64, release func(), err error) {
	f, err := os.CreateTemp("", "wsgo-body-")
	if err != nil {
		done()
		return nil, 0, nil, err
	}
	os.Remove(f.Name()) // the open file outlives its name; nothing to clean up on a crash
	_, err = f.Write(head)
	done()
	if err == nil {
		_, err = io.Copy(f, r)
	}
	if err == nil {
		n, err = f.Seek(0, io.SeekCurrent)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, n, func() { f.Close() }, nil
}
