package httpfront

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// How a response the client is slow to take is held (issue 12): once its
// writer is released (the client took no slice for patience, or the host
// wants the Python thread for other requests or the request ran out of
// time: wsgi.Releaser), the connection's outbox keeps what the client has
// not taken, and a goroutine of its own finishes the send.
const (
	// patience is how long a write waits for the client to take a slice
	// before it is released: a client slower than 256 KiB/s is a slow
	// reader, whatever the pool needs.
	patience = 250 * time.Millisecond
	// outboxMemory is how much of a queued response is held in memory;
	// the rest goes to an unlinked temporary file (see bufferBudget for
	// what all of a worker's connections may hold).
	outboxMemory = 256 << 10
	// sendSlice is how much may be written under one stall deadline: a
	// client that stops reading is dropped after --stall-timeout, a slow
	// one is not.
	sendSlice = 64 << 10
	// writePiece is the most one write(2) takes. Half a slice, because
	// 64 KiB writes to a loopback socket under BBR, where a proxy on the
	// same host reads, are paced into stalls: a 16 MiB body sent in 64 KiB
	// writes gave 98 req/s at 10 ms of CPU each, in 32 KiB writes 272
	// req/s at 3.6 ms (under CUBIC the two are within 10%; PERFORMANCE.md).
	writePiece = sendSlice / 2
)

var (
	errOutrun = errors.New("wsgo: the request's time ran out while the worker's --max-response-spool was full " +
		"of responses its clients take slowly")
	errSpoolCut = errors.New("wsgo: the response was cut: the worker's --max-response-spool was full of responses " +
		"its clients take slowly, this client took nothing for 250 ms, and other requests waited for the Python thread " +
		"writing it; raise --max-response-spool, or add --threads or --workers")
	errReleased = errors.New("wsgo: the write was released")
	errAborted  = errors.New("wsgo: the response was abandoned")
)

// socket is where an outbox sends: a connection's socket, or an HTTP/2
// stream (h2stream).
type socket interface {
	io.Writer
	SetWriteDeadline(time.Time) error
}

// outbox sits under a connection's write buffer. Until its writer is
// released, writes go straight to the socket from the caller's memory,
// waiting for a client that takes a slice within patience: no copy, the
// fastest path for a client that keeps up. Released, a write queues what
// the client has not taken (memory, then a temporary file) behind what
// is queued, and a goroutine sends the queue. Writers are one at a time
// (the response's turn-taking); drain waits for the queue to empty, so
// nothing else touches the socket meanwhile.
//
// An HTTP/2 stream's outbox settles instead: a deadline would reset the
// stream, so no write to it can be cut short; every write is queued (a
// copy, which HTTP/2's framing makes anyway) and then waited for while
// the client takes some within patience, until the writer is released.
type outbox struct {
	conn   socket
	stall  time.Duration
	budget *bufferBudget // the server's, shared by its outboxes
	// releasable: a write that waits for the client may be released.
	// Not on a connection HTTP/2 serves, whose streams are released above
	// it: there a write waits for the client, up to --stall-timeout.
	releasable bool
	settles    bool // see above

	mu sync.Mutex
	// until ends a wait for room in the queue: the request's context,
	// whose end (--timeout, a client gone) frees the writer.
	until    <-chan struct{}
	released bool          // the current response's writes queue; see Release
	wanted   bool          // the host wants the writer's thread back; see queue
	sending  bool          // the send goroutine runs; the socket is its
	changed  chan struct{} // closed and replaced when the queue shrinks or the sender stops
	mem      []byte        // queued bytes in memory, sent before the spans'
	spare    []byte        // the other memory buffer, while one is sent
	inMem    int           // bytes in mem and in flight from memory
	temp     *os.File      // the queue's temporary file: bytes past outboxMemory
	tempEnd  int64         // where temp's next bytes go
	spans    []span        // queued after mem, in order: parts of temp, or of an app's file
	queued   int64         // bytes queued in all, in flight included
	// flushing: the sender is to flush the socket before what is queued
	// (an HTTP/2 response's head; see flushHead).
	flushing bool
	err      error // the socket failed; every later write returns it
}

