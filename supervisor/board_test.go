package supervisor

import "testing"

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
