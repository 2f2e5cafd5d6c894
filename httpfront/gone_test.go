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
// it yet): at once for a reset, after closedAfter for a FIN (which a TCP
// client that half-closes and reads on sends too); one that stays does
// not. The app answers only if its context is still live after a while.
func TestAClientThatHangsUpCancelsItsRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		network string
		leave   func(net.Conn)
		gone    bool
		atLeast time.Duration // before which a cancel is too early
	}{
		{"tcp, reset", "tcp", func(c net.Conn) { c.(*net.TCPConn).SetLinger(0); c.Close() }, true, 0},
		{"tcp, closed", "tcp", func(c net.Conn) { c.Close() }, true, closedAfter / 2},
		{"tcp, half-closed", "tcp", func(c net.Conn) { c.(*net.TCPConn).CloseWrite() }, true, closedAfter / 2},
		{"tcp, stays", "tcp", func(net.Conn) {}, false, 0},
		// A unix socket tells a close (POLLHUP) from a half-close.
		{"unix, closed", "unix", func(c net.Conn) { c.Close() }, true, 0},
		{"unix, half-closed", "unix", func(c net.Conn) { c.(*net.UnixConn).CloseWrite() }, true, closedAfter / 2},
		{"unix, stays", "unix", func(net.Conn) {}, false, 0},
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
				case <-time.After(closedAfter + time.Second):
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
			// Not timing assertions on speed: a FIN taken for a reset
			// would come at once, and a look that comes only with the next
			// request would never come here.
			if wasCancelled && after < tc.atLeast {
				t.Errorf("cancelled after %v: a FIN alone counts only once the request is %v old", after, closedAfter)
			}
			if limit := tc.atLeast*2 + 5*hangupEvery; wasCancelled && after > limit {
				t.Errorf("cancelled after %v, want within %v", after, limit)
			}
			if !tc.gone {
				if res, body := readResponse(t, bufio.NewReader(c), "GET"); res.StatusCode != 200 || body != "ok" {
					t.Errorf("response = %d %q, want 200 \"ok\"", res.StatusCode, body)
				}
			}
		})
	}
}
