package httpfront

import (
	"bytes"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// spoolOnDisk sums the sizes of this process's open response spools, as
// the disk holds them.
func spoolOnDisk(t *testing.T) (files int, bytes int64) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil || !strings.Contains(target, "wsgo-response-") {
			continue
		}
		if fi, err := os.Stat("/proc/self/fd/" + fd.Name()); err == nil {
			files++
			bytes += fi.Size()
		}
	}
	return files, bytes
}

func (b *bufferBudget) held() (mem, disk int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mem, b.disk
}

// releasedOutbox is an outbox on a loopback connection whose writes queue
// at once, as they do once a client has been slow.
func releasedOutbox(t *testing.T, budget *bufferBudget, until <-chan struct{}) (*outbox, net.Conn) {
	server, client := loopbackPair(t)
	o := newOutbox(server, time.Minute, budget)
	o.begin(until)
	o.release()
	t.Cleanup(func() { // before loopbackPair's: what is queued leaves no file open for the next test
		server.Close()
		o.drain()
	})
	return o, client
}

// tightOutbox is a releasedOutbox whose socket holds a few KiB, so that
// what it queues stays queued while the client reads nothing.
func tightOutbox(t *testing.T, budget *bufferBudget, until <-chan struct{}) *outbox {
	o, client := releasedOutbox(t, budget, until)
	o.conn.(*net.TCPConn).SetWriteBuffer(4 << 10)
	client.(*net.TCPConn).SetReadBuffer(4 << 10)
	return o
}

// pattern is n bytes that differ with their offset, so that a byte out of
// order shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i / 4093)
	}
	return b
}

// Two responses to clients that read nothing, each larger than the
// worker's spool: their writers wait once the spool is full, the disk
// never holds more than the spool and one write, and once the clients
// read, both get every byte and the spool is empty again.
func TestSpoolBoundsWhatSlowResponsesHoldOnDisk(t *testing.T) {
	const spool, piece = 4 << 20, 64 << 10
	budget := newBufferBudget(spool)
	budget.memory = 0 // straight to the files
	want := pattern(12 << 20)
	type response struct {
		o      *outbox
		client io.Reader
		done   chan error
	}
	var rs []response
	for range 2 {
		o, client := releasedOutbox(t, budget, nil)
		r := response{o, client, make(chan error, 1)}
		go func() {
			for p := want; len(p) > 0; p = p[piece:] {
				if _, err := r.o.Write(p[:piece]); err != nil {
					r.done <- err
					return
				}
			}
			r.done <- r.o.drain()
		}()
		rs = append(rs, r)
	}
	// The writers fill the spool, less what the sockets' buffers took.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, disk := budget.held()
		if disk > spool-2*piece || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // for a writer that would pass it
	for _, r := range rs {
		select {
		case err := <-r.done:
			t.Fatalf("a writer of 12 MiB to a client reading nothing finished (%v), past a spool of 4 MiB", err)
		default:
		}
	}
	if _, disk := budget.held(); disk > spool+piece {
		t.Errorf("the budget counts %d bytes on disk; the spool is %d", disk, spool)
	}
	if files, onDisk := spoolOnDisk(t); onDisk > spool+piece {
		t.Errorf("%d temporary files hold %d bytes; the spool is %d", files, onDisk, spool)
	}

	got := make([]chan []byte, len(rs))
	for i, r := range rs {
		got[i] = make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(io.LimitReader(r.client, int64(len(want))))
			got[i] <- b
		}()
	}
	for i, r := range rs {
		if err := <-r.done; err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if b := <-got[i]; !bytes.Equal(b, want) {
			t.Errorf("response %d: the client got %d bytes, not the %d written, in order", i, len(b), len(want))
		}
	}
	if mem, disk := budget.held(); mem != 0 || disk != 0 {
		t.Errorf("once sent, the budget still counts %d bytes in memory, %d on disk", mem, disk)
	}
	if files, onDisk := spoolOnDisk(t); files != 0 {
		t.Errorf("once sent, %d temporary files (%d bytes) are still open", files, onDisk)
	}
}

