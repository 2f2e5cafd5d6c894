package pyhost

import (
	"context"
	"testing"

	"wsgo/wsgi/wsgitest"
)

// The host's share of a request, without HTTP: `go test -bench . ./pyhost`,
// or under valgrind --tool=callgrind for instruction counts (see
// docs/PERFORMANCE.md).
func benchmarkServe(b *testing.B, path string) {
	req := request(path, "")
	for b.Loop() {
		var rec wsgitest.Recorder
		if err := host.ServeWSGI(context.Background(), req, &rec); err != nil || rec.Status != 200 {
			b.Fatalf("status %d, err %v", rec.Status, err)
		}
	}
}

// A list: one crossing into C, one output.
func BenchmarkServeList(b *testing.B) { benchmarkServe(b, "/hello") }

// An iterable of one chunk, as Flask and Django return.
func BenchmarkServeOneChunkIterable(b *testing.B) { benchmarkServe(b, "/stream/13") }

// Four chunks: the first through the connection, three written in place.
func BenchmarkServeStream(b *testing.B) { benchmarkServe(b, "/stream/100,100,100,100") }

// readline() of a 64 MiB line: linear in the line's length, about a tenth
// of a second (TestReadlineOfALongLine checks what it returns).
func BenchmarkReadlineOfALongLine(b *testing.B) {
	for b.Loop() {
		if got := readLongLine(64 << 20); got != "67108864 <nil>" {
			b.Fatalf("got %s", got)
		}
	}
}
