package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

//go:embed appcost.py
var appCostPy []byte

// appCostSeconds is how long the app runs in the loop, measured.
const appCostSeconds = 1

// appCost is the app alone, called in-process by peerPython with no server
// (appcost.py): what a server's CPU time per request holds besides its own
// work, the host overhead.
type appCost struct {
	calls     int64
	cpu, wall time.Duration
	err       error
}

// cpuPerCall is in µs, as the tables' CPU µs/req.
func (a appCost) cpuPerCall() float64 {
	return float64(a.cpu.Nanoseconds()) / 1000 / float64(a.calls)
}

func (a appCost) wallPerCall() float64 {
	return float64(a.wall.Nanoseconds()) / 1000 / float64(a.calls)
}

// measureAppCost runs w's app in the loop, once per app.
func (b *bench) measureAppCost(w workload) {
	if _, done := b.appCosts[w.app]; done {
		return
	}
	a := runAppCost(b.apps, w, b.dataFile)
	b.appCosts[w.app] = a
	if a.err != nil {
		fmt.Fprintf(os.Stderr, "app cost of %s: FAILED: %v\n", w.app, a.err)
		return
	}
	fmt.Fprintf(os.Stderr, "app cost of %s, no server: %.1f µs CPU per call (%d calls)\n", w.app, a.cpuPerCall(), a.calls)
}

func runAppCost(apps string, w workload, dataFile string) appCost {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, peerPython, "-", apps, w.app, w.path, strconv.Itoa(w.postBytes), strconv.Itoa(appCostSeconds))
	cmd.Dir, cmd.Stdin = apps, bytes.NewReader(appCostPy)
	cmd.Env = append(os.Environ(), "WSGOBENCH_FILE="+dataFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return appCost{err: fmt.Errorf("%s appcost.py %s: %v\n%s", peerPython, w.app, err, out)}
	}
	return parseAppCost(string(out))
}

// parseAppCost reads appcost.py's last line.
func parseAppCost(out string) appCost {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	line, ok := strings.CutPrefix(lines[len(lines)-1], "appcost ")
	if !ok {
		return appCost{err: fmt.Errorf("no appcost line in appcost.py's output:\n%s", out)}
	}
	v := map[string]int64{}
	for _, kv := range strings.Fields(line) {
		k, val, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return appCost{err: fmt.Errorf("appcost field %q is not key=integer", kv)}
		}
		v[k] = n
	}
	if v["calls"] < 1 {
		return appCost{err: fmt.Errorf("appcost line without calls: %q", line)}
	}
	return appCost{calls: v["calls"], cpu: time.Duration(v["cpu_ns"]), wall: time.Duration(v["wall_ns"])}
}
