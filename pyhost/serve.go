package pyhost

/*
#include <stdlib.h>
#include "wsgo.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"wsgo/wsgi"
)

// A job is one request on its way through a Python thread. The
// connection's goroutine (ServeWSGI) and the Python thread take turns with
// the Responder: the thread sends the end of the request, and the first
// chunk of a streamed response, as events, which the connection writes;
// it writes every later chunk or file itself (emit). resMu makes the turns
// and a timeout's take-back safe; the order is kept by waiting, before
// writing, for the ack of the event sent before.
//
// Threads the app started may hold the request's wsgi.input, wsgi.errors
// or write() past its end: their callbacks find the job by handle in
// jobs (export.go) for as long as C may use it, and find it ended once
// the body and the Responder are the front's again.
type job struct {
	ctx      context.Context
	req      *wsgi.Request
	packed   []byte     // the request for C; borrowed by C during wsgo_call_start
	handle   uintptr    // how C callbacks find this job (see jobs)
	events   chan event // thread -> connection; capacity 3: a chunk, the end, close() returned
	acks     chan bool  // connection -> thread: true = written, false = client gone
	sched    *scheduler
	log      *slog.Logger
	pythread atomic.Pointer[pythread] // the pythread running it, once one does
	// owed: a chunk went out as an event and its ack was not taken yet.
	// Set by the Python thread running the job; whoever writes next takes it.
	owed atomic.Bool

	resMu  sync.Mutex
	res    wsgi.Responder // guarded by resMu
	werr   error          // the first error writing to the client; guarded by resMu
	bodyMu sync.Mutex     // one wsgi.input read at a time, and none once ended
	// bodyErr is the error of the first wsgi.input read that failed:
	// an exception the app raises after it is the request's fault.
	bodyErr atomic.Pointer[error]
	// ended: ServeWSGI has returned, or is about to (a timeout); the
	// request's body and Responder belong to the front again. Set with
	// resMu and bodyMu held (end).
	ended atomic.Bool
}

// event is one output of the app, or the end of a job.
type event struct {
	out     C.wsgo_out // its buf belongs to the receiver
	closing bool       // out is the end, and close() runs: an event with closed follows
	closed  bool       // close() has returned after the end (closing)
	gone    bool       // the client left; the response was closed
	refused error      // the job never ran: the host stopped, or is wedged (sched.go)
}

// pythread is one Python thread that serves requests: a goroutine locked
// to its OS thread, which owns a Python thread state for its whole life.
type pythread struct {
	host    *Host
	index   int
	wake    chan *job // the scheduler's hand-off; nil means exit
	t       *C.wsgo_thread
	ident   uint64              // Python's id of the thread (threading.get_ident())
	current atomic.Pointer[job] // the request it runs, for stack dumps
	parked  bool                // in the scheduler's idle list; guarded by its mu
	meter   meter               // nil when the system cannot measure the thread
	marks   [2]time.Duration    // meter.cpu() at the start of each gauge's window; guarded by the scheduler's mu
	// inApp (set by C while a wsgo_call_* runs) and writing (a write to
	// the client) are where the thread may block for the app's sake. Out
	// of them it runs wsgo's own code, where it may wait for the Go
	// runtime (a P, back from C) or for the GIL, but never for the app: it
	// is not blocked in the sense of stalledIn.
	inApp   *atomic.Int32
	writing atomic.Bool
}

func (p *pythread) run(started chan<- error) {
	defer p.host.running.Done()
	runtime.LockOSThread() // the thread state is bound to this OS thread
	cpu := newThreadCPU()
	if cpu != nil {
		defer cpu.close()
		p.meter = cpu
	}
	s := p.host.sched
	if p.t = C.wsgo_thread_new(p.host.st); p.t == nil {
		started <- errors.New("pyhost: out of memory making a Python thread state")
		return
	}
	p.ident = uint64(C.wsgo_thread_ident(p.t))
	p.inApp = (*atomic.Int32)(unsafe.Pointer(C.wsgo_thread_in_app(p.t)))
	p.host.pythreads[p.index] = p
	j, stop := s.park(p) // counted as active until parked (see Start)
	started <- nil
	for !stop {
		if j == nil {
			j = <-p.wake
			if j == nil {
				break
			}
		}
		C.wsgo_thread_attach(p.t)
		for j != nil { // drain the queue while holding the GIL
			p.serve(j)
			j = s.next()
		}
		C.wsgo_thread_detach(p.t)
		j, stop = s.park(p)
	}
	// A timeout's interrupt enters Python from outside with p.t in hand
	// (withPython): the state goes once none is in, and none comes after.
	p.host.pyMu.Lock()
	C.wsgo_thread_delete(p.t)
	p.t = nil
	p.host.pyMu.Unlock()
}

// serve runs one request. GIL: held on entry and on return.
func (p *pythread) serve(j *job) {
	if j.ctx.Err() != nil { // the client left while the request was queued
		j.events <- event{gone: true}
		return
	}
	j.pythread.Store(p)
	p.current.Store(j)
	defer p.current.Store(nil)
	var out C.wsgo_out
	bodyLen := int64(-1)
	if j.req.HasContentLength {
		bodyLen = j.req.ContentLength
	}
	head := C.int(0)
	if j.req.Method == "HEAD" {
		head = 1
	}
	call := C.wsgo_call_start(p.host.st, p.t, (*C.char)(unsafe.Pointer(&j.packed[0])),
		C.size_t(len(j.packed)), C.int64_t(bodyLen), head, C.uintptr_t(j.handle), &out)
	for call != nil && out.kind != C.WSGO_DONE {
		if !p.emit(j, &out) {
			C.wsgo_call_close(call)
			j.events <- event{gone: true}
			return
		}
		call = C.wsgo_call_next(call, &out)
	}
	if call == nil {
		j.events <- event{out: out}
		return
	}
	// The end goes out while close() runs: a slow close() (Flask's
	// call_on_close, Django's request_finished) delays no byte of it.
	j.events <- event{out: out, closing: true}
	C.wsgo_call_close(call)
	j.events <- event{closed: true}
}

// emit gets a chunk or a file to the client; false means the client is
// gone. The first chunk, copied with the head, goes to the connection as
// an event and the app goes on at once, so the usual framework response
// (an iterable of one chunk) waits for nothing. Later outputs borrow
// Python's memory or file, so they are written here, before
// wsgo_call_next, with the GIL released: no hand-off per chunk.
// GIL: held on entry and on return.
func (p *pythread) emit(j *job, out *C.wsgo_out) bool {
	if out.kind == C.WSGO_MORE && out.borrowed == 0 {
		j.owed.Store(true)
		j.events <- event{out: *out} // never blocks: see events
		return true
	}
	C.wsgo_thread_detach(p.t)
	p.writing.Store(true) // the client may block the write
	ok := j.writeHere(out)
	p.writing.Store(false)
	C.wsgo_thread_attach(p.t)
	return ok
}

// writeHere writes out on the calling thread, after the connection has
// written the chunk it was sent, and frees out's buffer. The thread still
// counts as running meanwhile: most writes take microseconds, and waking
// another thread for each would make the two fight for the GIL; one that
// blocks on a slow client uses no CPU, which the scheduler sees
// (stalledIn), and is released when requests starve for a pythread.
// GIL: not held.
func (j *job) writeHere(out *C.wsgo_out) bool {
	defer freeOut(out)
	if j.owed.Swap(false) && !<-j.acks {
		return false
	}
	j.resMu.Lock()
	defer j.resMu.Unlock()
	if j.ended.Load() {
		return false
	}
	if j.werr == nil {
		j.werr = j.write(j.res, out, true)
	}
	return j.werr == nil
}

// ServeWSGI implements wsgi.App.
func (h *Host) ServeWSGI(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
	j := &job{
		ctx:    ctx,
		req:    req,
		packed: packRequest(req),
		events: make(chan event, 3),
		acks:   make(chan bool, 1),
		sched:  h.sched,
		log:    h.cfg.Logger,
		res:    w,
	}
	j.handle = jobs.add(j)
	defer j.end()
	if err := h.sched.submit(j); err != nil {
		jobs.remove(j.handle)
		return err
	}
	done := ctx.Done()
	var deadline <-chan time.Time // --timeout, once ctx ended for a client that left
	for {
		var ev event
		select {
		case ev = <-j.events:
		case <-done:
			done = nil
			if err := h.cancelled(j, context.Cause(ctx)); err != nil {
				return err
			}
			if d, ok := ctx.Deadline(); ok {
				// The client left while the app runs: it runs on, still
				// under --timeout, whose timer ended with ctx.
				t := time.NewTimer(time.Until(d))
				defer t.Stop()
				deadline = t.C
			}
			continue
		case <-deadline:
			return h.cancelled(j, wsgi.ErrTimeout)
		}
		if ev.final() {
			jobs.remove(j.handle) // C is done with it
		}
		switch {
		case ev.refused != nil:
			return ev.refused
		case ev.gone, ev.closed:
			return j.writeErr()
		}
		kind := ev.out.kind
		if kind == C.WSGO_ERROR {
			report := C.GoStringN(ev.out.buf, C.int(ev.out.body_len))
			if ev.out.buf == nil {
				report = "wsgo: out of memory formatting the app's exception\n"
			}
			detail := C.GoString(ev.out.detail)
			freeOut(&ev.out)
			if berr := j.bodyErr.Load(); berr != nil {
				j.log.Info("wsgo: the app raised an exception after its request body could not be read; "+
					"answered as the body's error, traceback not logged", "request", j.req.RequestID,
					"path", j.req.RequestURI, "body_error", *berr, "exception", finalLine(report))
				return &wsgi.BodyError{Err: *berr}
			}
			j.logError("the app raised an exception", report)
			return &AppError{Report: report, HeadersSent: ev.out.headers_sent != 0, Described: describedException(detail)}
		}
		j.resMu.Lock()
		switch {
		case j.werr != nil:
		case kind == C.WSGO_MORE:
			// The pythread waits for this write before its next chunk, so a
			// slow client's may be released. No flush when the next event
			// is in: it follows at once.
			j.werr = j.write(w, &ev.out, len(j.events) == 0)
		default:
			// The end: no pythread waits for it, so releasing it would only
			// queue the response for a goroutine of its own to send while
			// every pythread is busy (with --threads 1, every response).
			j.werr = j.send(w, &ev.out, false)
			if j.werr == nil && ev.closing {
				j.werr = endBody(w)
			}
		}
		werr := j.werr
		j.resMu.Unlock()
		freeOut(&ev.out)
		if ev.closing {
			continue // until close() returns
		}
		if kind == C.WSGO_DONE {
			return werr
		}
		j.acks <- werr == nil // never blocks: the thread took the last ack before it sent
	}
}

// cancelled acts on the end of j's context with cause, and returns what
// ServeWSGI returns, or nil when the request goes on: a timeout or a stop
// abandons it (RequestTimeout is raised in its thread); a client that left
// takes it out of the queue if no thread has taken it yet.
func (h *Host) cancelled(j *job, cause error) error {
	switch {
	case errors.Is(cause, wsgi.ErrTimeout) || errors.Is(cause, wsgi.ErrStopped):
		h.sched.releaseWriter(j) // a write waiting for the client returns
		j.end()                  // waits for a write or body read of the Python thread
		h.load.abandon(1)        // before the front counts the request ended
		go h.abandon(j, errors.Is(cause, wsgi.ErrStopped))
		return cause
	case h.sched.withdraw(j):
		jobs.remove(j.handle)
		return wsgi.ErrClientGone
	}
	return nil
}

// end gives the request's body and Responder back to the front: it waits
// for a write or a body read in progress, and refuses later ones.
func (j *job) end() {
	j.resMu.Lock()
	j.bodyMu.Lock()
	j.ended.Store(true)
	j.bodyMu.Unlock()
	j.resMu.Unlock()
}

func (j *job) writeErr() error {
	j.resMu.Lock()
	defer j.resMu.Unlock()
	return j.werr
}

// freeOut frees an output's buffers, if it has any.
func freeOut(out *C.wsgo_out) {
	if out.buf != nil {
		C.wsgo_free(unsafe.Pointer(out.buf))
		out.buf = nil
	}
	if out.detail != nil {
		C.wsgo_free(unsafe.Pointer(out.detail))
		out.detail = nil
	}
}

// endBody gets the whole response to the client while the app's close()
// runs: the front ends the body if it can (wsgi.Ender), else what is
// buffered goes out.
func endBody(w wsgi.Responder) error {
	if e, ok := w.(wsgi.Ender); ok {
		return e.End()
	}
	return w.Flush()
}

// final reports whether ev is the job's last event.
func (ev *event) final() bool {
	return ev.refused != nil || ev.gone || ev.closed || ev.out.kind == C.WSGO_ERROR ||
		ev.out.kind == C.WSGO_DONE && !ev.closing
}

// AppError is an exception the app raised; it was logged with its
// traceback. HeadersSent says whether the response had already begun.
type AppError struct {
	Report      string
	HeadersSent bool
	Described   *wsgi.Exception // under --debug, for the page; else nil
}

func (e *AppError) Error() string { return "pyhost: the app raised an exception" }

// Traceback makes AppError a wsgi.TracebackError, for the --debug page.
func (e *AppError) Traceback() string { return e.Report }

// Exception is the exception described for the --debug page, or nil.
func (e *AppError) Exception() *wsgi.Exception { return e.Described }

// write sends one output to the client; flush: push a chunk through at
// once. The output's memory is freed or released by the caller
// afterwards, so nothing may keep a slice of it. A write that waits for a
// slow client may be released (see scheduler.writing). resMu held.
func (j *job) write(w wsgi.Responder, out *C.wsgo_out, flush bool) error {
	j.sched.writing(j, true)
	defer j.sched.writing(j, false)
	return j.send(w, out, flush)
}

// release makes a write in progress stop waiting for the client: the
// front queues what the client has not taken (wsgi.Releaser). Called by
// the scheduler, under its mu.
func (j *job) release() {
	if r, ok := j.res.(wsgi.Releaser); ok {
		r.Release()
	}
}

func (j *job) send(w wsgi.Responder, out *C.wsgo_out, flush bool) error {
	if out.warning != nil {
		j.log.Warn(C.GoString(out.warning)+"; wsgo sent it as UTF-8, as --strict=false asks (shown once)",
			"request", j.req.RequestID, "path", j.req.RequestURI)
	}
	if out.head != 0 {
		reason, header := unpackHead(unsafe.Slice((*byte)(unsafe.Pointer(out.buf)), out.head_len))
		bodyLen := int64(-1)
		if out.complete != 0 {
			bodyLen = int64(out.body_len)
		}
		if err := w.Start(int(out.status), reason, header, bodyLen); err != nil {
			if !errors.Is(err, wsgi.ErrClientGone) {
				j.logError("the app's response headers cannot be sent", err.Error())
			}
			return err
		}
	}
	if out.body_len > 0 {
		if err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(out.body)), out.body_len)); err != nil {
			return err
		}
	}
	switch out.kind {
	case C.WSGO_MORE:
		if flush {
			return w.Flush()
		}
	case C.WSGO_FILE:
		return sendFile(w, int(out.fd), int64(out.file_off), int64(out.file_len))
	}
	return nil
}

// sendFile sends from Python's file descriptor through a duplicate, so
// closing ours leaves Python's open.
func sendFile(w wsgi.Responder, fd int, off, n int64) error {
	dup, err := syscall.Dup(fd)
	if err != nil {
		return fmt.Errorf("pyhost: file_wrapper: %w", err)
	}
	f := os.NewFile(uintptr(dup), "file_wrapper")
	defer f.Close()
	return w.SendFile(f, off, n)
}

// String names j's request in logs: "request 7: GET /path?q".
func (j *job) String() string {
	return fmt.Sprintf("request %d: %s %s", j.req.ID, j.req.Method, j.req.RequestURI)
}

// finalLine is a traceback's last line: the exception and its message.
func finalLine(traceback string) string {
	traceback = strings.TrimRight(traceback, "\n")
	return traceback[strings.LastIndexByte(traceback, '\n')+1:]
}

func (j *job) logError(msg, detail string) {
	j.log.Error(msg, "request", j.req.RequestID, "method", j.req.Method, "path", j.req.RequestURI,
		"traceback", detail)
}

// The callbacks below are reached from C with the GIL released, on the
// Python thread serving the job.

// bodyRead fills p from the request body: fewer bytes only at its end;
// -1 when the body could not be read (client gone, malformed chunking),
// bodyEnded once the request has ended.
func (j *job) bodyRead(p []byte) int {
	j.bodyMu.Lock()
	defer j.bodyMu.Unlock()
	if j.ended.Load() {
		return bodyEnded
	}
	j.sched.pause()
	defer j.sched.resume()
	n, err := wsgi.ReadBody(j.req.Body, p)
	if err != nil {
		j.log.Debug("reading the request body failed", "request", j.req.RequestID, "err", err)
		j.bodyErr.CompareAndSwap(nil, &err)
		return -1
	}
	return n
}
