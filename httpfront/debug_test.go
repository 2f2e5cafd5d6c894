package httpfront

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"wsgo/wsgi"
)

// raised is an application exception with its traceback.
type raised struct{ tb string }

func (e raised) Error() string     { return "raised" }
func (e raised) Traceback() string { return e.tb }

func TestDebugPage(t *testing.T) {
	const tb = "Traceback (most recent call last):\n  File \"app.py\", line 1\nValueError: <b>&'\"</b>\n"
	app := func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error { return raised{tb} }
	request := "POST /p?<i> HTTP/1.1\r\nHost: x\r\nX-Evil: <script>alert(1)</script>\r\nContent-Type: text/<x>\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

	t.Run("with Debug, the traceback and the request, escaped", func(t *testing.T) {
		ts := startServer(t, app, Config{Debug: true}, nil)
		resp, body := readResponse(t, bufio.NewReader(strings.NewReader(exchange(t, ts.addr, request))), "POST")
		if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			"<title>500 Internal Server Error: ValueError: &lt;b&gt;&amp;&#39;&#34;&lt;/b&gt;</title>",
			"<pre>Traceback (most recent call last):\n  File &#34;app.py&#34;, line 1\nValueError: &lt;b&gt;&amp;&#39;&#34;&lt;/b&gt;\n</pre>",
			"<tr><th>Method</th><td>POST</td></tr>",
			"<tr><th>Path</th><td>/p?&lt;i&gt;</td></tr>",
			"<tr><th>X-Evil</th><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr>",
			"<tr><th>Content-Type</th><td>text/&lt;x&gt;</td></tr>",
			"<tr><th>Content-Length</th><td>0</td></tr>",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "<b>") || strings.Contains(body, "<i>") {
			t.Errorf("client or app text reached the page unescaped:\n%s", body)
		}
	})
	t.Run("without Debug, the bare 500", func(t *testing.T) {
		ts := startServer(t, app, Config{}, nil)
		resp, body := readResponse(t, bufio.NewReader(strings.NewReader(exchange(t, ts.addr, request))), "POST")
		if resp.StatusCode != 500 || body != "Internal Server Error\n" {
			t.Errorf("%d %q", resp.StatusCode, body)
		}
	})
	t.Run("with Debug, errors without a traceback stay bare", func(t *testing.T) {
		ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error { return io.ErrUnexpectedEOF }, Config{Debug: true}, nil)
		resp, body := readResponse(t, bufio.NewReader(strings.NewReader(exchange(t, ts.addr, request))), "POST")
		if resp.StatusCode != 500 || body != "Internal Server Error\n" {
			t.Errorf("%d %q", resp.StatusCode, body)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
