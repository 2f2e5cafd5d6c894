package main

import (
	"strings"
	"testing"
	"time"
)

// withCPU sets the CPU time of every round of c so that it spends cpuUs µs
// per request.
func withCPU(b *bench, c runCase, cpuUs float64) {
	for i := range b.results[c] {
		s := &b.results[c][i]
		s.cpu = time.Duration(cpuUs*float64(s.wrk.requests)) * time.Microsecond
	}
}

// wantTargets checks that issue 13's targets hold each line.
func wantTargets(t *testing.T, b *bench, lines ...string) {
	t.Helper()
	got := strings.Join(b.issue13Targets(), "\n")
	for _, want := range lines {
		if !strings.Contains(got, want) {
			t.Errorf("issue 13's targets lack %q:\n%s", want, got)
		}
	}
}

func pinnedBench(rps map[runCase][]float64) *bench {
	b := benchWith(rps)
	b.pin = pinning{server: []int{0}, wrk: []int{1}}
	return b
}

func TestOneCoreTargetTakesTheBestOfItsPeers(t *testing.T) {
	b := pinnedBench(map[runCase][]float64{
		{"flask", wsgoName, 1, 16, true}:           {12000},
		{"flask", "uwsgi", 1, 16, true}:            {9000},
		{"flask", "uwsgi-1t", 1, 1, true}:          {10000},
		{"flask", "gunicorn-sync", 1, 1, true}:     {7000},
		{"flask", modWSGIName, 1, 16, true}:        {5000},
		{"flask", "gunicorn-gthread", 1, 16, true}: {20000}, // not one of issue 13's one-core peers
		{"flask", "uwsgi-1t", 1, 1, false}:         {30000}, // not pinned
	})
	want := "flask, 1 process pinned: wsgo / uwsgi-1t (best of uwsgi, uwsgi-1t, gunicorn-sync, mod_wsgi) = 1.20 (target ≥ 1.15) PASS"
	if got := b.atLeastBestPeer("flask", layout{1, true}, oneCorePeers, 1.15); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	wantTargets(t, b,
		"flask, 1 process pinned: wsgo / uwsgi-1t (best of uwsgi, uwsgi-1t, gunicorn-sync, mod_wsgi) = 1.20 (target ≥ 1.15) PASS",
		"django, 1 process pinned: wsgo / best peer (best of uwsgi, uwsgi-1t, gunicorn-sync, mod_wsgi): not measured",
		"two cores, 2 processes: not measured (run with -processes 1,2)",
	)
}

func TestOneCoreTargetsNeedPin(t *testing.T) {
	b := benchWith(map[runCase][]float64{{"hello", wsgoName, 1, 16, false}: {9000}})
	if lines := b.issue13Targets(); lines[0] != "one core, pinned: not measured (run with -pin)" {
		t.Errorf("without -pin: %q", lines[0])
	}
}

func TestHelloOneCoreAgainstUWSGIAndTheCeiling(t *testing.T) {
	b := pinnedBench(map[runCase][]float64{
		{"hello", wsgoName, 1, 16, true}:       {40000},
		{"hello", "uwsgi", 1, 16, true}:        {25500},
		{"hello", "uwsgi-1t", 1, 1, true}:      {25000},
		{"hello", ceilingName, 1, 1, true}:     {100000},
		{"hello", ceilingName, 1, 1, false}:    {50000}, // unpinned: not the one compared
		{"hello", "gunicorn-sync", 1, 1, true}: {60000}, // not a uWSGI
	})
	wantTargets(t, b,
		"hello, 1 process pinned: wsgo / uwsgi (best of uwsgi, uwsgi-1t) = 1.57 (target ≥ 2.00) MISS (22% short)",
		"hello, 1 process pinned: wsgo / ceiling = 0.40 (target ≥ 0.60) MISS (33% short)",
	)
}

func TestThreadCliffOnOneCoreAndOnTwo(t *testing.T) {
	b := pinnedBench(map[runCase][]float64{
		{"django", wsgoName, 1, 16, true}:   {970},
		{"django", wsgoName, 1, 1, true}:    {1000},
		{"django", wsgoName, 1, 16, false}:  {900},
		{"django", wsgoName, 1, 1, false}:   {1000},
		{"sleep50", wsgoName, 1, 16, false}: {300},
		{"sleep50", wsgoName, 1, 1, false}:  {20},
	})
	wantTargets(t, b,
		"django, 1 process pinned: wsgo 16 threads / 1 thread = 0.97 (target ≥ 0.97) PASS",
		"django, 1 process: wsgo 16 threads / 1 thread = 0.90 (target ≥ 0.97) MISS (7% short)",
		"sleep50, 1 process: wsgo 16 threads / 1 thread = 15.00 (target ≥ 12.00) PASS",
		"sleep50, 1 process pinned: wsgo 16 threads / 1 thread: not measured (no figures for sleep50 wsgo 1×16 pinned)",
	)
}

