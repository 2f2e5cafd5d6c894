package supervisor

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"wsgo/handoff"
	"wsgo/internal/tcptest"
)

// accepted returns a fresh connection as the master lends it.
func accepted(t *testing.T) (heldConn, net.Conn) {
	fd, client := tcptest.Accepted(t)
	return heldConn{fd: fd}, client
}

// The worker "dies" in each case after doing to the socket what the case
// says, leaving its slot in a state and count; the master's verdict
// comes from the kernel's counts, as in reap.
func TestOrphanedConnectionsFate(t *testing.T) {
	const request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	const response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	cases := []struct {
		name       string
		read       int // bytes of the request the worker took
		write      int // bytes of the response it wrote
		state      handoff.State
		count      uint64
		afterwards orphanFate
	}{
		{"lent, untouched", 0, 0, handoff.Lent, 0, lendAgain},
		{"lent, request taken before the busy mark", 10, 0, handoff.Lent, 0, answer502},
		{"idle after a request read whole", len(request), 0, handoff.Idle, uint64(len(request)), lendAgain},
		{"idle, next request taken before the busy mark", len(request), 0, handoff.Idle, 0, answer502},
		{"busy", 10, 0, handoff.Busy, 0, answer502},
		{"sent", len(request), 5, handoff.Sent, 0, resetIt},
		{"ending, response written whole", len(request), len(response), handoff.Ending, uint64(len(response)), lendAgain},
		{"ending, killed before the last write", len(request), 5, handoff.Ending, uint64(len(response)), resetIt},
		{"opaque", 0, 0, handoff.Opaque, 0, resetIt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, client := accepted(t)
			client.Write([]byte(request))
			tcptest.Arrived(t, c.fd, len(request))
			if tc.read > 0 {
				if n, err := unix.Read(c.fd, make([]byte, tc.read)); n != tc.read {
					t.Fatalf("read %d, %v", n, err)
				}
			}
			if tc.write > 0 {
				if n, err := unix.Write(c.fd, []byte(response[:tc.write])); n != tc.write {
					t.Fatalf("wrote %d, %v", n, err)
				}
			}
			if got := c.orphaned(tc.state, tc.count); got != tc.afterwards {
				t.Errorf("fate %d, want %d", got, tc.afterwards)
			}
		})
	}
}

// A connection lent again starts its counts from where it is: a second
// worker that read and wrote nothing leaves it idle.
func TestLentAgainCountsFromWhereItIs(t *testing.T) {
	c, client := accepted(t)
	client.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	tcptest.Arrived(t, c.fd, 18)
	unix.Read(c.fd, make([]byte, 18))
	unix.Write(c.fd, []byte("HTTP/1.1 204 No Content\r\n\r\n"))
	next := again(c)
	if next.read != 18 || next.sent != 27 {
		t.Fatalf("again: read %d, sent %d; want 18, 27", next.read, next.sent)
	}
	if got := next.orphaned(handoff.Idle, 0); got != lendAgain {
		t.Errorf("an untouched idle connection: fate %d, want lendAgain", got)
	}
}
