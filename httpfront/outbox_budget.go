package httpfront

import "sync"

// What all the outboxes of a server (one worker) may hold together. Each
// outbox alone keeps at most outboxMemory in memory; without a bound on
// the sum, many slow clients of a large download would hold a worker's
// memory (256 KiB each) and fill the temporary directory's disk (a whole
// response each): a full disk fails every other write on the machine.
const (
	// DefaultMaxResponseSpool is --max-response-spool's default: what one
	// worker keeps of its slow clients' responses in temporary files
	// (nginx's proxy_max_temp_file_size is the same 1 GiB, per request).
	DefaultMaxResponseSpool = 1 << 30
	// queueMemory is what a worker's outboxes keep in memory together;
	// past it, their queues go to their temporary files.
	queueMemory = 32 << 20
	// maxTempFile is how large an outbox's temporary file grows before
	// the next bytes go to a new one: the client's sent bytes are freed
	// with their file, so a long response to a slow client holds about
	// what is queued, not all it was ever sent.
	maxTempFile = 64 << 20
)

// queueBudget counts what a server's outboxes hold: bytes in memory, and
// the size of their open temporary files, which may not pass spool. A
// writer that would pass it waits (freed) until a file is closed.
type queueBudget struct {
	spool  int64 // the most the temporary files may hold
	memory int64 // the most held in memory: queueMemory

	mu    sync.Mutex
	mem   int64
	disk  int64
	freed chan struct{} // closed and replaced when disk shrinks
}

func newQueueBudget(spool int64) *queueBudget {
	return &queueBudget{spool: spool, memory: queueMemory, freed: make(chan struct{})}
}

// tempFileSize is how large one temporary file grows: maxTempFile, or
// less under a smaller spool, so that a full one can always be freed
// while others are written.
func (b *queueBudget) tempFileSize() int64 {
	return min(maxTempFile, max(b.spool/8, 1))
}

// takeMemory counts n more bytes held in memory, and reports false
// (counting nothing) when that would pass the memory allowed.
func (b *queueBudget) takeMemory(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mem+int64(n) > b.memory {
		return false
	}
	b.mem += int64(n)
	return true
}

func (b *queueBudget) freeMemory(n int) {
	b.mu.Lock()
	b.mem -= int64(n)
	b.mu.Unlock()
}

// takeDisk counts n more bytes in temporary files. When that would pass
// the spool, it counts nothing and returns a channel closed once some
// are freed. An empty spool takes any n, so that a write larger than the
// whole spool is not refused forever.
func (b *queueBudget) takeDisk(n int) (wait <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.disk > 0 && b.disk+int64(n) > b.spool {
		return b.freed
	}
	b.disk += int64(n)
	return nil
}

// freeDisk uncounts n bytes of temporary files (a file closed, or a write
// to it that failed) and wakes the writers waiting for room.
func (b *queueBudget) freeDisk(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.disk -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}
