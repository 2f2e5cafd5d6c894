package main

import (
	"fmt"
	"slices"
)

// The peers issue 13 measures wsgo against on one core, and its uWSGI.
var (
	oneCorePeers = []string{"uwsgi", "uwsgi-1t", "gunicorn-sync", modWSGIName}
	uwsgiPeers   = []string{"uwsgi", "uwsgi-1t"}
	frameworks   = []string{"hello", "flask", "django"}
)

// Memory bounds of issue 13, MiB.
const (
	masterRSSMax       = 15
	workerOverUWSGIMax = 8
)

// issue13Targets checks issue 13's targets (performance per core): a line
// per target, ending PASS or MISS.
func (b *bench) issue13Targets() []string {
	var out []string
	add := func(w, line string) {
		if b.ran(w) {
			out = append(out, line)
		}
	}
	one := layout{procs: 1}
	if b.pin.on() {
		pinned := layout{procs: len(b.pin.server), pinned: true}
		add("flask", b.atLeastBestPeer("flask", pinned, oneCorePeers, 1.15))
		add("django", b.atLeastBestPeer("django", pinned, oneCorePeers, 1.10))
		add("hello", b.atLeastBestPeer("hello", pinned, uwsgiPeers, 2.0))
		add("hello", b.atLeast("hello", wsgoName, ceilingName, pinned, 0.6))
		if pinned.procs == 1 {
			b.threadCliffTargets(pinned, add)
		}
	} else {
		out = append(out, "one core, pinned: not measured (run with -pin)")
	}
	if slices.Contains(b.procs, 1) {
		b.threadCliffTargets(one, add)
	}
	if slices.Contains(b.procs, 2) {
		two := layout{procs: 2}
		for _, w := range frameworks {
			add(w, b.atLeastBestPeer(w, two, nil, 1.2))
		}
		add("stream", b.atLeastBestPeer("stream", two, nil, 1.0))
		add("file", b.atLeastBestPeer("file", two, nil, 1.0))
		for _, w := range frameworks {
			add(w, b.p99Target(w, 2))
		}
	} else {
		out = append(out, "two cores, 2 processes: not measured (run with -processes 1,2)")
	}
	for _, procs := range b.procs {
		lay := layout{procs: procs}
		for _, w := range b.workloads {
			add(w.name, b.cpuTarget(w.name, lay))
		}
		for _, w := range frameworks {
			add(w, b.hostTarget(w, lay))
		}
		add("hello", b.masterTarget(lay))
		add("hello", b.workerTarget(lay))
	}
	return out
}

// threadCliffTargets: in a 1-process layout, the -threads count within 3%
// of 1 thread where Python is busy, and scaling where it sleeps.
func (b *bench) threadCliffTargets(lay layout, add func(w, line string)) {
	if b.threads == 1 {
		return
	}
	for _, w := range frameworks {
		add(w, b.threadTarget(w, lay, 0.97))
	}
	add("sleep50", b.threadTarget("sleep50", lay, 12))
}

// cpuTarget: wsgo's CPU µs per request no more than the lowest peer's.
func (b *bench) cpuTarget(w string, lay layout) string {
	what := fmt.Sprintf("CPU µs/req %s", where(w, lay))
	mine, ok := b.figures(b.caseFor(w, wsgoName, lay))
	peer, low := "", 0.0
	for _, name := range peers(nil) {
		if f, ok := b.figures(b.caseFor(w, name, lay)); ok && (peer == "" || f.cpuPerReq < low) {
			peer, low = name, f.cpuPerReq
		}
	}
	if !ok || peer == "" || low <= 0 {
		return b.notMeasured(what, b.caseFor(w, wsgoName, lay))
	}
	got := mine.cpuPerReq / low
	return fmt.Sprintf("%s: wsgo %s / lowest peer %s %s = %.2f (target ≤ 1.00) %s",
		what, num(mine.cpuPerReq), peer, num(low), got, verdictAtMost(got, 1))
}

// hostTarget: wsgo's host overhead (CPU per request less the app's own
// cost) at most half of the lower of uWSGI's two.
func (b *bench) hostTarget(w string, lay layout) string {
	what := fmt.Sprintf("host overhead %s", where(w, lay))
	mine, ok := b.hostOverhead(b.caseFor(w, wsgoName, lay))
	peer, low := "", 0.0
	for _, name := range uwsgiPeers {
		if h, ok := b.hostOverhead(b.caseFor(w, name, lay)); ok && (peer == "" || h < low) {
			peer, low = name, h
		}
	}
	if !ok || peer == "" {
		return b.notMeasured(what, b.caseFor(w, wsgoName, lay), b.caseFor(w, "uwsgi", lay))
	}
	if low <= 0 {
		return fmt.Sprintf("%s: not measured (%s's is %s µs: the app's own cost is not below its CPU per request)", what, peer, num(low))
	}
	got := mine / low
	return fmt.Sprintf("%s: wsgo %s µs / %s %s µs = %.2f (target ≤ 0.50) %s", what, num(mine), peer, num(low), got, verdictAtMost(got, 0.5))
}

// masterTarget: wsgo's master at most 15 MiB resident, idle and after the
// hello world rounds.
func (b *bench) masterTarget(lay layout) string {
	what := fmt.Sprintf("master RSS, %s", where("hello", lay))
	c := b.caseFor("hello", wsgoName, lay)
	m, ok := b.memory[c]
	if !ok || m.idle.master == 0 || m.loaded.master == 0 {
		return b.notMeasured(what, c)
	}
	worst := float64(max(m.idle.master, m.loaded.master)) / mib
	v := "PASS"
	if worst > masterRSSMax {
		v = fmt.Sprintf("MISS (%s MiB over)", num(worst-masterRSSMax))
	}
	return fmt.Sprintf("%s: wsgo %s MiB idle, %s MiB after (target ≤ %d MiB) %s",
		what, num(float64(m.idle.master)/mib), num(float64(m.loaded.master)/mib), masterRSSMax, v)
}

// workerTarget: wsgo's largest worker at most 8 MiB above uWSGI's (the
// same threads), idle and after the hello world rounds.
func (b *bench) workerTarget(lay layout) string {
	what := fmt.Sprintf("worker RSS, %s: wsgo − uwsgi", where("hello", lay))
	mineCase, peerCase := b.caseFor("hello", wsgoName, lay), b.caseFor("hello", "uwsgi", lay)
	mine, okM := b.memory[mineCase]
	peer, okP := b.memory[peerCase]
	if !okM || !okP || mine.loaded.worker == 0 || peer.loaded.worker == 0 {
		return b.notMeasured(what, mineCase, peerCase)
	}
	idle := float64(mine.idle.worker-peer.idle.worker) / mib
	loaded := float64(mine.loaded.worker-peer.loaded.worker) / mib
	v := "PASS"
	if worst := max(idle, loaded); worst > workerOverUWSGIMax {
		v = fmt.Sprintf("MISS (%s MiB over)", num(worst-workerOverUWSGIMax))
	}
	return fmt.Sprintf("%s = %s MiB idle, %s MiB after (target ≤ %d MiB) %s", what, num(idle), num(loaded), workerOverUWSGIMax, v)
}
