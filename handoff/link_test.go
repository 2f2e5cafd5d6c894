package handoff

import (
	"bytes"
	"io"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"wsgo/httpfront"
	"wsgo/internal/tcptest"
)

// The server recognises lent connections by this interface.
var _ httpfront.Lent = (*lentConn)(nil)

// A gathered write (a streamed chunk and its framing) counts in the bytes
// the ending mark promises the master, as a plain write does: else the
// master would reset a connection whose response went out whole.
func TestGatheredWritesCountTowardsTheEndingMark(t *testing.T) {
	slots, _ := newTable(t, NewSlots)
	fd, client := tcptest.Accepted(t)
	dup, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(dup), "lent")
	server, err := net.FileConn(f) // as adopt makes it
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	c := &lentConn{Conn: server, w: &Link{slots: slots}, slot: 7}
	slots.Set(7, Busy)

	want := []byte("10000\r\n" + string(bytes.Repeat([]byte("x"), 100_000)) + "\r\n")
	if n, err := c.Write(want[:3]); n != 3 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	bufs := net.Buffers{want[3:7], want[7 : len(want)-2], want[len(want)-2:]}
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(client, int64(len(want))))
		done <- b
	}()
	if n, err := c.WriteBuffers(&bufs); n != int64(len(want)-3) || err != nil {
		t.Fatalf("WriteBuffers = %d, %v; want %d, nil", n, err, len(want)-3)
	}
	if got := slots.Get(7); got != Sent {
		t.Errorf("state after a gathered write = %v; want Sent", got)
	}
	c.Ending(5)
	if got, st := slots.Count(7), slots.Get(7); st != Ending || got != uint64(len(want))+5 {
		t.Errorf("ending mark = %v with %d bytes; want Ending with %d", st, got, len(want)+5)
	}
	if got := <-done; !bytes.Equal(got, want) {
		t.Errorf("the client got %d bytes, not the %d written in order", len(got), len(want))
	}
}

// lend lends a fresh loopback connection to w on slot 1 as the master
// does (counted on its seat) and returns what adopt makes of it, and the
// client's end.
func lend(t *testing.T, board *Board, w *Link) (*lentConn, net.Conn) {
	t.Helper()
	fd, client := tcptest.Accepted(t)
	dup, err := unix.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	board.Lent(0)
	w.slots.Set(1, Lent)
	c, err := w.adopt(1, dup, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*lentConn), client
}

// A lent connection counts on its worker's load until its first bytes
// come, or it ends silent or goes opaque, and is taken back once whatever
// follows.
func TestALentConnectionLoadsItsWorkerUntilHeardFrom(t *testing.T) {
	board, _ := newTable(t, NewBoard)
	slots, _ := newTable(t, NewSlots)
	_, w := pair(t)
	w.slots, w.seat = slots, board.Seat(0)

	speaks, client := lend(t, board, w)
	wantLoad(t, board, 1, "after a lend")
	io.WriteString(client, "GE")
	buf := make([]byte, 1)
	for range 2 {
		if _, err := speaks.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	wantLoad(t, board, 0, "after its bytes were read")
	speaks.Close()
	wantLoad(t, board, 0, "after it closed, heard from")

	silent, client := lend(t, board, w)
	client.Close()
	if n, err := silent.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read of a closed client = %d, %v; want 0, EOF", n, err)
	}
	wantLoad(t, board, 1, "after a read of nothing")
	silent.Close()
	wantLoad(t, board, 0, "after it ended silent")

	pinned, _ := lend(t, board, w)
	pinned.Pin()
	pinned.Abort()
	wantLoad(t, board, 0, "after it went opaque, then ended")
}

// wantLoad checks seat 0's load on board, after what happened.
func wantLoad(t *testing.T, board *Board, want int32, after string) {
	t.Helper()
	if got := board.Load(0); got != want {
		t.Errorf("load %s = %d; want %d", after, got, want)
	}
}

// A worker learns that its master is gone from its end of the channel,
// without reading it: a message waiting stays for Recv.
func TestMasterGoneWhenItsEndCloses(t *testing.T) {
	master, w := pair(t)
	if w.MasterGone() {
		t.Fatal("gone while the master's end is open")
	}
	if err := master.Send(Msg{Kind: Stop}, -1); err != nil {
		t.Fatal(err)
	}
	if w.MasterGone() {
		t.Fatal("gone with a message waiting and the master's end open")
	}
	master.Close()
	if !w.MasterGone() {
		t.Fatal("not gone once the master's end is closed")
	}
	if m, _, err := w.ch.Recv(); err != nil || m.Kind != Stop {
		t.Errorf("the message waiting: %+v, %v; want the Stop sent before the close", m, err)
	}
}
