package handoff

import (
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// State is what a lent connection is doing, as the worker last wrote it.
type State = uint32

const (
	Free State = iota // not lent
	Lent              // lent, not yet touched by the worker: its bytes are all in the kernel
	// Idle: waiting for a request, nothing of one read: the worker had read
	// Count(slot) bytes from the socket when it said so.
	Idle
	Busy   // a request is being read or run; no response byte sent
	Sent   // response bytes have gone out
	Opaque // TLS: the session lives in the worker; the master can only reset it
	// Ending: the response is whole, and idle follows, once the socket has
	// taken Count(slot) bytes from this worker.
	Ending
)

// A state is written after the read or write it follows, so a worker that
// dies between the two leaves a state one step behind: Idle or Lent though
// it took bytes of a request, Sent though its response is out whole. The
// counts settle it: the master compares them with the kernel's (SocketRead,
// SocketSent, less what they were when the connection was lent).

// NumSlots bounds the connections one worker holds at once.
const NumSlots = 1 << 16

// slotBytes is one slot's share of the table: its state and its count.
const slotBytes = 4 + 8

// Slots is the state table of one worker's connections, in shared memory.
type Slots struct {
	mem   []byte
	state []atomic.Uint32
	count []atomic.Uint64 // see Idle and Ending
}

// NewSlots makes a table and the file that maps it in the worker.
func NewSlots() (*Slots, *os.File, error) {
	return newShared("wsgo-slots", NumSlots*slotBytes, MapSlots)
}

// MapSlots maps the table in f (the file NewSlots made).
func MapSlots(f *os.File) (*Slots, error) {
	mem, err := mapShared(f, NumSlots*slotBytes)
	if err != nil {
		return nil, err
	}
	// Page-aligned memory: the states' 4-byte words, then the counts'
	// 8-byte words from an 8-aligned offset, so atomic access is sound.
	state := unsafe.Slice((*atomic.Uint32)(unsafe.Pointer(&mem[0])), NumSlots)
	count := unsafe.Slice((*atomic.Uint64)(unsafe.Pointer(&mem[NumSlots*4])), NumSlots)
	return &Slots{mem: mem, state: state, count: count}, nil
}

// Get returns slot i's state.
func (s *Slots) Get(i uint32) State { return s.state[i].Load() }

// Set stores slot i's state.
func (s *Slots) Set(i uint32, st State) { s.state[i].Store(st) }

// Mark puts slot i in state st with count n (Idle, Ending).
func (s *Slots) Mark(i uint32, st State, n uint64) {
	s.count[i].Store(n) // before the state that makes it count
	s.state[i].Store(st)
}

// Count returns slot i's count (see Idle and Ending).
func (s *Slots) Count(i uint32) uint64 { return s.count[i].Load() }

// Advance moves slot i from one state to another if it is in the first.
func (s *Slots) Advance(i uint32, from, to State) bool { return s.state[i].CompareAndSwap(from, to) }

// Unmap releases the mapping.
func (s *Slots) Unmap() error { return unix.Munmap(s.mem) }
