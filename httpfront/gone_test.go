package httpfront

import (
	"bufio"
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"wsgo/wsgi"
)

// An HTTP/1 client that hangs up while its request is served has the
// request's context cancelled (the host then drops it if no thread took
// it yet); one that stays does not. The app here answers only if its
// context is still live after a while.
func TestAClientThatHangsUpCancelsItsRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		network string
		leave   func(net.Conn)
		gone    bool
	}{
		{"tcp, closed", "tcp", func(c net.Conn) { c.Close() }, true},
		{"tcp, half-closed", "tcp", func(c net.Conn) { c.(*net.TCPConn).CloseWrite() }, true},
		{"tcp, stays", "tcp", func(net.Conn) {}, false},
		{"unix, closed", "unix", func(c net.Conn) { c.Close() }, true},
		{"unix, stays", "unix", func(net.Conn) {}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l net.Listener
			if tc.network == "unix" {
				var err error
				if l, err = net.Listen("unix", filepath.Join(t.TempDir(), "s")); err != nil {
					t.Fatal(err)
				}
			}
			begun := make(chan struct{})
			cancelled := make(chan time.Duration, 1)
			ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
				close(begun)
				start := time.Now()
				select {
				case <-ctx.Done():
					cancelled <- time.Since(start)
					return ctx.Err()
				case <-time.After(1500 * time.Millisecond):
					close(cancelled)
				}
				if err := w.Start(200, "OK", nil, 2); err != nil {
					return err
				}
				return w.Write([]byte("ok"))
			}, Config{}, l)
			c := dial(t, tc.network, ts.addr)
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			<-begun
			tc.leave(c)
			after, wasCancelled := <-cancelled
			if wasCancelled != tc.gone {
				t.Fatalf("request context cancelled: %v, want %v", wasCancelled, tc.gone)
			}
			if wasCancelled && after > 5*hangupEvery {
				// Not a timing assertion on speed: a look that comes
				// only with the next request would never come here.
				t.Errorf("cancelled after %v, want within a few looks of %v", after, hangupEvery)
			}
			if !tc.gone {
				if res, body := readResponse(t, bufio.NewReader(c), "GET"); res.StatusCode != 200 || body != "ok" {
					t.Errorf("response = %d %q, want 200 \"ok\"", res.StatusCode, body)
				}
			}
		})
	}
}
