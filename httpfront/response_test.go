package httpfront

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

const getClose = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

func TestResponseOnTheWire(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "digits"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	io.WriteString(f, "0123456789")

	h := func(kv ...string) []wsgi.Header {
		var list []wsgi.Header
		for i := 0; i < len(kv); i += 2 {
			list = append(list, wsgi.Header{Name: kv[i], Value: kv[i+1]})
		}
		return list
	}
	sendFiles := func(header []wsgi.Header, bodyLen int64, calls ...func(w wsgi.Responder) error) wsgitest.FuncApp {
		return func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
			if err := w.Start(200, "OK", header, bodyLen); err != nil {
				return err
			}
			for _, call := range calls {
				if err := call(w); err != nil {
					return err
				}
			}
			return nil
		}
	}
	write := func(s string) func(w wsgi.Responder) error {
		return func(w wsgi.Responder) error { return w.Write([]byte(s)) }
	}
	flush := func(w wsgi.Responder) error { return w.Flush() }
	sendFile := func(off, n int64) func(w wsgi.Responder) error {
		return func(w wsgi.Responder) error { return w.SendFile(f, off, n) }
	}
	fail := func(err error) wsgitest.FuncApp {
		return func(context.Context, *wsgi.Request, wsgi.Responder) error { return err }
	}

	const head = "Server: wsgo\r\nDate: X\r\n"
	big := strings.Repeat("0123456789", 4000) // over writeBufSize
	var hb strings.Builder                    // over three sendSlices, no two slices alike
	for i := 0; hb.Len() < 180_000; i++ {
		fmt.Fprintf(&hb, "%09d,", i)
	}
	huge := hb.String()
	tests := []struct {
		name string
		app  wsgitest.FuncApp
		req  string
		want string
	}{{
		name: "custom reason phrase is sent as given",
		app:  respond(200, "Everything Fine", nil, 2, "hi"),
		req:  getClose,
		want: "HTTP/1.1 200 Everything Fine\r\n" + head + "Content-Length: 2\r\nConnection: close\r\n\r\nhi",
	}, {
		name: "Flask's 404 NOT FOUND reaches the client as given",
		app:  respond(404, "NOT FOUND", h("Content-Type", "text/html"), 4, "gone"),
		req:  getClose,
		want: "HTTP/1.1 404 NOT FOUND\r\n" + head + "Content-Type: text/html\r\nContent-Length: 4\r\nConnection: close\r\n\r\ngone",
	}, {
		name: "empty reason leaves the space after the code",
		app:  respond(200, "", nil, 0),
		req:  getClose,
		want: "HTTP/1.1 200 \r\n" + head + "Content-Length: 0\r\nConnection: close\r\n\r\n",
	}, {
		name: "app headers keep their case and order",
		app:  respond(200, "OK", h("X-b", "1", "x-A", "2", "X-b", "3"), 0),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "X-b: 1\r\nx-A: 2\r\nX-b: 3\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	}, {
		name: "unknown length on HTTP/1.1 is chunked, one chunk per write, empty writes skipped",
		app:  respond(200, "OK", nil, -1, "hello", "", " world!"),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n",
	}, {
		name: "a chunk too big for the write buffer goes out whole, framed, after what was buffered",
		app:  respond(200, "OK", nil, -1, "hi", big, "end"),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n9c40\r\n" + big + "\r\n3\r\nend\r\n0\r\n\r\n",
	}, {
		name: "a chunk too big for the write buffer goes out after a flush emptied it",
		app:  sendFiles(nil, -1, write("hi"), flush, write(big)),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n9c40\r\n" + big + "\r\n0\r\n\r\n",
	}, {
		name: "a chunk over several write slices is framed once and goes out whole, in order",
		app:  respond(200, "OK", nil, -1, "hi", huge, "end"),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nhi\r\n" +
			"2bf20\r\n" + huge + "\r\n3\r\nend\r\n0\r\n\r\n",
	}, {
		name: "a write too big for the write buffer follows what was buffered",
		app:  respond(200, "OK", nil, 40005, "hi", big, "end"),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 40005\r\nConnection: close\r\n\r\nhi" + big + "end",
	}, {
		name: "bodyLen becomes Content-Length",
		app:  respond(200, "OK", nil, 5, "he", "llo"),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 5\r\nConnection: close\r\n\r\nhello",
	}, {
		name: "app Content-Length frames the body and wins over bodyLen",
		app:  respond(200, "OK", h("content-length", " 3 "), 7, "abc"),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 3\r\nConnection: close\r\n\r\nabc",
	}, {
		name: "writes past the app's Content-Length are dropped",
		app:  respond(200, "OK", h("Content-Length", "3"), -1, "ab", "cdef", "gh"),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 3\r\nConnection: close\r\n\r\nabc",
	}, {
		name: "HTTP/1.0 body of unknown length is delimited by the close",
		app:  respond(200, "OK", nil, -1, "old", "school"),
		req:  "GET / HTTP/1.0\r\n\r\n",
		want: "HTTP/1.1 200 OK\r\n" + head + "Connection: close\r\n\r\noldschool",
	}, {
		name: "HEAD gets the headers of GET and no body",
		app:  respond(200, "OK", nil, 5, "hello"),
		req:  "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 5\r\nConnection: close\r\n\r\n",
	}, {
		name: "HEAD of unknown length says chunked but sends no terminator",
		app:  respond(200, "OK", nil, -1, "hello"),
		req:  "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		want: "HTTP/1.1 200 OK\r\n" + head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
	}, {
		name: "204 has no body nor framing headers",
		app:  respond(204, "No Content", h("Content-Length", "5"), 5, "hello"),
		req:  getClose,
		want: "HTTP/1.1 204 No Content\r\n" + head + "Connection: close\r\n\r\n",
	}, {
		name: "205 sends no body, and says so with Content-Length: 0",
		app:  respond(205, "Reset Content", h("Content-Length", "5"), 5, "hello"),
		req:  getClose,
		want: "HTTP/1.1 205 Reset Content\r\n" + head + "Content-Length: 0\r\nConnection: close\r\n\r\n",
	}, {
		name: "304 keeps the app's Content-Length but sends no body",
		app:  respond(304, "Not Modified", h("Content-Length", "5", "ETag", `"x"`), 5, "hello"),
		req:  getClose,
		want: "HTTP/1.1 304 Not Modified\r\n" + head + "ETag: \"x\"\r\nContent-Length: 5\r\nConnection: close\r\n\r\n",
	}, {
		name: "304 of unknown length gets no framing headers",
		app:  respond(304, "Not Modified", nil, -1, "hello"),
		req:  getClose,
		want: "HTTP/1.1 304 Not Modified\r\n" + head + "Connection: close\r\n\r\n",
	}, {
		name: "app Date and Server are kept, not doubled",
		app:  respond(200, "OK", h("Server", "mine", "Date", "Thu, 01 Jan 1970 00:00:00 GMT"), 0),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\nServer: mine\r\nDate: X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	}, {
		name: "app framing and connection headers are replaced by ours",
		app:  respond(200, "OK", h("Transfer-Encoding", "chunked", "Connection", "keep-alive", "Keep-Alive", "timeout=9"), 2, "ok"),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 2\r\nConnection: close\r\n\r\nok",
	}, {
		name: "1xx as final status has no body and closes",
		app:  respond(103, "Early Hints", nil, -1, "dropped"),
		req:  "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		want: "HTTP/1.1 103 Early Hints\r\n" + head + "Connection: close\r\n\r\n",
	}, {
		name: "app's Connection: close is honoured",
		app:  respond(200, "OK", h("Connection", "close"), 2, "ok"),
		req:  "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 2\r\nConnection: close\r\n\r\nok",
	}, {
		name: "error before Start answers 500",
		app:  fail(errors.New("app broke")),
		req:  getClose,
		want: "HTTP/1.1 500 Internal Server Error\r\n" + head + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\nConnection: close\r\n\r\nInternal Server Error\n",
	}, {
		name: "ErrOverloaded answers 503 with Retry-After",
		app:  fail(fmt.Errorf("queue: %w", wsgi.ErrOverloaded)),
		req:  getClose,
		want: "HTTP/1.1 503 Service Unavailable\r\n" + head + "Content-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nContent-Length: 20\r\nConnection: close\r\n\r\nService Unavailable\n",
	}, {
		name: "app returning no response answers 500",
		app:  fail(nil),
		req:  getClose,
		want: "HTTP/1.1 500 Internal Server Error\r\n" + head + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\nConnection: close\r\n\r\nInternal Server Error\n",
	}, {
		name: "error answer to HEAD has no body",
		app:  fail(errors.New("app broke")),
		req:  "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		want: "HTTP/1.1 500 Internal Server Error\r\n" + head + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\nConnection: close\r\n\r\n",
	}, {
		name: "SendFile in chunked framing is one chunk per call",
		app:  sendFiles(nil, -1, write("<"), sendFile(2, 3), sendFile(8, -1), write(">")),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\n<\r\n3\r\n234\r\n2\r\n89\r\n1\r\n>\r\n0\r\n\r\n",
	}, {
		name: "SendFile counts against bodyLen",
		app:  sendFiles(nil, 6, sendFile(0, 5), write("!")),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 6\r\nConnection: close\r\n\r\n01234!",
	}, {
		name: "SendFile is capped by the app's Content-Length",
		app:  sendFiles(h("Content-Length", "4"), -1, write("<"), sendFile(0, -1)),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Content-Length: 4\r\nConnection: close\r\n\r\n<012",
	}, {
		name: "SendFile of an empty range sends no chunk",
		app:  sendFiles(nil, -1, sendFile(10, -1), sendFile(3, 0)),
		req:  getClose,
		want: "HTTP/1.1 200 OK\r\n" + head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.app, Config{}, nil)
			if got := stableDate(exchange(t, ts.addr, tt.req)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestStartRefuses checks that a bad Start writes nothing and returns an
// error, so that the host can still answer 500.
func TestStartRefuses(t *testing.T) {
	tests := []struct {
		name   string
		status int
		reason string
		header []wsgi.Header
	}{
		{"status below 100", 99, "Odd", nil},
		{"status of four digits", 1000, "Odd", nil},
		{"Content-Length not a number", 200, "OK", []wsgi.Header{{Name: "Content-Length", Value: "12abc"}}},
		{"negative Content-Length", 200, "OK", []wsgi.Header{{Name: "Content-Length", Value: "-1"}}},
		{"conflicting Content-Lengths", 200, "OK", []wsgi.Header{{Name: "Content-Length", Value: "1"}, {Name: "Content-Length", Value: "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			startErr := make(chan error, 1)
			ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
				err := w.Start(tt.status, tt.reason, tt.header, -1)
				startErr <- err
				return err
			}, Config{}, nil)
			got := exchange(t, ts.addr, getClose)
			if err := <-startErr; err == nil {
				t.Fatal("Start accepted it")
			}
			if !strings.HasPrefix(got, "HTTP/1.1 500 Internal Server Error\r\n") || strings.Contains(got, "Injected") {
				t.Fatalf("got %q; want only the 500 answer", got)
			}
		})
	}

	t.Run("second Start fails and the first response stands", func(t *testing.T) {
		second := make(chan error, 1)
		ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
			w.Start(200, "OK", nil, 2)
			second <- w.Start(500, "Again", nil, -1)
			return w.Write([]byte("ok"))
		}, Config{}, nil)
		got := exchange(t, ts.addr, getClose)
		if err := <-second; !errors.Is(err, errStarted) {
			t.Errorf("second Start = %v", err)
		}
		if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(got, "\r\n\r\nok") {
			t.Errorf("got %q", got)
		}
	})
	t.Run("Write before Start fails", func(t *testing.T) {
		errs := make(chan error, 2)
		ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
			errs <- w.Write([]byte("early"))
			errs <- w.SendFile(os.Stdin, 0, 1)
			return respond(200, "OK", nil, 0)(ctx, req, w)
		}, Config{}, nil)
		exchange(t, ts.addr, getClose)
		for range 2 {
			if err := <-errs; !errors.Is(err, errNotStarted) {
				t.Errorf("got %v, want errNotStarted", err)
			}
		}
	})
}