func newOutbox(conn net.Conn, stall time.Duration, budget *bufferBudget) *outbox {
	return &outbox{conn: conn, stall: stall, budget: budget, releasable: true, changed: make(chan struct{})}
}

// newSettlingOutbox is the outbox of an HTTP/2 stream.
func newSettlingOutbox(stream socket, stall time.Duration, budget *bufferBudget) *outbox {
	return &outbox{conn: stream, stall: stall, budget: budget, releasable: true, settles: true, changed: make(chan struct{})}
}

// begin readies the outbox for a response: until is the request's end.
func (o *outbox) begin(until <-chan struct{}) {
	o.mu.Lock()
	o.until, o.released, o.wanted = until, false, false
	o.mu.Unlock()
}

// release makes the current response's writes queue from now on, and cuts
// short a write that waits for the client.
func (o *outbox) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.releasable {
		return
	}
	if o.released {
		if !o.wanted {
			o.wanted = true
			o.signal() // a write waiting for room in the spool looks again
		}
		return
	}
	o.released, o.wanted = true, true
	if o.settles {
		o.signal() // settle returns
	} else {
		o.conn.SetWriteDeadline(time.Now()) // no sender runs: queue() sets released first
	}
}

// Write sends p, or queues it once released or while the queue is sent.
func (o *outbox) Write(p []byte) (int, error) {
	if o.settles {
		if err := o.queue(p); err != nil {
			return 0, err
		}
		return len(p), o.settle()
	}
	n, err := o.writeDirect(p)
	if n == len(p) || err != errReleased {
		return n, err
	}
	if err := o.queue(p[n:]); err != nil {
		return n, err
	}
	return len(p), nil
}

// writeGathered sends bufs in order, as Write would their concatenation,
// but gathered by writev(2) where the socket allows (a plain TCP or Unix
// connection): a streamed chunk goes out with its framing in two system
// calls, not three, and is not copied into the write buffer. A slice is
// sendSlice plus framingSlack, so a 64 KiB chunk's framing shares its
// deadline.
func (o *outbox) writeGathered(bufs ...[]byte) error {
	var n int64
	for _, b := range bufs {
		n += int64(len(b))
	}
	const slice = sendSlice + framingSlack
	sent, err := o.direct(n, slice, slice/2, func(from, k int64) (int64, error) {
		return gather(o.conn, sliceBuffers(bufs, from, k))
	})
	if err != errReleased {
		return err
	}
	for _, b := range sliceBuffers(bufs, sent, n-sent) {
		if err := o.queue(b); err != nil {
			return err
		}
	}
	return nil
}

// framingSlack is room for a chunk's size line and CRLF past sendSlice.
const framingSlack = 32

// buffersWriter is a socket that gathers writes itself (handoff's lent
// connections, which wrap the net package's).
type buffersWriter interface {
	WriteBuffers(*net.Buffers) (int64, error)
}

// gather writes b to w with writev(2) where w allows it.
func gather(w io.Writer, b net.Buffers) (int64, error) {
	if bw, ok := w.(buffersWriter); ok {
		return bw.WriteBuffers(&b)
	}
	return b.WriteTo(w)
}

// sliceBuffers returns the k bytes of bufs' concatenation from off, as
// sub-slices of bufs (no copy).
func sliceBuffers(bufs [][]byte, off, k int64) net.Buffers {
	var out net.Buffers
	for _, b := range bufs {
		if k == 0 {
			break
		}
		if off >= int64(len(b)) {
			off -= int64(len(b))
			continue
		}
		b = b[off:min(int64(len(b)), off+k)]
		off = 0
		k -= int64(len(b))
		out = append(out, b)
	}
	return out
}

