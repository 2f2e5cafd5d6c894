package httpfront

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"wsgo/internal/sendfile"
)

// span is a part of the outbox's queue held in a file: the queue's own
// temporary file, or a file the app gave wsgi.file_wrapper, which is
// queued as a reference rather than copied.
type span struct {
	f        *os.File
	off, end int64
	temp     bool // f is a temporary file of the outbox's, counted in its budget
}

// toFile queues p in the temporary file, whose len(p) bytes more the
// budget has counted; past the budget's tempFileSize a new file is begun,
// so that the full one is closed (and its disk freed) once sent. mu held.
func (o *outbox) toFile(p []byte) error {
	if o.temp != nil && o.tempEnd >= o.budget.tempFileSize() {
		o.temp = nil // its last span closes it (dropSpan)
	}
	if o.temp == nil {
		f, err := os.CreateTemp("", "wsgo-response-")
		if err != nil {
			o.budget.freeDisk(int64(len(p)))
			return o.failLocked(err)
		}
		os.Remove(f.Name()) // the open file outlives its name; nothing to clean up on a crash
		o.temp, o.tempEnd = f, 0
	}
	if _, err := o.temp.WriteAt(p, o.tempEnd); err != nil {
		o.budget.freeDisk(int64(len(p)))
		if o.tempEnd == 0 { // no span holds it
			o.temp.Close()
			o.temp = nil
		}
		return o.failLocked(err)
	}
	end := o.tempEnd + int64(len(p))
	if last := len(o.spans) - 1; last >= 0 && o.spans[last].f == o.temp && o.spans[last].end == o.tempEnd {
		o.spans[last].end = end
	} else {
		o.spans = append(o.spans, span{o.temp, o.tempEnd, end, true})
	}
	o.tempEnd = end
	return nil
}

// dropSpan removes the first span, sent or discarded, and closes its file
// when no later span is in it; a temporary file's size, which its last
// span ends at, goes back to the budget. mu held.
func (o *outbox) dropSpan() {
	s := o.spans[0]
	o.spans = o.spans[1:]
	for _, later := range o.spans {
		if later.f == s.f {
			return
		}
	}
	s.f.Close()
	if s.temp {
		o.budget.freeDisk(s.end)
	}
	if s.f == o.temp {
		o.temp = nil
	}
}

// fileDirect is the largest file a writer sends itself; a larger one is
// queued at once, as a reference, for the outbox's goroutine to send. The
// writer is a pythread, a goroutine locked to its thread: each wait for
// room in the socket costs it a hand-off between threads on waking that
// a plain goroutine does not pay (an 8 MiB file: 23 context switches per
// response sent by the pythread, 13 queued, and about 10% more req/s).
const fileDirect = sendSlice

// writeFile sends n bytes of f from off. A small file goes straight from
// the file while the client keeps up (sendfile(2) on a socket), like
// writeDirect, and what is left once the writer is released is queued; a
// larger one is queued whole. Queued, it is a reference to the file
// rather than a copy wherever the file can be opened again (/proc).
func (o *outbox) writeFile(f *os.File, off, n int64) error {
	var own *os.File
	if o.settles || n > fileDirect {
		own = reopen(f)
	}
	if own == nil && !o.settles {
		sent, err := o.direct(n, sendSlice, sendSlice, func(from, k int64) (int64, error) {
			return copyFile(o.conn, f, off+from, k, nil)
		})
		if err != errReleased {
			return err
		}
		off, n = off+sent, n-sent
		own = reopen(f)
	}
	if err := o.queueFile(f, own, off, n); err != nil {
		return err
	}
	if o.settles {
		return o.settle()
	}
	return nil
}

// reopen opens f again, for a file description of the outbox's own: the
// app's keeps its offset, and may be closed once the response is over.
// Nil where that cannot be done (no /proc).
func reopen(f *os.File) *os.File {
	own, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		return nil
	}
	return own
}

// queueFile queues n bytes of f from off: as a reference through own,
// f reopened (reopen), or as a copy when own is nil.
func (o *outbox) queueFile(f, own *os.File, off, n int64) error {
	if own == nil {
		_, err := io.Copy(queueWriter{o}, io.NewSectionReader(f, off, n))
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		own.Close()
		return o.err
	}
	o.spans = append(o.spans, span{own, off, off + n, false})
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

// sendFile sends n bytes of f from off: the stall deadline is renewed
// each time the client has taken another sendSlice, the rule of writes,
// whatever the connection (sendfile(2) on a plain socket, pieces of a
// sendSlice on TLS and HTTP/2, whose writes wait for the client's flow
// control window: with a rule of 256 KiB an HTTP/2 client that kept
// reading at 4 KB/s was reset at the default stall timeout).
func (o *outbox) sendFile(f *os.File, off, n int64) (int64, error) {
	if err := o.renewDeadline(); err != nil {
		return 0, err
	}
	var renewed int64
	return copyFile(o.conn, f, off, n, func(sent int64) error {
		if sent-renewed < sendSlice {
			return nil
		}
		renewed = sent
		return o.renewDeadline()
	})
}

// fileSender is a socket that sends from a file itself (sendfile.Send),
// counting what it sends as its writes: a lent connection (handoff).
type fileSender interface {
	SendFile(f *os.File, off, n int64, progress func(sent int64) error) (int64, error)
}

// copyFile copies n bytes of f from off to w, leaving f's offset alone:
// with sendfile(2) when w is a socket, else read in sendSlices (TLS, an
// HTTP/2 stream). progress, if not nil, is told the total sent after each
// step; its error ends the copy.
func copyFile(w io.Writer, f *os.File, off, n int64, progress func(sent int64) error) (int64, error) {
	switch s := w.(type) {
	case fileSender:
		return s.SendFile(f, off, n, progress)
	case syscall.Conn:
		if rc, err := s.SyscallConn(); err == nil {
			return sendfile.Send(rc, f, off, n, progress)
		}
	}
	var sent int64
	for sent < n {
		want := min(n-sent, sendSlice)
		k, err := io.Copy(w, io.NewSectionReader(f, off+sent, want))
		sent += k
		if err == nil && k < want {
			err = sendfile.ErrShortFile
		}
		if err == nil && progress != nil {
			err = progress(sent)
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}
