package hangup

import (
	"io"
	"net"
	"testing"
	"time"

	"wsgo/internal/tcptest"
)

// A peer that sends is not gone; one that sends a FIN is, and the bytes
// it sent before stay to be read.
func TestSeenTellsAHangUpAndLeavesTheBytes(t *testing.T) {
	server, client := tcptest.Pair(t)
	rc, err := server.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	seenWithin := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for Seen(rc) != want {
			if time.Now().After(deadline) {
				t.Fatalf("Seen stayed %v, want %v", !want, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	seenWithin(false)
	io.WriteString(client, "next request")
	time.Sleep(50 * time.Millisecond) // the bytes arrive: a FIN would too
	seenWithin(false)
	client.(*net.TCPConn).CloseWrite()
	seenWithin(true)
	server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := io.ReadAll(server); err != nil || string(got) != "next request" {
		t.Fatalf("read after the look = %q, %v; want the bytes sent", got, err)
	}
}
