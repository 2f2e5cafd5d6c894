package httpfront

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

// testTimeout only keeps a broken test from hanging; nothing waits for it.
const testTimeout = 10 * time.Second

// logWriter routes server logs to the test's log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testServer struct {
	*Server
	l     net.Listener
	addr  string
	serve chan error // Serve's result
}

// startServer serves app on l (a new 127.0.0.1 port when nil) and shuts the
// server down at the end of the test, checking that Serve returned nil.
func startServer(t *testing.T, app wsgitest.FuncApp, cfg Config, l net.Listener) *testServer {
	t.Helper()
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	cfg.App = app
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ts := &testServer{Server: New(cfg), l: l, addr: l.Addr().String(), serve: make(chan error, 1)}
	go func() { ts.serve <- ts.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-ts.serve; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func dial(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(testTimeout))
	t.Cleanup(func() { c.Close() })
	return c
}

// exchange sends raw on a new connection and returns all the server sends
// until it closes the connection.
func exchange(t *testing.T, addr, raw string) string {
	t.Helper()
	c := dial(t, "tcp", addr)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the response: %v (got %q)", err, got)
	}
	return string(got)
}

var (
	dateLine      = regexp.MustCompile(`(?m)^Date: [^\r]*\r$`)
	madeRequestID = regexp.MustCompile(`(?m)^X-Request-ID: [0-9a-f]{32}\r\n`)
)

// stableDate replaces the Date value, which changes every second, and
// drops the X-Request-ID the server made up (TestRequestID checks it).
func stableDate(s string) string {
	return madeRequestID.ReplaceAllString(dateLine.ReplaceAllString(s, "Date: X\r"), "")
}

// respond makes an app that starts a response and writes body pieces.
func respond(status int, reason string, header []wsgi.Header, bodyLen int64, pieces ...string) wsgitest.FuncApp {
	return func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		if err := w.Start(status, reason, header, bodyLen); err != nil {
			return err
		}
		for _, p := range pieces {
			if err := w.Write([]byte(p)); err != nil {
				return err
			}
		}
		return nil
	}
}

// echoPath answers with the request's path, length known.
var echoPath wsgitest.FuncApp = func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
	if err := w.Start(200, "OK", nil, int64(len(req.RawPath))); err != nil {
		return err
	}
	return w.Write([]byte(req.RawPath))
}

// readResponse reads one response from br and its whole body.
func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading a response body: %v", err)
	}
	return resp, string(body)
}

func TestShutdownIsGraceful(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	app := func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		if req.RawPath == "/slow" {
			close(entered)
			<-release
		}
		return echoPath(ctx, req, w)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{App: wsgitest.FuncApp(app), Logger: testLogger(t)})
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	addr := l.Addr().String()

	idle := dial(t, "tcp", addr)
	io.WriteString(idle, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, bufio.NewReader(idle), "GET"); resp.Close || body != "/first" {
		t.Fatalf("first response: close=%v body=%q", resp.Close, body)
	}

	busy := dial(t, "tcp", addr)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()

	t.Run("idle keep-alive connection is closed at once", func(t *testing.T) {
		if n, err := idle.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("read on the idle connection = %d, %v; want EOF", n, err)
		}
	})
	t.Run("new connections are refused", func(t *testing.T) {
		// The listener closed before the idle connection did.
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Fatal("a new connection was accepted during Shutdown")
		}
	})
	t.Run("Shutdown waits for the request in flight", func(t *testing.T) {
		select {
		case err := <-shut:
			t.Fatalf("Shutdown returned %v with a request in flight", err)
		default:
		}
	})
	close(release)
	t.Run("request in flight completes with Connection: close", func(t *testing.T) {
		resp, body := readResponse(t, bufio.NewReader(busy), "GET")
		if resp.StatusCode != 200 || body != "/slow" || !resp.Close {
			t.Fatalf("slow response: %d close=%v body=%q", resp.StatusCode, resp.Close, body)
		}
	})
	busy.Close()
	if err := <-shut; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after Shutdown", err)
	}
}

func TestShutdownForcesWhenContextEnds(t *testing.T) {
	entered := make(chan struct{})
	appErr := make(chan error, 1)
	ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		close(entered)
		<-ctx.Done()
		appErr <- ctx.Err()
		return ctx.Err()
	}, Config{}, nil)
	c := dial(t, "tcp", ts.addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-entered

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	if err := <-appErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("request context: %v, want cancelled", err)
	}
	if _, err := io.ReadAll(c); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("client read: %v", err)
	}
}

func TestServeAfterShutdownReturnsNil(t *testing.T) {
	s := New(Config{App: echoPath, Logger: testLogger(t)})
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(l); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if _, err := l.Accept(); err == nil {
		t.Fatal("Serve left the listener open")
	}
}