// A long response to a client that reads, slower than the app writes:
// what the client has taken leaves the disk as it goes (the spool is in
// files of an eighth of it), so the writer goes on before the client has
// taken all that is queued.
func TestSpoolFreesWhatTheClientTook(t *testing.T) {
	const spool, piece = 8 << 20, 64 << 10
	budget := newBufferBudget(spool)
	budget.memory = 0
	o, client := releasedOutbox(t, budget, nil)
	want := pattern(32 << 20)
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		for p := want; len(p) > 0; p = p[piece:] {
			if _, err := o.Write(p[:piece]); err != nil {
				done <- err
				return
			}
			written.Add(piece)
		}
		done <- o.drain()
	}()
	// Wait for the writer to stop at the full spool.
	stalled := written.Load()
	for deadline := time.Now().Add(10 * time.Second); ; {
		time.Sleep(50 * time.Millisecond)
		now := written.Load()
		if now == stalled && now > spool/2 || time.Now().After(deadline) {
			break
		}
		stalled = now
	}
	got := make([]byte, 3<<20)
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); written.Load() == stalled && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if written.Load() == stalled {
		t.Errorf("the client took 3 MiB of a full 8 MiB spool and the writer, stopped at %d bytes, did not go on", stalled)
	}
	rest, _ := io.ReadAll(io.LimitReader(client, int64(len(want)-len(got))))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(got, rest...), want) {
		t.Fatal("the client did not get the bytes written, in order")
	}
}

// A client that leaves: what its response queued is dropped, memory and
// disk alike, and the budget gets it back.
func TestSpoolOfAClientGoneIsFreed(t *testing.T) {
	budget := newBufferBudget(DefaultMaxResponseSpool)
	o, client := releasedOutbox(t, budget, nil)
	o.conn.(*net.TCPConn).SetWriteBuffer(4 << 10)
	client.(*net.TCPConn).SetReadBuffer(4 << 10)
	for _, n := range []int{100 << 10, 3 << 20} { // into memory, then a file
		if _, err := o.Write(pattern(n)); err != nil {
			t.Fatal(err)
		}
	}
	if mem, disk := budget.held(); mem == 0 || disk == 0 {
		t.Fatalf("3 MiB queued: %d bytes counted in memory, %d on disk; want both", mem, disk)
	}
	client.Close()
	if err := o.drain(); err == nil {
		t.Fatal("drain reported no error for a client that left")
	}
	if mem, disk := budget.held(); mem != 0 || disk != 0 {
		t.Errorf("the budget still counts %d bytes in memory, %d on disk", mem, disk)
	}
	if files, _ := spoolOnDisk(t); files != 0 {
		t.Errorf("%d temporary files are still open", files)
	}
}

// Past what the worker's outboxes may hold in memory together, a queue
// goes to its temporary file.
func TestSpoolMemoryIsSharedByTheOutboxes(t *testing.T) {
	budget := newBufferBudget(DefaultMaxResponseSpool)
	budget.memory = 300 << 10
	chunk := pattern(200 << 10)
	first, second := tightOutbox(t, budget, nil), tightOutbox(t, budget, nil)
	for _, o := range []*outbox{first, second} {
		if _, err := o.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if first.temp != nil || second.temp == nil {
		t.Errorf("in a file: first %v, second %v; want the second only, past 300 KiB in memory", first.temp != nil, second.temp != nil)
	}
	if mem, disk := budget.held(); mem != int64(len(chunk)) || disk != int64(len(chunk)) {
		t.Errorf("counted %d bytes in memory, %d on disk; want %d each", mem, disk, len(chunk))
	}
}

// A writer that waits for room in a full spool gives up when its
// request's time runs out.
func TestSpoolWaitEndsWithTheRequest(t *testing.T) {
	budget := newBufferBudget(1 << 20)
	budget.memory = 0
	full := tightOutbox(t, budget, nil)
	if _, err := full.Write(pattern(1 << 20)); err != nil {
		t.Fatal(err)
	}
	until := make(chan struct{})
	o := tightOutbox(t, budget, until)
	done := make(chan error, 1)
	go func() {
		_, err := o.Write(pattern(64 << 10))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a write past a full spool did not wait: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(until)
	if err := <-done; err != errOutrun {
		t.Errorf("got %v; want errOutrun", err)
	}
}
