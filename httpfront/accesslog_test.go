package httpfront

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var sampleEntry = accessEntry{
	time:      time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.FixedZone("", 3600)),
	remote:    "203.0.113.7",
	method:    "GET",
	target:    "/a%20b?q=1",
	path:      "/a%20b",
	query:     "q=1",
	proto:     "HTTP/1.1",
	status:    404,
	bytes:     1234,
	duration:  1500 * time.Microsecond,
	requestID: "rid-1",
	referer:   `http://x/"quoted"\`,
	userAgent: "agent\x1b[31m\xe9",
}

func TestCombinedFormat(t *testing.T) {
	a := &AccessLog{}
	want := `203.0.113.7 - - [04/Mar/2026:05:06:07 +0100] "GET /a%20b?q=1 HTTP/1.1" 404 1234 "http://x/\"quoted\"\\" "agent\x1b[31m\xe9" "rid-1"` + "\n"
	if got := string(a.combined(nil, &sampleEntry)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	refused := accessEntry{time: sampleEntry.time, status: 400, bytes: 0}
	want = `- - - [04/Mar/2026:05:06:07 +0100] "-" 400 - "-" "-" "-"` + "\n"
	if got := string(a.combined(nil, &refused)); got != want {
		t.Errorf("an unparsed request: got  %s\nwant %s", got, want)
	}
	colored := &AccessLog{color: true}
	for status, color := range map[int]string{200: "32", 304: "36", 404: "33", 503: "31"} {
		e := sampleEntry
		e.status = status
		got := string(colored.combined(nil, &e))
		if !strings.HasPrefix(got, "\x1b["+color+"m203.0.113.7 ") || !strings.HasSuffix(got, "\"rid-1\"\x1b[0m\n") {
			t.Errorf("status %d: %q; want the line in colour %s", status, got, color)
		}
	}
}

func TestJSONFormat(t *testing.T) {
	var out bytes.Buffer
	a := newAccessLog(&out, true, false, nil)
	a.add(sampleEntry)
	a.Close()
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	want := map[string]any{
		"time": "2026-03-04T05:06:07.123456+01:00", "remote_addr": "203.0.113.7", "method": "GET",
		"path": "/a%20b", "query": "q=1", "proto": "HTTP/1.1", "status": 404.0, "bytes": 1234.0,
		"duration_us": 1500.0, "request_id": "rid-1", "referer": `http://x/"quoted"\`, "user_agent": "agent\x1b[31m\ufffd",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if strings.Count(out.String(), "\n") != 1 || !strings.HasSuffix(out.String(), "}\n") {
		t.Errorf("not one line: %q", out.String())
	}
}

// blockingWriter blocks every write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func TestAccessLogDropsRatherThanBlocks(t *testing.T) {
	var logs bytes.Buffer
	out := &blockingWriter{release: make(chan struct{})}
	a := newAccessLog(out, false, false, slog.New(slog.NewTextHandler(&logs, nil)))
	const total = accessQueue + 500
	for range total { // would hang here if add blocked
		a.add(sampleEntry)
	}
	close(out.release)
	a.Close()
	a.add(sampleEntry) // after Close: dropped quietly, no panic

	written := strings.Count(out.buf.String(), "\n")
	m := regexp.MustCompile(`dropped=(\d+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no count of dropped lines logged; logs:\n%s", logs.String())
	}
	dropped, _ := strconv.Atoi(m[1])
	if dropped == 0 || written+dropped != total {
		t.Errorf("written %d + dropped %d != %d lines added", written, dropped, total)
	}
}
