package handoff

import (
	"os"
	"testing"
)

// newTable makes a table of shared memory with newIt (NewSlots, NewBoard),
// unmapped and its file closed at the test's end; the file maps it again,
// as a worker does.
func newTable[T interface{ Unmap() error }](t *testing.T, newIt func() (T, *os.File, error)) (T, *os.File) {
	t.Helper()
	table, f, err := newIt()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		table.Unmap()
		f.Close()
	})
	return table, f
}
