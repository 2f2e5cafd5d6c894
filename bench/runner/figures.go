package main

// figures summarize one case over its rounds.
type figures struct {
	rounds int
	rps    spread
	p99    spread // ms
	// medians over the rounds
	p50ms, p99ms, cpuPerReq, rssMiB, mbPerSec float64
	idleFrom, idleTo                          float64
	errors                                    int64 // total over the rounds
}

// figures summarizes case c's measured rounds.
func (b *bench) figures(c runCase) (figures, bool) {
	return summarizeRuns(c, b.results[c])
}

// pacedFigures summarizes case c's paced runs (runPaced).
func (b *bench) pacedFigures(c runCase) (figures, bool) {
	return summarizeRuns(c, b.paced[c])
}

func summarizeRuns(c runCase, ss []sample) (figures, bool) {
	if len(ss) == 0 {
		return figures{}, false
	}
	w := workloadNamed(c.workload)
	med := func(get func(sample) float64) float64 {
		var xs []float64
		for _, s := range ss {
			xs = append(xs, get(s))
		}
		return summarize(xs).median
	}
	f := figures{rounds: len(ss)}
	var rps []float64
	for _, s := range ss {
		rps = append(rps, s.wrk.perSecond())
		f.errors += s.wrk.errors
	}
	f.rps = summarize(rps)
	f.p50ms = med(func(s sample) float64 { return float64(s.wrk.p50.Microseconds()) / 1000 })
	var p99 []float64
	for _, s := range ss {
		p99 = append(p99, ms(s.wrk.p99))
	}
	f.p99 = summarize(p99)
	f.p99ms = f.p99.median
	f.cpuPerReq = med(sample.cpuPerRequest)
	f.rssMiB = med(func(s sample) float64 { return float64(s.peakRSS) / mib })
	f.mbPerSec = med(func(s sample) float64 { return s.wrk.perSecond() * float64(w.payload) / 1e6 })
	f.idleFrom = med(func(s sample) float64 { return float64(s.idleFrom) })
	f.idleTo = med(func(s sample) float64 { return float64(s.idleTo) })
	return f, true
}

// caseFor is server s's case on workload w in a table's layout with the
// -threads value (the ceiling's one process stands for every count).
func (b *bench) caseFor(w, server string, lay layout) runCase {
	s := serverNamed(server)
	procs := lay.procs
	if s.anyProcs {
		procs = 1
	}
	return runCase{w, server, procs, s.threadsFor(b.threads), lay.pinned}
}

// hostOverhead is c's CPU µs per request less its app's own cost per call
// (appCost): what the server adds. Not for the ceiling, which runs no app.
func (b *bench) hostOverhead(c runCase) (float64, bool) {
	f, ok := b.figures(c)
	w := workloadNamed(c.workload)
	app, appOK := b.appCosts[w.app]
	if !ok || !appOK || app.err != nil || !serverNamed(c.server).python {
		return 0, false
	}
	return f.cpuPerReq - app.cpuPerCall(), true
}
