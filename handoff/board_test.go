package handoff

import (
	"testing"

	"wsgo/httpfront"
)

var _ httpfront.RequestCounter = (*Seat)(nil)

// What a worker counts on its seat the master reads on the board, seat by
// seat, and a reused seat starts from nothing.
func TestBoardCountsEachWorkersRequests(t *testing.T) {
	b, f, err := NewBoard()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer b.Unmap()
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
	if b.Running(1) != 1 || b.Running(2) != 1 || b.Running(0) != 0 {
		t.Errorf("running by seat = %d %d %d; want 0 1 1", b.Running(0), b.Running(1), b.Running(2))
	}
	b.Clear(2) // its worker was reaped mid-request, and the seat reused
	if b.Running(2) != 0 {
		t.Errorf("a reused seat kept a count of %d", b.Running(2))
	}
}
