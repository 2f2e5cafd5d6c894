package httpfront

import (
	"fmt"
	"slices"
	"testing"
)

// A frameWalker sees the same frames, and a GOAWAY's code, however the
// stream is cut; an empty frame that ends a read (here, the CONTINUATION
// that ends a header block) is seen with that read, not with the next.
func TestFrameWalkerSeesFramesInAnyPieces(t *testing.T) {
	frame := func(typ, flags byte, payload []byte) []byte {
		length := len(payload)
		return append([]byte{byte(length >> 16), byte(length >> 8), byte(length), typ, flags, 0, 0, 0, 1}, payload...)
	}
	goAway := []byte{0, 0, 0, 3, 0, 0, 0, 0xb, 'c', 'a', 'l', 'm'} // last stream 3, ENHANCE_YOUR_CALM
	stream := slices.Concat([]byte(h2Preface),
		frame(0x0, 0x1, make([]byte, 3)),
		frame(frameHeaders, 0, make([]byte, 5)),
		frame(frameContinuation, 0, make([]byte, 0x10203)),
		frame(frameGoAway, 0, goAway),
		frame(frameContinuation, flagEndHeaders, nil))
	want := []string{"0/1", "0/1 ended", "1/0", "1/0 ended", "9/0", "9/0 ended", "7/0 code b", "7/0 code b ended", "9/4", "9/4 ended"}
	for _, piece := range []int{1, 2, 9, 10, 4096, len(stream)} {
		t.Run(fmt.Sprintf("in pieces of %d bytes", piece), func(t *testing.T) {
			w := frameWalker{skip: len(h2Preface)}
			var got []string
			on := func(f frameHead, ended bool) {
				e := fmt.Sprintf("%x/%x", f.typ, f.flags)
				if f.code != 0 {
					e += fmt.Sprintf(" code %x", f.code)
				}
				if ended {
					e += " ended"
				}
				got = append(got, e)
			}
			for p := range slices.Chunk(stream, piece) {
				w.walk(p, on)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %q; want %q", got, want)
			}
		})
	}
}
