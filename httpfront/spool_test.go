package httpfront

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// patterned is n bytes that differ from one spool to the next (seed), so
// that a recycled buffer showing an earlier body is caught.
func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

func TestSpoolBodyKeepsEveryByte(t *testing.T) {
	sizes := []int{1, 100, spoolPooled, spoolPooled + 1, spoolMemory - 1, spoolMemory, spoolMemory + 1, 3*spoolMemory + 17}
	seed := byte(0)
	for _, n := range sizes {
		for _, chunked := range []bool{false, true} {
			seed++
			want := patterned(n, seed)
			length := int64(n)
			if chunked {
				length = -1
			}
			// OneByteReader on small bodies, HalfReader on the others: reads
			// come in pieces, as from a socket.
			var r io.Reader = iotest.HalfReader(bytes.NewReader(want))
			if n <= 100 {
				r = iotest.OneByteReader(bytes.NewReader(want))
			}
			body, got, release, err := spoolBody(r, length)
			if err != nil {
				t.Fatalf("%d bytes (chunked %v): %v", n, chunked, err)
			}
			if got != int64(n) {
				t.Errorf("%d bytes (chunked %v): length %d", n, chunked, got)
			}
			_, inFile := body.(*os.File)
			if inFile != (n > spoolMemory) {
				t.Errorf("%d bytes (chunked %v): in a file %v; want %v", n, chunked, inFile, n > spoolMemory)
			}
			read, err := io.ReadAll(body)
			if err != nil || !bytes.Equal(read, want) {
				t.Errorf("%d bytes (chunked %v): read back %d bytes (equal: %v), err %v", n, chunked, len(read), bytes.Equal(read, want), err)
			}
			release()
		}
	}
}

func TestSpoolBodyPassesTheBodysError(t *testing.T) {
	cut := errors.New("cut")
	for _, n := range []int{10, spoolMemory + 10} {
		r := io.MultiReader(bytes.NewReader(patterned(n, 1)), iotest.ErrReader(cut))
		if _, _, _, err := spoolBody(r, int64(n)+5); !errors.Is(err, cut) {
			t.Errorf("%d bytes then an error: got %v; want the body's error", n, err)
		}
	}
}
