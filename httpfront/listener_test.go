package httpfront

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
)

func TestUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "wsgo.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
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
	// PEP 3333: SERVER_NAME and SERVER_PORT are never empty; the socket
	// has no port, so the scheme's stands for it, as in gunicorn.
	t.Run("request without Host names localhost and the scheme's port", func(t *testing.T) {
		c := dial(t, "unix", sock)
		io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		readResponse(t, bufio.NewReader(c), "GET")
		got := <-requests
		if got.req.ServerName != "localhost" || got.req.ServerPort != "80" {
			t.Errorf("server %q %q, want localhost and 80", got.req.ServerName, got.req.ServerPort)
		}
	})
}

func TestIPv6(t *testing.T) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
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