func TestTwoProcessTargetsTakeEveryPeer(t *testing.T) {
	b := benchWith(map[runCase][]float64{
		{"django", wsgoName, 2, 16, false}:           {2400},
		{"django", "gunicorn-sync", 2, 1, false}:     {2000},
		{"django", "gunicorn-gthread", 2, 16, false}: {2100},
		{"stream", wsgoName, 2, 16, false}:           {200},
		{"stream", modWSGIName, 2, 16, false}:        {210},
	})
	b.procs = []int{1, 2}
	wantTargets(t, b,
		"django, 2 processes: wsgo / gunicorn-gthread (best peer) = 1.14 (target ≥ 1.20) MISS (5% short)",
		"stream, 2 processes: wsgo / mod_wsgi (best peer) = 0.95 (target ≥ 1.00) MISS (5% short)",
	)
}

func TestCPUTargetAgainstTheLowestPeer(t *testing.T) {
	b := benchWith(map[runCase][]float64{
		{"flask", wsgoName, 1, 16, false}:       {1000},
		{"flask", "uwsgi", 1, 16, false}:        {1000},
		{"flask", "gunicorn-sync", 1, 1, false}: {1000},
		{"flask", ceilingName, 1, 1, false}:     {1000}, // no Python: not a peer
	})
	withCPU(b, runCase{"flask", wsgoName, 1, 16, false}, 92)
	withCPU(b, runCase{"flask", "uwsgi", 1, 16, false}, 80)
	withCPU(b, runCase{"flask", "gunicorn-sync", 1, 1, false}, 120)
	withCPU(b, runCase{"flask", ceilingName, 1, 1, false}, 10)
	want := "CPU µs/req flask, 1 process: wsgo 92.0 / lowest peer uwsgi 80.0 = 1.15 (target ≤ 1.00) MISS (15% over)"
	if got := b.cpuTarget("flask", layout{procs: 1}); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	withCPU(b, runCase{"flask", wsgoName, 1, 16, false}, 80)
	if got := b.cpuTarget("flask", layout{procs: 1}); !strings.HasSuffix(got, "= 1.00 (target ≤ 1.00) PASS") {
		t.Errorf("equal to the lowest peer: %q, want PASS", got)
	}
}

func TestHostTargetSubtractsTheAppsOwnCost(t *testing.T) {
	b := benchWith(map[runCase][]float64{
		{"flask", wsgoName, 1, 16, false}:  {1000},
		{"flask", "uwsgi", 1, 16, false}:   {1000},
		{"flask", "uwsgi-1t", 1, 1, false}: {1000},
	})
	b.appCosts = map[string]appCost{"flask_json": {calls: 1000, cpu: 45 * time.Millisecond}} // 45 µs a call
	withCPU(b, runCase{"flask", wsgoName, 1, 16, false}, 60)
	withCPU(b, runCase{"flask", "uwsgi", 1, 16, false}, 90)
	withCPU(b, runCase{"flask", "uwsgi-1t", 1, 1, false}, 85)
	// wsgo adds 15 µs, the better uWSGI 40: 0.375.
	want := "host overhead flask, 1 process: wsgo 15.0 µs / uwsgi-1t 40.0 µs = 0.38 (target ≤ 0.50) PASS"
	if got := b.hostTarget("flask", layout{procs: 1}); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	withCPU(b, runCase{"flask", wsgoName, 1, 16, false}, 71)
	if got := b.hostTarget("flask", layout{procs: 1}); !strings.HasSuffix(got, "= 0.65 (target ≤ 0.50) MISS (30% over)") {
		t.Errorf("wsgo adding 26 µs: %q, want MISS", got)
	}
	withCPU(b, runCase{"flask", "uwsgi-1t", 1, 1, false}, 40)
	if got := b.hostTarget("flask", layout{procs: 1}); !strings.Contains(got, "not measured") {
		t.Errorf("uWSGI below the app's own cost: %q, want not measured", got)
	}
	b.appCosts = map[string]appCost{}
	if got := b.hostTarget("flask", layout{procs: 1}); !strings.Contains(got, "not measured") {
		t.Errorf("without the app's cost: %q, want not measured", got)
	}
}

func TestMemoryTargets(t *testing.T) {
	b := benchWith(nil)
	b.memory = map[runCase]memory{
		{"hello", wsgoName, 1, 16, false}: {
			idle:   processMemory{master: 12 * mib, worker: 30 * mib},
			loaded: processMemory{master: 16 * mib, worker: 33 * mib}},
		{"hello", "uwsgi", 1, 16, false}: {
			idle:   processMemory{master: 15 * mib, worker: 24 * mib},
			loaded: processMemory{master: 15 * mib, worker: 27 * mib}},
	}
	lay := layout{procs: 1}
	if got, want := b.masterTarget(lay), "master RSS, hello, 1 process: wsgo 12.0 MiB idle, 16.0 MiB after (target ≤ 15 MiB) MISS (1.00 MiB over)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got, want := b.workerTarget(lay), "worker RSS, hello, 1 process: wsgo − uwsgi = 6.00 MiB idle, 6.00 MiB after (target ≤ 8 MiB) PASS"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	m := b.memory[runCase{"hello", wsgoName, 1, 16, false}]
	m.idle.worker = 33 * mib
	b.memory[runCase{"hello", wsgoName, 1, 16, false}] = m
	if got := b.workerTarget(lay); !strings.HasSuffix(got, "9.00 MiB idle, 6.00 MiB after (target ≤ 8 MiB) MISS (1.00 MiB over)") {
		t.Errorf("9 MiB over uWSGI idle: %q, want MISS", got)
	}
}
