package supervisor

import (
	"testing"

	"wsgo/handoff"
)

// Numbers (slots, seats) run out at their limit, and come back for reuse.
func TestNumbersAreReusedAndBounded(t *testing.T) {
	n := numbers[uint32]{limit: 2}
	a, okA := n.take()
	b, okB := n.take()
	if _, ok := n.take(); ok || !okA || !okB || a != 0 || b != 1 {
		t.Fatalf("took %d %v, %d %v, then one more; want 0 and 1, then none", a, okA, b, okB)
	}
	n.give(a)
	if c, ok := n.take(); !ok || c != a {
		t.Errorf("after giving %d back, took %d %v; want it again", a, c, ok)
	}
}

// A new connection goes to the worker with the least load (requests
// running, connections lent not yet heard from), then to the one holding
// fewest connections; with a worker off the board, whose load is unknown,
// to the one holding fewest connections.
func TestLeastBusyWorker(t *testing.T) {
	board, f, err := handoff.NewBoard()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer board.Unmap()
	holding := func(seat, conns int) *worker {
		w := &worker{seat: seat, conns: map[uint32]heldConn{}}
		for i := range conns {
			w.conns[uint32(i)] = heldConn{}
		}
		return w
	}
	busy, idle, idleFewer := holding(0, 1), holding(1, 3), holding(2, 2)
	board.Seat(0).Begin()
	if got := leastBusy([]*worker{busy, idle}, board); got != idle {
		t.Error("a worker running a request got the connection over an idle one")
	}
	if got := leastBusy([]*worker{busy, idle, idleFewer}, board); got != idleFewer {
		t.Error("of two idle workers, the one holding more connections got it")
	}
	offBoard := holding(-1, 2)
	if got := leastBusy([]*worker{busy, idle, offBoard}, board); got != busy {
		t.Error("with a worker off the board, the one holding fewest connections did not get it")
	}
	board.Lent(2) // idleFewer has a connection yet to speak: a load of 1, as busy's
	if got := leastBusy([]*worker{busy, idle, idleFewer}, board); got != idle {
		t.Error("a worker with a lent connection yet to speak got the next over an idle one")
	}
	if got := leastBusy([]*worker{busy, idleFewer}, board); got != busy {
		t.Error("of two workers with a load of 1, the one holding more connections got it")
	}
	if leastBusy(nil, board) != nil {
		t.Error("no worker, yet one was chosen")
	}
}
