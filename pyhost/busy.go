package pyhost

// Load is a snapshot of a Host's Python threads at work, for metrics.
type Load struct {
	Threads int // --threads
	Busy    int // threads serving a request (running Python or waiting on its client)
	Queued  int // requests waiting for a thread
}

// Load reads the scheduler's Go-side state: no GIL and no cgo, so it
// answers at once however busy Python is.
func (h *Host) Load() Load { return h.sched.snapshot(h.cfg.Threads) }

// snapshot: every pythread that is not parked is serving a request.
func (s *scheduler) snapshot(threads int) Load {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Load{Threads: threads, Busy: threads - len(s.idle), Queued: s.queue.len()}
}
