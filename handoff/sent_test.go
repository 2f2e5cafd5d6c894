package handoff

import (
	"errors"
	"io"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// tcpPair returns a server-side descriptor of an accepted loopback
// connection (non-blocking) and the client's end.
func tcpPair(t *testing.T) (int, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	f, err := server.(*net.TCPConn).File()
	server.Close()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	unix.SetNonblock(fd, true)
	t.Cleanup(func() { unix.Close(fd) })
	return fd, client
}

func wantSent(t *testing.T, fd int, want uint64) {
	t.Helper()
	if got, ok := SocketSent(fd); !ok || got != want {
		t.Fatalf("SocketSent = %d, %v; want %d, true", got, ok, want)
	}
}

func TestSocketSentCountsQueuedAndAcknowledgedBytes(t *testing.T) {
	fd, client := tcpPair(t)
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

func TestSocketSentIsUnknownOffTCP(t *testing.T) {
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
}
