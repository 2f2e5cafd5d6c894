package handoff

import (
	"strings"
	"testing"
)

// A slot's request is what was last recorded, cut to its room, and none
// once forgotten: a lent connection's next request, or the slot's next
// connection, never shows the last one's.
func TestSlotRequests(t *testing.T) {
	s, f, err := NewSlots()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer s.Unmap()
	worker, err := MapSlots(f) // the worker's mapping of the same table
	if err != nil {
		t.Fatal(err)
	}
	defer worker.Unmap()

	if got := s.GetRequest(7); got != (Request{}) {
		t.Errorf("a fresh slot names %+v; want none", got)
	}
	want := Request{ID: "abc", Method: "POST", Target: "/crash?x=1", Proto: "HTTP/1.1"}
	worker.SetRequest(7, want)
	if got := s.GetRequest(7); got != want {
		t.Errorf("recorded %+v, read %+v", want, got)
	}
	if got := s.GetRequest(8); got != (Request{}) {
		t.Errorf("the next slot names %+v; want none", got)
	}
	long := Request{ID: strings.Repeat("i", 128), Method: "GET", Target: "/" + strings.Repeat("t", 500), Proto: "HTTP/1.1"}
	worker.SetRequest(NumSlots-1, long)
	got := s.GetRequest(NumSlots - 1)
	if got.ID != long.ID || got.Method != "GET" || !strings.HasPrefix(long.Target, got.Target) ||
		len(got.ID)+len(got.Method)+len(got.Target)+2 != requestBytes-4 || got.Proto != "" {
		t.Errorf("a long request read back as %+v; want it cut to the slot's %d bytes", got, requestBytes)
	}
	worker.ForgetRequest(7)
	if got := s.GetRequest(7); got != (Request{}) {
		t.Errorf("a forgotten slot names %+v; want none", got)
	}
}
