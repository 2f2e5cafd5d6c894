package httpfront

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

// seen is what an app saw of a request: a copy, since the request is
// borrowed for the call only.
type seen struct {
	req  wsgi.Request // Body nil
	body string
	err  error // from reading the body
}

// capture reports each request it serves on ch and answers it with an
// empty 200.
func capture(ch chan<- seen) wsgitest.FuncApp {
	return func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		body, err := io.ReadAll(req.Body)
		r := *req
		r.Header, r.Body = slices.Clone(req.Header), nil
		ch <- seen{r, string(body), err}
		return w.Start(200, "OK", nil, 0)
	}
}

// echoBody answers with the request body.
var echoBody wsgitest.FuncApp = func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return err
	}
	if err := w.Start(200, "OK", nil, int64(len(body))); err != nil {
		return err
	}
	return w.Write(body)
}

func TestRequestFields(t *testing.T) {
	requests := make(chan seen, 1)
	ts := startServer(t, capture(requests), Config{}, nil)
	listenPort := strconv.Itoa(ts.l.Addr().(*net.TCPAddr).Port)
	hdr := func(kv ...string) []wsgi.Header {
		list := []wsgi.Header{}
		for i := 0; i < len(kv); i += 2 {
			list = append(list, wsgi.Header{Name: kv[i], Value: kv[i+1]})
		}
		return list
	}

	tests := []struct {
		name     string
		raw      string
		want     wsgi.Request // Remote* and ID are checked apart
		wantBody string
	}{{
		name: "origin form keeps the path encoded; headers in order, repeats kept, underscores dropped",
		raw: "POST /a%2Fb/c%20d;p?x=1&y=%20 HTTP/1.1\r\nHost: example.com:8080\r\nX-Trace: 1\r\nAccept: a\r\n" +
			"X_Forwarded_User: admin\r\nContent-Type: text/plain\r\nContent-Length: 3\r\naccept: b\r\nConnection: keep-alive\r\n\r\nabc",
		want: wsgi.Request{
			Method: "POST", RequestURI: "/a%2Fb/c%20d;p?x=1&y=%20", RawPath: "/a%2Fb/c%20d;p", RawQuery: "x=1&y=%20",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "example.com", ServerPort: "8080",
			Header:      hdr("Host", "example.com:8080", "X-Trace", "1", "Accept", "a", "Accept", "b", "Connection", "keep-alive"),
			ContentType: "text/plain", ContentLength: 3, HasContentLength: true,
		},
		wantBody: "abc",
	}, {
		name: "absolute form gives its path, query and host, which replaces Host (RFC 9112 3.2.2)",
		raw:  "GET http://example.org/p/q?z HTTP/1.1\r\nHost: ignored.example\r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "http://example.org/p/q?z", RawPath: "/p/q", RawQuery: "z",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "example.org", ServerPort: "80",
			Header: hdr("Host", "example.org"),
		},
	}, {
		name: "absolute form in HTTP/1.0 without Host gives one",
		raw:  "GET HTTPS://example.org:8443?q HTTP/1.0\r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "HTTPS://example.org:8443?q", RawPath: "/", RawQuery: "q",
			Proto: "HTTP/1.0", Scheme: "http", ServerName: "example.org", ServerPort: "8443",
			Header: hdr("Host", "example.org:8443"),
		},
	}, {
		name: "empty lines before the request line are ignored (RFC 9112 2.2)",
		raw:  "\r\n\n\r\nGET /after-crlf HTTP/1.1\r\nHost: h\r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "/after-crlf", RawPath: "/after-crlf",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "h", ServerPort: "80",
			Header: hdr("Host", "h"),
		},
	}, {
		name: "field names are made canonical and kept in the order received",
		raw:  "GET / HTTP/1.1\r\nx-b: 1\r\nHOST: h\r\nCONNECTION: close\r\nx-a:2\r\nX-b:  3 \r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "/", RawPath: "/",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "h", ServerPort: "80",
			Header: hdr("X-B", "1", "Host", "h", "Connection", "close", "X-A", "2", "X-B", "3"),
		},
	}, {
		name: "chunk sizes with many leading zeros",
		raw: "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("0", 40) + "3 ; a=b\r\nabc\r\n" +
			strings.Repeat("0", 20) + "0\r\n\r\n",
		want: wsgi.Request{
			Method: "PUT", RequestURI: "/up", RawPath: "/up",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "h", ServerPort: "80",
			Header: hdr("Host", "h"), ContentLength: 3, HasContentLength: true,
		},
		wantBody: "abc",
	}, {
		name: "absolute form without a path has path /",
		raw:  "GET http://example.org:81 HTTP/1.1\r\nHost: example.org:81\r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "http://example.org:81", RawPath: "/",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "example.org", ServerPort: "81",
			Header: hdr("Host", "example.org:81"),
		},
	}, {
		name: "asterisk form stays *",
		raw:  "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		want: wsgi.Request{
			Method: "OPTIONS", RequestURI: "*", RawPath: "*",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "h", ServerPort: "80",
			Header: hdr("Host", "h"),
		},
	}, {
		name: "HTTP/1.0 without Host names the listening address",
		raw:  "GET /old HTTP/1.0\r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "/old", RawPath: "/old",
			Proto: "HTTP/1.0", Scheme: "http", ServerName: "127.0.0.1", ServerPort: listenPort,
			Header: hdr(),
		},
	}, {
		name: "IPv6 Host keeps its brackets",
		raw:  "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "/", RawPath: "/",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "[::1]", ServerPort: "8080",
			Header: hdr("Host", "[::1]:8080"),
		},
	}, {
		name: "IPv6 Host without port defaults to 80",
		raw:  "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "/", RawPath: "/",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "[::1]", ServerPort: "80",
			Header: hdr("Host", "[::1]"),
		},
	}, {
		name: "chunked body is de-chunked and given its length",
		raw:  "PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n",
		want: wsgi.Request{
			Method: "PUT", RequestURI: "/up", RawPath: "/up",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "h", ServerPort: "80",
			Header: hdr("Host", "h"), ContentLength: 7, HasContentLength: true,
		},
		wantBody: "abcdefg",
	}, {
		name: "Pragma does not make up a Cache-Control",
		raw:  "GET / HTTP/1.1\r\nHost: h\r\nPragma: no-cache\r\n\r\n",
		want: wsgi.Request{
			Method: "GET", RequestURI: "/", RawPath: "/",
			Proto: "HTTP/1.1", Scheme: "http", ServerName: "h", ServerPort: "80",
			Header: hdr("Host", "h", "Pragma", "no-cache"),
		},
	}}
	var lastID uint64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, "tcp", ts.addr)
			io.WriteString(c, tt.raw)
			// The app has run once its response is in.
			if resp, body := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 || body != "" {
				t.Fatalf("response %d %q", resp.StatusCode, body)
			}
			var got seen
			select {
			case got = <-requests:
			default:
				t.Fatal("the app did not see the request")
			}
			if got.err != nil || got.body != tt.wantBody {
				t.Errorf("body %q, %v; want %q", got.body, got.err, tt.wantBody)
			}
			if got.req.ID <= lastID {
				t.Errorf("ID %d after %d", got.req.ID, lastID)
			}
			lastID = got.req.ID
			local := c.LocalAddr().(*net.TCPAddr)
			if got.req.RemoteAddr != "127.0.0.1" || got.req.RemotePort != strconv.Itoa(local.Port) {
				t.Errorf("remote %s %s; want 127.0.0.1 %d", got.req.RemoteAddr, got.req.RemotePort, local.Port)
			}
			if made := got.req.Header[len(got.req.Header)-1].Value; got.req.RequestID != made {
				t.Errorf("RequestID %q; want the X-Request-Id made, %q", got.req.RequestID, made)
			}
			got.req.ID, got.req.RequestID, got.req.RemoteAddr, got.req.RemotePort = 0, "", "", ""
			got.req.Header = withoutMadeRequestID(t, got.req.Header)
			if !reflect.DeepEqual(got.req, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got.req, tt.want)
			}
		})
	}
}

