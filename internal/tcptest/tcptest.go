// Package tcptest gives tests a real loopback TCP connection: its two
// ends, or its server's end seen as the master sees one it accepted, a
// bare descriptor.
package tcptest

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Pair returns both ends of a fresh loopback TCP connection, the
// accepted one first; both close at the test's end.
func Pair(t *testing.T) (*net.TCPConn, net.Conn) {
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
	t.Cleanup(func() { server.Close() })
	return server.(*net.TCPConn), client
}

// Accepted returns the server side of a fresh loopback connection as a
// non-blocking descriptor, and the client's end; both close at the test's
// end.
func Accepted(t *testing.T) (int, net.Conn) {
	t.Helper()
	server, client := Pair(t)
	f, err := server.File()
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

// Arrived waits until n bytes from the client wait unread in fd.
func Arrived(t *testing.T, fd, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if q, _ := unix.IoctlGetInt(fd, unix.SIOCINQ); q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes did not arrive", n)
		}
	}
}
