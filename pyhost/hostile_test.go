package pyhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

// Tests of apps that misuse the WSGI API (issue 12): none may crash or
// wedge the host, and the app is told what it did wrong.

// start_response(status, headers, exc_info) after the headers went out
// re-raises exc_info (PEP 3333); an exc_info that holds no exception is
// refused with a TypeError in the app's frame.
func TestLateExcInfoWithoutAnExceptionIsATypeError(t *testing.T) {
	for kind, want := range map[string]string{
		"none":  "TypeError: start_response: exc_info must be sys.exc_info() of an exception being handled, (type, value, traceback); got (None, None, None)",
		"int":   "TypeError: start_response: exc_info must be sys.exc_info() of an exception being handled, (type, value, traceback); got (<class 'int'>, 1, None)",
		"short": "TypeError: start_response: exc_info must be sys.exc_info() of an exception being handled, (type, value, traceback); got (<class 'ValueError'>,)",
	} {
		rec, err := serve(t, request("/hostile/late-exc-info/"+kind, ""))
		if err != nil || rec.Body.String() != "head;"+want {
			t.Errorf("%s: err %v, body %q\nwant %q", kind, err, rec.Body.String(), "head;"+want)
		}
	}
	rec, err := serve(t, request("/hello", ""))
	if err != nil || rec.Body.String() != "Hello, world!" {
		t.Fatalf("the host no longer serves: %v %q", err, rec.Body.String())
	}
}

func TestLateExcInfoReRaisesTheAppsException(t *testing.T) {
	rec, err := serve(t, request("/hostile/late-exc-info/real", ""))
	var appErr *AppError
	if !errors.As(err, &appErr) || !appErr.HeadersSent || rec.Body.String() != "head;" {
		t.Fatalf("err %v, body %q", err, rec.Body.String())
	}
	for _, want := range []string{"hostile.py", `raise ValueError("the real error")`, "ValueError: the real error"} {
		if !strings.Contains(appErr.Report, want) {
			t.Errorf("report lacks %q:\n%s", want, appErr.Report)
		}
	}
}

