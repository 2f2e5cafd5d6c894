package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Request limits: each has its status, a warning naming its flag, and the
// app never sees the request.

func TestRequestLimits(t *testing.T) {
	s := frontStart(t, nil, "--limit-request-line", "100", "--limit-request-fields", "5",
		"--limit-request-field_size", "50", "--max-body-size", "10")
	line := func(path string, n int) string { // a request line of n bytes, padded in the query
		return "GET " + path + "?" + strings.Repeat("q", n-len("GET ? HTTP/1.1")-len(path)) + " HTTP/1.1"
	}
	const head = "Host: x\r\nConnection: close\r\n"
	fields := func(n int) string { // n fields with the two of head
		var b strings.Builder
		for i := range n - 2 {
			fmt.Fprintf(&b, "X-F%d: v\r\n", i)
		}
		return head + b.String()
	}
	pad := func(n int) string { return head + "X-Pad: " + strings.Repeat("p", n-len("X-Pad: ")) + "\r\n" }

	tests := []struct {
		name, path, raw string
		status          int
		why             string // of the warning; "" when served
	}{
		{"request line at the limit", "/line-ok", line("/line-ok", 100) + "\r\n" + head + "\r\n", 200, ""},
		{"request line one over", "/line-over", line("/line-over", 101) + "\r\n" + head + "\r\n", 414,
			"request line longer than --limit-request-line (100 bytes)"},
		{"fields at the limit", "/fields-ok", "GET /fields-ok HTTP/1.1\r\n" + fields(5) + "\r\n", 200, ""},
		{"one field too many", "/fields-over", "GET /fields-over HTTP/1.1\r\n" + fields(6) + "\r\n", 431,
			"more than --limit-request-fields (5) header fields"},
		{"a field at the limit", "/size-ok", "GET /size-ok HTTP/1.1\r\n" + pad(50) + "\r\n", 200, ""},
		{"a field one over", "/size-over", "GET /size-over HTTP/1.1\r\n" + pad(51) + "\r\n", 431,
			"a header field longer than --limit-request-field_size (50 bytes)"},
		{"a body at the limit", "/body-ok", "POST /body-ok HTTP/1.1\r\n" + head + "Content-Length: 10\r\n\r\n0123456789", 200, ""},
		{"a declared body one over", "/body-over", "POST /body-over HTTP/1.1\r\n" + head + "Content-Length: 11\r\n\r\n0123456789a", 413,
			"request body larger than --max-body-size (10 bytes)"},
		{"a chunked body one over", "/chunked-over", "POST /chunked-over HTTP/1.1\r\n" + head + "Transfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n", 413,
			"request body larger than --max-body-size (10 bytes)"},
	}
	// The id every response carries, which a refusal's warning names too:
	// the request's, or one of wsgo's for a head refused before it was read
	// whole.
	echoed := regexp.MustCompile(`\r\nX-Request-ID: ([0-9a-f]{32})\r\n`)
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s gets %d", tc.name, tc.status), func(t *testing.T) {
			got := s.raw(tc.raw)
			if want := fmt.Sprintf("HTTP/1.1 %d ", tc.status); !strings.HasPrefix(got, want) {
				t.Fatalf("got %q; want %q...", got, want)
			}
			if seen := frontSeen(t, s, tc.path); seen != (tc.why == "") {
				t.Errorf("the app saw the request: %v", seen)
			}
			id := echoed.FindStringSubmatch(got)
			if id == nil {
				t.Fatalf("response %q: no X-Request-ID; want one on every response, refusals too", got)
			}
			named := " request=" + id[1]
			warning := `\[WARNING\] wsgo: request refused status=` + fmt.Sprint(tc.status) + ` why="` + regexp.QuoteMeta(tc.why) +
				`; raise the flag if such requests are legitimate" remote=127\.0\.0\.1:\d+` + named + `\n`
			if tc.why != "" && !s.waitLog(warning, 10*time.Second) {
				t.Errorf("no warning %q%s", tc.why, named)
			}
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	s := frontStart(t, nil)
	for _, tc := range []struct {
		name, raw string
		status    int
	}{
		{"a request line of 8190 bytes is served", "GET /" + strings.Repeat("a", 8190-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
		{"a request line of 8191 bytes", "GET /" + strings.Repeat("a", 8191-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"101 header fields", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: 1\r\n", 100) + "\r\n", 431},
		{"a header field of 8191 bytes", "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 8191-len("X-A: ")) + "\r\n\r\n", 431},
		{"a body of 100 MB declared: no default limit", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tc.raw)
			buf := make([]byte, 20)
			n, _ := io.ReadAtLeast(c, buf, 13)
			if want := fmt.Sprintf("HTTP/1.1 %d ", tc.status); !strings.HasPrefix(string(buf[:n]), want) {
				t.Errorf("got %q; want %q...", buf[:n], want)
			}
		})
	}
}

func TestConnectionTimeouts(t *testing.T) {
	// Each waits for the server to act; the bounds are generous, for the
	// machine is shared, and are no claim about speed.
	const patience = 20 * time.Second
	closedWithin := func(t *testing.T, c net.Conn) string {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(patience))
		got, err := io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("the server did not close the connection within %v (read %q)", patience, got)
		}
		return string(got)
	}
	dial := func(t *testing.T, s *server) net.Conn {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("--keep-alive 1 closes an idle connection", func(t *testing.T) {
		s := frontStart(t, nil, "--keep-alive", "1")
		c := dial(t, s)
		io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
		if got := closedWithin(t, c); !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || strings.Contains(got, "Connection: close") {
			t.Errorf("got %q; want a kept-alive 200, then the close", got)
		}
	})
	t.Run("--keep-alive 0 serves one request per connection", func(t *testing.T) {
		s := frontStart(t, nil, "--keep-alive", "0")
		c := dial(t, s)
		io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
		got := closedWithin(t, c)
		if !strings.Contains(got, "Connection: close\r\n") || strings.Count(got, "HTTP/1.1 200") != 1 {
			t.Errorf("got %q; want one response with Connection: close", got)
		}
	})
	t.Run("--header-timeout 1 drops a slow head unanswered", func(t *testing.T) {
		s := frontStart(t, nil, "--header-timeout", "1")
		c := dial(t, s)
		io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n") // and never the end
		if got := closedWithin(t, c); got != "" {
			t.Errorf("got %q; want nothing", got)
		}
	})
	t.Run("--stall-timeout 1 drops a body that stops coming", func(t *testing.T) {
		s := frontStart(t, nil, "--stall-timeout", "1")
		c := dial(t, s)
		io.WriteString(c, "POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234") // half the body
		closedWithin(t, c)
	})
	t.Run("limits and timeouts below 1 are usage errors", func(t *testing.T) {
		app := writeApp(t, "app.py", frontApp)
		// 0 for the request line and field size is gunicorn's unlimited, wsgo's
		// largest (TestGunicornsUnlimitedRequestLineIsTheLargest).
		for _, flag := range []string{"--limit-request-fields", "--header-timeout", "--stall-timeout"} {
			code, out := cliExit(t, nil, "run", flag, "0", app)
			if want := "wsgo run: " + flag + ` "0": give a whole number of at least 1`; code != 2 || !strings.Contains(out, want) {
				t.Errorf("%s 0: exit %d; want 2 and %q in:\n%s", flag, code, want, out)
			}
		}
		code, out := cliExit(t, nil, "run", "--max-body-size", "-1", app)
		if code != 2 || !strings.Contains(out, `--max-body-size "-1": give a whole number of at least 0`) {
			t.Errorf("--max-body-size -1: exit %d:\n%s", code, out)
		}
	})
}

// A client sending nothing but refused requests used to write a warning
// line for each (48,000 lines in 3 s from one wrk): now at most ten a
// second are logged, and the next line logged counts those that were not.
func TestRefusalsDoNotFloodTheLog(t *testing.T) {
	s := frontStart(t, nil, "--limit-request-line", "100")
	over := "GET /" + strings.Repeat("a", 200) + " HTTP/1.1\r\nHost: x\r\n\r\n"
	began := time.Now()
	for i := range 50 {
		if got := s.raw(over); !strings.HasPrefix(got, "HTTP/1.1 414 ") {
			t.Fatalf("request %d: %q", i, got)
		}
	}
	seconds := int(time.Since(began)/time.Second) + 1 // that the 50 span
	time.Sleep(1100 * time.Millisecond)               // a second on: the next is logged with the count
	s.raw(over)
	if !s.waitLog(`request refused not_logged_before=\d+ status=414`, 10*time.Second) {
		t.Fatalf("no line counting the refusals not logged:\n%s", s.logs.String())
	}
	lines := regexp.MustCompile(`\[WARNING\] wsgo: request refused (?:not_logged_before=(\d+) )?status=414`).FindAllStringSubmatch(s.logs.String(), -1)
	skipped := 0
	for _, m := range lines {
		if m[1] != "" {
			n, _ := strconv.Atoi(m[1])
			skipped += n
		}
	}
	if most := 10*seconds + 1; len(lines) > most || len(lines)+skipped != 51 {
		t.Errorf("%d lines, counting %d not logged; want at most %d lines, and 51 refusals in all", len(lines), skipped, most)
	}
}

// Heads within the limits may each take megabytes of a worker's memory:
// a thousand slow ones took 1.6 GB. Past 16 KiB, a head's buffer now
// counts against the worker's 64 MiB for buffers; a large head past that
// gets 503, while small heads are served as ever.
func TestLargeHeadsShareTheWorkersBufferMemory(t *testing.T) {
	s := frontStart(t, nil, "--limit-request-field_size", "65536")
	field := "X-A: " + strings.Repeat("a", 65000) + "\r\n"
	head := "GET /large HTTP/1.1\r\nHost: x\r\n" + strings.Repeat(field, 98) // 6.4 MB, never ended
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	answers := make(chan string, 14)
	for range 14 { // 90 MB of heads: more than 64 MiB
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		go func() {
			c.SetDeadline(time.Now().Add(20 * time.Second))
			io.WriteString(c, head) // fails once the server refuses and closes
			b := make([]byte, 64)
			n, _ := io.ReadAtLeast(c, b, 1)
			answers <- string(b[:n])
		}()
	}
	select {
	case got := <-answers:
		if !strings.HasPrefix(got, "HTTP/1.1 503 Service Unavailable\r\n") {
			t.Fatalf("a large head past the worker's buffer memory got %q; want 503", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no large head was refused")
	}
	if resp, _ := frontGet(t, s, "/small"); resp.StatusCode != 200 {
		t.Errorf("a small head while large ones hold the memory: %d; want 200", resp.StatusCode)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.raw("GET /again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + strings.Repeat(field, 40) + "\r\n")
		if strings.HasPrefix(got, "HTTP/1.1 200 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a large head once the others left: %.40q; want 200", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// An HTTP/2 header list counts against the same buffer memory while its
// request waits (here for a body that never comes): net/http decodes up
// to 250 streams a connection, each list up to the limits (5.9 MB here).
// Without the count 14 streams held 82 MB; now a stream past 64 MiB gets
// 503, small requests are served, and a large list is served again once
// the others leave.
func TestLargeHTTP2HeaderListsShareTheWorkersBufferMemory(t *testing.T) {
	s := frontStart(t, nil, "--limit-request-field_size", "65536")
	client := h2cClient()
	client.Timeout = 0
	header := http.Header{}
	for i := range 90 { // and the client's User-Agent and Accept-Encoding: 92 of the 100 allowed
		header.Set(fmt.Sprintf("X-A%d", i), strings.Repeat("a", 65000))
	}
	ctx, leave := context.WithCancel(context.Background())
	defer leave()
	statuses := make(chan int, 14)
	for range 14 { // 82 MB of header lists: more than 64 MiB
		go func() {
			body, _ := io.Pipe() // never written: the stream stays open
			req, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/large", body)
			req.Header = header.Clone()
			resp, err := client.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	select {
	case got := <-statuses:
		if got != 503 {
			t.Fatalf("a large header list past the worker's buffer memory got %d; want 503", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no large header list was refused")
	}
	if resp, _ := frontGet(t, s, "/small"); resp.StatusCode != 200 {
		t.Errorf("a small request while large header lists hold the memory: %d; want 200", resp.StatusCode)
	}
	leave()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", s.URL+"/again", nil)
		req.Header = header.Clone()
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("a large header list once the others left: %v, %v; want 200", resp, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
