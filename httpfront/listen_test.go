package httpfront

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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

	tests := []struct {
		name, bind string
		want       []string // all in the error text
	}{
		{"port in use", taken.Addr().String(), []string{"cannot listen on " + taken.Addr().String(), "address already in use", "pick another port with --bind"}},
		{"missing port", "127.0.0.1", []string{`bad --bind address "127.0.0.1"`, "missing port", "use host:port, :port, [v6]:port or unix:/path"}},
		{"IPv6 without brackets", "::1:8000", []string{"too many colons", "[v6]:port"}},
		{"port name instead of number", "127.0.0.1:http", []string{"the port must be a number from 0 to 65535"}},
		{"port out of range", "127.0.0.1:70000", []string{"the port must be a number from 0 to 65535"}},
		{"empty unix path", "unix:", []string{"the socket path is empty"}},
		{"unix path on a regular file", "unix:" + notSocket, []string{"is not a socket", "remove it yourself or pick another path"}},
		{"unix socket somebody listens on", "unix:" + live.Addr().String(), []string{"another server is listening", "pick another path with --bind"}},
		{"unix socket in a missing directory", "unix:" + filepath.Join(dir, "no", "such.sock"), []string{"the directory does not exist"}},
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

func TestURL(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	tests := []struct {
		bind string
		want func(port string) string
	}{
		{"127.0.0.1:0", func(p string) string { return "http://127.0.0.1:" + p }},
		{"0.0.0.0:0", func(p string) string { return "http://0.0.0.0:" + p }},
		{"unix:" + sock, func(string) string { return "unix:" + sock }},
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

func TestUnixSocket(t *testing.T) {
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
	requests := make(chan seen, 1)
	startServer(t, capture(requests), Config{}, l)

	t.Run("request over the socket", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", sock)
			},
		}}
		defer client.CloseIdleConnections()
		resp, err := client.Get("http://wsgo.local/x")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got := <-requests
		if got.req.RemoteAddr != "" || got.req.RemotePort != "" || got.req.ServerName != "wsgo.local" || got.req.ServerPort != "80" {
			t.Errorf("remote %q %q server %q %q", got.req.RemoteAddr, got.req.RemotePort, got.req.ServerName, got.req.ServerPort)
		}
	})
	t.Run("request without Host names localhost", func(t *testing.T) {
		c := dial(t, "unix", sock)
		io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		readResponse(t, bufio.NewReader(c), "GET")
		got := <-requests
		if got.req.ServerName != "localhost" || got.req.ServerPort != "" {
			t.Errorf("server %q %q, want localhost and no port", got.req.ServerName, got.req.ServerPort)
		}
	})
}

func TestIPv6(t *testing.T) {
	l, err := Listen("[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if got, want := URL(l), "http://[::1]:"+port; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	requests := make(chan seen, 1)
	startServer(t, capture(requests), Config{}, l)

	c := dial(t, "tcp", l.Addr().String())
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	readResponse(t, bufio.NewReader(c), "GET")
	got := <-requests
	if got.req.RemoteAddr != "::1" || got.req.ServerName != "[::1]" || got.req.ServerPort != port {
		t.Errorf("remote %q server %q %q", got.req.RemoteAddr, got.req.ServerName, got.req.ServerPort)
	}
}
