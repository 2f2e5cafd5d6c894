package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// issue5Targets checks issue 5's targets against this run's medians; a
// line per target and process count, ending PASS or MISS.
func (b *bench) issue5Targets() []string {
	var out []string
	add := func(w, line string) {
		if b.ran(w) {
			out = append(out, line)
		}
	}
	for _, procs := range b.procs {
		lay := layout{procs: procs}
		switch procs {
		case 1:
			add("hello", b.atLeast("hello", wsgoName, ceilingName, lay, 0.50))
			add("hello", b.atLeast("hello", wsgoName, "gunicorn-gthread", lay, 2.0))
		case 2:
			add("hello", b.atLeast("hello", wsgoName, "uwsgi", lay, 1.5))
			add("hello", b.atLeast("hello", wsgoName, "gunicorn-gthread", lay, 2.5))
			add("hello", b.atLeast("hello", wsgoName, ceilingName, lay, 0.65))
		}
		add("flask", b.atLeastBestPeer("flask", lay, nil, 1.2))
		add("django", b.atLeastBestPeer("django", lay, nil, 1.2))
		add("file", b.atLeast("file", wsgoName, ceilingName, lay, 0.90))
		add("stream", b.atLeastBestPeer("stream", lay, nil, 1.5))
		add("idle", b.idleTarget(procs))
	}
	if b.threads > 1 && slices.Contains(b.procs, 1) {
		add("hello", b.threadTarget("hello", layout{procs: 1}, 0.90))
		add("sleep50", b.threadTarget("sleep50", layout{procs: 1}, 12))
	}
	for _, w := range b.workloads {
		for _, procs := range b.procs {
			add(w.name, b.p99Target(w.name, procs))
		}
	}
	for _, procs := range b.procs {
		out = append(out, b.rssTarget(procs))
	}
	return out
}

func (b *bench) ran(w string) bool {
	return slices.ContainsFunc(b.workloads, func(x workload) bool { return x.name == w })
}

// verdict is PASS, or MISS with how far off: measured against a minimum.
func verdict(got, min float64) string {
	if got >= min {
		return "PASS"
	}
	return fmt.Sprintf("MISS (%.0f%% short)", (min-got)/min*100)
}

// verdictAtMost is PASS, or MISS with how far off: against a maximum.
func verdictAtMost(got, max float64) string {
	if got <= max {
		return "PASS"
	}
	return fmt.Sprintf("MISS (%.0f%% over)", (got-max)/max*100)
}

// where names a workload in a table: "hello, 1 process", "hello, 1 process pinned".
func where(w string, lay layout) string {
	s := w + ", " + plural(lay.procs, "process")
	if lay.pinned {
		s += " pinned"
	}
	return s
}

// notMeasured names the first of cases that has no figures.
func (b *bench) notMeasured(what string, cases ...runCase) string {
	for _, c := range cases {
		if _, ok := b.figures(c); !ok {
			return fmt.Sprintf("%s: not measured (no figures for %v)", what, c)
		}
	}
	return what + ": not measured"
}

// atLeast: server a's req/s over server c's in a layout.
func (b *bench) atLeast(w, a, c string, lay layout, min float64) string {
	return b.ratioAtLeast(w, a, c, "", lay, min)
}

// ratioAtLeast is atLeast with a note after c's name.
func (b *bench) ratioAtLeast(w, a, c, note string, lay layout, min float64) string {
	fa, okA := b.figures(b.caseFor(w, a, lay))
	fc, okC := b.figures(b.caseFor(w, c, lay))
	what := fmt.Sprintf("%s: %s / %s%s", where(w, lay), a, c, note)
	if !okA || !okC || fc.rps.median == 0 {
		return b.notMeasured(what, b.caseFor(w, a, lay), b.caseFor(w, c, lay))
	}
	got := fa.rps.median / fc.rps.median
	return fmt.Sprintf("%s = %.2f (target ≥ %.2f) %s", what, got, min, verdict(got, min))
}

// peers are the WSGI servers other than wsgo: those named in among, or
// every one for nil.
func peers(among []string) []string {
	var out []string
	for _, s := range servers {
		if s.python && s.name != wsgoName && (among == nil || slices.Contains(among, s.name)) {
			out = append(out, s.name)
		}
	}
	return out
}

// bestPeer is the peer (of among, or any for nil) with the most req/s on w.
func (b *bench) bestPeer(w string, lay layout, among []string) (string, bool) {
	var name string
	var best float64
	for _, peer := range peers(among) {
		if f, ok := b.figures(b.caseFor(w, peer, lay)); ok && (name == "" || f.rps.median > best) {
			name, best = peer, f.rps.median
		}
	}
	return name, name != ""
}

