package e2e

import (
	"html"
	"strings"
	"testing"
	"time"
)

// --debug: the traceback page instead of a bare 500.

func TestDebugPage(t *testing.T) {
	s := frontStart(t, nil, "--debug")
	resp, body := frontGet(t, s, "/boom?<q>", "X-Evil", `<script>alert("x")</script>`)
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		"<title>500 Internal Server Error: ValueError: &lt;b&gt;bad&lt;/b&gt; &amp; &#34;quoted&#34;</title>",
		"<pre>Traceback (most recent call last):\n  File &#34;",
		"raise ValueError(&#39;&lt;b&gt;bad&lt;/b&gt; &amp; &#34;quoted&#34;&#39;)\nValueError: &lt;b&gt;bad&lt;/b&gt; &amp; &#34;quoted&#34;\n</pre>",
		"<tr><th>Method</th><td>GET</td></tr>",
		"<tr><th>Path</th><td>/boom?&lt;q&gt;</td></tr>",
		"<tr><th>X-Evil</th><td>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</td></tr>",
		"<tr><th>X-Request-Id</th><td>" + resp.Header.Get("X-Request-ID") + "</td></tr>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<b>") || strings.Contains(body, "<q>") {
		t.Errorf("unescaped text on the page:\n%s", body)
	}
	if !strings.Contains(html.UnescapeString(body), `ValueError: <b>bad</b> & "quoted"`) {
		t.Error("the page does not show the exception as raised")
	}
	if strings.Contains(s.logs.String(), "--debug shows tracebacks") {
		t.Errorf("warned about --debug on 127.0.0.1:\n%s", s.logs.String())
	}
}

func TestNoDebugPageByDefault(t *testing.T) {
	s := frontStart(t, nil)
	resp, body := frontGet(t, s, "/boom")
	if resp.StatusCode != 500 || body != "Internal Server Error\n" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("%d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestDebugWarnsWhenNotOnLoopback(t *testing.T) {
	s := frontStart(t, nil, "--debug", "--bind", "0.0.0.0:0")
	if !s.waitLog(`\[WARNING\] wsgo: --debug shows tracebacks and request headers to every client of http://0\.0\.0\.0:\d+, which is not a loopback address; use --debug only on 127\.0\.0\.1 or ::1`, 10*time.Second) {
		t.Error("no warning")
	}
}
