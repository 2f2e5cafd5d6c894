package handoff

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"wsgo/internal/tcptest"
)

func wantSent(t *testing.T, fd int, want uint64) {
	t.Helper()
	if got, ok := SocketSent(fd); !ok || got != want {
		t.Fatalf("SocketSent = %d, %v; want %d, true", got, ok, want)
	}
}

func TestSocketSentCountsQueuedAndAcknowledgedBytes(t *testing.T) {
	fd, client := tcptest.Accepted(t)
	wantSent(t, fd, 0) // a fresh connection: what the master assumes
	// The client reads nothing: fill its window and our send queue.
	chunk := make([]byte, 64<<10)
	var total uint64
	for {
		n, err := unix.Write(fd, chunk)
		if n > 0 {
			total += uint64(n)
		}
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if q, _ := unix.IoctlGetInt(fd, unix.SIOCOUTQ); q == 0 {
		t.Fatal("nothing is queued: the test does not test the sum")
	}
	wantSent(t, fd, total)
	if _, err := io.ReadFull(client, make([]byte, total)); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fd, []byte("tail")); err != nil {
		t.Fatal(err)
	}
	wantSent(t, fd, total+4)
}

func TestSocketCountsAreUnknownOffTCP(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	unix.Write(fds[0], []byte("x"))
	if n, ok := SocketSent(fds[0]); ok {
		t.Errorf("SocketSent on a unix socket = %d, true; want false", n)
	}
	if n, ok := SocketRead(fds[1]); ok {
		t.Errorf("SocketRead on a unix socket = %d, true; want false", n)
	}
}

func TestSocketReadCountsWhatReadersTook(t *testing.T) {
	fd, client := tcptest.Accepted(t)
	want := func(n uint64) {
		t.Helper()
		if got, ok := SocketRead(fd); !ok || got != n {
			t.Fatalf("SocketRead = %d, %v; want %d, true", got, ok, n)
		}
	}
	want(0)
	if _, err := io.WriteString(client, "GET / HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	tcptest.Arrived(t, fd, 16) // arrived and unread: not taken
	want(0)
	if n, err := unix.Read(fd, make([]byte, 4)); n != 4 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	want(4)
	// The peer's FIN counts in the kernel's total: no count then.
	client.(*net.TCPConn).CloseWrite()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, ok := SocketRead(fd); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SocketRead still counts after the peer's FIN")
		}
	}
}
