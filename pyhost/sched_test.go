package pyhost

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wsgo/wsgi"
)

func idleWorkers(s *scheduler, n int) []*pythread {
	ws := make([]*pythread, n)
	for i := range ws {
		ws[i] = &pythread{wake: make(chan *job, 1), inApp: new(atomic.Int32)}
		ws[i].inApp.Store(1) // each runs the app, unless a test says otherwise
		s.active++           // as Start does: each pythread parks itself
		if j, stop := s.park(ws[i]); j != nil || stop {
			panic("parking a new pythread got work")
		}
	}
	return ws
}

func newJob() *job { return &job{events: make(chan event, 1)} }

func received(w *pythread) *job {
	select {
	case j := <-w.wake:
		return j
	default:
		return nil
	}
}

func TestRequestGoesToTheMostRecentIdleThreadWhenNoneRuns(t *testing.T) {
	s := newScheduler(4)
	ws := idleWorkers(s, 2)
	j := newJob()
	if err := s.submit(j); err != nil {
		t.Fatal(err)
	}
	if received(ws[1]) != j || received(ws[0]) != nil || s.active != 1 {
		t.Fatalf("want the job on the last parked pythread; active %d", s.active)
	}
}

func TestRequestWaitsForTheRunningThreadInsteadOfWakingAnother(t *testing.T) {
	s := newScheduler(4)
	ws := idleWorkers(s, 2)
	first, second := newJob(), newJob()
	s.submit(first) // ws[1] now runs Python
	s.submit(second)
	if received(ws[0]) != nil {
		t.Fatal("a second thread was woken while the first was running")
	}
	if s.next() != second {
		t.Fatal("the running thread did not get the queued request")
	}
	if received(ws[0]) != nil {
		t.Fatal("the timer woke a thread for a request already taken")
	}
}

// A thread that takes nothing from the queue for stallAfter, and uses no
// CPU where the host can tell, is blocked: another takes the queue.
func TestStalledThreadLetsAnotherTakeTheQueue(t *testing.T) {
	for _, measured := range []bool{false, true} {
		s := newScheduler(4)
		ws := idleWorkers(s, 2)
		if measured {
			measure(s, ws, fakeMeter{})
		}
		s.submit(newJob()) // ws[1] runs, then blocks (never calls next)
		queued := newJob()
		s.submit(queued)
		awaitWake(t, ws[0], queued, fmt.Sprintf("CPU measured %v: the running one stalled", measured))
	}
}

