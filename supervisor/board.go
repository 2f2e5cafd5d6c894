package supervisor

import (
	"os"

	"wsgo/handoff"
)

// seats are the places on the board (handoff.Board) where workers count
// the requests they run: given to each worker as it starts, taken back
// when it is reaped. Master.mu guards them.
type seats struct {
	board *handoff.Board
	file  *os.File // the board's, descriptor 6 of each worker
	nums  numbers[int]
}

func newSeats() (*seats, error) {
	b, f, err := handoff.NewBoard()
	if err != nil {
		return nil, err
	}
	return &seats{board: b, file: f, nums: numbers[int]{limit: handoff.BoardSize}}, nil
}

// take gives a new worker a seat, or -1 when the board is full (that
// worker serves all the same, off the board).
func (s *seats) take() int {
	i, ok := s.nums.take()
	if !ok {
		return -1
	}
	s.board.Clear(i)
	return i
}

// give takes seat i back from a reaped worker.
func (s *seats) give(i int) {
	if i >= 0 {
		s.nums.give(i)
	}
}

func (s *seats) close() {
	s.board.Unmap()
	s.file.Close()
}

// numbers hands out the numbers below limit, those given back first.
type numbers[T ~int | ~uint32] struct {
	free  []T // given back, to reuse before fresh ones
	next  T   // fresh numbers start here
	limit T
}

func (n *numbers[T]) take() (T, bool) {
	switch {
	case len(n.free) > 0:
		i := n.free[len(n.free)-1]
		n.free = n.free[:len(n.free)-1]
		return i, true
	case n.next < n.limit:
		n.next++
		return n.next - 1, true
	}
	return 0, false
}

func (n *numbers[T]) give(i T) { n.free = append(n.free, i) }
