// Package acceptretry paces an accept loop through a shortage of
// descriptors or memory: retries that back off while it lasts, start short
// again once a connection was taken, and log at most a line a second.
package acceptretry

import (
	"errors"
	"log/slog"
	"syscall"
	"time"

	"wsgo/internal/logfmt"
)

const (
	firstWait = 5 * time.Millisecond
	longest   = time.Second
)

// Temporary reports whether an accept error is worth retrying: running out
// of descriptors or memory passes when other connections close.
func Temporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// Backoff is one accept loop's state; its zero value is ready.
type Backoff struct {
	wait  time.Duration
	lines logfmt.Throttle // a shortage that frees one descriptor at a time retries every few ms
}

// Failed logs a temporary failure, err, unless a line was logged less
// than a second ago, and returns how long to wait before accepting again.
// attrs name the listener.
func (b *Backoff) Failed(log *slog.Logger, err error, attrs ...any) time.Duration {
	b.wait = min(max(2*b.wait, firstWait), longest)
	if b.lines.Period == 0 {
		b.lines.Period = time.Second
	}
	if ok, notLogged := b.lines.Admit(time.Now()); ok {
		log.Warn("wsgo: accept failed, retrying", logfmt.NotLogged(append(attrs, "err", err, "retry_in", b.wait), notLogged)...)
	}
	return b.wait
}

// Accepted ends the shortage: the next failure waits firstWait again.
func (b *Backoff) Accepted() { b.wait = 0 }
