package e2e

// Request bodies are received whole before the app runs: a slow uploader
// costs memory, not a Python thread.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestSlowUploadsHoldNoPythonThread(t *testing.T) {
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
