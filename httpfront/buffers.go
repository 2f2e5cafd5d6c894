package httpfront

import "sync"

// What all the connections of a server (one worker) may hold for their
// clients together. Each request body alone keeps at most spoolMemory in
// memory and each response queue outboxMemory; without a bound on the
// sum, many slow uploads (1 MiB each) would hold a worker's memory, and
// many slow clients of a large download would fill the temporary
// directory's disk (a whole response each): a full disk fails every
// other write on the machine.
const (
	// DefaultMaxResponseSpool is --max-response-spool's default: what one
	// worker keeps of its slow clients' responses in temporary files
	// (nginx's proxy_max_temp_file_size is the same 1 GiB, per request).
	DefaultMaxResponseSpool = 1 << 30
	// bufferMemory is what a worker's request bodies and response queues
	// keep in memory together; past it, they go to temporary files.
	bufferMemory = 64 << 20
	// maxTempFile is how large an outbox's temporary file grows before
	// the next bytes go to a new one: the client's sent bytes are freed
	// with their file, so a long response to a slow client holds about
	// what is queued, not all it was ever sent.
	maxTempFile = 64 << 20
)

// bufferBudget counts what a server's connections hold: bytes in memory
// (request bodies and response queues), and the size of the response
// queues' open temporary files, which may not pass spool. A writer that
// would pass it waits (freed) until a file is closed.
type bufferBudget struct {
	spool  int64 // the most the response queues' temporary files may hold
	memory int64 // the most held in memory: bufferMemory

	mu    sync.Mutex
	mem   int64
	disk  int64
	freed chan struct{} // closed and replaced when disk shrinks
}

func newBufferBudget(spool int64) *bufferBudget {
	return &bufferBudget{spool: spool, memory: bufferMemory, freed: make(chan struct{})}
}

// tempFileSize is how large one temporary file grows: maxTempFile, or
// less under a smaller spool, so that a full one can always be freed
// while others are written.
func (b *bufferBudget) tempFileSize() int64 {
	return min(maxTempFile, max(b.spool/8, 1))
}

// takeMemory counts n more bytes held in memory, and reports false
// (counting nothing) when that would pass the memory allowed.
func (b *bufferBudget) takeMemory(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mem+int64(n) > b.memory {
		return false
	}
	b.mem += int64(n)
	return true
}

func (b *bufferBudget) freeMemory(n int) {
	b.mu.Lock()
	b.mem -= int64(n)
	b.mu.Unlock()
}

// takeDisk counts n more bytes in temporary files. When that would pass
// the spool, it counts nothing and returns a channel closed once some
// are freed. An empty spool takes any n, so that a write larger than the
// whole spool is not refused forever.
func (b *bufferBudget) takeDisk(n int) (wait <-chan struct{}) {
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
func (b *bufferBudget) freeDisk(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.disk -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}
