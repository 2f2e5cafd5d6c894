package httpfront

import (
	"fmt"
	"io"
	"os"
)

// fileSlice is how much of a file one sendfile(2) may take before the
// deadline is renewed: fewer system calls than sendSlice, the same rule
// (a client that takes 256 KiB per patience keeps its writer).
const fileSlice = 4 * sendSlice

// span is a part of the outbox's queue held in a file: the queue's own
// temporary file, or a file the app gave wsgi.file_wrapper, which is
// queued as a reference rather than copied.
type span struct {
	f        *os.File
	off, end int64
}

// toFile queues p in the temporary file. mu held.
func (o *outbox) toFile(p []byte) error {
	if o.temp == nil {
		f, err := os.CreateTemp("", "wsgo-response-")
		if err != nil {
			return o.failLocked(err)
		}
		os.Remove(f.Name()) // the open file outlives its name; nothing to clean up on a crash
		o.temp, o.tempEnd = f, 0
	}
	if _, err := o.temp.WriteAt(p, o.tempEnd); err != nil {
		return o.failLocked(err)
	}
	end := o.tempEnd + int64(len(p))
	if last := len(o.spans) - 1; last >= 0 && o.spans[last].f == o.temp && o.spans[last].end == o.tempEnd {
		o.spans[last].end = end
	} else {
		o.spans = append(o.spans, span{o.temp, o.tempEnd, end})
	}
	o.tempEnd = end
	return nil
}

// dropSpan removes the first span, sent or discarded, and closes its file
// when nothing else of the queue is in it. mu held.
func (o *outbox) dropSpan() {
	f := o.spans[0].f
	o.spans = o.spans[1:]
	switch {
	case f != o.temp:
		f.Close()
	case len(o.spans) == 0:
		o.temp.Close()
		o.temp = nil
	}
}

// writeFile sends n bytes of f from off: straight from the file while the
// client keeps up (sendfile(2) on a socket), like writeDirect; once the
// writer is released, the rest is queued as a reference to the file, not
// a copy, and sent by the outbox's goroutine.
func (o *outbox) writeFile(f *os.File, off, n int64) error {
	if !o.settles {
		sent, err := o.direct(n, fileSlice, func(from, k int64) (int64, error) {
			return copyFile(o.conn, f, off+from, k)
		})
		if err != errReleased {
			return err
		}
		off, n = off+sent, n-sent
	}
	if err := o.queueFile(f, off, n); err != nil {
		return err
	}
	if o.settles {
		return o.settle()
	}
	return nil
}

// queueFile queues n bytes of f from off. The outbox opens the file again
// for a description of its own: the app's keeps its offset, and may be
// closed once the response is over. Where that cannot be done (no /proc),
// the bytes are copied into the queue.
func (o *outbox) queueFile(f *os.File, off, n int64) error {
	own, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		_, err := io.Copy(queueWriter{o}, io.NewSectionReader(f, off, n))
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		own.Close()
		return o.err
	}
	o.spans = append(o.spans, span{own, off, off + n})
	o.queued += n
	o.startSender()
	return nil
}

// queueWriter queues what is written to it.
type queueWriter struct{ o *outbox }

func (w queueWriter) Write(p []byte) (int, error) {
	if err := w.o.queue(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sendFile sends n bytes of f from off with sendfile(2), in slices that
// each renew the stall deadline. Writers only append past them (pwrite),
// which leaves the file's offset to us.
func (o *outbox) sendFile(f *os.File, off, n int64) (int64, error) {
	var sent int64
	for sent < n {
		if err := o.renewDeadline(); err != nil {
			return sent, err
		}
		k, err := copyFile(o.conn, f, off+sent, min(n-sent, fileSlice))
		sent += k
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// copyFile copies n bytes of f from off to w: with sendfile(2) when w is
// a TCP socket.
func copyFile(w io.Writer, f *os.File, off, n int64) (int64, error) {
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	k, err := io.Copy(w, &io.LimitedReader{R: f, N: n})
	if err == nil && k < n {
		err = errShortFile
	}
	return k, err
}
