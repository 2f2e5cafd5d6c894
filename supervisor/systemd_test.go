package supervisor

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// adopt takes what ListenStream= with Accept=no passes, and names what
// other .socket settings would pass.
func TestAdoptTakesListeningStreamSocketsOnly(t *testing.T) {
	l, err := adoptActivated(loopbackSocket(t, unix.SOCK_STREAM, true), "web")
	if err != nil {
		t.Fatalf("a listening TCP socket: %v", err)
	}
	l.Close()
	for _, tc := range []struct {
		fd   int
		want string
	}{
		{loopbackSocket(t, unix.SOCK_DGRAM, false), "is not a stream socket"},
		{loopbackSocket(t, unix.SOCK_STREAM, false), "is not listening"},
	} {
		_, err := adoptActivated(tc.fd, "web")
		unix.Close(tc.fd)
		if err == nil || !strings.Contains(err.Error(), "the socket systemd passed as web") || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), "use ListenStream= with Accept=no") {
			t.Errorf("error %v; want one saying it %s, and what to use", err, tc.want)
		}
	}
}

// loopbackSocket is a bare descriptor, as a process inherits one: a
// socket on 127.0.0.1, listening if asked.
func loopbackSocket(t *testing.T, typ int, listen bool) int {
	fd, err := unix.Socket(unix.AF_INET, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if listen {
		if err := unix.Listen(fd, 8); err != nil {
			t.Fatal(err)
		}
	}
	return fd
}
