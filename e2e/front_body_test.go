package e2e

// Request bodies are received whole before the app runs: a slow uploader
// costs memory, not a Python thread.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSlowUploadsHoldNoPythonThread(t *testing.T) {
	t.Parallel() // long waits, little CPU: run beside the others (Makefile: -parallel 4)
	srv := start(t, nil, writeApp(t, "front_app.py", frontApp), "--threads", "2", "--metrics-bind", "127.0.0.1:0")
	s := frontMetrics(t, srv)

	const uploads, size = 4, 10 // each trickles one byte a second
	var done atomic.Int32       // uploads answered
	type result struct {
		status int
		body   string
		err    error
	}
	results := make(chan result, uploads)
	for i := range uploads {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(60 * time.Second))
		fmt.Fprintf(c, "POST /trickle-%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", i, size)
		go func() {
			for range size {
				if _, err := c.Write([]byte("x")); err != nil {
					break
				}
				time.Sleep(time.Second)
			}
		}()
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			done.Add(1)
			if err != nil {
				results <- result{err: err}
				return
			}
			body, err := io.ReadAll(resp.Body)
			results <- result{resp.StatusCode, string(body), err}
		}()
	}
	// Every upload has begun at the server before the GET.
	deadline := time.Now().Add(20 * time.Second)
	for s.scrape().sum("wsgo_requests_in_flight") < uploads {
		if time.Now().After(deadline) {
			t.Fatal("the uploads did not reach the server")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, _ := frontGet(t, srv, "/meanwhile"); resp.StatusCode != 200 {
		t.Fatalf("GET during the uploads: %s", resp.Status)
	}
	if n := done.Load(); n != 0 {
		t.Errorf("the GET was answered after %d of the uploads; want while all still trickle", n)
	}
	for range uploads {
		r := <-results
		if r.err != nil || r.status != 200 || frontStr(frontEnviron(t, r.body)["CONTENT_LENGTH"]) != fmt.Sprint(size) {
			t.Errorf("an upload got %d %q, %v; want 200 with CONTENT_LENGTH %d", r.status, r.body, r.err, size)
		}
	}
}

// Three hundred uploads that stop just short of 1 MiB (the most a body
// keeps in memory) and trickle on: the worker holds no more than its
// 64 MiB of buffers in memory for them, the rest are received into
// files, and each is served whole once it comes.
func TestManySlowUploadsHoldBoundedMemory(t *testing.T) {
	t.Parallel() // long waits, little CPU: run beside the others (Makefile: -parallel 4)
	srv := start(t, nil, writeApp(t, "front_app.py", frontApp), "--threads", "2")
	pid := readyPids(srv)["1"]
	before := rssKiB(t, pid)
	const uploads, held, size = 300, 1<<20 - 1024, 1 << 20
	part := make([]byte, held)
	var conns []net.Conn
	for i := range uploads {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /upload-%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", i, size)
		if _, err := c.Write(part); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// What the uploads sent is in the worker once its files or its memory
	// hold all of it.
	var rss int
	for deadline, last := time.Now().Add(20*time.Second), -1; time.Now().Before(deadline); last = rss {
		time.Sleep(200 * time.Millisecond)
		if rss = rssKiB(t, pid); rss == last {
			break
		}
	}
	grown := (rss - before) >> 10
	t.Logf("the worker grew by %d MiB", grown)
	if grown > 128 {
		t.Errorf("the worker grew by %d MiB with %d uploads of %d KiB in: want their bodies in files past 64 MiB", grown, uploads, held>>10)
	}
	for i, c := range conns[:3] {
		c.Write(make([]byte, size-held))
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || frontStr(frontEnviron(t, string(body))["CONTENT_LENGTH"]) != fmt.Sprint(size) {
			t.Errorf("upload %d got %s %q; want 200 with CONTENT_LENGTH %d", i, resp.Status, body, size)
		}
	}
}

// With --stream-request-body the app reads the body as it comes, so a
// body that fails (cut short, stalled) fails in the app's read: the
// exception that follows is the request's fault, answered as the front
// refuses such a body when it receives it first, and not logged as the
// app's error.
func TestAStreamedBodyThatFailsIsAnsweredAsTheClientsError(t *testing.T) {
	s := startConformance(t, "", "--stream-request-body", "--stall-timeout", "1")
	const head = "POST /hash?mode=read HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc"
	cases := []struct {
		name, status, bodyError string
		halfClose               bool
	}{
		{"a body cut short gets 400", "HTTP/1.1 400 Bad Request", "unexpected EOF", true},
		{"a body that stops coming gets 408 after --stall-timeout", "HTTP/1.1 408 Request Timeout", "i/o timeout", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			if _, err := io.WriteString(c, head); err != nil {
				t.Fatal(err)
			}
			if tc.halfClose {
				c.(*net.TCPConn).CloseWrite()
			}
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("%v; got %q", err, got)
			}
			w := parseWire(t, string(got))
			if w.statusLine != tc.status || w.header.Get("Connection") != "close" {
				t.Errorf("%q with Connection %q, want %q and close", w.statusLine, w.header.Get("Connection"), tc.status)
			}
			line := `\[INFO\] wsgo: the app raised an exception after its request body could not be read; answered as the body's error.* path="/hash\?mode=read" body_error="[^"]*` +
				regexp.QuoteMeta(tc.bodyError) + `" exception="OSError: wsgo: the client disconnected`
			if !s.waitLog(line, 5*time.Second) {
				t.Errorf("no log line matching %s", line)
			}
		})
	}
	if strings.Contains(s.logs.String(), "[ERROR]") {
		t.Errorf("a failed body was logged as the app's error:\n%s", s.logs.String())
	}
	// The worker serves on.
	if resp, body := fetch(t, s, "POST", "/hash?mode=read", strings.NewReader("abc")); resp.StatusCode != 200 || !strings.Contains(body, `"len": 3`) {
		t.Errorf("after the failed bodies: %s %q", resp.Status, body)
	}
}
