package acceptretry

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWaitsDoubleUpToASecondAndStartShortAfterAnAccept(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	var b Backoff
	var waits []time.Duration
	for range 10 {
		waits = append(waits, b.Failed(log, syscall.EMFILE))
	}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000}
	for i := range want {
		if waits[i] != want[i]*time.Millisecond {
			t.Fatalf("waits %v; want %v ms", waits, want)
		}
	}
	b.Accepted()
	if w := b.Failed(log, syscall.EMFILE); w != 5*time.Millisecond {
		t.Errorf("after an accept the wait is %v; want 5ms", w)
	}
	if got := strings.Count(out.String(), "\n"); got != 1 {
		t.Errorf("%d lines within a second; want 1:\n%s", got, &out)
	}
	time.Sleep(1010 * time.Millisecond)
	b.Failed(log, syscall.EMFILE, "listener", "http://127.0.0.1:8000")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if want := `level=WARN msg="wsgo: accept failed, retrying" listener=http://127.0.0.1:8000 err="too many open files" retry_in=10ms not_logged_before=10`; lines[len(lines)-1] != want {
		t.Errorf("the line after a second:\n%s\nwant\n%s", lines[len(lines)-1], want)
	}
}

func TestOnlyShortagesAreRetried(t *testing.T) {
	for _, err := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		if !Temporary(err) {
			t.Errorf("%v is not retried", err)
		}
	}
	for _, err := range []error{syscall.EBADF, syscall.EINVAL, errors.New("use of closed network connection")} {
		if Temporary(err) {
			t.Errorf("%v is retried", err)
		}
	}
}
