package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// bench is one run of the suite: its options, where things are, and the
// results so far.
type bench struct {
	options
	tmp        string // removed at the end
	apps       string
	wsgoPath   string
	ceiling    string
	dataFile   string
	script     string // report.lua on disk
	pacedLua   string // report.lua + paced.lua on disk
	hasWorkers bool   // this wsgo accepts --workers
	started    time.Time
	machine    machine // read at the start
	loadAfter  string
	results    map[runCase][]sample
	paced      map[runCase][]sample   // the runs at the same load (runPaced)
	offered    map[pacedGroup]float64 // the load of each paced group, req/s
	failures   map[runCase][]string
	appCosts   map[string]appCost // per app: the app alone, no server
	memory     map[runCase]memory // per process, for workloads with memoryCheck
	notes      []string           // said once in the report
	wsgoLines  map[layout]string  // wsgo's start line per table
	serverDirs int                // servers started so far: each has a directory
	addrs      map[string]bool    // the addresses servers were given, each once (see freeAddr)
}

// runCase is one server on one workload with one process and thread
// count, pinned (-pin) or not.
type runCase struct {
	workload string
	server   string
	procs    int
	threads  int
	pinned   bool
}

func (c runCase) layout() layout { return layout{c.procs, c.pinned} }

func (c runCase) String() string {
	s := fmt.Sprintf("%s %s %d×%d", c.workload, c.server, c.procs, c.threads)
	if c.pinned {
		s += " pinned"
	}
	return s
}

// layout is how the servers of one table run: their process count, and
// whether they are pinned to the -pin CPUs (one worker per CPU).
type layout struct {
	procs  int
	pinned bool
}

// layouts are the report's tables per workload: one per -processes count,
// then the pinned one.
func (b *bench) layouts() []layout {
	var out []layout
	for _, p := range b.procs {
		out = append(out, layout{procs: p})
	}
	if b.pin.on() {
		out = append(out, layout{procs: len(b.pin.server), pinned: true})
	}
	return out
}

// sample is what one measured run gives.
type sample struct {
	wrk      wrkResult
	cpu      time.Duration // the server tree's user+sys during the wrk run
	peakRSS  int64         // the server tree's largest resident sum, bytes
	idleFrom int           // idle connections open when wrk started
	idleTo   int           // and when it ended
}

func (s sample) cpuPerRequest() float64 {
	if s.wrk.requests == 0 {
		return 0
	}
	return float64(s.cpu.Microseconds()) / float64(s.wrk.requests)
}

func prepare(o options) (_ *bench, err error) {
	if _, err := os.Stat("bench/apps/hello.py"); err != nil {
		return nil, fmt.Errorf("run from the repository's root (make bench): %v", err)
	}
	b := &bench{options: o, started: time.Now(), results: map[runCase][]sample{},
		failures: map[runCase][]string{}, wsgoLines: map[layout]string{},
		appCosts: map[string]appCost{}, memory: map[runCase]memory{},
		paced: map[runCase][]sample{}, offered: map[pacedGroup]float64{}, addrs: map[string]bool{}}
	if err := b.checkTools(); err != nil {
		return nil, err
	}
	if b.apps, err = filepath.Abs("bench/apps"); err != nil {
		return nil, err
	}
	if b.tmp, err = os.MkdirTemp("", "wsgobench-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(b.tmp)
		}
	}()
	// Apache, started as root, serves as www-data, which must read its
	// configuration and the data file here.
	if err := os.Chmod(b.tmp, 0o755); err != nil {
		return nil, err
	}
	b.script = filepath.Join(b.tmp, "report.lua")
	b.dataFile = filepath.Join(b.tmp, "file8m.bin")
	b.ceiling = filepath.Join(b.tmp, "ceiling")
	if err := os.WriteFile(b.script, reportLua, 0o644); err != nil {
		return nil, err
	}
	b.pacedLua = filepath.Join(b.tmp, "paced.lua")
	if err := os.WriteFile(b.pacedLua, append(slices.Clip(reportLua), pacedLua...), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(b.dataFile, dataBytes(8*mib), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command("go", "build", "-o", b.ceiling, "./bench/ceiling").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building bench/ceiling: %v\n%s", err, out)
	}
	if b.wsgoPath, err = filepath.Abs(o.wsgo); err != nil {
		return nil, err
	}
	if b.runs(wsgoName) {
		help, err := exec.Command(b.wsgoPath, "run", "--help").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("%s run --help: %v (build it first: make build)\n%s", b.wsgoPath, err, help)
		}
		b.hasWorkers = strings.Contains(string(help), "--workers")
		if !b.hasWorkers && slices.ContainsFunc(o.procs, func(p int) bool { return p > 1 }) {
			b.note("This wsgo has no `--workers` flag yet, so wsgo's rows with more than 1 process were skipped.")
		}
	}
	if b.runsIdle() {
		if err := raiseFileLimit(uint64(o.idle) + 1024); err != nil {
			return nil, err
		}
	}
	b.machine = readMachine(b)
	return b, nil
}

