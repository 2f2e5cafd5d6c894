package handoff

import (
	"testing"

	"wsgo/httpfront"
)

var _ httpfront.RequestCounter = (*Seat)(nil)

// What a worker counts on its seat the master reads on the board, seat by
// seat, with the connections lent and not yet heard from, and a reused
// seat starts from nothing.
func TestBoardCountsEachWorkersLoad(t *testing.T) {
	b, f := newTable(t, NewBoard)
	inWorker, err := MapBoard(f) // as a worker maps it
	if err != nil {
		t.Fatal(err)
	}
	defer inWorker.Unmap()
	one, two := inWorker.Seat(1), inWorker.Seat(2)
	one.Begin()
	one.Begin()
	two.Begin()
	one.End()
	b.Lent(0)
	b.Lent(2)
	b.Lent(2)
	two.Heard()
	if b.Load(0) != 1 || b.Load(1) != 1 || b.Load(2) != 2 {
		t.Errorf("load by seat = %d %d %d; want 1 1 2", b.Load(0), b.Load(1), b.Load(2))
	}
	b.Clear(2) // its worker was reaped mid-request, and the seat reused
	if b.Load(2) != 0 {
		t.Errorf("a reused seat kept a load of %d", b.Load(2))
	}
}
