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

var errStopped = errors.New("pyhost: the Python host is shutting down")

// scheduler hands requests to Python threads. All fields are guarded by mu.
type scheduler struct {
	mu       sync.Mutex
	queue    ring      // requests no thread has taken yet
	idle     []*worker // parked threads, most recently used last (LIFO keeps caches warm)
	active   int       // threads running Python for a request (holding or wanting the GIL)
	lastTake time.Time // when a thread last took a request
	timer    *time.Timer
	timerOn  bool
	stopped  bool
	// cpu returns the CPU time used so far by the threads not parked; nil
	// when it cannot be measured (then a thread that takes nothing from
	// the queue for stallAfter counts as blocked).
	cpu    func() time.Duration
	mark   time.Duration // cpu() at markAt, the start of the current measure
	markAt time.Time     // zero: no measure under way
}

func newScheduler(queueSize int) *scheduler {
	s := &scheduler{queue: ring{buf: make([]*job, queueSize)}}
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
	if !s.queue.push(j) {
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
		w := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		w.parked = false
		s.active++
		s.lastTake = now
		s.markAt = time.Time{}  // the set of running threads changed
		w.wake <- s.queue.pop() // never blocks: an idle worker's wake is empty
	}
}

// stalledIn returns 0 when the running threads have stalled, or how long
// to wait before asking again. The CPU time they use is measured over a
// window that starts after the last take, sampled only when the timer is
// to be armed or has fired (a sample costs a system call per thread).
func (s *scheduler) stalledIn(now time.Time) time.Duration {
	wait := stallAfter - now.Sub(s.lastTake)
	if s.cpu == nil || wait > 0 && s.timerOn {
		return wait
	}
	if s.markAt.IsZero() || s.markAt.Before(s.lastTake) {
		s.mark, s.markAt = s.cpu(), now
	}
	since := now.Sub(s.markAt)
	switch {
	case wait > 0:
		return wait
	case since < stallAfter/2: // too short to tell
		return stallAfter/2 - since
	}
	used := s.cpu()
	if used-s.mark < since/2 {
		return 0
	}
	s.mark, s.markAt = used, now // busy: measure the next window
	return stallAfter
}

func (s *scheduler) onTimer() {
	s.mu.Lock()
	s.timerOn = false
	s.dispatchLocked(time.Now())
	s.mu.Unlock()
}

// next is called by a thread that has finished a request while it still
// holds the GIL: it returns the next queued request, or nil.
func (s *scheduler) next() *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queue.len() == 0 {
		return nil
	}
	s.lastTake = time.Now()
	return s.queue.pop()
}

// park is called by a thread that has released the GIL with nothing left
// to do. It returns a request that arrived meanwhile, or parks w and
// returns nil; stop reports that the host is shutting down.
func (s *scheduler) park(w *worker) (j *job, stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queue.len() > 0 {
		s.lastTake = time.Now()
		return s.queue.pop(), false
	}
	s.active--
	if s.stopped {
		return nil, true
	}
	s.idle = append(s.idle, w)
	w.parked = true
	s.markAt = time.Time{}
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
	for _, w := range s.idle {
		w.wake <- nil
	}
	s.idle = nil
	for s.queue.len() > 0 {
		s.queue.pop().events <- event{stopped: true}
	}
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