func TestPanicInApp(t *testing.T) {
	ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		switch req.RawPath {
		case "/panic":
			panic("boom")
		case "/panic-after-start":
			w.Start(200, "OK", nil, -1)
			w.Write([]byte("partial"))
			w.Flush()
			panic("boom")
		}
		return echoPath(ctx, req, w)
	}, Config{}, nil)

	t.Run("panic before Start answers 500 and closes", func(t *testing.T) {
		got := stableDate(exchange(t, ts.addr, "GET /panic HTTP/1.1\r\nHost: x\r\n\r\n"))
		want := "HTTP/1.1 500 Internal Server Error\r\nServer: wsgo\r\nDate: X\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\nConnection: close\r\n\r\nInternal Server Error\n"
		if got != want {
			t.Fatalf("got %q\nwant %q", got, want)
		}
	})
	t.Run("panic after Start resets the connection", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		io.WriteString(c, "GET /panic-after-start HTTP/1.1\r\nHost: x\r\n\r\n")
		got, err := io.ReadAll(c)
		if !isReset(err) || bytes.Contains(got, []byte("0\r\n\r\n")) {
			t.Fatalf("got %q, %v; want a reset and no chunked terminator", got, err)
		}
	})
	t.Run("server still serves after a panic", func(t *testing.T) {
		got := exchange(t, ts.addr, "GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(got, "/fine") {
			t.Fatalf("got %q", got)
		}
	})
}

func TestTimeouts(t *testing.T) {
	ts := startServer(t, echoPath, Config{KeepAlive: 50 * time.Millisecond, HeaderTimeout: 50 * time.Millisecond}, nil)

	t.Run("connection idle past KeepAlive is closed", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		br := bufio.NewReader(c)
		io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
		readResponse(t, br, "GET")
		if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("read = %d, %v; want EOF", n, err)
		}
	})
	t.Run("request head slower than HeaderTimeout is dropped without an answer", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
		if got, err := io.ReadAll(c); len(got) != 0 || err != nil {
			t.Fatalf("got %q, %v; want a silent close", got, err)
		}
	})
}

// TestClientGone checks that once a write fails, the app's context is
// cancelled and every later call fails fast with the same error.
func TestClientGone(t *testing.T) {
	type result struct {
		first, later error
		ctxErr       error
	}
	results := make(chan result, 1)
	ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		if err := w.Start(200, "OK", nil, -1); err != nil {
			return err
		}
		chunk := make([]byte, 64<<10)
		for range 100000 {
			err := w.Write(chunk)
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				results <- result{err, w.Write([]byte("x")), ctx.Err()}
				return err
			}
		}
		results <- result{}
		return nil
	}, Config{}, nil)

	c := dial(t, "tcp", ts.addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	c.Close() // with unread data: the kernel resets the connection
	r := <-results
	if r.first == nil {
		t.Fatal("writes never failed after the client left")
	}
	if r.later != r.first {
		t.Errorf("later Write = %v, want the first failure %v", r.later, r.first)
	}
	if r.ctxErr == nil {
		t.Error("request context not cancelled")
	}
}

// Write buffers go back to a pool while a connection is idle, so one
// connection's next response may be written through the buffer another
// used. Interleaved keep-alive connections, with bodies smaller and larger
// than a buffer, must each get exactly their own responses.
func TestIdleConnectionsShareWriteBuffersCleanly(t *testing.T) {
	app := wsgitest.FuncApp(func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		n := len(req.RawPath) * 1000 // /a: 2,000 bytes; /aaaaaaaaaaaaaaaaaaaa: 21,000
		if err := w.Start(200, "OK", nil, -1); err != nil {
			return err
		}
		return w.Write([]byte(strings.Repeat(req.RawPath[1:2], n)))
	})
	ts := startServer(t, app, Config{}, nil)
	conns := make([]net.Conn, 3)
	readers := make([]*bufio.Reader, 3)
	for i := range conns {
		conns[i] = dial(t, "tcp", ts.addr)
		readers[i] = bufio.NewReader(conns[i])
	}
	for round := range 4 {
		for i, c := range conns {
			path := "/" + strings.Repeat(string(rune('a'+i)), 1+round*6)
			if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(readers[i], nil)
			if err != nil {
				t.Fatalf("round %d, connection %d: %v", round, i, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := strings.Repeat(path[1:2], len(path)*1000); err != nil || string(body) != want {
				t.Fatalf("round %d, connection %d: %d bytes (%v), want %d bytes of %q", round, i, len(body), err, len(want), path[1:2])
			}
		}
	}
}
