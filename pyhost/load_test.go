package pyhost

import "testing"

type counter struct{ n int32 }

func (c *counter) Add(n int32) { c.n += n }

func TestLoadShareCountsWhatOutlivesServeWSGI(t *testing.T) {
	c := &counter{}
	l := loadShare{counter: c, threads: 2}
	steps := []struct {
		name   string
		change func()
		want   int32
	}{
		{"a request runs on past its timeout", func() { l.abandon(1) }, 1},
		{"its thread keeps the GIL in C", func() { l.gilHeld(1) }, 1 + stalledLoad},
		{"a second watcher sees it too", func() { l.gilHeld(1) }, 1 + stalledLoad},
		{"one sees it free", func() { l.gilHeld(-1) }, 1 + stalledLoad},
		{"the other too", func() { l.gilHeld(-1) }, 1},
		{"a second request holds the last thread", func() { l.abandon(1) }, 2 + stalledLoad},
		{"one ends", func() { l.abandon(-1) }, 1},
		{"the other ends", func() { l.abandon(-1) }, 0},
	}
	for _, s := range steps {
		s.change()
		if c.n != s.want {
			t.Fatalf("%s: load %d; want %d", s.name, c.n, s.want)
		}
	}
}