// atLeastBestPeer: wsgo's req/s over the best peer's (of among, or any).
func (b *bench) atLeastBestPeer(w string, lay layout, among []string, min float64) string {
	note := " (best peer)"
	if among != nil {
		note = " (best of " + strings.Join(among, ", ") + ")"
	}
	peer, ok := b.bestPeer(w, lay, among)
	if !ok {
		return fmt.Sprintf("%s: wsgo / best peer%s: not measured (no peer's figures)", where(w, lay), note)
	}
	return b.ratioAtLeast(w, wsgoName, peer, note, lay, min)
}

func (b *bench) idleTarget(procs int) string {
	what := fmt.Sprintf("idle, %s: wsgo with %d idle connections / without", plural(procs, "process"), b.idle)
	lay := layout{procs: procs}
	idle, okI := b.figures(b.caseFor("idle", wsgoName, lay))
	plain, okP := b.figures(b.caseFor("hello", wsgoName, lay))
	if !okI || !okP || plain.rps.median == 0 {
		return b.notMeasured(what, b.caseFor("idle", wsgoName, lay), b.caseFor("hello", wsgoName, lay))
	}
	got := idle.rps.median / plain.rps.median
	v := verdict(got, 0.90)
	if idle.errors > 0 && v == "PASS" {
		v = "MISS"
	}
	return fmt.Sprintf("%s = %.2f (target ≥ 0.90), %d errors (target 0) %s", what, got, idle.errors, v)
}

// threadTarget: wsgo with -threads threads over wsgo with 1, in a layout
// of 1 process.
func (b *bench) threadTarget(w string, lay layout, min float64) string {
	what := fmt.Sprintf("%s: wsgo %d threads / 1 thread", where(w, lay), b.threads)
	manyCase := b.caseFor(w, wsgoName, lay)
	oneCase := manyCase
	oneCase.threads = 1
	many, okM := b.figures(manyCase)
	one, okO := b.figures(oneCase)
	if !okM || !okO || one.rps.median == 0 {
		return b.notMeasured(what, manyCase, oneCase)
	}
	got := many.rps.median / one.rps.median
	return fmt.Sprintf("%s = %.2f (target ≥ %.2f) %s", what, got, min, verdict(got, min))
}

// p99Target: at the same load (the paced runs), wsgo's p99 no higher
// than the lowest of its peers'.
func (b *bench) p99Target(w string, procs int) string {
	rate := b.offered[pacedGroup{w, procs}]
	lay := layout{procs: procs}
	what := fmt.Sprintf("p99 %s, %s, at %s req/s", w, plural(procs, "process"), num(rate))
	mine, ok := b.pacedFigures(b.caseFor(w, wsgoName, lay))
	var peer string
	var low float64
	for _, name := range peers(nil) {
		if f, ok := b.pacedFigures(b.caseFor(w, name, lay)); ok && (peer == "" || f.p99ms < low) {
			peer, low = name, f.p99ms
		}
	}
	if !ok || peer == "" {
		return b.notMeasured(fmt.Sprintf("p99 %s, %s", w, plural(procs, "process")), b.caseFor(w, wsgoName, lay))
	}
	mineMs := mine.p99ms
	v := "PASS"
	if mineMs > low {
		v = fmt.Sprintf("MISS (%s ms higher)", num(mineMs-low))
	}
	return fmt.Sprintf("%s: wsgo %s ms, lowest peer %s %s ms (target: no higher) %s", what, num(mineMs), peer, num(low), v)
}

// rssTarget: wsgo's peak RSS per worker process no more than gunicorn
// gthread's + 10 MiB, on the workload where wsgo fares worst. Per worker is
// the whole tree (a master included) divided by the process count. The
// idle workload is left out: there each server keeps open as many of the
// idle connections as its keep-alive policy lets it.
func (b *bench) rssTarget(procs int) string {
	what := fmt.Sprintf("RSS per worker, %s: wsgo − gunicorn-gthread", plural(procs, "process"))
	worst, on := math.Inf(-1), ""
	lay := layout{procs: procs}
	for _, w := range workloads {
		if w.idle {
			continue
		}
		mine, okM := b.figures(b.caseFor(w.name, wsgoName, lay))
		peer, okP := b.figures(b.caseFor(w.name, "gunicorn-gthread", lay))
		if d := (mine.rssMiB - peer.rssMiB) / float64(procs); okM && okP && d > worst {
			worst, on = d, w.name
		}
	}
	if on == "" {
		return b.notMeasured(what, b.caseFor("hello", wsgoName, lay), b.caseFor("hello", "gunicorn-gthread", lay))
	}
	v := "PASS"
	if worst > 10 {
		v = fmt.Sprintf("MISS (%s MiB over)", num(worst-10))
	}
	return fmt.Sprintf("%s = %s MiB at most (on %s; idle left out) (target ≤ 10 MiB) %s", what, num(worst), on, v)
}
