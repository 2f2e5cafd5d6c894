package httpfront

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

// browserRequest is a typical request of a browser: ten fields, ~600 bytes.
const browserRequest = "GET /articles/2026/some-title?page=2&sort=new HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-GB,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://www.example.com/articles/\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: sessionid=0123456789abcdef0123456789abcdef; csrftoken=abcdefABCDEF0123456789\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Priority: u=0, i\r\n\r\n"

// benchConn gives the same request n times, then EOF; it discards what
// is written.
type benchConn struct {
	req       []byte
	left, pos int
	closeOnce sync.Once
	done      chan struct{}
}

func (c *benchConn) Read(p []byte) (int, error) {
	if c.pos == len(c.req) {
		if c.left == 0 {
			return 0, io.EOF
		}
		c.left--
		c.pos = 0
	}
	n := copy(p, c.req[c.pos:])
	c.pos += n
	return n, nil
}

func (c *benchConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *benchConn) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	return nil
}
func (c *benchConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000} }
func (c *benchConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *benchConn) SetDeadline(time.Time) error      { return nil }
func (c *benchConn) SetReadDeadline(time.Time) error  { return nil }
func (c *benchConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkServeHTTP1 serves keep-alive requests of a browser on one
// connection to an app that answers 200 with no body: the front's cost
// of a request, head to response.
func BenchmarkServeHTTP1(b *testing.B) {
	s := New(Config{App: wsgitest.FuncApp(func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		return w.Start(200, "OK", nil, 0)
	})})
	c := &benchConn{req: []byte(browserRequest), left: b.N - 1, done: make(chan struct{})}
	b.ReportAllocs()
	b.ResetTimer()
	s.ServeConn(c)
	<-c.done
}
