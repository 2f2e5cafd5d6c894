package supervisor

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestListenErrorsExplainTheFix(t *testing.T) {
	taken, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	notSocket := filepath.Join(dir, "file")
	os.WriteFile(notSocket, []byte("keep me"), 0o600)
	live, err := Listen("unix:" + filepath.Join(dir, "live.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	regular, err := os.Open(notSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()

	tests := []struct {
		name, bind string
		want       []string // all in the error text
	}{
		{"port in use", taken.Addr().String(), []string{"cannot listen on " + taken.Addr().String(), "address already in use", "pick another port with --bind"}},
		{"missing port", "127.0.0.1", []string{`bad address "127.0.0.1"`, "missing port", "use HOST:PORT, :PORT, [IPV6]:PORT, tcp://HOST:PORT, unix:PATH or fd://N"}},
		{"IPv6 without brackets", "::1:8000", []string{"too many colons", "[IPV6]:PORT"}},
		{"port name instead of number", "127.0.0.1:http", []string{"the port must be a number from 0 to 65535"}},
		{"port out of range", "127.0.0.1:70000", []string{"the port must be a number from 0 to 65535"}},
		{"empty unix path", "unix:", []string{"the socket path is empty"}},
		{"unix path on a regular file", "unix:" + notSocket, []string{"is not a socket", "remove it yourself or pick another path"}},
		{"unix socket somebody listens on", "unix:" + live.Addr().String(), []string{"another server is listening", "pick another path with --bind"}},
		{"unix socket in a missing directory", "unix:" + filepath.Join(dir, "no", "such.sock"), []string{"the directory does not exist"}},
		{"a descriptor of a file", "fd://" + strconv.Itoa(int(regular.Fd())), []string{"is not a socket", "start wsgo with a listening stream socket on that descriptor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Listen(tt.bind)
			if err == nil {
				l.Close()
				t.Fatalf("Listen(%q) succeeded", tt.bind)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if b, err := os.ReadFile(notSocket); err != nil || string(b) != "keep me" {
		t.Errorf("the regular file was touched: %q, %v", b, err)
	}
}

// fd://N serves the listening socket on descriptor N, and closes N
// itself: the listener's own descriptor is close-on-exec, so workers do
// not inherit the socket.
func TestListenAdoptsAnInheritedSocket(t *testing.T) {
	fd := loopbackSocket(t, unix.SOCK_STREAM, true)
	adopted, err := Listen("fd://" + strconv.Itoa(fd))
	if err != nil {
		t.Fatal(err)
	}
	defer adopted.Close()
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
		t.Errorf("descriptor %d is still open", fd)
	}
	c, err := net.Dial("tcp", adopted.Addr().String())
	if err != nil {
		t.Fatalf("connecting to the adopted socket: %v", err)
	}
	c.Close()
}

func TestURL(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	tests := []struct {
		bind string
		want func(port string) string
	}{
		{"127.0.0.1:0", func(p string) string { return "http://127.0.0.1:" + p }},
		{"0.0.0.0:0", func(p string) string { return "http://0.0.0.0:" + p }},
		{"unix:" + sock, func(string) string { return "unix:" + sock }},
		{"tcp://127.0.0.1:0", func(p string) string { return "http://127.0.0.1:" + p }},
	}
	for _, tt := range tests {
		t.Run(tt.bind, func(t *testing.T) {
			l, err := Listen(tt.bind)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			port := ""
			if a, ok := l.Addr().(*net.TCPAddr); ok {
				port = strconv.Itoa(a.Port)
			}
			if got := URL(l); got != tt.want(port) {
				t.Errorf("URL = %q, want %q", got, tt.want(port))
			}
		})
	}
}

func TestListenReplacesAStaleSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "wsgo.sock")
	// A socket file left by a server that died without cleaning up.
	stale, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	stale.SetUnlinkOnClose(false)
	stale.Close()

	l, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer l.Close()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("the new socket does not accept: %v", err)
	}
	c.Close()
}

func TestIPv6URL(t *testing.T) {
	l, err := Listen("[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if got, want := URL(l), "http://[::1]:"+port; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}

func TestIsLoopback(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 80}, true},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 80}, false},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 80}, false},
		{&net.UnixAddr{Name: "/run/app.sock", Net: "unix"}, false}, // a proxy may carry anyone to it
	} {
		if got := IsLoopback(tt.addr); got != tt.want {
			t.Errorf("IsLoopback(%v) = %v; want %v", tt.addr, got, tt.want)
		}
	}
}

func TestTLSURLSaysHTTPSForTCPOnly(t *testing.T) {
	tcp, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if got := TLSURL(tcp); !strings.HasPrefix(got, "https://127.0.0.1:") {
		t.Errorf("TLSURL of a TCP listener = %q; want https://127.0.0.1:PORT", got)
	}
	sock := filepath.Join(t.TempDir(), "s.sock")
	unix, err := Listen("unix:" + sock)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close()
	if got := TLSURL(unix); got != "unix:"+sock {
		t.Errorf("TLSURL of a unix socket listener = %q; want unix:%s", got, sock)
	}
}