func TestMalformedRequests(t *testing.T) {
	ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		t.Errorf("app called for %s %s", req.Method, req.RequestURI)
		return errors.New("should not be called")
	}, Config{}, nil)
	small := startServer(t, echoPath, Config{LimitRequestLine: 30, LimitRequestFields: 3, LimitRequestFieldSize: 40}, nil)

	// line is a request line of n bytes; field a header field of n bytes.
	line := func(n int) string { return "GET /" + strings.Repeat("l", n-len("GET / HTTP/1.1")) + " HTTP/1.1" }
	field := func(n int) string { return "X-Pad: " + strings.Repeat("p", n-len("X-Pad: ")) }

	tests := []struct {
		name   string
		addr   string
		raw    string
		status int
	}{
		{"garbage request line", ts.addr, "NOT HTTP AT ALL\r\n\r\n", 400},
		{"request line without version", ts.addr, "GET /\r\n\r\n", 400},
		{"method with a bad character", ts.addr, "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
		{"space in header name", ts.addr, "GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n", 400},
		{"header line without colon", ts.addr, "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400},
		{"control character in header value", ts.addr, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400},
		{"bare CR in header value", ts.addr, "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400},
		{"HTTP/1.1 without Host", ts.addr, "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400},
		{"two Host headers", ts.addr, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"malformed Host", ts.addr, "GET / HTTP/1.1\r\nHost: a<b>\r\n\r\n", 400},
		{"Host with a port that is not a number", ts.addr, "GET / HTTP/1.1\r\nHost: ex.com:abc\r\n\r\n", 400},
		{"Host with two ports", ts.addr, "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400},
		{"Host with a port past 65535", ts.addr, "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", 400},
		{"Host of an unclosed IP literal", ts.addr, "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
		{"Host of an IP literal that is not IPv6", ts.addr, "GET / HTTP/1.1\r\nHost: [127.0.0.1]\r\n\r\n", 400},
		{"Host with brackets in a name", ts.addr, "GET / HTTP/1.1\r\nHost: a]b[\r\n\r\n", 400},
		{"Host with a bad escape", ts.addr, "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400},
		{"absolute form whose port is not a number", ts.addr, "GET http://ex.com:abc/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"Content-Length then Transfer-Encoding", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"Transfer-Encoding then Content-Length", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400},
		{"invalid Content-Length", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4x\r\n\r\nabcd", 400},
		{"conflicting Content-Lengths", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd", 400},
		// RFC 9112 6.3: without chunked last, the body's end is unknown (400);
		// a coding wsgo does not decode before it is 501 (6.1).
		{"Transfer-Encoding gzip", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
		{"Transfer-Encoding chunked, gzip", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
		{"Transfer-Encoding empty", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n", 400},
		{"Transfer-Encoding gzip, chunked", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
		{"Transfer-Encoding gzip then chunked, in two fields", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
		{"chunked twice, in two fields", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"chunked twice, in one field", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
		{"Transfer-Encoding in HTTP/1.0", ts.addr, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"request line of 8191 bytes", ts.addr, line(8191) + "\r\nHost: x\r\n\r\n", 414},
		{"request line of 100 KiB", ts.addr, line(100<<10) + "\r\nHost: x\r\n\r\n", 414},
		// RFC 9112 3: a method longer than any implemented gets 501.
		{"method longer than the request line's limit", ts.addr, strings.Repeat("M", 9000) + " / HTTP/1.1\r\nHost: x\r\n\r\n", 501},
		{"method over a small limit", small.addr, strings.Repeat("M", 31) + " / HTTP/1.1\r\nHost: x\r\n\r\n", 501},
		{"header field of 8191 bytes", ts.addr, "GET / HTTP/1.1\r\nHost: x\r\n" + field(8191) + "\r\n\r\n", 431},
		{"header field of 70 KiB", ts.addr, "GET / HTTP/1.1\r\nHost: x\r\n" + field(70<<10) + "\r\n\r\n", 431},
		{"101 header fields", ts.addr, "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Many: 0123456789\r\n", 100) + "\r\n", 431},
		{"4000 header fields", ts.addr, "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Many: 0123456789\r\n", 4000) + "\r\n", 431},
		{"request line one byte over a small limit", small.addr, line(31) + "\r\nHost: x\r\n\r\n", 414},
		{"request line over a small limit, bare LF", small.addr, line(31) + "\nHost: x\n\n", 414},
		{"field one byte over a small limit", small.addr, line(30) + "\r\nHost: x\r\n" + field(41) + "\r\n\r\n", 431},
		{"folded header line", ts.addr, "GET / HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n  b\r\n\r\n", 400},
		{"folded Host line", ts.addr, "GET / HTTP/1.1\r\nHost: good.example\r\n <script>@evil\r\n\r\n", 400},
		{"whitespace before the first field", ts.addr, "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
		{"whitespace before the colon", ts.addr, "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
		{"asterisk form with GET", ts.addr, "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"authority form with GET", ts.addr, "GET host:80 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"CONNECT", ts.addr, "CONNECT host:443 HTTP/1.1\r\nHost: host:443\r\n\r\n", 501},
		{"absolute form of another scheme", ts.addr, "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"absolute form with userinfo", ts.addr, "GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"absolute form without host", ts.addr, "GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"absolute form with a malformed host", ts.addr, "GET http://a<b>/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"control character in the target", ts.addr, "GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"fragment in the target", ts.addr, "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"fragment in the query", ts.addr, "GET /a?b=c#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"two spaces after the method", ts.addr, "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"many empty lines before the request line", ts.addr, strings.Repeat("\r\n", 9) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"chunk size past 63 bits", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8000000000000000\r\nx\r\n0\r\n\r\n", 400},
		{"chunk size with a sign", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n", 400},
		{"chunk size then a space, no extension", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", 400},
		{"last chunk size then a tab", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\t\r\n\r\n", 400},
		{"chunk line ending in a bare LF", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400},
		{"chunk data without its CRLF", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", 400},
		{"malformed trailer field", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nBad Trailer\r\n\r\n", 400},
		{"end of the trailer section in a bare LF", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\n", 400},
		{"trailer field ending in a bare LF", ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: t\n\r\n", 400},
		{"one field over a small limit", small.addr, line(30) + "\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431},
		{"request line and fields at the limits, one more field", small.addr, line(30) + "\r\nHost: x\r\n" + field(40) + "\r\n" + field(40) + "\r\n" + field(40) + "\r\n\r\n", 431},
		{"HTTP/2.0 request line, not the preface (which is HTTP/2's: e2e TestH2CWithPriorKnowledge)", ts.addr, "PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n", 505},
		{"HTTP/0.9 version", ts.addr, "GET / HTTP/0.9\r\n\r\n", 505},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s gets %d", tt.name, tt.status), func(t *testing.T) {
			text := http.StatusText(tt.status)
			if tt.status == http.StatusRequestURITooLong {
				text = "URI Too Long" // RFC 9110's name; Go keeps RFC 7231's
			}
			want := fmt.Sprintf("HTTP/1.1 %d %s\r\nServer: wsgo\r\nDate: X\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s\n",
				tt.status, text, len(text)+1, text)
			if got := stableDate(exchange(t, tt.addr, tt.raw)); got != want {
				if len(got) > 300 {
					got = got[:300] + "..."
				}
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
	for _, head := range []string{
		line(30) + "\r\nHost: x\r\nConnection: close\r\n" + field(40) + "\r\n\r\n",
		line(30) + "\nHost: x\nConnection: close\n" + field(40) + "\n\n",
	} {
		t.Run(fmt.Sprintf("head at the limits is served: %q", head[len(head)-20:]), func(t *testing.T) {
			got := exchange(t, small.addr, head)
			if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") {
				t.Errorf("got %q", got)
			}
		})
	}
}

func TestRequestBody(t *testing.T) {
	bodies := make(chan seen, 1)
	ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		if req.RawPath == "/capture" {
			return capture(bodies)(ctx, req, w)
		}
		return echoBody(ctx, req, w)
	}, Config{}, nil)

	t.Run("chunked body arrives de-chunked and the trailer is consumed", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		br := bufio.NewReader(c)
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
		if _, body := readResponse(t, br, "POST"); body != "hello world" {
			t.Fatalf("body %q", body)
		}
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnext")
		if _, body := readResponse(t, br, "POST"); body != "next" {
			t.Fatalf("second body %q", body)
		}
	})
	t.Run("client gone mid-body is refused with 400 before the app runs", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		io.WriteString(c, "POST /capture HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf!")
		c.(*net.TCPConn).CloseWrite()
		if resp, _ := readResponse(t, bufio.NewReader(c), "POST"); resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
		select {
		case got := <-bodies:
			t.Fatalf("the app ran and read %q", got.body)
		default:
		}
	})
	t.Run("malformed chunk is refused with 400 before the app runs", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		io.WriteString(c, "POST /capture HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnope\r\n0\r\n\r\n")
		if resp, _ := readResponse(t, bufio.NewReader(c), "POST"); resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
		select {
		case got := <-bodies:
			t.Fatalf("the app ran and read %q", got.body)
		default:
		}
	})
	t.Run("chunked body larger than the memory spool arrives whole", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		chunk := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
		var req strings.Builder
		req.WriteString("POST /capture HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
		for i := 0; i < 24; i++ { // 1.5 MiB
			fmt.Fprintf(&req, "%x\r\n%s\r\n", len(chunk), chunk)
		}
		req.WriteString("0\r\n\r\n")
		go io.WriteString(c, req.String())
		got := <-bodies
		if got.err != nil || got.body != strings.Repeat(chunk, 24) || got.req.ContentLength != int64(24*len(chunk)) {
			t.Fatalf("got %d bytes (length %d), %v", len(got.body), got.req.ContentLength, got.err)
		}
	})
	t.Run("chunked body reaches the app with its length", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		io.WriteString(c, "POST /capture HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
		if got := <-bodies; got.err != nil || got.body != "abcde" || !got.req.HasContentLength || got.req.ContentLength != 5 {
			t.Fatalf("got %q (length %d), %v", got.body, got.req.ContentLength, got.err)
		}
	})
}

func TestStreamRequestBody(t *testing.T) {
	bodies := make(chan seen, 1)
	ts := startServer(t, capture(bodies), Config{StreamRequestBody: true, MaxBodySize: 8}, nil)

	t.Run("client gone mid-body is a read error in the app, not EOF", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nhalf!")
		c.(*net.TCPConn).CloseWrite()
		if got := <-bodies; !errors.Is(got.err, io.ErrUnexpectedEOF) || got.body != "half!" {
			t.Fatalf("got %q, %v; want the 5 bytes and io.ErrUnexpectedEOF", got.body, got.err)
		}
	})
	t.Run("a chunked body is still received whole and capped", func(t *testing.T) {
		got := exchange(t, ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n012345678\r\n0\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 413 ") {
			t.Fatalf("got %q; want 413", got)
		}
		select {
		case got := <-bodies:
			t.Fatalf("the app ran and read %q", got.body)
		default:
		}
	})
}

func TestExpectContinue(t *testing.T) {
	app := func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		if req.RawPath == "/ignore-body" {
			return respond(200, "OK", nil, 2, "no")(ctx, req, w)
		}
		return echoBody(ctx, req, w)
	}
	ts := startServer(t, app, Config{}, nil)
	streaming := startServer(t, app, Config{StreamRequestBody: true}, nil)
	const interim = "HTTP/1.1 100 Continue\r\n\r\n"

	t.Run("100 Continue goes out to receive the body before the app runs, even one that never reads", func(t *testing.T) {
		c := dial(t, "tcp", ts.addr)
		br := bufio.NewReader(c)
		io.WriteString(c, "POST /ignore-body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		got := make([]byte, len(interim))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != interim {
			t.Fatalf("got %q, %v; want %q", got, err, interim)
		}
		io.WriteString(c, "hello")
		resp, body := readResponse(t, br, "POST")
		if body != "no" || resp.Close {
			t.Fatalf("body %q close=%v", body, resp.Close)
		}
	})
	t.Run("streaming: 100 Continue goes out on the first body read", func(t *testing.T) {
		c := dial(t, "tcp", streaming.addr)
		br := bufio.NewReader(c)
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		got := make([]byte, len(interim))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != interim {
			t.Fatalf("got %q, %v; want %q", got, err, interim)
		}
		io.WriteString(c, "hello")
		resp, body := readResponse(t, br, "POST")
		if body != "hello" || resp.Close {
			t.Fatalf("body %q close=%v", body, resp.Close)
		}
	})
	t.Run("streaming: app that never reads sends no 100 Continue and closes", func(t *testing.T) {
		got := exchange(t, streaming.addr, "POST /ignore-body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || !strings.Contains(got, "\r\nConnection: close\r\n") {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("no 100 Continue for a request without body", func(t *testing.T) {
		got := exchange(t, ts.addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") {
			t.Fatalf("got %q", got)
		}
	})
}

func TestValidHost(t *testing.T) {
	for _, h := range []string{"", "example.com", "example.com:8080", "example.com:", "127.0.0.1:80", "[::1]", "[::1]:8443",
		"[2001:db8::7]", "[v1.fe80::a+en1]", "xn--bcher-kva.example", "a%41b", "under_score~!$&'()*+,;="} {
		if !validHost(h) {
			t.Errorf("validHost(%q) = false, want true", h)
		}
	}
	for _, h := range []string{"ex.com:abc", "a:1:2", "a:0", "a:65536", "a:-1", "[::1", "::1", "[::1]x", "[127.0.0.1]", "[fe80::1%eth0]",
		"[v.x]", "[vz.x]", "a]b[", "a%zz", "a%4", "user@host", "a b", "a/b", "a<b>", ":8080", ":"} {
		if validHost(h) {
			t.Errorf("validHost(%q) = true, want false", h)
		}
	}
}

func TestUnmetExpectation(t *testing.T) {
	for _, tc := range []struct {
		value string
		unmet bool
	}{
		{"", false},
		{"100-continue", false},
		{"100-Continue", false},
		{" 100-continue , 100-continue", false},
		{"200-ok", true},
		{"100-continue, x-y=z", true},
		{"100-continue=1", true},
	} {
		if got := unmetExpectation(appendListItems(nil, tc.value)); got != tc.unmet {
			t.Errorf("unmetExpectation(%q) = %v; want %v", tc.value, got, tc.unmet)
		}
	}
}
