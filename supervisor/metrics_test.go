package supervisor

import (
	"testing"

	"wsgo/handoff"
	"wsgo/internal/promtext"
)

// encoded is what a worker with one counter at 3 sends.
func encoded(t *testing.T) []byte {
	t.Helper()
	reg := promtext.NewRegistry()
	reg.Counter("wsgo_test_total", "A test.").Add(3)
	data, err := promtext.Encode(reg.Gather())
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestAnswersAreJoinedAndLabelled feeds a scrape's pieces, and a late
// piece of an earlier scrape, as the worker's reader would.
func TestAnswersAreJoinedAndLabelled(t *testing.T) {
	w := &worker{id: 3}
	x := &metrics{scrape: 2, answers: map[*worker]*reply{w: {}}, arrived: make(chan *worker, 1)}
	data := encoded(t)
	x.received(w, handoff.Msg{Kind: handoff.MetricsEnd, Slot: 1, Data: []byte("late, of scrape 1")})
	x.received(w, handoff.Msg{Kind: handoff.MetricsPart, Slot: 2, Data: data[:4]})
	x.received(w, handoff.Msg{Kind: handoff.MetricsEnd, Slot: 2, Data: data[4:]})
	if got := <-x.arrived; got != w {
		t.Fatal("the complete answer was not announced")
	}
	families, err := x.answers[w].families(w.id)
	if err != nil {
		t.Fatal(err)
	}
	if len(families) != 1 || len(families[0].Samples) != 1 {
		t.Fatalf("got %v", families)
	}
	m := families[0].Samples[0]
	if l := m.Labels; len(l) != 1 || l[0] != (promtext.Label{Name: "worker", Value: "3"}) {
		t.Errorf("labels %v, want worker=3", l)
	}
	if v := m.Value; v != 3 {
		t.Errorf("value %v, want 3", v)
	}
}

func TestUnusableAnswersAreErrors(t *testing.T) {
	for name, r := range map[string]*reply{
		"none came":  {},
		"unsent":     {unsent: true},
		"too large":  {complete: true, tooLarge: true},
		"unreadable": {complete: true, data: []byte("not JSON")},
	} {
		if _, err := r.families(1); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
