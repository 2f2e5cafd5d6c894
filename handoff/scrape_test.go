package handoff

import (
	"bytes"
	"testing"
)

// pair makes the master's channel and a worker's Link on the other end.
func pair(t *testing.T) (*Channel, *Link) {
	t.Helper()
	master, f, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := Open(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); ch.Close() })
	return master, &Link{ID: 1, ch: ch}
}

// TestScrapeAnswerComesInPieces checks that metrics larger than a packet
// reach the master whole, in order, tagged with the scrape's number.
func TestScrapeAnswerComesInPieces(t *testing.T) {
	master, w := pair(t)
	metrics := bytes.Repeat([]byte("0123456789abcdef"), 3*maxData/16+5) // three packets and a bit
	stopped := make(chan struct{})
	go w.Serve(Orders{Metrics: func() []byte { return metrics }, Stop: func() { close(stopped) }})

	if err := master.Send(Msg{Kind: Scrape, Slot: 42}, -1); err != nil {
		t.Fatal(err)
	}
	var got []byte
	pieces := 0
	for {
		m, fd, err := master.Recv()
		if err != nil || fd >= 0 {
			t.Fatalf("Recv: %v (fd %d)", err, fd)
		}
		if m.Slot != 42 || m.Kind != MetricsPart && m.Kind != MetricsEnd {
			t.Fatalf("got a %q message for scrape %d", m.Kind, m.Slot)
		}
		got = append(got, m.Data...)
		pieces++
		if m.Kind == MetricsEnd {
			break
		}
	}
	if !bytes.Equal(got, metrics) || pieces != 4 {
		t.Errorf("got %d bytes in %d pieces, want %d bytes in 4", len(got), pieces, len(metrics))
	}
	master.Send(Msg{Kind: Stop}, -1)
	<-stopped
}

func TestSendRefusesWhatAPacketCannotHold(t *testing.T) {
	master, _ := pair(t)
	if err := master.Send(Msg{Kind: MetricsEnd, Data: make([]byte, maxData+1)}, -1); err == nil {
		t.Fatal("Send took data over maxData")
	}
	if err := master.Send(Msg{Kind: MetricsEnd, Data: make([]byte, maxData)}, -1); err != nil {
		t.Fatalf("Send of maxData bytes: %v", err)
	}
}
