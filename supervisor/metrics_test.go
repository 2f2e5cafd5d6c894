package supervisor

import (
	"bytes"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"wsgo/handoff"
)

// encoded is what a worker with one counter at 3 sends.
func encoded(t *testing.T) []byte {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "wsgo_test_total", Help: "A test."})
	reg.MustRegister(c)
	c.Add(3)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
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
	if len(families) != 1 || len(families[0].Metric) != 1 {
		t.Fatalf("got %v", families)
	}
	m := families[0].Metric[0]
	if l := m.Label; len(l) != 1 || l[0].GetName() != "worker" || l[0].GetValue() != "3" {
		t.Errorf("labels %v, want worker=3", l)
	}
	if v := m.Counter.GetValue(); v != 3 {
		t.Errorf("value %v, want 3", v)
	}
}

func TestUnusableAnswersAreErrors(t *testing.T) {
	for name, r := range map[string]*reply{
		"none came":  {},
		"unsent":     {unsent: true},
		"too large":  {complete: true, tooLarge: true},
		"unreadable": {complete: true, data: []byte("\x05not a protobuf")},
	} {
		if _, err := r.families(1); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
