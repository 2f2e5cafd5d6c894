package httpfront

import (
	"bytes"
	"errors"
	"fmt"
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

// Every body comes back whole, in memory up to spoolMemory, or from the
// first byte in a file when the worker's memory for buffers is taken; the
// budget gets its memory back.
func TestSpoolBodyKeepsEveryByte(t *testing.T) {
	sizes := []int{1, 100, spoolPooled, spoolPooled + 1, spoolMemory - 1, spoolMemory, spoolMemory + 1, 3*spoolMemory + 17}
	seed := byte(0)
	budget, taken := newBufferBudget(DefaultMaxResponseSpool), newBufferBudget(DefaultMaxResponseSpool)
	taken.memory = 0
	for _, n := range sizes {
		for _, tc := range []struct {
			chunked bool
			budget  *bufferBudget
		}{{false, budget}, {true, budget}, {false, taken}} {
			chunked := tc.chunked
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
			body, got, release, err := spoolBody(r, length, tc.budget)
			if err != nil {
				t.Fatalf("%d bytes (chunked %v): %v", n, chunked, err)
			}
			if got != int64(n) {
				t.Errorf("%d bytes (chunked %v): length %d", n, chunked, got)
			}
			_, inFile := body.(*os.File)
			if want := n > spoolMemory || tc.budget == taken; inFile != want {
				t.Errorf("%d bytes (chunked %v, memory %d): in a file %v; want %v", n, chunked, tc.budget.memory, inFile, want)
			}
			read, err := io.ReadAll(body)
			if err != nil || !bytes.Equal(read, want) {
				t.Errorf("%d bytes (chunked %v): read back %d bytes (equal: %v), err %v", n, chunked, len(read), bytes.Equal(read, want), err)
			}
			release()
			if mem, _ := tc.budget.held(); mem != 0 {
				t.Errorf("%d bytes (chunked %v): %d bytes of memory still counted once released", n, chunked, mem)
			}
		}
	}
}

// A body larger than spoolMemory holds its memory only until that part
// is in the file: not while the rest arrives, however slowly.
func TestSpoolBodyFreesItsMemoryWhileTheRestArrives(t *testing.T) {
	budget := newBufferBudget(DefaultMaxResponseSpool)
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, n, release, err := spoolBody(r, 4*spoolMemory, budget)
		if err == nil {
			release()
			if n != 4*spoolMemory {
				err = fmt.Errorf("spooled %d bytes of %d", n, 4*spoolMemory)
			}
		}
		done <- err
	}()
	w.Write(patterned(2*spoolMemory, 1))
	if mem, _ := budget.held(); mem != 0 {
		t.Errorf("half of the body in, the rest to come: %d bytes of memory counted; want none", mem)
	}
	w.Write(patterned(2*spoolMemory, 2))
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSpoolBodyPassesTheBodysError(t *testing.T) {
	cut := errors.New("cut")
	for _, n := range []int{10, spoolMemory + 10} {
		r := io.MultiReader(bytes.NewReader(patterned(n, 1)), iotest.ErrReader(cut))
		if _, _, _, err := spoolBody(r, int64(n)+5, newBufferBudget(DefaultMaxResponseSpool)); !errors.Is(err, cut) {
			t.Errorf("%d bytes then an error: got %v; want the body's error", n, err)
		}
	}
}

// The budget counts what a pooled buffer holds, its class's capacity,
// not the body's length: under one 1 MiB class a thousand bodies of
// 65 KiB held 1 GiB of a budget of 64 MiB.
func TestSpoolBodyCountsTheMemoryItHolds(t *testing.T) {
	budget := newBufferBudget(DefaultMaxResponseSpool)
	budget.memory = 1 << 20
	const n = spoolPooled + 1 // held in a buffer of 128 KiB
	var releases []func()
	for i := range 9 {
		body, _, release, err := spoolBody(bytes.NewReader(patterned(n, byte(i))), n, budget)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
		if _, inFile := body.(*os.File); inFile != (i == 8) {
			t.Errorf("body %d of %d bytes in a file: %v; want the 9th only, 8 × 128 KiB filling 1 MiB", i+1, n, inFile)
		}
		if got, _ := io.ReadAll(body); !bytes.Equal(got, patterned(n, byte(i))) {
			t.Errorf("body %d came back otherwise", i+1)
		}
	}
	if mem, _ := budget.held(); mem != 8*128<<10 {
		t.Errorf("%d bytes of memory counted; want the 8 buffers' 1 MiB", mem)
	}
	for _, release := range releases {
		release()
	}
	if mem, _ := budget.held(); mem != 0 {
		t.Errorf("%d bytes still counted once released", mem)
	}
}

func TestEveryPooledSizeHasTheSmallestClassThatHoldsIt(t *testing.T) {
	for size, want := range map[int]int{1: -1, spoolPooled: -1, spoolPooled + 1: 0, 128 << 10: 0, 128<<10 + 1: 1,
		512<<10 + 1: 3, spoolMemory + 1: 3} {
		if got := spoolClass(size); got != want {
			t.Errorf("spoolClass(%d) = %d; want %d", size, got, want)
		}
	}
}