// writeDirect writes p from the caller's memory in slices, each under the
// stall deadline, until it is written, fails, or the writer is released
// (errReleased with what was written).
func (o *outbox) writeDirect(p []byte) (int, error) {
	n, err := o.direct(int64(len(p)), sendSlice, writePiece, func(from, k int64) (int64, error) {
		m, err := o.conn.Write(p[from : from+k])
		return int64(m), err
	})
	return int(n), err
}

// direct sends n bytes with write(from, k), k at most piece, under a
// deadline renewed for each slice of n: the stall timeout, or patience
// when releasable, past which the writer is released (errReleased with
// what was sent).
func (o *outbox) direct(n, slice, piece int64, write func(from, k int64) (int64, error)) (sent int64, err error) {
	var renewAt int64 // where the deadline is next renewed
	for sent < n {
		o.mu.Lock()
		switch {
		case o.err != nil:
			err = o.err
		case o.released || o.sending:
			err = errReleased
		case sent >= renewAt:
			o.conn.SetWriteDeadline(time.Now().Add(o.wait()))
			renewAt = sent + slice
		}
		o.mu.Unlock()
		if err != nil {
			return sent, err
		}
		m, err := write(sent, min(n-sent, piece, renewAt-sent))
		sent += m
		if err != nil {
			o.mu.Lock()
			timedOut := errors.Is(err, os.ErrDeadlineExceeded)
			if timedOut && o.wait() < o.stall {
				o.released = true // out of patience
			}
			released := o.released && timedOut
			o.mu.Unlock()
			if !released {
				return sent, o.failed(err)
			}
		}
	}
	return sent, nil
}

// keepWaiting makes every later write wait for the client, up to the
// stall timeout, and never be released.
func (o *outbox) keepWaiting() {
	o.mu.Lock()
	o.releasable, o.released = false, false
	o.mu.Unlock()
}

// settle waits for the queue to be sent while the client takes some of
// it within patience, until the writer is released or the request's time
// runs out; past that, every later write of the response only queues.
func (o *outbox) settle() error {
	timer := time.NewTimer(patience)
	defer timer.Stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.sending && !o.released {
		changed, until := o.changed, o.until
		o.mu.Unlock()
		giveUp := false
		select {
		case <-changed:
			timer.Reset(patience)
		case <-timer.C:
			giveUp = true
		case <-until:
			giveUp = true
		}
		o.mu.Lock()
		o.released = o.released || giveUp
	}
	return o.err
}

// busy reports whether a sender runs.
func (o *outbox) busy() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sending
}

// wait is how long a direct write may wait for the client to take a
// slice. mu held.
func (o *outbox) wait() time.Duration {
	if o.releasable {
		return min(o.stall, patience)
	}
	return o.stall
}

// queue copies p behind what is queued and makes sure the sender runs:
// into memory while this outbox and the server's budget have room for
// it, else into the temporary file. It waits while the server's spool is
// full, until some of it is freed or the request's time runs out; or,
// once the host wants the thread back (release), while the client takes
// some within patience: past that the response is cut (errSpoolCut), as
// else clients that never read would hold every thread.
func (o *outbox) queue(p []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		if o.err != nil {
			return o.err
		}
		if len(o.spans) == 0 && o.inMem+len(p) <= outboxMemory && o.budget.takeMemory(len(p)) {
			o.mem = append(o.mem, p...)
			o.inMem += len(p)
			break
		}
		freed := o.budget.takeDisk(len(p))
		if freed == nil {
			if err := o.toFile(p); err != nil {
				return err
			}
			break
		}
		changed := o.changed // the queue shrank, the socket failed, or the thread is wanted
		var cut <-chan time.Time
		if o.wanted {
			cut = time.After(patience)
		}
		o.mu.Unlock()
		select {
		case <-freed:
		case <-changed:
		case <-cut:
			o.mu.Lock()
			if o.sending {
				o.conn.SetWriteDeadline(time.Now()) // what is queued is dropped: its disk is wanted
			}
			return o.failLocked(errSpoolCut)
		case <-o.until:
			o.mu.Lock()
			return errOutrun
		}
		o.mu.Lock()
	}
	o.queued += int64(len(p))
	o.startSender()
	return nil
}