// awaitWake fails t unless w is woken with want within 5 s of what
// happened.
func awaitWake(t *testing.T, w *pythread, want *job, what string) {
	t.Helper()
	select {
	case j := <-w.wake:
		if j != want {
			t.Fatal("the woken thread got the wrong request")
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no thread woken 5 s after %s", what)
	}
}

// fakeMeter is a thread whose CPU clock advances with wall time (busy) or
// stands still (blocked, or waiting for a CPU when runnable).
type fakeMeter struct {
	start         time.Time
	busy, waiting bool
}

func (f fakeMeter) cpu() time.Duration {
	if f.busy {
		return time.Since(f.start)
	}
	return 0
}

func (f fakeMeter) runnable() bool { return f.busy || f.waiting }

func measure(s *scheduler, ws []*pythread, m fakeMeter) {
	m.start = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range ws {
		w.meter = m
	}
	s.pythreads = ws
}

// A request of pure Python that runs longer than stallAfter is no stall,
// even when the machine is so busy that its thread waits for a CPU: a
// second thread would only wait for the GIL.
func TestBusyThreadIsNotJoinedByAnother(t *testing.T) {
	for _, m := range []fakeMeter{{busy: true}, {waiting: true}} {
		s := newScheduler(4)
		ws := idleWorkers(s, 2)
		measure(s, ws, m)
		s.submit(newJob()) // ws[1] runs Python and takes nothing for a while
		queued := newJob()
		s.submit(queued)
		time.Sleep(100 * stallAfter)
		if received(ws[0]) != nil {
			t.Fatalf("%+v: a second thread was woken beside a busy one", m)
		}
		if s.next() != queued {
			t.Fatalf("%+v: the busy thread did not get the queued request", m)
		}
	}
}

// A thread asleep in wsgo's own code between the app's steps (waiting
// for the Go runtime to run it, on a loaded machine) is not blocked in
// the app: it takes the queue next, and no second thread is woken.
func TestThreadInWsgoCodeIsNotJoinedByAnother(t *testing.T) {
	s := newScheduler(4)
	ws := idleWorkers(s, 2)
	measure(s, ws, fakeMeter{}) // no CPU, not runnable
	s.submit(newJob())          // ws[1] runs
	ws[1].inApp.Store(0)
	queued := newJob()
	s.submit(queued)
	time.Sleep(100 * stallAfter)
	if received(ws[0]) != nil {
		t.Fatal("a second thread was woken beside one in wsgo's code")
	}
	ws[1].inApp.Store(1) // back in the app, blocked
	awaitWake(t, ws[0], queued, "the running one blocked in the app")
}

// Two threads running requests that together keep a core busy: the one
// that finishes parks and leaves the queue to the other. Beside a blocked
// thread it takes the next request.
func TestThreadShedsBesideABusyOne(t *testing.T) {
	for _, m := range []fakeMeter{{busy: true}, {}} {
		s := newScheduler(4)
		ws := idleWorkers(s, 2)
		measure(s, ws, m)
		s.mu.Lock()
		s.idle, s.active = nil, 2 // both run requests
		for _, w := range ws {
			w.parked = false
		}
		s.mu.Unlock()
		s.submit(newJob())
		s.next() // starts the measure
		s.submit(newJob())
		time.Sleep(4 * stallAfter)
		if got := s.next(); (got == nil) != m.busy {
			t.Fatalf("%+v: next() = %v; want nil only beside a busy thread", m, got)
		}
	}
}

func TestPausedThreadDoesNotCountAsRunning(t *testing.T) {
	s := newScheduler(4)
	ws := idleWorkers(s, 2)
	s.submit(newJob())
	s.pause() // ws[1] waits for the client, GIL released
	j := newJob()
	s.submit(j)
	if received(ws[0]) != j {
		t.Fatal("a request waited behind a thread that was only writing to its client")
	}
	s.resume()
	if s.active != 2 {
		t.Fatalf("active = %d, want 2", s.active)
	}
}

func TestFullQueueIsOverloaded(t *testing.T) {
	s := newScheduler(1)
	if err := s.submit(newJob()); err != nil {
		t.Fatal(err)
	}
	if err := s.submit(newJob()); !errors.Is(err, wsgi.ErrOverloaded) {
		t.Fatalf("err = %v, want ErrOverloaded", err)
	}
}

// A request withdrawn from the queue (its client left) frees its place
// and leaves the others in their order, across the ring's wrap.
func TestWithdrawnRequestFreesItsPlaceInOrder(t *testing.T) {
	s := newScheduler(3)
	s.queue.push(newJob())
	s.queue.pop() // the ring's head moves on, so the jobs below wrap
	js := []*job{newJob(), newJob(), newJob()}
	for _, j := range js {
		if err := s.submit(j); err != nil {
			t.Fatal(err)
		}
	}
	if !s.withdraw(js[1]) {
		t.Fatal("a queued job was not withdrawn")
	}
	if s.withdraw(js[1]) {
		t.Fatal("a job withdrawn twice")
	}
	if err := s.submit(newJob()); err != nil {
		t.Fatalf("the withdrawn job's place was not freed: %v", err)
	}
	for _, want := range []*job{js[0], js[2]} {
		if got := s.queue.pop(); got != want {
			t.Fatal("the jobs left lost their order")
		}
	}
}

func TestStopWakesParkedThreadsAndFailsQueuedRequests(t *testing.T) {
	s := newScheduler(2)
	queued := newJob()
	s.submit(queued) // no pythread yet: it stays queued
	ws := []*pythread{{wake: make(chan *job, 1)}}
	s.idle = ws
	s.stop()
	if j, ok := <-ws[0].wake; !ok || j != nil {
		t.Fatal("a parked thread was not told to exit")
	}
	if ev := <-queued.events; ev.refused != errStopped {
		t.Fatal("the queued request was not failed")
	}
	if err := s.submit(newJob()); !errors.Is(err, errStopped) {
		t.Fatalf("submit after stop: %v", err)
	}
	if _, stop := s.park(&pythread{}); !stop {
		t.Fatal("a thread parking after stop was not told to exit")
	}
}

func TestUnescapePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/plain", "/plain"},
		{"/caf%C3%A9", "/caf\xc3\xa9"},
		{"/a%2Fb", "/a/b"},
		{"/bad%zz%4", "/bad%zz%4"},
		{"/%41%", "/A%"},
	} {
		if got := unescapePath(tc.in); got != tc.want {
			t.Errorf("unescapePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEnvironKey(t *testing.T) {
	for in, want := range map[string]string{
		"User-Agent": "HTTP_USER_AGENT", "X-Custom-thing": "HTTP_X_CUSTOM_THING", "Dnt": "HTTP_DNT",
	} {
		if got := environKey(in); got != want {
			t.Errorf("environKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadCountsBusyThreadsAndQueuedRequests(t *testing.T) {
	s := newScheduler(4)
	idleWorkers(s, 1)
	if got := s.snapshot(1); got != (Load{Threads: 1}) {
		t.Fatalf("idle: %+v", got)
	}
	s.submit(newJob()) // the thread runs it
	s.submit(newJob()) // no thread is left: it waits
	if got := s.snapshot(1); got != (Load{Threads: 1, Busy: 1, Queued: 1}) {
		t.Fatalf("one running, one queued: %+v", got)
	}
}

// While a thread holds the GIL past a timeout, no request can run: the
// queued ones and new ones are refused as overload at once, until it lets go.
func TestWedgedSchedulerRefusesRequests(t *testing.T) {
	s := newScheduler(2)
	queued := newJob()
	s.submit(queued) // no pythread: it stays queued
	s.setWedged(true)
	if ev := <-queued.events; ev.refused != wsgi.ErrOverloaded {
		t.Fatalf("the queued request got %+v", ev)
	}
	if err := s.submit(newJob()); err != wsgi.ErrOverloaded {
		t.Fatalf("submit while wedged: %v", err)
	}
	s.setWedged(false)
	if err := s.submit(newJob()); err != nil {
		t.Fatalf("submit once the GIL is back: %v", err)
	}
}

// countingMeter is a busy fakeMeter that counts its samples.
type countingMeter struct {
	fakeMeter
	samples *atomic.Int64
}

func (c countingMeter) cpu() time.Duration {
	c.samples.Add(1)
	return c.fakeMeter.cpu()
}

// A running thread that keeps taking requests from the queue is not
// stalled, and costs no sample: a take in the last window says so from a
// clock. The same thread busy in one long request is checked all along,
// as before.
//
// This test's own loop is the thread taking work, and on a loaded machine
// it is itself descheduled now and then: a pause of a window or more lets
// the check sample, as it should. So the samples are compared with what the
// loop's measured pauses explain, not with a fixed count.
func TestThreadThatKeepsTakingWorkIsNotSampled(t *testing.T) {
	s := newScheduler(4)
	ws := idleWorkers(s, 2)
	samples := new(atomic.Int64)
	m := countingMeter{fakeMeter: fakeMeter{start: time.Now(), busy: true}, samples: samples}
	s.mu.Lock()
	for _, w := range ws {
		w.meter = m
	}
	s.pythreads = ws
	s.mu.Unlock()
	s.submit(newJob()) // ws[1] runs
	const run, window = 200 * time.Millisecond, stallAfter / 2
	before := samples.Load() // ws[1] counted as it was woken
	// explained: the samples the loop's pauses allow. A pause of p since
	// the last take lets the check sample up to p/window times (fewer once
	// it backs off), and the next submit starts a fresh gauge: one more.
	// A pause a little short of a window counts too: the take came a
	// moment before the loop's clock.
	explained := int64(0)
	start := time.Now()
	for last := start; time.Since(start) < run; {
		s.submit(newJob()) // arms the check: ws[0] is idle
		if s.next() == nil {
			t.Fatal("the running thread found nothing queued")
		}
		now := time.Now()
		if pause := now.Sub(last); pause >= window*3/4 {
			explained += int64(pause/window) + 1
		}
		last = now
	}
	taking := samples.Load() - before
	s.submit(newJob()) // queued while ws[1] runs one long request
	time.Sleep(run)
	busy := samples.Load() - before - taking
	if taking > explained+1 {
		t.Errorf("%d samples in %v of a thread taking work without pause (its pauses explain %d), %d while it ran one request; want none beyond its pauses", taking, run, explained, busy)
	}
	if busy < 10 {
		t.Errorf("%d samples in %v of one long request; want the stall check to keep looking", busy, run)
	}
	if received(ws[0]) != nil {
		t.Error("a second thread was woken beside a busy one")
	}
}

// switchMeter is a fakeMeter whose thread turns from busy to blocked.
type switchMeter struct{ busy *atomic.Bool }

func (m switchMeter) cpu() time.Duration {
	if m.busy.Load() {
		return time.Duration(time.Now().UnixNano())
	}
	return 0
}

func (m switchMeter) runnable() bool { return m.busy.Load() }

// The stall check's timer is a fallback for when no request arrives, and
// each firing wakes a Go thread on the core Python runs on: while the
// running thread keeps taking work it backs off to maxBusyBackoff, across
// bursts, however often the thread is descheduled between takes (on one
// core, hello world: 0.93 of --threads 1 while it fired every 0.25 to 2
// ms). Once that thread blocks, with a request queued and none arriving,
// another thread still takes the request.
func TestStallCheckBacksOffWhileThreadsKeepTakingWork(t *testing.T) {
	s := newScheduler(4)
	ws := idleWorkers(s, 2)
	busy := new(atomic.Bool)
	busy.Store(true)
	s.mu.Lock()
	for _, w := range ws {
		w.meter = switchMeter{busy}
	}
	s.pythreads = ws
	s.timer.Stop()
	fires := new(atomic.Int64)
	s.timer = time.AfterFunc(time.Hour, func() { fires.Add(1); s.onTimer() })
	s.timer.Stop()
	s.mu.Unlock()

	const run, pause = 300 * time.Millisecond, stallAfter
	bursts := 0
	for start := time.Now(); time.Since(start) < run; bursts++ {
		s.submit(newJob()) // wakes ws[1]: no thread runs
		if received(ws[1]) == nil {
			t.Fatal("the idle thread was not woken")
		}
		s.submit(newJob()) // queued behind it: the check is armed
		time.Sleep(pause)  // ws[1] runs its request, or waits for a CPU
		if s.next() == nil {
			t.Fatal("the running thread found nothing queued")
		}
		if s.next() != nil {
			t.Fatal("a third request appeared")
		}
		if j, _ := s.park(ws[1]); j != nil {
			t.Fatal("parking found work")
		}
	}
	// One firing per backoff once it is reached, two when it finds no
	// take in its window (a gauge started, then read), and a third for the
	// sleeps' overruns; before that, two per doubling. Measured: 66 to 77
	// firings in 270 bursts, against 208 to 273 when each burst started
	// the backoff over and each take pushed the timer back.
	const backoff, doublings = 8 * time.Millisecond, 5 // stallAfter/2 << maxBusyBackoff
	if limit := 3*int64(run/backoff) + 2*doublings; fires.Load() > limit {
		t.Errorf("the stall check fired %d times in %v of %d bursts of a busy thread; want at most %d", fires.Load(), run, bursts, limit)
	}
	if received(ws[0]) != nil {
		t.Fatal("a second thread was woken beside a busy one")
	}

	s.submit(newJob()) // wakes ws[1], which then blocks
	received(ws[1])
	busy.Store(false)
	queued := newJob()
	s.submit(queued)
	awaitWake(t, ws[0], queued, "the running one blocked, the check backed off")
}

// The busy warning says every thread has run the same request for
// busyFor: it waits for the request that has run the shortest, not the
// longest (it once named requests of a few seconds beside one of 10).
func TestBusyWarningWaitsForEveryThreadsRequest(t *testing.T) {
	var logged strings.Builder
	h := &Host{pythreads: make([]*pythread, 2), sched: newScheduler(4)}
	h.cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	h.sched.queue.push(newJob()) // a request waits for a thread
	long, short := newJob(), newJob()
	long.req = &wsgi.Request{ID: 1, Method: "GET", RequestURI: "/long"}
	short.req = &wsgi.Request{ID: 2, Method: "GET", RequestURI: "/short"}
	b := busyWatch{seen: map[*job]time.Time{}}
	t0 := time.Now()
	b.look(h, []*job{long}, t0)
	b.look(h, []*job{long, short}, t0.Add(busyFor/2))
	if b.look(h, []*job{long, short}, t0.Add(busyFor+time.Second)); logged.Len() != 0 {
		t.Fatalf("warned while one thread had run its request for %v: %s", busyFor/2+time.Second, logged.String())
	}
	b.look(h, []*job{long, short}, t0.Add(busyFor/2+busyFor))
	if got := logged.String(); !strings.Contains(got, "all 2 have run the same requests for over 10s") ||
		!strings.Contains(got, "request 2: GET /short (for 10s)") {
		t.Fatalf("no warning, or not naming both, once both had run %v: %q", busyFor, got)
	}
}