// A traceback naming a file whose path is not UTF-8 (a directory in
// another encoding) is still a failed load, reported with the path's
// bytes as they are; it once passed for a success.
func TestLoadErrorInANonUTF8DirectoryIsReported(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "caf\xe9")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"raise_app.py", "raise_helper.py"} {
		src, err := os.ReadFile(filepath.Join("testdata", "broken", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := loadInChildIn(t, dir, "raise_app.py")
	for _, want := range []string{"NameError: name 'undefined_name' is not defined", "caf\xe9/raise_helper.py"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Threads the app started use their request's wsgi.errors, wsgi.input and
// write() while the request ends and after: nothing crashes (once, a
// callback into Go with the handle of a finished request panicked),
// errors lines are still logged, and input and write() say the request
// has ended.
func TestThreadsOutlivingTheirRequest(t *testing.T) {
	const requests = 20
	for i := range requests {
		rec, err := serve(t, request(fmt.Sprintf("/hostile/late-thread/%d", i), "body"))
		if err != nil || rec.Body.String() != "response" {
			t.Fatalf("request %d: err %v, body %q", i, err, rec.Body.String())
		}
	}
	ended := "ValueError: wsgi.input: the request has ended; read its body before the response ends (a thread the app started outlived its request)"
	want := map[string]string{
		"read": ended, "readline": ended,
		"write": "RuntimeError: write() called after the response ended (it timed out, or a thread the app started outlived it)",
	}
	for i := range requests {
		var seen map[string]string
		waitFor(t, fmt.Sprintf("the thread of request %d", i), func() bool {
			rec, err := serve(t, request(fmt.Sprintf("/hostile/late-seen/%d", i), ""))
			return err == nil && json.Unmarshal(rec.Body.Bytes(), &seen) == nil && seen != nil
		})
		want["errors"] = fmt.Sprintf("returned %d", len(fmt.Sprintf("after the end %d\n", i)))
		if !maps.Equal(seen, want) {
			t.Errorf("thread %d saw %q\nwant %q", i, seen, want)
		}
	}
	if !strings.Contains(logs.String(), `msg="after the end 7" after="its request ended" from=wsgi.errors`) {
		t.Errorf("a line written after the request ended was not logged")
	}
}

// waitFor polls cond until it holds, for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
	}
}

// Two threads writing parts of lines to one wsgi.errors: each thread's
// line comes out whole, never mixed with the other's.
func TestErrorsKeepsAPartialLinePerThread(t *testing.T) {
	if _, err := serve(t, request("/hostile/partial-lines/p1", "")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`msg="A1 p1, A2" request=req-7`, `msg="B1 p1, B2" request=req-7`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

// slowBody gives one byte per Read after a pause, and records any Read
// that is in progress or starts once the request is over.
type slowBody struct {
	left     int
	reading  atomic.Bool
	over     atomic.Bool
	lateRead atomic.Bool
}

func (b *slowBody) Read(p []byte) (int, error) {
	b.reading.Store(true)
	defer b.reading.Store(false)
	if b.over.Load() {
		b.lateRead.Store(true)
	}
	time.Sleep(20 * time.Millisecond)
	if b.left == 0 {
		return 0, io.EOF
	}
	b.left--
	p[0] = 'x'
	return 1, nil
}

// When a request times out while its app reads the body, the body is the
// front's again once ServeWSGI returns: the read in progress has ended,
// and no other starts.
func TestTimeoutTakesTheBodyBackFromAReadingApp(t *testing.T) {
	body := &slowBody{left: 100}
	token := fmt.Sprintf("timed-out-%d", time.Now().UnixNano()) // -count=N runs it again in the same app
	req := request("/hostile/read-on/"+token, "")
	req.Body, req.HasContentLength, req.ContentLength = body, true, int64(body.left)
	ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, wsgi.ErrTimeout)
	defer cancel()
	err := host.ServeWSGI(ctx, req, &wsgitest.Recorder{})
	inRead := body.reading.Load()
	body.over.Store(true)
	if !errors.Is(err, wsgi.ErrTimeout) {
		t.Fatalf("err %v, want a timeout", err)
	}
	if inRead {
		t.Error("a body read was still in progress when ServeWSGI returned")
	}
	// The app reads on after its RequestTimeout until wsgi.input tells it
	// the request has ended.
	waitFor(t, "the app to stop reading", func() bool {
		rec, err := serve(t, request("/hostile/late-seen/read-on:"+token, ""))
		return err == nil && rec.Body.String() == `"done"`
	})
	if body.lateRead.Load() {
		t.Error("the body was read after ServeWSGI returned")
	}
}

// read(n) takes no more memory than the body fills, whatever n is, with
// its length known or not.
func TestReadOfAHugeSizeOnASmallBody(t *testing.T) {
	for _, known := range []bool{true, false} {
		req := request("/hostile/read-big/", "abc")
		if !known {
			req.HasContentLength, req.ContentLength = false, -1
		}
		rec, err := serve(t, req)
		if err != nil || rec.Body.String() != "3 bytes, peak under 1 MiB" {
			t.Errorf("length known %v: err %v, %q", known, err, rec.Body.String())
		}
	}
}

// repeated is a body of n bytes of c, made as it is read.
type repeated struct {
	n int
	c byte
}

func (r *repeated) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = r.c
	}
	r.n -= k
	return k, nil
}

// readline() over one long line returns the whole line. How long it takes
// is measured by BenchmarkReadlineOfALongLine, not asserted here: each
// byte should be scanned for the newline once (quadratic, as it once was,
// 64 MiB took 8 s with the GIL held; linear, a tenth of a second).
func TestReadlineOfALongLine(t *testing.T) {
	if got, want := readLongLine(64<<20), fmt.Sprintf("%d <nil>", 64<<20); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// readLongLine serves a request whose body is one line of size bytes to
// an app that reads it with readline(), and returns its answer (the
// line's length) and error.
func readLongLine(size int) string {
	req := request("/hostile/long-line/", "")
	req.Body, req.HasContentLength, req.ContentLength = &repeated{n: size, c: 'a'}, true, int64(size)
	rec := &wsgitest.Recorder{}
	err := host.ServeWSGI(context.Background(), req, rec)
	return fmt.Sprintf("%s %v", rec.Body.String(), err)
}

// A request whose close() is still running when its time is up: close()
// runs to its end (it releases what the app holds); RequestTimeout is not
// raised inside it.
func TestTimeoutDoesNotInterruptClose(t *testing.T) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), 150*time.Millisecond, wsgi.ErrTimeout)
	defer cancel()
	if err := host.ServeWSGI(ctx, request("/hostile/slow-close/", ""), &wsgitest.Recorder{}); !errors.Is(err, wsgi.ErrTimeout) {
		t.Fatalf("err %v, want a timeout", err)
	}
	var got string
	waitFor(t, "close() to end", func() bool {
		rec, err := serve(t, request("/hostile/late-seen/slow-close", ""))
		got = rec.Body.String()
		return err == nil && got != "null"
	})
	if got != `"completed"` {
		t.Fatalf("close() ended with %s", got)
	}
}

// Each request runs in a fresh contextvars.Context: what one request set
// never shows in the next on the same Python thread.
func TestContextVariablesDoNotCarryIntoTheNextRequest(t *testing.T) {
	for range 10 {
		if _, err := serve(t, request("/hostile/contextvar/set", "")); err != nil {
			t.Fatal(err)
		}
		rec, err := serve(t, request("/hostile/contextvar/get", ""))
		if err != nil || rec.Body.String() != "unset" {
			t.Fatalf("err %v, the next request saw %q", err, rec.Body.String())
		}
	}
}

// Python's crash report stands before Go's handler for the fatal signals
// (crash.c), but a fault in Go code, on a thread without Python, still
// reaches Go's handler with its context and stays a panic.
func TestANilPointerInGoStaysAPanic(t *testing.T) {
	var p *int
	defer func() {
		if r := recover(); r == nil {
			t.Error("no panic from a nil pointer")
		}
	}()
	_ = *p
}
