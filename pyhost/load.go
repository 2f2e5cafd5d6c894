package pyhost

import "sync"

// LoadCounter is a worker's count of its load, where the master reads it
// to lend new connections to the least loaded worker (handoff.Seat).
type LoadCounter interface{ Add(n int32) }

// stalledLoad is the load of a worker that can run no request: no master
// lends to it while another worker can.
const stalledLoad = 1 << 16

// loadShare is what the host adds to its worker's load beyond the
// requests the front counts while ServeWSGI runs (Config.LendingLoad): a
// request that runs on after its timeout returned ServeWSGI counts until
// its thread lets go, and a worker whose every thread is held so, or
// whose GIL a thread keeps in C code, counts as stalledLoad more.
type loadShare struct {
	mu        sync.Mutex
	counter   LoadCounter // nil: no master reads it
	threads   int
	abandoned int   // requests running past their ServeWSGI
	gilHolds  int   // watchers that see the GIL kept in C code (gilwatch, a timeout's interrupt)
	added     int32 // on the counter now
}

// abandon counts a request that runs on past its ServeWSGI (+1), or
// that ended at last (-1).
func (l *loadShare) abandon(delta int) { l.update(func() { l.abandoned += delta }) }

// gilHeld counts a watcher that sees the GIL kept in C code (+1) until it
// sees it free (-1).
func (l *loadShare) gilHeld(delta int) { l.update(func() { l.gilHolds += delta }) }

func (l *loadShare) update(change func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	change()
	want := int32(l.abandoned)
	if l.gilHolds > 0 || l.abandoned >= l.threads {
		want += stalledLoad
	}
	if l.counter != nil && want != l.added {
		l.counter.Add(want - l.added)
		l.added = want
	}
}
