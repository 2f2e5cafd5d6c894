package handoff

import (
	"os"
	"strings"
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

// requestBytes is one slot's room for the request it runs (SetRequest):
// a length word, then the request's id, method, target and protocol,
// cut to fit.
const requestBytes = 256

// slotBytes is one slot's share of the table: its state, its count and
// its request.
const slotBytes = 4 + 8 + requestBytes

// Slots is the state table of one worker's connections, in shared memory.
type Slots struct {
	mem     []byte
	state   []atomic.Uint32
	count   []atomic.Uint64 // see Idle and Ending
	request []byte          // requestBytes per slot
}

// Request names the request a connection runs, as the worker recorded
// it; all "" when it recorded none.
type Request struct {
	ID, Method, Target, Proto string
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
	return &Slots{mem: mem, state: state, count: count, request: mem[NumSlots*12:]}, nil
}

// requestLen is slot i's request length word, the first of its record
// (records start at a multiple of requestBytes past a page: aligned).
func (s *Slots) requestLen(i uint32) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&s.request[int(i)*requestBytes]))
}

// SetRequest records the request slot i runs, for the master to name if
// the worker dies under it (its 502 and access log line). The length is
// cleared first and set last: a worker that dies while writing leaves
// no request rather than half of one.
func (s *Slots) SetRequest(i uint32, r Request) {
	n := s.requestLen(i)
	n.Store(0)
	rec := s.request[int(i)*requestBytes+4 : int(i+1)*requestBytes]
	p := 0
	for j, part := range [...]string{r.ID, r.Method, r.Target, r.Proto} {
		if j > 0 && p < len(rec) {
			rec[p] = '\n'
			p++
		}
		p += copy(rec[p:], part)
	}
	n.Store(uint32(p))
}

// ForgetRequest clears slot i's request: its connection waits for
// another, or is lent anew.
func (s *Slots) ForgetRequest(i uint32) { s.requestLen(i).Store(0) }

// GetRequest returns what SetRequest last recorded for slot i.
func (s *Slots) GetRequest(i uint32) Request {
	n := s.requestLen(i).Load()
	rec := s.request[int(i)*requestBytes+4:][:min(int(n), requestBytes-4)]
	var parts [4]string
	for j, part := range strings.SplitN(string(rec), "\n", 4) {
		parts[j] = part
	}
	return Request{ID: parts[0], Method: parts[1], Target: parts[2], Proto: parts[3]}
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
