package pyhost

import "time"

// The scheduler's measures: whether the threads running requests are
// blocked (then another thread may take the queue) or keep a core busy
// (then one of them should not take more work). Each is a gauge: the CPU
// time the running threads used over a window, each thread counted from
// the window's start or from when it was woken, whichever is later.

// meter measures one thread (threadCPU; fakes in tests).
type meter interface {
	cpu() time.Duration // CPU time used so far
	runnable() bool     // running or waiting for a CPU now (not blocked)
}

// The two gauges, indexes of scheduler.windowAt and pythread.marks.
const (
	stallGauge = iota // restarted whenever a verdict is drawn
	shedGauge         // windows of 2 × stallAfter
)

// measured reports whether the scheduler can measure its threads.
func (s *scheduler) measured() bool { return s.pythreads != nil }

// startGauge starts a window of gauge g.
func (s *scheduler) startGauge(g int, now time.Time) {
	for _, p := range s.pythreads {
		if !p.parked {
			p.marks[g] = p.meter.cpu()
		}
	}
	s.windowAt[g] = now
}

// lap returns the share of one core the running threads used in gauge g's
// window, and starts the next.
func (s *scheduler) lap(g int, now time.Time) float64 {
	var used time.Duration
	for _, p := range s.pythreads {
		if !p.parked {
			c := p.meter.cpu()
			used += c - p.marks[g]
			p.marks[g] = c
		}
	}
	share := float64(used) / float64(now.Sub(s.windowAt[g]))
	s.windowAt[g] = now
	return share
}

// joined counts a thread just woken from now on.
func (s *scheduler) joined(p *pythread) {
	if s.measured() {
		c := p.meter.cpu()
		p.marks = [2]time.Duration{c, c}
	}
}

// anyRunnable reports whether a running thread is on a CPU, waiting for
// one, or in wsgo's own code (where it may sleep waiting for the Go
// runtime or the GIL, which is no sign of an app blocked on I/O).
func (s *scheduler) anyRunnable() bool {
	for _, p := range s.pythreads {
		if !p.parked && (!p.mayBlock() || p.meter.runnable()) {
			return true
		}
	}
	return false
}

// stalledIn returns 0 when the running threads have stalled, or how long
// to wait before asking again. Not stalled: one of them took a request
// from the queue in the last window (the hot thread of a busy worker, at
// the cost of reading a clock). Stalled: over two windows of stallAfter/2
// in a row, they used less than half a core, and none was runnable at the
// end of either (on a busy machine a thread of pure Python may get less
// than half a core, yet it is not blocked). Two windows, for a thread that
// waits a moment (for a lock, for the Go runtime) is not blocked. Once
// they are found blocked, each further window that finds them so (the
// thread just woken included) wakes one more. Each look while they are
// busy waits twice as long as the one before, up to maxBusyBackoff; a
// look that finds them blocked starts over. Samples cost a system call
// per thread, so a window is sampled once however many submits ask.
// Unmeasured: they took nothing for stallAfter (and the same backoff
// while they take).
func (s *scheduler) stalledIn(now time.Time) time.Duration {
	const window = stallAfter / 2
	switch {
	case now.Sub(s.progressAt) < window:
		s.windowAt[stallGauge], s.blocked = time.Time{}, false
		if s.timerOn { // it decides when to look next, and backs off
			return window
		}
		return s.busyLook()
	case !s.measured():
		return stallAfter - now.Sub(s.lastTake)
	case s.windowAt[stallGauge].IsZero():
		s.startGauge(stallGauge, now)
		return window
	}
	if since := now.Sub(s.windowAt[stallGauge]); since < window {
		return window - since
	}
	if s.lap(stallGauge, now) >= 0.5 || s.anyRunnable() {
		// Busy: each look costs a system call per thread and, when the
		// timer drew it, a wake of a Go thread on the core Python runs on
		// (4,000 a second cost Django on one core 5%).
		s.blocked = false
		return s.busyLook()
	}
	s.busyLooks = 0
	if !s.blocked {
		s.blocked = true
		return window
	}
	return 0
}

// busyLook records a look that found the running threads busy, and
// returns how long to wait before the next.
func (s *scheduler) busyLook() time.Duration {
	s.busyLooks = min(s.busyLooks+1, maxBusyBackoff)
	return stallAfter / 2 << s.busyLooks
}

// shedLocked reports whether a thread that has finished a request should
// park rather than take the next: other threads run requests too, and
// together they kept three quarters of a core busy over the last window.
// More threads would only fight for the GIL, and worse, for the app's own
// locks: a lock held by a thread that lost the GIL makes every other
// thread that wants it wait, a convoy that cost Django a third of its
// throughput (measured). If the threads left block later, the stall check
// wakes one again.
func (s *scheduler) shedLocked(now time.Time) bool {
	if s.active < 2 || !s.measured() {
		return false
	}
	switch since := now.Sub(s.windowAt[shedGauge]); {
	case s.windowAt[shedGauge].IsZero():
		s.startGauge(shedGauge, now)
	case since >= 2*stallAfter:
		s.busyShare = s.lap(shedGauge, now)
	}
	return s.busyShare >= 0.75
}

// mayBlock reports whether p is where the app, or its client, may block
// it: in a call into the app, or writing to the client.
func (p *pythread) mayBlock() bool { return p.inApp.Load() != 0 || p.writing.Load() }