func TestKeepAlive(t *testing.T) {
	app := func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		switch req.RawPath {
		case "/unknown-length":
			return respond(200, "OK", nil, -1, "stream")(ctx, req, w)
		case "/fail":
			return errors.New("app broke")
		case "/overloaded":
			return wsgi.ErrOverloaded
		}
		return echoPath(ctx, req, w)
	}
	ts := startServer(t, app, Config{}, nil)
	streaming := startServer(t, app, Config{StreamRequestBody: true}, nil)

	tests := []struct {
		name      string
		server    *testServer
		method    string
		req       string
		wantBody  string
		wantClose bool
		wantConn  string // the Connection header but close
	}{
		{"HTTP/1.1 keeps the connection by default", ts, "GET", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "/a", false, ""},
		{"HTTP/1.1 chunked response keeps the connection", ts, "GET", "GET /unknown-length HTTP/1.1\r\nHost: x\r\n\r\n", "stream", false, ""},
		{"HTTP/1.0 keep-alive with a known length", ts, "GET", "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "/b", false, "keep-alive"},
		{"HEAD leaves the connection usable", ts, "HEAD", "HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n", "", false, ""},
		{"error before Start keeps the connection", ts, "GET", "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", "Internal Server Error\n", false, ""},
		{"overload keeps the connection", ts, "GET", "GET /overloaded HTTP/1.1\r\nHost: x\r\n\r\n", "Service Unavailable\n", false, ""},
		{"unread small request body is drained", ts, "POST", "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "/c", false, ""},
		{"unread small request body is drained, streaming", streaming, "POST", "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "/c", false, ""},
		{"unread small chunked body is drained", ts, "POST", "POST /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "/d", false, ""},
		{"HTTP/1.0 keep-alive with unknown length closes", ts, "GET", "GET /unknown-length HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "stream", true, ""},
		{"HTTP/1.1 Connection: close closes", ts, "GET", "GET /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "/e", true, ""},
		// Connection's fields make one list (RFC 9110 5.3): a later keep-alive does not undo close.
		{"HTTP/1.1 close then keep-alive in two fields closes", ts, "GET", "GET /g HTTP/1.1\r\nHost: x\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", "/g", true, ""},
		{"HTTP/1.0 close then keep-alive in two fields closes", ts, "GET", "GET /h HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n", "/h", true, ""},
		{"HTTP/1.0 keep-alive then close in two fields closes", ts, "GET", "GET /i HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", "/i", true, ""},
		{"HTTP/1.0 keep-alive among other tokens", ts, "GET", "GET /j HTTP/1.0\r\nConnection: x-custom\r\nConnection: Keep-Alive, x-other\r\n\r\n", "/j", false, "keep-alive"},
		{"HTTP/1.1 chunked, with an empty list item, is read", ts, "POST", "POST /k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked,\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "/k", false, ""},
		{"unread large request body closes", streaming, "POST", "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n", "/f", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, "tcp", tt.server.addr)
			br := bufio.NewReader(c)
			io.WriteString(c, tt.req)
			resp, body := readResponse(t, br, tt.method)
			// http.ReadResponse turns Connection: close into resp.Close.
			if body != tt.wantBody || resp.Close != tt.wantClose || resp.Header.Get("Connection") != tt.wantConn {
				t.Fatalf("body %q close %v Connection %q; want %q %v %q", body, resp.Close, resp.Header.Get("Connection"), tt.wantBody, tt.wantClose, tt.wantConn)
			}
			if tt.wantClose {
				if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Fatalf("after the response: %d, %v; want EOF", n, err)
				}
				return
			}
			io.WriteString(c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
			if _, body := readResponse(t, br, "GET"); body != "/next" {
				t.Fatalf("second response body %q", body)
			}
		})
	}

	t.Run("pipelined requests are answered in order", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		br := bufio.NewReader(c)
		io.WriteString(c, "GET /one HTTP/1.1\r\nHost: x\r\n\r\nPOST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /three HTTP/1.1\r\nHost: x\r\n\r\n")
		for _, want := range []string{"/one", "/two", "/three"} {
			if _, body := readResponse(t, br, "GET"); body != want {
				t.Fatalf("got %q, want %q", body, want)
			}
		}
	})
}

// End (wsgi.Ender) puts the whole response on the wire while ServeWSGI
// has not returned (the app's close() still runs): a chunked body's last
// chunk included, and once; the connection serves on after it.
func TestEndCompletesTheResponseBeforeServeWSGIReturns(t *testing.T) {
	closing := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-closing:
		default:
			close(closing)
		}
	})
	app := func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		if req.RawPath != "/ending" {
			return echoPath(ctx, req, w)
		}
		if err := w.Start(200, "OK", nil, -1); err != nil {
			return err
		}
		if err := w.Write([]byte("body")); err != nil {
			return err
		}
		if err := w.(wsgi.Ender).End(); err != nil {
			return err
		}
		<-closing // the app's close() runs on
		return nil
	}
	ts := startServer(t, app, Config{}, nil)
	c := dial(t, "tcp", ts.addr)
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /ending HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, br, "GET"); body != "body" || resp.TransferEncoding == nil {
		t.Fatalf("body %q chunked %v; want the whole chunked body before ServeWSGI returns", body, resp.TransferEncoding)
	}
	close(closing)
	io.WriteString(c, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := readResponse(t, br, "GET"); body != "/next" {
		t.Fatalf("the next response's body %q; want /next after one last chunk", body)
	}
}

