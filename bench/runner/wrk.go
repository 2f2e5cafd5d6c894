package main

import (
	"bufio"
	_ "embed"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

//go:embed report.lua
var reportLua []byte

//go:embed paced.lua
var pacedLua []byte

// wrkResult is one wrk run as its done() hook reports it.
type wrkResult struct {
	requests int64
	bytes    int64
	duration time.Duration
	// errors: socket errors (connect, read, write, timeout) plus
	// responses with status >= 400, as wrk counts them.
	errors   int64
	p50, p99 time.Duration
}

func (r wrkResult) perSecond() float64 {
	if r.duration <= 0 {
		return 0
	}
	return float64(r.requests) / r.duration.Seconds()
}

// parseWrk finds the summary line report.lua prints in wrk's output.
func parseWrk(out string) (wrkResult, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "wsgobench ")
		if !ok {
			continue
		}
		v := map[string]int64{}
		for _, kv := range strings.Fields(line) {
			k, val, ok := strings.Cut(kv, "=")
			n, err := strconv.ParseInt(val, 10, 64)
			if !ok || err != nil {
				return wrkResult{}, fmt.Errorf("wrk summary field %q is not key=integer", kv)
			}
			v[k] = n
		}
		for _, k := range []string{"requests", "bytes", "duration_us", "connect", "read", "write", "status", "timeout", "p50_us", "p99_us"} {
			if _, ok := v[k]; !ok {
				return wrkResult{}, fmt.Errorf("wrk summary line lacks %s: %q", k, line)
			}
		}
		return wrkResult{
			requests: v["requests"],
			bytes:    v["bytes"],
			duration: time.Duration(v["duration_us"]) * time.Microsecond,
			errors:   v["connect"] + v["read"] + v["write"] + v["status"] + v["timeout"],
			p50:      time.Duration(v["p50_us"]) * time.Microsecond,
			p99:      time.Duration(v["p99_us"]) * time.Microsecond,
		}, nil
	}
	return wrkResult{}, fmt.Errorf("no summary line in wrk's output:\n%s", out)
}

// wrkLoad is what one wrk run sends.
type wrkLoad struct {
	url         string
	connections int
	threads     int
	duration    time.Duration
	postBytes   int
	header      string // added to every request (-H), or ""
	script      string // path of report.lua on disk
	// paceMs > 0: a paced run, each connection waiting paceMs on average
	// before each request; script is then report.lua + paced.lua.
	paceMs int
	cpus   []int // wrk runs only on these (-pin); nil: anywhere
}

// args are wrk's arguments for l, pinning aside.
func (l wrkLoad) args() []string {
	args := []string{
		"-t" + strconv.Itoa(min(l.threads, l.connections)), "-c" + strconv.Itoa(l.connections),
		"-d" + strconv.Itoa(int(l.duration/time.Second)) + "s", // wrk takes whole seconds
		"--timeout", "5s",
	}
	if l.header != "" {
		args = append(args, "-H", l.header)
	}
	return append(args, "-s", l.script, l.url, "--", strconv.Itoa(l.postBytes), strconv.Itoa(l.paceMs))
}

func runWrk(l wrkLoad) (wrkResult, error) {
	args := l.args()
	argv := pinned(l.cpus, append([]string{"wrk"}, args...))
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return parseWrk(string(out))
}