// flushHead has the sender flush the socket (an HTTP/2 stream's head,
// which its first write would otherwise carry) and settles as a write
// does: behind a connection whose socket is full, the sender waits, not
// the writer.
func (o *outbox) flushHead() error {
	o.mu.Lock()
	if o.err != nil {
		o.mu.Unlock()
		return o.err
	}
	o.flushing = true
	o.startSender()
	o.mu.Unlock()
	return o.settle()
}

// startSender makes sure the sender runs. mu held.
func (o *outbox) startSender() {
	if !o.sending {
		o.sending = true
		go o.send()
	}
}

// send flushes the socket if asked (flushHead), then writes the queue to
// it, memory first (file bytes are always the later ones), until it is
// empty or the socket fails.
func (o *outbox) send() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.err == nil && (o.queued > 0 || o.flushing) {
		var n int64
		var err error
		switch {
		case o.flushing:
			o.flushing = false
			o.mu.Unlock()
			err = o.renewDeadline()
			if err == nil {
				_, err = o.conn.Write(nil)
			}
			o.mu.Lock()
		case len(o.mem) > 0:
			buf := o.mem
			o.mem, o.spare = o.spare[:0], nil
			o.mu.Unlock()
			err = o.writeStalled(buf)
			o.mu.Lock()
			o.spare, n = buf[:0], int64(len(buf))
			o.inMem -= len(buf)
			o.budget.freeMemory(len(buf))
		default:
			first := o.spans[0]
			o.mu.Unlock()
			n, err = o.sendFile(first.f, first.off, first.end-first.off)
			o.mu.Lock()
			o.spans[0].off += n
			if o.spans[0].off == o.spans[0].end {
				o.dropSpan()
			}
		}
		o.queued -= n
		if err != nil {
			o.failLocked(err)
		}
		o.signal()
	}
	o.sending = false
	o.signal()
}

// writeStalled writes p in slices that each renew the stall deadline,
// writePiece at a time.
func (o *outbox) writeStalled(p []byte) error {
	for len(p) > 0 {
		slice := p[:min(len(p), sendSlice)]
		p = p[len(slice):]
		if err := o.renewDeadline(); err != nil {
			return err
		}
		for len(slice) > 0 {
			k := min(len(slice), writePiece)
			if _, err := o.conn.Write(slice[:k]); err != nil {
				return err
			}
			slice = slice[k:]
		}
	}
	return nil
}

// renewDeadline gives the sender's next slice the stall timeout, unless
// the outbox failed or was aborted meanwhile: under mu, so that abort's
// deadline cannot be overwritten.
func (o *outbox) renewDeadline() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	return o.conn.SetWriteDeadline(time.Now().Add(o.stall))
}

// drain waits until the queue is sent, and reports whether the socket
// failed; then what the queue still holds is dropped, as it never will be
// sent.
func (o *outbox) drain() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.sending {
		changed := o.changed
		o.mu.Unlock()
		<-changed
		o.mu.Lock()
	}
	if o.err != nil {
		for len(o.spans) > 0 {
			o.dropSpan()
		}
		o.budget.freeMemory(o.inMem)
		o.mem, o.spare, o.inMem, o.queued = nil, nil, 0, 0
	}
	return o.err
}

// signal wakes whoever waits for the queue to change. mu held.
func (o *outbox) signal() {
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *outbox) failed(err error) error {
	if err == nil {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failLocked(err)
}

func (o *outbox) failLocked(err error) error {
	if o.err == nil {
		o.err = err
	}
	return o.err
}

// abort ends a response that cannot be whole: the sender stops, a write
// it has in flight is cut short (an HTTP/2 stream is reset), the queue is
// dropped.
func (o *outbox) abort() {
	o.mu.Lock()
	o.failLocked(errAborted)
	if o.sending {
		o.conn.SetWriteDeadline(time.Now())
	}
	o.mu.Unlock()
	o.drain()
}
