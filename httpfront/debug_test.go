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

func (e raised) Error() string              { return "raised" }
func (e raised) Traceback() string          { return e.tb }
func (e raised) Exception() *wsgi.Exception { return nil }

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
		pageHas(t, body,
			"<title>500 Internal Server Error: ValueError: &lt;b&gt;&amp;&#39;&#34;&lt;/b&gt;</title>",
			"<pre>Traceback (most recent call last):\n  File &#34;app.py&#34;, line 1\nValueError: &lt;b&gt;&amp;&#39;&#34;&lt;/b&gt;\n</pre>",
			"<tr><th>Method</th><td>POST</td></tr>",
			"<tr><th>Path</th><td>/p?&lt;i&gt;</td></tr>",
			"<tr><th>X-Evil</th><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr>",
			"<tr><th>Content-Type</th><td>text/&lt;x&gt;</td></tr>",
			"<tr><th>Content-Length</th><td>0</td></tr>")
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

// described is an application exception the host described.
type described struct{ e *wsgi.Exception }

func (d described) Error() string              { return "raised" }
func (d described) Traceback() string          { return "Traceback (most recent call last):\nValueError: x\n" }
func (d described) Exception() *wsgi.Exception { return d.e }

func TestDebugPageDescribed(t *testing.T) {
	col, end := 11, 21
	e := &wsgi.Exception{Type: "ValueError", Message: "<script>alert(1)</script>", Frames: []wsgi.Frame{
		{File: "/lib/site-packages/<x>.py", Line: 1, Function: "lib<fn>", FirstLine: 1, Source: []string{"</script><b>"}},
		{File: "/app/app.py", Line: 3, Function: "view", Own: true, FirstLine: 2, Col: &col, EndCol: &end,
			Source: []string{"def view():", "    return <i>(x) + 1", "# é"}, Locals: [][2]string{{"x", "'<b>'"}}},
	}, Cause: &wsgi.Exception{Type: "KeyError", Message: "'<k>'"}}
	req := &wsgi.Request{Method: "GET", RequestURI: "/"}
	page := debugPage(req, described{e})
	pageHas(t, page,
		"<title>500 Internal Server Error: ValueError: &lt;script&gt;alert(1)&lt;/script&gt;</title>",
		`<div class="where">in <code>view</code>, /app/app.py, line 3</div>`,
		`<details class="frame lib"><summary><span class="fn">lib&lt;fn&gt;</span><span class="file">/lib/site-packages/&lt;x&gt;.py, line 1</span><span class="tag">library</span><code class="line">&lt;/script&gt;&lt;b&gt;</code></summary>`,
		`<details class="frame own" open><summary><span class="fn">view</span>`,
		"<div class=\"cur\"><span class=\"no\">3</span>    return <mark>&lt;i&gt;(x) &#43; 1</mark></div>",
		"<div class=\"cur\"><span class=\"no\">1</span>&lt;/script&gt;&lt;b&gt;</div>",
		"<tr><th>x</th><td>&#39;&lt;b&gt;&#39;</td></tr>",
		"The exception above was raised while handling this one:",
		"<div class=\"exc\">KeyError: <span class=\"msg\">&#39;&lt;k&gt;&#39;</span></div>")
	for _, bad := range []string{"<script>", "<b>", "<i>", "<k>", "<x>", "<fn>"} {
		if strings.Contains(page, bad) {
			t.Errorf("%s reached the page unescaped", bad)
		}
	}
}

func TestMarkSyntax(t *testing.T) {
	for _, c := range []struct {
		line                  string
		offset, end           int
		before, marked, caret string
	}{
		{"x = = 1", 5, 6, "x = ", "=", "    ^"},
		{"\tfoo(é é)", 7, 10, "\tfoo(é", " é)", "\t     ^^^"},
		{"return [1", 10, 0, "return [1", "", "         ^"}, // past the end: the caret after it
		{"f(a b)", 3, 6, "f(", "a b", "  ^^^"},
	} {
		lines := numbered(1, []string{c.line}, 1)
		markSyntax(lines, &wsgi.Syntax{Line: 1, Offset: c.offset, EndOffset: c.end})
		if l := lines[0]; l.Before != c.before || l.Marked != c.marked || l.Caret != c.caret || l.Before+l.Marked+l.After != c.line {
			t.Errorf("%q %d-%d: %q %q %q caret %q", c.line, c.offset, c.end, l.Before, l.Marked, l.After, l.Caret)
		}
	}
}

func TestMarkBytesKeepsRunesWhole(t *testing.T) {
	lines := numbered(1, []string{"é = f()"}, 1)
	markBytes(lines, 1, 1, 3) // inside é: no mark rather than a broken rune
	if lines[0].Marked != "" || lines[0].Before != "é = f()" {
		t.Errorf("%+v", lines[0])
	}
	markBytes(lines, 1, 5, 8)
	if lines[0].Marked != "f()" {
		t.Errorf("%+v", lines[0])
	}
}

// pageHas checks that body holds every one of wants.
func pageHas(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
}
