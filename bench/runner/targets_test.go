package main

import (
	"strings"
	"testing"
	"time"
)

// benchWith is a bench whose rounds measured these req/s.
func benchWith(rps map[runCase][]float64) *bench {
	b := &bench{options: options{threads: 16, procs: []int{1}, workloads: workloads, rounds: 1},
		results: map[runCase][]sample{}}
	for c, xs := range rps {
		for _, x := range xs {
			b.results[c] = append(b.results[c], sample{wrk: wrkResult{requests: int64(x), duration: time.Second}})
		}
	}
	return b
}

func TestAtLeast(t *testing.T) {
	b := benchWith(map[runCase][]float64{
		{"hello", wsgoName, 1, 16, false}:   {5800, 6000, 6100},
		{"hello", ceilingName, 1, 1, false}: {10000, 9000, 11000},
	})
	if got, want := b.atLeast("hello", wsgoName, ceilingName, layout{procs: 1}, 0.5),
		"hello, 1 process: wsgo / ceiling = 0.60 (target ≥ 0.50) PASS"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got, want := b.atLeast("hello", wsgoName, ceilingName, layout{procs: 1}, 0.75),
		"hello, 1 process: wsgo / ceiling = 0.60 (target ≥ 0.75) MISS (20% short)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := b.atLeast("hello", wsgoName, "uwsgi", layout{procs: 1}, 1.5); !strings.HasSuffix(got, "not measured (no figures for hello uwsgi 1×16)") {
		t.Errorf("without uwsgi's figures: %q, want not measured", got)
	}
}

func TestAtLeastBestPeerPicksTheFastestPeer(t *testing.T) {
	b := benchWith(map[runCase][]float64{
		{"flask", wsgoName, 1, 16, false}:           {3000},
		{"flask", "gunicorn-sync", 1, 1, false}:     {1000},
		{"flask", "uwsgi", 1, 16, false}:            {2000},
		{"flask", "gunicorn-gthread", 1, 16, false}: {1500},
	})
	want := "flask, 1 process: wsgo / uwsgi (best peer) = 1.50 (target ≥ 1.20) PASS"
	if got := b.atLeastBestPeer("flask", layout{procs: 1}, nil, 1.2); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestIdleTargetCountsErrors(t *testing.T) {
	b := benchWith(map[runCase][]float64{
		{"hello", wsgoName, 1, 16, false}: {1000},
		{"idle", wsgoName, 1, 16, false}:  {950},
	})
	b.idle = 2000
	if got := b.idleTarget(1); !strings.HasSuffix(got, "0 errors (target 0) PASS") {
		t.Errorf("no errors, 5%% drop: %q, want PASS", got)
	}
	b.results[runCase{"idle", wsgoName, 1, 16, false}][0].wrk.errors = 3
	if got := b.idleTarget(1); !strings.HasSuffix(got, "3 errors (target 0) MISS") {
		t.Errorf("3 errors: %q, want MISS", got)
	}
}

func TestP99TargetComparesThePacedRuns(t *testing.T) {
	b := benchWith(map[runCase][]float64{{"hello", wsgoName, 1, 16, false}: {9000}})
	p99 := func(ms ...float64) []sample {
		var runs []sample
		for _, m := range ms {
			runs = append(runs, sample{wrk: wrkResult{p99: time.Duration(m * float64(time.Millisecond))}})
		}
		return runs
	}
	b.offered = map[pacedGroup]float64{{"hello", 1}: 2500}
	b.paced = map[runCase][]sample{
		{"hello", wsgoName, 1, 16, false}:           p99(2, 9, 1.5), // the median, not one run
		{"hello", "uwsgi", 1, 16, false}:            p99(3),
		{"hello", "gunicorn-gthread", 1, 16, false}: p99(0.4, 2.5, 2.6),
		{"hello", ceilingName, 1, 1, false}:         p99(0.5), // not a peer: no Python
	}
	want := "p99 hello, 1 process, at 2,500 req/s: wsgo 2.00 ms, lowest peer gunicorn-gthread 2.50 ms (target: no higher) PASS"
	if got := b.p99Target("hello", 1); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	b.paced[runCase{"hello", "uwsgi", 1, 16, false}] = p99(1.5)
	want = "p99 hello, 1 process, at 2,500 req/s: wsgo 2.00 ms, lowest peer uwsgi 1.50 ms (target: no higher) MISS (0.50 ms higher)"
	if got := b.p99Target("hello", 1); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
