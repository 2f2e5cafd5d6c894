package pyhost

import (
	"errors"
	"sync"
	"time"

	"wsgo/wsgi"
)

// stallAfter is how long queued work may wait while the Python threads
// that are running make no progress before another thread is woken.
//
// Why: the GIL lets one thread run Python at a time. If every request woke
// its own thread, a hello-world app would spend its time handing the GIL
// between threads (measured: 8 threads gave a third of 1 thread's
// throughput). So a request goes to an idle thread only when no thread is
// running Python; otherwise it waits in the queue and the running thread
// takes it next, GIL still held. If the running threads take nothing from
// the queue for stallAfter and use less than half a core meanwhile, they
// are blocked (time.sleep, a database, a socket, all with the GIL
// released), and one more thread is woken. I/O-bound apps still scale with
// --threads; CPU-bound ones keep one hot thread, even when a request takes
// longer than stallAfter (measured on a Django page of 0.7 ms: waking a
// second thread beside a busy one cost a third of the throughput).
const stallAfter = 500 * time.Microsecond

// maxBusyBackoff bounds how far the stall check's timer backs off while
// the running threads stay busy: to 2^5 windows (8 ms). The timer is only
// the fallback for when no request arrives: each submit draws the check
// itself, which costs a look at a clock while the running threads keep
// taking work. But a timer that fires on the core Python runs on costs a
// wake of a Go thread there (hello world pinned, 16 threads: 0.93 of
// --threads 1 while it fired every 0.25 to 2 ms, as fast as --threads 1
// without it; docs/PERFORMANCE.md). So a thread that blocks after a busy
// stretch, with requests queued and none arriving, is joined within 8 ms
// and three windows more; an app found blocked is watched closely again.
const maxBusyBackoff = 5

var errStopped = errors.New("pyhost: the Python host is shutting down")

// scheduler hands requests to Python threads. All fields are guarded by mu.
type scheduler struct {
	mu       sync.Mutex
	queue    ring        // requests no thread has taken yet
	idle     []*pythread // parked threads, most recently used last (LIFO keeps caches warm)
	active   int         // threads running Python for a request (holding or wanting the GIL)
	lastTake time.Time   // when a thread last took a request, woken or running
	// progressAt: when a running thread last took a request from the
	// queue (next, park). Requests are moving then: no stall to look for.
	progressAt time.Time
	timer      *time.Timer // the stall check's fallback (see maxBusyBackoff)
	timerOn    bool
	stopped    bool
	// wedged: a thread has held the GIL in C code past a request's
	// timeout (see abandon), so no request can run until it lets go: new
	// ones are refused at once (503) rather than left to time out.
	wedged bool
	// threads are every thread, each with a meter; nil when the system
	// cannot measure them (then a thread that takes nothing from the
	// queue for stallAfter counts as blocked, and none sheds). See
	// sched_gauges.go.
	pythreads []*pythread
	// writers are the jobs whose output is being written to their
	// client, which may wait for a slow one; see starvedLocked.
	writers   map[*job]struct{}
	windowAt  [2]time.Time // each gauge's window start; zero: none yet
	blocked   bool         // the last stall window found the running threads blocked
	busyLooks int          // looks in a row that found them busy, across bursts (see stalledIn)
	busyShare float64      // the share of a core they used in the last shed window
}

func newScheduler(queueSize int) *scheduler {
	s := &scheduler{queue: ring{buf: make([]*job, queueSize)}, writers: map[*job]struct{}{}}
	s.timer = time.AfterFunc(time.Hour, s.onTimer)
	s.timer.Stop()
	return s
}

// submit queues j, or returns wsgi.ErrOverloaded when the queue is full.
func (s *scheduler) submit(j *job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errStopped
	}
	if s.wedged || !s.queue.push(j) {
		return wsgi.ErrOverloaded
	}
	s.dispatchLocked(time.Now())
	return nil
}

// dispatchLocked wakes idle threads for queued requests when no thread is
// running Python, or when the running ones have stalled.
func (s *scheduler) dispatchLocked(now time.Time) {
	for s.queue.len() > 0 && len(s.idle) > 0 && !s.stopped {
		if s.active > 0 {
			if wait := s.stalledIn(now); wait > 0 {
				if !s.timerOn {
					s.timerOn = true
					s.timer.Reset(wait)
				}
				return
			}
		}
		p := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		p.parked = false
		s.active++
		s.lastTake = now
		s.joined(p)
		p.wake <- s.queue.pop() // never blocks: an idle pythread's wake is empty
	}
	if s.starvedLocked() {
		for j := range s.writers {
			j.release()
		}
	}
}

