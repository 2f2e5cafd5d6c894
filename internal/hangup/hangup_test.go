package hangup

import (
	"io"
	"net"
	"testing"
	"time"

	"wsgo/internal/tcptest"
)

// A peer that sends is open; one that sends a FIN has closed, and the
// bytes it sent before stay to be read; one that resets is reset.
func TestLookTellsAHangUpAndLeavesTheBytes(t *testing.T) {
	server, client := tcptest.Pair(t)
	rc, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	seenWithin := func(want State) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for got := Look(rc); got != want; got = Look(rc) {
			if time.Now().After(deadline) {
				t.Fatalf("Look = %v, want %v", got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	seenWithin(Open)
	io.WriteString(client, "next request")
	time.Sleep(50 * time.Millisecond) // the bytes arrive: a FIN would too
	seenWithin(Open)
	client.(*net.TCPConn).CloseWrite()
	seenWithin(Closed)
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(server); err != nil || string(got) != "next request" {
		t.Fatalf("read after the look = %q, %v; want the bytes sent", got, err)
	}
	io.WriteString(server, "an answer the client will not read") // its close now resets
	client.Close()
	seenWithin(Reset)
}
