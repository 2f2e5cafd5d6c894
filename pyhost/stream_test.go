package pyhost

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

// streamBody is what /stream/SIZES sends: chunk i is SIZES[i] times the
// letter 'a'+i.
func streamBody(sizes ...int) (path, body string) {
	var p []string
	var b strings.Builder
	for i, n := range sizes {
		p = append(p, strconv.Itoa(n))
		b.WriteString(strings.Repeat(string(rune('a'+i)), n))
	}
	return "/stream/" + strings.Join(p, ","), b.String()
}

// The first chunk goes out with the head through the connection; later
// ones, and a large first one, are written by the Python thread from the
// bytes objects themselves. Either way every chunk arrives whole, in order,
// flushed on its own, and close() runs.
func TestStreamedChunksArriveInOrderAndTheIterableIsClosed(t *testing.T) {
	for _, sizes := range [][]int{
		{5, 70000, 0, 3, 100000, 1}, // a small first chunk; an empty one is skipped
		{70000, 3},                  // a first chunk too large to copy
		{1},                         // one chunk, then the end
	} {
		path, want := streamBody(sizes...)
		rec, err := serve(t, request(path, ""))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		nonEmpty := 0
		for _, n := range sizes {
			if n > 0 {
				nonEmpty++
			}
		}
		if got := rec.Body.String(); got != want || rec.BodyLen != -1 {
			t.Fatalf("%s: body of %d bytes (bodyLen %d), want %d bytes in order", path, len(got), rec.BodyLen, len(want))
		}
		if nonEmpty > 1 && rec.Flushes != nonEmpty {
			t.Errorf("%s: %d flushes, want one per chunk (%d)", path, rec.Flushes, nonEmpty)
		}
		assertClosed(t, path)
	}
}

// leavingRecorder is a client that goes away after its first body write.
type leavingRecorder struct {
	wsgitest.Recorder
	writes int
}

func (r *leavingRecorder) Write(p []byte) error {
	if r.writes++; r.writes > 1 {
		r.Err = errors.New("client gone")
	}
	return r.Recorder.Write(p)
}

func TestClientGoneDuringAStreamClosesTheIterable(t *testing.T) {
	path, want := streamBody(10, 70000, 70000)
	rec := &leavingRecorder{}
	if err := host.ServeWSGI(context.Background(), request(path, ""), rec); err == nil {
		t.Fatal("want the write error back")
	}
	if got := rec.Body.String(); got != want[:10] {
		t.Fatalf("body %q, want only the first chunk", got)
	}
	assertClosed(t, path)
}

// guardedRecorder records and counts calls made after ServeWSGI returned:
// the responder is the front's again then.
type guardedRecorder struct {
	mu    sync.Mutex
	rec   wsgitest.Recorder
	ended bool
	late  int
}

func (g *guardedRecorder) use(f func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		g.late++
	}
	return f()
}

func (g *guardedRecorder) Start(status int, reason string, header []wsgi.Header, bodyLen int64) error {
	return g.use(func() error { return g.rec.Start(status, reason, header, bodyLen) })
}
func (g *guardedRecorder) Write(p []byte) error {
	return g.use(func() error { return g.rec.Write(p) })
}
func (g *guardedRecorder) Flush() error { return g.use(g.rec.Flush) }
func (g *guardedRecorder) SendFile(f *os.File, off, n int64) error {
	return g.use(func() error { return g.rec.SendFile(f, off, n) })
}

func TestTimedOutStreamIsNotWrittenAfterServeWSGIReturns(t *testing.T) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), 200*time.Millisecond, wsgi.ErrTimeout)
	defer cancel()
	g := &guardedRecorder{}
	err := host.ServeWSGI(ctx, request("/slow-stream", ""), g)
	g.mu.Lock()
	g.ended = true
	body := g.rec.Body.String()
	g.mu.Unlock()
	if !errors.Is(err, wsgi.ErrTimeout) || !strings.HasPrefix(body, "firstmore") {
		t.Fatalf("err %v, body %q: want a timeout after some chunks", err, body)
	}
	// The app goes on after wsgo.RequestTimeout, but its next chunk is refused
	// and close() runs.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		rec, err := serve(t, request("/closed", ""))
		if err == nil && bytes.Contains(rec.Body.Bytes(), []byte(`"slow-stream"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("close() of the timed-out stream did not run within 10 s")
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.late > 0 {
		t.Fatalf("%d responder calls after ServeWSGI returned", g.late)
	}
}

// releaseCounter is a front's Responder as far as releases go.
type releaseCounter struct {
	wsgitest.Recorder
	releases atomic.Int32
}

func (r *releaseCounter) Release() { r.releases.Add(1) }

// A whole response is written by the connection's goroutine after its
// pythread has moved on: releasing that write frees no pythread, so even
// while every pythread is busy and requests queue (--threads 1 under
// load), it is not released, which would have the front queue it for a
// goroutine of its own to send.
func TestWholeResponseIsNotReleasedWhileThreadsAreBusy(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "open")
	threads := host.cfg.Threads
	var wg sync.WaitGroup
	open := func() {
		if err := os.WriteFile(gate, nil, 0o644); err != nil {
			t.Error(err)
		}
		wg.Wait()
	}
	t.Cleanup(open) // however the test ends, no pythread stays held
	recs := make([]*releaseCounter, threads+8)
	for i := range recs {
		recs[i] = &releaseCounter{}
	}
	serve := func(i int, path, query string) {
		wg.Go(func() {
			req := request(path, "")
			req.RawQuery = query
			if err := host.ServeWSGI(context.Background(), req, recs[i]); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		})
	}
	for i := range threads {
		serve(i, "/wait-file", gate)
	}
	waitLoad(t, func(l Load) bool { return l.Busy == threads })
	for i := threads; i < len(recs); i++ {
		serve(i, "/hello", "")
	}
	waitLoad(t, func(l Load) bool { return l.Queued == len(recs)-threads })
	open()
	for i, r := range recs {
		if n := r.releases.Load(); n != 0 || r.Status != 200 {
			t.Errorf("request %d: status %d, released %d times; want 200, never", i, r.Status, n)
		}
	}
}

// waitLoad waits until the host's load satisfies ok.
func waitLoad(t *testing.T, ok func(Load) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(host.Load()); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the host's load stayed %+v", host.Load())
		}
	}
}
