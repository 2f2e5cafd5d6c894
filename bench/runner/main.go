// Command runner is wsgo's benchmark suite (`make bench`): it starts wsgo
// and its peers (gunicorn sync and gthread, uWSGI with and without threads,
// mod_wsgi, waitress) and a bare Go server (the ceiling) on each workload in
// bench/apps, drives them with wrk on loopback, round by round, optionally
// also with servers and wrk pinned to separate CPUs (-pin), and writes
// docs/BENCHMARKS.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// options are the command line.
type options struct {
	workloads  []workload
	servers    []*serverKind
	rounds     int
	duration   time.Duration
	warmup     time.Duration
	procs      []int
	pin        pinning
	threads    int
	idle       int
	wrkThreads int
	baseline   string
	wsgo       string
	out        string
	quick      bool
	args       []string // as given, for the report
}

func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("runner", flag.ContinueOnError)
	var (
		o                                  = options{args: args}
		workloadList, serverList, procList string
		durationSec, warmupSec             int
		pin                                pinFlag
	)
	fs.StringVar(&workloadList, "workload", "", "comma-separated `NAMES` of workloads to run (default all): "+strings.Join(workloadNames(), ", "))
	fs.StringVar(&serverList, "server", "", "comma-separated `NAMES` of servers to run (default all): "+strings.Join(serverNames(), ", "))
	fs.IntVar(&o.rounds, "rounds", 3, "`N` rounds; each runs every server once, interleaved")
	fs.IntVar(&durationSec, "duration", 5, "`SECONDS` each measured wrk run lasts")
	fs.IntVar(&warmupSec, "warmup", 1, "`SECONDS` of unmeasured load before each measured run (0: none)")
	fs.StringVar(&procList, "processes", "1,2", "comma-separated process `COUNTS`; every server runs with each")
	fs.Var(&pin, "pin", "per-core mode: also run every server pinned to CPU 0 (or the `CPUS` given, taskset syntax: -pin=0,2-3), "+
		"one worker per CPU, and wrk to the other CPUs, in tables of their own")
	fs.IntVar(&o.threads, "threads", 16, "`N` threads per process for every threaded server")
	fs.IntVar(&o.idle, "idle", 2000, "`N` idle keep-alive connections held open in the idle workload")
	fs.IntVar(&o.wrkThreads, "wrk-threads", 1, "`N` wrk threads (wrk shares the machine's cores with the server)")
	fs.StringVar(&o.baseline, "baseline", wsgoName, "`SERVER` every figure is given as a ratio to")
	fs.StringVar(&o.wsgo, "wsgo", "./wsgo", "`PATH` of the wsgo binary (make build)")
	fs.StringVar(&o.out, "out", "", "write the report to `FILE` (make bench: docs/BENCHMARKS.md)")
	fs.BoolVar(&o.quick, "quick", false, "development mode: 1 round of 2 s, 1 s warmup (flags given explicitly still win)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["rounds"] {
			o.rounds = 1
		}
		if !set["duration"] {
			durationSec = 2
		}
	}
	o.duration, o.warmup = time.Duration(durationSec)*time.Second, time.Duration(warmupSec)*time.Second
	if o.rounds < 1 || durationSec < 1 || warmupSec < 0 || o.threads < 1 || o.idle < 0 || o.wrkThreads < 1 {
		return o, fmt.Errorf("-rounds, -duration, -threads and -wrk-threads must be at least 1, -warmup and -idle at least 0")
	}
	var err error
	if o.workloads, err = pick(workloadList, workloads, func(w workload) string { return w.name }); err != nil {
		return o, fmt.Errorf("-workload: %v", err)
	}
	if o.servers, err = pick(serverList, servers, func(s *serverKind) string { return s.name }); err != nil {
		return o, fmt.Errorf("-server: %v", err)
	}
	if serverNamed(o.baseline) == nil {
		return o, fmt.Errorf("-baseline %q: use one of %s", o.baseline, strings.Join(serverNames(), ", "))
	}
	cpus, err := allowedCPUs()
	if err != nil {
		return o, err
	}
	if o.pin, err = pin.resolve(cpus); err != nil {
		return o, err
	}
	for _, f := range strings.Split(procList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-processes %q: give counts of at least 1, e.g. 1,2", procList)
		}
		if !slices.Contains(o.procs, n) {
			o.procs = append(o.procs, n)
		}
	}
	return o, nil
}

// pick keeps the items whose names the comma-separated list gives, in
// their defined order; all of them for an empty list.
func pick[T any](list string, all []T, name func(T) string) ([]T, error) {
	if list == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []T
	for _, item := range all {
		if want[name(item)] {
			out = append(out, item)
			delete(want, name(item))
		}
	}
	for n := range want {
		var names []string
		for _, item := range all {
			names = append(names, name(item))
		}
		return nil, fmt.Errorf("no %q; use %s", n, strings.Join(names, ", "))
	}
	return out, nil
}

func workloadNames() []string {
	var n []string
	for _, w := range workloads {
		n = append(n, w.name)
	}
	return n
}

func serverNames() []string {
	var n []string
	for _, s := range servers {
		n = append(n, s.name)
	}
	return n
}

func main() {
	o, err := parseOptions(os.Args[1:])
	if err == flag.ErrHelp {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/runner:", err)
		os.Exit(2)
	}
	b, err := prepare(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/runner:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(b.tmp)
	b.runAll()
	report := b.report()
	fmt.Print(report)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench/runner:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "wrote", o.out)
	}
}