// starvedLocked reports whether requests wait and no pythread is idle:
// then a pythread waiting for a slow client to take its response is
// wanted, and the rest of that response is left to the front (release).
// Until then the wait costs nothing, and a client that keeps up is
// written to straight from Python's memory.
func (s *scheduler) starvedLocked() bool {
	return s.queue.len() > 0 && len(s.idle) == 0
}

// writing brackets a write of j's output to its client. A write that
// starts while requests starve is released at once.
func (s *scheduler) writing(j *job, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on {
		delete(s.writers, j)
		return
	}
	s.writers[j] = struct{}{}
	if s.starvedLocked() {
		j.release()
	}
}

// releaseWriter releases j's write, if one is in progress (a timeout).
func (s *scheduler) releaseWriter(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.writers[j]; ok {
		j.release()
	}
}

func (s *scheduler) onTimer() {
	s.mu.Lock()
	s.timerOn = false
	s.dispatchLocked(time.Now())
	s.mu.Unlock()
}

// next is called by a thread that has finished a request while it still
// holds the GIL: it returns the next queued request, or nil when there is
// none or the thread should shed (see shedLocked).
func (s *scheduler) next() *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.queue.len() == 0 || s.shedLocked(now) {
		return nil
	}
	s.tookLocked(now)
	return s.queue.pop()
}

// tookLocked records that a running thread took a request from the
// queue: it is not stalled. The stall check reads that from a clock,
// without sampling the threads, and an armed timer is left alone: pushing
// it back on each take kept it armed all along, and its firings with it.
func (s *scheduler) tookLocked(now time.Time) {
	s.lastTake, s.progressAt = now, now
}

// park is called by a thread that has released the GIL with nothing left
// to do. It returns a request that arrived meanwhile, or parks p and
// returns nil; stop reports that the host is shutting down.
func (s *scheduler) park(p *pythread) (j *job, stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.queue.len() > 0 && !s.shedLocked(now) {
		s.tookLocked(now)
		return s.queue.pop(), false
	}
	s.active--
	if s.stopped {
		return nil, true
	}
	s.idle = append(s.idle, p)
	p.parked = true
	if s.queue.len() > 0 {
		// p shed: the stall check must still watch the threads left,
		// which may block (a slow client) with requests waiting.
		s.dispatchLocked(now)
	}
	return nil, false
}

// pause and resume bracket a wait of a running thread with the GIL
// released (the client writing or sending a body): it does not count as
// running Python meanwhile.
func (s *scheduler) pause() {
	s.mu.Lock()
	s.active--
	s.dispatchLocked(time.Now())
	s.mu.Unlock()
}

func (s *scheduler) resume() {
	s.mu.Lock()
	s.active++
	s.mu.Unlock()
}

// stop wakes every parked thread to exit and fails queued requests. Threads
// still serving exit when they park.
func (s *scheduler) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	s.timer.Stop()
	for _, p := range s.idle {
		p.wake <- nil
	}
	s.idle = nil
	s.refuseQueued(errStopped)
}

// waiting is how many requests wait for a thread.
func (s *scheduler) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.len()
}

// setWedged marks whether a thread holds the GIL past a timeout; while it
// does, queued requests and new ones are refused as overload.
func (s *scheduler) setWedged(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wedged = on
	if on {
		s.refuseQueued(wsgi.ErrOverloaded)
	}
}

func (s *scheduler) refuseQueued(err error) {
	for s.queue.len() > 0 {
		s.queue.pop().events <- event{refused: err}
	}
}

// withdraw takes j out of the queue if no thread has taken it yet (its
// client left): it frees the place for a request someone waits for.
func (s *scheduler) withdraw(j *job) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.remove(j)
}

// ring is a fixed-size FIFO of jobs.
type ring struct {
	buf        []*job
	head, size int
}

func (r *ring) len() int { return r.size }

func (r *ring) push(j *job) bool {
	if r.size == len(r.buf) {
		return false
	}
	r.buf[(r.head+r.size)%len(r.buf)] = j
	r.size++
	return true
}

func (r *ring) pop() *job {
	j := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return j
}

// remove takes j out of the ring, keeping the order of the rest; false
// if j is not in it.
func (r *ring) remove(j *job) bool {
	for i := range r.size {
		if r.buf[(r.head+i)%len(r.buf)] != j {
			continue
		}
		for ; i < r.size-1; i++ {
			r.buf[(r.head+i)%len(r.buf)] = r.buf[(r.head+i+1)%len(r.buf)]
		}
		r.buf[(r.head+r.size-1)%len(r.buf)] = nil
		r.size--
		return true
	}
	return false
}
