package main

import (
	"fmt"
	"math"
	"slices"
)

// targets checks issue 5's targets against this run's medians; a line per
// target and process count, ending PASS or MISS.
func (b *bench) targets() []string {
	var out []string
	add := func(w, line string) {
		if b.ran(w) {
			out = append(out, line)
		}
	}
	for _, procs := range b.procs {
		at := fmt.Sprintf(", %s", plural(procs, "process"))
		switch procs {
		case 1:
			add("hello", b.atLeast("hello"+at, "hello", wsgoName, ceilingName, "", procs, 0.50))
			add("hello", b.atLeast("hello"+at, "hello", wsgoName, "gunicorn-gthread", "", procs, 2.0))
		case 2:
			add("hello", b.atLeast("hello"+at, "hello", wsgoName, "uwsgi", "", procs, 1.5))
			add("hello", b.atLeast("hello"+at, "hello", wsgoName, "gunicorn-gthread", "", procs, 2.5))
			add("hello", b.atLeast("hello"+at, "hello", wsgoName, ceilingName, "", procs, 0.65))
		}
		add("flask", b.atLeastBestPeer("flask"+at, "flask", procs, 1.2))
		add("django", b.atLeastBestPeer("django"+at, "django", procs, 1.2))
		add("file", b.atLeast("file"+at, "file", wsgoName, ceilingName, "", procs, 0.90))
		add("stream", b.atLeastBestPeer("stream"+at, "stream", procs, 1.5))
		add("idle", b.idleTarget(procs))
	}
	if b.threads > 1 {
		add("hello", b.threadTarget("hello", 0.90))
		add("sleep50", b.threadTarget("sleep50", 12))
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

// notMeasured names the first of cases that has no figures.
func (b *bench) notMeasured(what string, cases ...runCase) string {
	for _, c := range cases {
		if _, ok := b.figures(c); !ok {
			return fmt.Sprintf("%s: not measured (no figures for %v)", what, c)
		}
	}
	return what + ": not measured"
}

// atLeast: server a's req/s over server c's at procs processes; note
// follows c's name.
func (b *bench) atLeast(label, w, a, c, note string, procs int, min float64) string {
	fa, okA := b.figures(b.caseFor(w, a, procs))
	fc, okC := b.figures(b.caseFor(w, c, procs))
	what := fmt.Sprintf("%s: %s / %s%s", label, a, c, note)
	if !okA || !okC || fc.rps.median == 0 {
		return b.notMeasured(what, b.caseFor(w, a, procs), b.caseFor(w, c, procs))
	}
	got := fa.rps.median / fc.rps.median
	return fmt.Sprintf("%s = %.2f (target ≥ %.2f) %s", what, got, min, verdict(got, min))
}

// bestPeer is the WSGI server other than wsgo with the most req/s on w.
func (b *bench) bestPeer(w string, procs int) (string, figures, bool) {
	var name string
	var best figures
	for _, s := range servers {
		if !s.python || s.name == wsgoName {
			continue
		}
		if f, ok := b.figures(b.caseFor(w, s.name, procs)); ok && (name == "" || f.rps.median > best.rps.median) {
			name, best = s.name, f
		}
	}
	return name, best, name != ""
}

func (b *bench) atLeastBestPeer(label, w string, procs int, min float64) string {
	peer, _, ok := b.bestPeer(w, procs)
	if !ok {
		return label + ": wsgo / best peer: not measured (no peer's figures)"
	}
	return b.atLeast(label, w, wsgoName, peer, " (best peer)", procs, min)
}

func (b *bench) idleTarget(procs int) string {
	what := fmt.Sprintf("idle, %s: wsgo with %d idle connections / without", plural(procs, "process"), b.idle)
	idle, okI := b.figures(b.caseFor("idle", wsgoName, procs))
	plain, okP := b.figures(b.caseFor("hello", wsgoName, procs))
	if !okI || !okP || plain.rps.median == 0 {
		return b.notMeasured(what, b.caseFor("idle", wsgoName, procs), b.caseFor("hello", wsgoName, procs))
	}
	got := idle.rps.median / plain.rps.median
	v := verdict(got, 0.90)
	if idle.errors > 0 && v == "PASS" {
		v = "MISS"
	}
	return fmt.Sprintf("%s = %.2f (target ≥ 0.90), %d errors (target 0) %s", what, got, idle.errors, v)
}

// threadTarget: wsgo with -threads threads over wsgo with 1, 1 process.
func (b *bench) threadTarget(w string, min float64) string {
	what := fmt.Sprintf("%s, 1 process: wsgo %d threads / 1 thread", w, b.threads)
	many, okM := b.figures(runCase{w, wsgoName, 1, b.threads})
	one, okO := b.figures(runCase{w, wsgoName, 1, 1})
	if !okM || !okO || one.rps.median == 0 {
		return b.notMeasured(what, runCase{w, wsgoName, 1, b.threads}, runCase{w, wsgoName, 1, 1})
	}
	got := many.rps.median / one.rps.median
	return fmt.Sprintf("%s = %.2f (target ≥ %.2f) %s", what, got, min, verdict(got, min))
}

// p99Target: at the same load (the paced runs), wsgo's p99 no higher
// than the lowest of its peers'.
func (b *bench) p99Target(w string, procs int) string {
	rate := b.offered[pacedGroup{w, procs}]
	what := fmt.Sprintf("p99 %s, %s, at %s req/s", w, plural(procs, "process"), num(rate))
	mine, ok := b.paced[b.caseFor(w, wsgoName, procs)]
	var peer string
	var low float64
	for _, s := range servers {
		if !s.python || s.name == wsgoName {
			continue
		}
		if f, ok := b.paced[b.caseFor(w, s.name, procs)]; ok && (peer == "" || ms(f.wrk.p99) < low) {
			peer, low = s.name, ms(f.wrk.p99)
		}
	}
	if !ok || peer == "" {
		return b.notMeasured(fmt.Sprintf("p99 %s, %s", w, plural(procs, "process")), b.caseFor(w, wsgoName, procs))
	}
	mineMs := ms(mine.wrk.p99)
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
	worst, where := math.Inf(-1), ""
	for _, w := range workloads {
		if w.idle {
			continue
		}
		mine, okM := b.figures(b.caseFor(w.name, wsgoName, procs))
		peer, okP := b.figures(b.caseFor(w.name, "gunicorn-gthread", procs))
		if d := (mine.rssMiB - peer.rssMiB) / float64(procs); okM && okP && d > worst {
			worst, where = d, w.name
		}
	}
	if where == "" {
		return b.notMeasured(what, b.caseFor("hello", wsgoName, procs), b.caseFor("hello", "gunicorn-gthread", procs))
	}
	v := "PASS"
	if worst > 10 {
		v = fmt.Sprintf("MISS (%s MiB over)", num(worst-10))
	}
	return fmt.Sprintf("%s = %s MiB at most (on %s; idle left out) (target ≤ 10 MiB) %s", what, num(worst), where, v)
}
