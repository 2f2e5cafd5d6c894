package handoff

import (
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The board is a table in shared memory, one for all of a master's
// workers, where each worker's load is counted: the requests it runs, and
// the connections lent to it that have not yet spoken. The master lends a
// new connection to the worker with the least load (a worker with every
// thread in a slow request gets none). A connection lent and not yet heard
// from counts as the request it brings: a burst of new connections, lent
// before any speaks, is shared, where a count of requests alone would send
// it all to the worker that ran fewest when it began. Like Slots, it costs
// requests no messages: the counts are atomic adds.

// BoardSize bounds the workers on the board at once; one more (--workers
// over a thousand, or as many being replaced) serves all the same, off the
// board: while one is, the master lends by connections held alone.
const BoardSize = 1 << 10

// seatBytes is a seat's share of the board: a cache line of its own, so
// that workers on different cores counting at once do not contend.
const seatBytes = 64

// Board is the shared table: seat i holds its worker's load.
type Board struct {
	mem []byte
}

const boardBytes = BoardSize * seatBytes

// NewBoard makes a board and the file that maps it in each worker.
func NewBoard() (*Board, *os.File, error) {
	return newShared("wsgo-board", boardBytes, MapBoard)
}

// MapBoard maps the board in f (the file NewBoard made).
func MapBoard(f *os.File) (*Board, error) {
	mem, err := mapShared(f, boardBytes)
	if err != nil {
		return nil, err
	}
	return &Board{mem: mem}, nil
}

// count is seat i's load: at the start of its line of page-aligned
// memory, so atomic access is sound.
func (b *Board) count(i int) *atomic.Int32 {
	return (*atomic.Int32)(unsafe.Pointer(&b.mem[i*seatBytes]))
}

// Clear gives seat i to a new worker: no load. The master's; seats are
// reused once their worker is reaped.
func (b *Board) Clear(i int) { b.count(i).Store(0) }

// Lent counts a connection the master lends to the worker at seat i,
// until that worker hears from it (Seat.Heard).
func (b *Board) Lent(i int) { b.count(i).Add(1) }

// Load returns the requests the worker at seat i runs plus the connections
// lent to it that have not spoken yet.
func (b *Board) Load(i int) int32 { return b.count(i).Load() }

// Unmap releases the mapping.
func (b *Board) Unmap() error { return unix.Munmap(b.mem) }

// Seat is a worker's place on the board (httpfront.RequestCounter).
type Seat struct{ count *atomic.Int32 }

// Seat returns seat i, for its worker to count on.
func (b *Board) Seat(i int) *Seat { return &Seat{b.count(i)} }

// Begin counts a request that starts in this worker.
func (s *Seat) Begin() { s.count.Add(1) }

// End counts a request that ended in this worker.
func (s *Seat) End() { s.count.Add(-1) }

// Add counts n more (or less) of the load the host carries beyond the
// requests Begin counts (pyhost.LoadCounter).
func (s *Seat) Add(n int32) { s.count.Add(n) }

// Heard takes back what Board.Lent counted for a connection: its first
// bytes came (or it ended, or went opaque, before any did). Once per lend.
func (s *Seat) Heard() { s.count.Add(-1) }
