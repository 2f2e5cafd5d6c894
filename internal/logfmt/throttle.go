package logfmt

import (
	"sync"
	"time"
)

// Throttle admits Burst log lines per Period and counts the rest, so that
// a flood of the same event (a client's refused requests, connections a
// worker cannot take) cannot flood the log. Its zero Burst admits one.
type Throttle struct {
	Burst  int
	Period time.Duration

	mu      sync.Mutex
	began   time.Time // of the current period
	lines   int       // admitted in it
	skipped int       // not admitted since the last line that was
}

// Admit reports whether a line at now may be logged, and if so how many
// were not since the last that was.
func (t *Throttle) Admit(now time.Time) (ok bool, skipped int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.began.IsZero() || now.Sub(t.began) >= t.Period {
		t.began, t.lines = now, 0
	}
	if t.lines >= max(t.Burst, 1) {
		t.skipped++
		return false, 0
	}
	t.lines++
	skipped, t.skipped = t.skipped, 0
	return true, skipped
}

// NotLogged appends to a line's attributes how many lines Admit held back
// before it (not_logged_before=N), when any were.
func NotLogged(attrs []any, skipped int) []any {
	if skipped > 0 {
		attrs = append(attrs, "not_logged_before", skipped)
	}
	return attrs
}
