package httpfront

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"wsgo/internal/promtext"
	"wsgo/wsgi"
)

// observations is how many requests the latency histogram counted.
func observations(t *testing.T, reg *promtext.Registry) uint64 {
	t.Helper()
	for _, f := range reg.Gather() {
		if f.Name == "wsgo_request_duration_seconds" {
			var n uint64
			for _, c := range f.Samples[0].Counts {
				n += c
			}
			return n
		}
	}
	t.Fatal("no wsgo_request_duration_seconds")
	return 0
}

// TestMetricsCountEveryResponse checks the status classes, the latency
// count and the in-flight gauge. Each request closes its connection: the
// server counts before it closes, so reading to the end orders them.
func TestMetricsCountEveryResponse(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	reg := promtext.NewRegistry()
	metrics := NewMetrics(reg)
	ts := startServer(t, func(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
		switch req.RawPath {
		case "/block":
			entered <- struct{}{}
			<-release
		case "/missing":
			return respond(404, "Not Found", nil, 0)(ctx, req, w)
		case "/fail":
			return errors.New("the app failed")
		}
		return respond(200, "OK", nil, 2, "ok")(ctx, req, w)
	}, Config{Metrics: metrics}, nil)

	get := func(path string) string {
		return exchange(t, ts.addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	}
	for _, path := range []string{"/", "/a", "/missing", "/fail"} {
		get(path)
	}
	if got := exchange(t, ts.addr, "GET / HTTP/1.1\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 400 ") {
		t.Fatalf("a request without Host: %q", got)
	}
	done := make(chan string)
	go func() { done <- get("/block") }()
	<-entered
	if n := metrics.inFlight.Value(); n != 1 {
		t.Errorf("in flight while the app runs: %v, want 1", n)
	}
	close(release)
	if got := <-done; !strings.HasPrefix(got, "HTTP/1.1 200 ") {
		t.Fatalf("/block: %q", got)
	}

	want := []uint64{1: 0, 2: 3, 3: 0, 4: 2, 5: 1}
	for class := 1; class < len(want); class++ {
		if got := metrics.classes[class].Value(); got != want[class] {
			t.Errorf("wsgo_requests_total{code=\"%dxx\"} = %v, want %v", class, got, want[class])
		}
	}
	if got := observations(t, reg); got != 6 {
		t.Errorf("latency observations: %v, want 6", got)
	}
	if got := metrics.inFlight.Value(); got != 0 {
		t.Errorf("in flight at the end: %v, want 0", got)
	}
}

func TestCountingAllocatesNothing(t *testing.T) {
	m := NewMetrics(promtext.NewRegistry())
	start := time.Now()
	if n := testing.AllocsPerRun(100, func() {
		m.begin()
		m.answered(200, start)
		m.end()
	}); n != 0 {
		t.Errorf("counting a request allocates %v times", n)
	}
}

func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{0: "none", 101: "1xx", 200: "2xx", 599: "5xx", 799: "7xx"} {
		if got := statusClass(status); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", status, got, want)
		}
	}
}
