package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pinning is the per-core mode (-pin): every server's process tree runs
// under `taskset -c server` with one worker per CPU of that set, and wrk
// under `taskset -c wrk`, so neither takes the other's cores.
type pinning struct {
	server, wrk []int
}

func (p pinning) on() bool { return len(p.server) > 0 }

// pinFlag is -pin: alone it pins the servers to the first CPU the runner may
// use and wrk to the others; -pin=LIST gives the servers' CPUs (taskset -c
// syntax: 0,2-3); -pin=false turns the mode off.
type pinFlag struct {
	list string // "" off, "first" for the bare flag
}

func (f *pinFlag) IsBoolFlag() bool { return true }

func (f *pinFlag) String() string { return f.list }

func (f *pinFlag) Set(s string) error {
	switch s {
	case "true":
		f.list = "first"
	case "false":
		f.list = ""
	default:
		if _, err := parseCPUList(s); err != nil {
			return err
		}
		f.list = s
	}
	return nil
}

// resolve splits the CPUs the runner may use (allowed) between the servers
// and wrk.
func (f *pinFlag) resolve(allowed []int) (pinning, error) {
	if f.list == "" {
		return pinning{}, nil
	}
	server := allowed[:min(1, len(allowed))]
	if f.list != "first" {
		server, _ = parseCPUList(f.list)
	}
	var p pinning
	for _, c := range allowed {
		if slices.Contains(server, c) {
			p.server = append(p.server, c)
		} else {
			p.wrk = append(p.wrk, c)
		}
	}
	if len(p.server) < len(server) {
		return pinning{}, fmt.Errorf("-pin=%s: this process may only run on CPUs %s", f.list, cpuList(allowed))
	}
	if len(p.wrk) == 0 {
		return pinning{}, fmt.Errorf("-pin: CPUs %s leave none for wrk; the per-core mode needs at least 2 CPUs (turn it off with -pin=false)", cpuList(p.server))
	}
	return p, nil
}

// parseCPUList reads taskset's list syntax: numbers and ranges, commas
// between.
func parseCPUList(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, errA := strconv.Atoi(lo)
		b, errB := a, error(nil)
		if isRange {
			b, errB = strconv.Atoi(hi)
		}
		if errA != nil || errB != nil || a < 0 || b < a {
			return nil, fmt.Errorf("CPU list %q: give CPU numbers and ranges, e.g. 0 or 0,2-3", s)
		}
		for c := a; c <= b; c++ {
			if !slices.Contains(cpus, c) {
				cpus = append(cpus, c)
			}
		}
	}
	slices.Sort(cpus)
	return cpus, nil
}

// cpuList writes cpus for taskset -c.
func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// allowedCPUs are the CPUs this process may run on (its affinity mask).
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("reading the CPU affinity: %v", err)
	}
	var cpus []int
	for c := 0; len(cpus) < set.Count(); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// pinned prefixes argv with taskset when cpus is not empty.
func pinned(cpus []int, argv []string) []string {
	if len(cpus) == 0 {
		return argv
	}
	return append([]string{"taskset", "-c", cpuList(cpus)}, argv...)
}