func TestIncompleteResponses(t *testing.T) {
	ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		switch req.RawPath {
		case "/short":
			return respond(200, "OK", []wsgi.Header{{Name: "Content-Length", Value: "10"}}, -1, "only5")(ctx, req, w)
		case "/short-bodylen":
			return respond(200, "OK", nil, 10, "only5")(ctx, req, w)
		}
		// Fails after the start.
		w.Start(200, "OK", nil, -1)
		w.Write([]byte("partial"))
		w.Flush()
		return errors.New("app broke")
	}, Config{}, nil)

	for _, path := range []string{"/short", "/short-bodylen"} {
		t.Run("body shorter than its length is cut: "+path, func(t *testing.T) {
			resp, err := http.Get("http://" + ts.addr + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) || string(body) != "only5" {
				t.Fatalf("got %q, %v; want the 5 bytes then unexpected EOF", body, err)
			}
		})
	}
	t.Run("error after Start on chunked resets without terminator", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		io.WriteString(c, "GET /broken HTTP/1.1\r\nHost: x\r\n\r\n")
		got, err := io.ReadAll(c)
		if !isReset(err) {
			t.Fatalf("read ended with %v, want a connection reset", err)
		}
		if strings.Contains(string(got), "0\r\n\r\n") {
			t.Fatalf("got %q: chunked terminator sent", got)
		}
	})
}