func (b *bench) runs(server string) bool {
	return slices.ContainsFunc(b.servers, func(s *serverKind) bool { return s.name == server })
}

func (b *bench) runsIdle() bool {
	return slices.ContainsFunc(b.workloads, func(w workload) bool { return w.idle })
}

func (b *bench) note(s string) {
	if !slices.Contains(b.notes, s) {
		b.notes = append(b.notes, s)
		fmt.Fprintln(os.Stderr, "note:", s)
	}
}

// dataBytes is n bytes of a repeating, non-trivial pattern.
func dataBytes(n int) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = byte(i*7 + i>>11)
	}
	return d
}

// checkTools names the missing programs and how to get them.
func (b *bench) checkTools() error {
	need := []string{"wrk", "go", peerPython}
	if b.pin.on() {
		need = append(need, "taskset")
	}
	var files []string
	for _, s := range b.servers {
		if s.python && s.name != wsgoName {
			need = append(need, s.argv(launch{})[0])
		}
		if s.needs != "" {
			files = append(files, s.needs)
		}
	}
	var missing []string
	for _, p := range need {
		if _, err := exec.LookPath(p); err != nil && !slices.Contains(missing, p) {
			missing = append(missing, p)
		}
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil && !slices.Contains(missing, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: run `make bench-setup` (Debian packages)", strings.Join(missing, ", "))
	}
	return nil
}

// cases lists what runs on workload w, in the report's order.
func (b *bench) cases(w workload) []runCase {
	var out []runCase
	for _, lay := range b.layouts() {
		for _, s := range b.servers {
			switch {
			case !s.python && !w.ceiling,
				s.anyProcs && !lay.pinned && lay.procs != b.procs[0],
				s.single && !s.anyProcs && lay.procs > 1,
				s.name == wsgoName && lay.procs > 1 && !b.hasWorkers:
				continue
			}
			c := b.caseFor(w.name, s.name, lay)
			out = append(out, c)
			if w.threadCheck && s.name == wsgoName && lay.procs == 1 && b.threads > 1 {
				c.threads = 1
				out = append(out, c)
			}
		}
	}
	return out
}

// runAll runs the workloads one after the other. A workload's servers
// all start (and warm up) first, then each round measures every one in
// turn, one case further along each round so no server always goes first.
func (b *bench) runAll() {
	var total, paced int
	for _, w := range b.workloads {
		for _, c := range b.cases(w) {
			total++
			if !c.pinned {
				paced++
			}
		}
	}
	// warmups, the rounds, and the paced rounds (runPaced) of the unpinned
	est := time.Duration(total)*(b.warmup+time.Second) + time.Duration(b.rounds*(total+paced))*(b.duration+time.Second/3)
	fmt.Fprintf(os.Stderr, "%d cases, %d round(s) of %v each: about %v\n", total, b.rounds, b.duration, est.Round(time.Minute))
	for _, w := range b.workloads {
		b.measureAppCost(w)
		b.runWorkload(w)
	}
	b.loadAfter = loadAverage()
}

// live is a started server of one case.
type live struct {
	runCase
	p    *process
	addr string
	load wrkLoad
}

func (b *bench) runWorkload(w workload) {
	var servers []*live
	for _, c := range b.cases(w) {
		l, err := b.start(w, c)
		if err != nil {
			b.fail(c, 0, err)
			continue
		}
		servers = append(servers, l)
	}
	defer func() {
		for _, l := range servers {
			go l.p.stop()
		}
		for _, l := range servers {
			<-l.p.exited
		}
	}()
	var ready []*live
	for _, l := range servers {
		if err := b.warm(w, l); err != nil {
			b.fail(l.runCase, 0, err)
			continue
		}
		ready = append(ready, l)
	}
	for r := range b.rounds {
		for i := range ready {
			l := ready[(i+r)%len(ready)]
			s, err := b.measure(w, l, 0)
			if err != nil {
				b.fail(l.runCase, r, err)
				continue
			}
			b.results[l.runCase] = append(b.results[l.runCase], s)
			fmt.Fprintf(os.Stderr, "[%d/%d] %v: %.0f req/s, p99 %v, %d errors, %.1f µs CPU/req, %.1f MiB\n",
				r+1, b.rounds, l.runCase, s.wrk.perSecond(), s.wrk.p99, s.wrk.errors, s.cpuPerRequest(), float64(s.peakRSS)/mib)
		}
	}
	for _, l := range ready {
		b.snapshotMemory(w, l, true)
	}
	b.runPaced(w, ready)
}

// pacedGroup is the servers of one workload and process count.
type pacedGroup struct {
	workload string
	procs    int
}

// runPaced measures every Python server again at the same load: half the
// lowest median req/s among those of each process count, so that none is
// saturated and their latencies compare (the p99 target). Saturated, a
// closed loop like wrk's measures each server at its own throughput. As
// many rounds as the saturated runs, interleaved likewise: one paced run's
// p99 moves by a millisecond from run to run on a busy machine.
func (b *bench) runPaced(w workload, ready []*live) {
	for _, procs := range b.procs {
		var group []*live
		var lowest float64
		for _, l := range ready {
			f, ok := b.figures(l.runCase)
			if !ok || l.procs != procs || l.pinned || !serverNamed(l.server).python {
				continue
			}
			group = append(group, l)
			if lowest == 0 || f.rps.median < lowest {
				lowest = f.rps.median
			}
		}
		if len(group) < 2 {
			continue
		}
		rate := lowest / 2
		b.offered[pacedGroup{w.name, procs}] = rate
		for r := range b.rounds {
			for i := range group {
				l := group[(i+r)%len(group)]
				paceMs := max(1, int(math.Round(float64(l.load.connections)*1000/rate)))
				s, err := b.measure(w, l, paceMs)
				if err != nil {
					b.fail(l.runCase, r, err)
					continue
				}
				b.paced[l.runCase] = append(b.paced[l.runCase], s)
				fmt.Fprintf(os.Stderr, "[paced %.0f req/s, %d/%d] %v: %.0f req/s, p50 %v, p99 %v, %d errors\n",
					rate, r+1, b.rounds, l.runCase, s.wrk.perSecond(), s.wrk.p50, s.wrk.p99, s.wrk.errors)
			}
		}
	}
}

func (b *bench) fail(c runCase, round int, err error) {
	if !slices.Contains(b.failures[c], err.Error()) {
		b.failures[c] = append(b.failures[c], err.Error())
	}
	fmt.Fprintf(os.Stderr, "[%d/%d] %v: FAILED: %v\n", round+1, b.rounds, c, err)
}

// start launches c's server; warm waits for it.
func (b *bench) start(w workload, c runCase) (*live, error) {
	s := serverNamed(c.server)
	addr, err := freeAddr(b.addrs)
	if err != nil {
		return nil, err
	}
	b.serverDirs++
	l := launch{apps: b.apps, app: w.app, addr: addr, procs: c.procs, threads: c.threads,
		wsgo: b.wsgoPath, ceiling: b.ceiling, dataFile: b.dataFile,
		dir: filepath.Join(b.tmp, fmt.Sprintf("server%d", b.serverDirs))}
	if err := os.Mkdir(l.dir, 0o755); err != nil {
		return nil, err
	}
	if s.setup != nil {
		if err := s.setup(l); err != nil {
			return nil, fmt.Errorf("writing %s's configuration: %v", s.name, err)
		}
	}
	dir := ""
	if s.dir != nil {
		dir = s.dir(l)
	}
	env := append(os.Environ(), "WSGOBENCH_FILE="+b.dataFile)
	logPath := filepath.Join(b.tmp, strings.ReplaceAll(c.String(), " ", "_")+".log")
	var serverCPUs, wrkCPUs []int
	if c.pinned {
		serverCPUs, wrkCPUs = b.pin.server, b.pin.wrk
	}
	p, err := startServer(pinned(serverCPUs, s.argv(l)), dir, env, logPath)
	if err != nil {
		return nil, err
	}
	url := "http://" + addr + w.path
	return &live{runCase: c, p: p, addr: addr, load: wrkLoad{url: url, connections: w.connections(c.procs, b.threads),
		threads: b.wrkThreads, postBytes: w.postBytes, header: w.header, script: b.script, cpus: wrkCPUs}}, nil
}

// warm waits for the server's first 200, puts unmeasured load on it, and
// checks it runs as many processes as asked.
func (b *bench) warm(w workload, l *live) error {
	if err := l.p.waitReady(l.load.url, w.postBytes, 60*time.Second); err != nil {
		return err
	}
	b.snapshotMemory(w, l, false)
	if b.warmup > 0 {
		load := l.load
		load.duration = b.warmup
		if _, err := runWrk(load); err != nil {
			return fmt.Errorf("warmup: %v", err)
		}
	}
	if n := treeSize(l.p.pid()); n < l.procs {
		return fmt.Errorf("expected %d worker processes, the server's process tree has %d\n%s", l.procs, n, l.p.logExcerpt())
	}
	if l.server == wsgoName && l.threads == b.threads {
		b.wsgoLines[l.layout()] = l.p.startLine("wsgo: serving")
	}
	return nil
}

// measure runs wrk once against a warm server; paceMs > 0 paces it
// (wrkLoad.paceMs).
func (b *bench) measure(w workload, l *live, paceMs int) (sample, error) {
	// One request first: it answers only after the server has finished
	// what earlier runs left queued (their connections closed unanswered).
	if err := l.p.waitReady(l.load.url, w.postBytes, 60*time.Second); err != nil {
		return sample{}, err
	}
	rss := sampleRSS(l.p.pid())
	defer rss.Peak()
	var out sample
	var idle *idleConns
	if w.idle {
		idle = openIdle(l.addr, w.path, b.idle)
		defer idle.close()
		out.idleFrom = idle.held()
	}
	load := l.load
	load.duration = b.duration
	if paceMs > 0 {
		load.paceMs, load.script = paceMs, b.pacedLua
		// Long enough for about 200 requests, for a p99 worth the name
		// at low rates (sleep50), within 15 s.
		need := time.Duration(paceMs) * time.Millisecond * 200 / time.Duration(l.load.connections)
		load.duration = min(max(b.duration, need.Round(time.Second)), 15*time.Second)
	}
	cpu0 := treeCPU(l.p.pid())
	res, err := runWrk(load)
	cpu1 := treeCPU(l.p.pid())
	if err != nil {
		return sample{}, err
	}
	if res.requests == 0 {
		return sample{}, fmt.Errorf("no response within the %v run", b.duration)
	}
	if idle != nil {
		out.idleTo = idle.held()
	}
	if l.p.hasExited() {
		return sample{}, fmt.Errorf("the server exited during the run (%v)\n%s", l.p.cmd.ProcessState, l.p.logExcerpt())
	}
	out.wrk, out.cpu, out.peakRSS = res, cpu1-cpu0, rss.Peak()
	return out, nil
}
