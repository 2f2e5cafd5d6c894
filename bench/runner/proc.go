package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Linux reports CPU times in /proc in clock ticks of USER_HZ, which the
// kernel fixes at 100 on every architecture Go supports for its ABI.
const userHZ = 100

// procStat holds the fields of /proc/PID/stat the runner needs.
type procStat struct {
	pid, ppid int
	// cpuTicks is user+sys of the process plus user+sys of its children it
	// has reaped (utime+stime+cutime+cstime), so a tree's sum never drops
	// when a child exits and its parent waits for it.
	cpuTicks int64
}

// parseStat reads one /proc/PID/stat line. The command name is in
// parentheses and may itself hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(line []byte) (procStat, error) {
	open, end := bytes.IndexByte(line, '('), bytes.LastIndexByte(line, ')')
	if open < 1 || end < open {
		return procStat{}, fmt.Errorf("stat line without (comm): %q", line)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line[:open])))
	if err != nil {
		return procStat{}, fmt.Errorf("stat line pid: %v", err)
	}
	// After ')': state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
	f := bytes.Fields(line[end+1:])
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("stat line of pid %d has %d fields after comm, want at least 15", pid, len(f))
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return procStat{}, fmt.Errorf("stat line of pid %d: ppid: %v", pid, err)
	}
	st := procStat{pid: pid, ppid: ppid}
	for _, field := range f[11:15] {
		n, err := strconv.ParseInt(string(field), 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("stat line of pid %d: cpu time: %v", pid, err)
		}
		st.cpuTicks += n
	}
	return st, nil
}

// parseStatmRSS returns the resident set in bytes from a /proc/PID/statm
// line (size resident shared text lib data dt, in pages); the same figure
// as VmRSS in /proc/PID/status.
func parseStatmRSS(line []byte, pageSize int) (int64, error) {
	f := bytes.Fields(line)
	if len(f) < 2 {
		return 0, fmt.Errorf("statm line has %d fields, want at least 2: %q", len(f), line)
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("statm resident: %v", err)
	}
	return pages * int64(pageSize), nil
}

// descendants returns root and every process below it, given all stats.
func descendants(root int, all []procStat) []procStat {
	children := map[int][]procStat{}
	var self []procStat
	for _, st := range all {
		children[st.ppid] = append(children[st.ppid], st)
		if st.pid == root {
			self = append(self, st)
		}
	}
	tree := self
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i].pid]...)
	}
	return tree
}

// readAllStats reads /proc/*/stat; processes that exit meanwhile are skipped.
func readAllStats() []procStat {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	all := make([]procStat, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if st, err := parseStat(b); err == nil {
			all = append(all, st)
		}
	}
	return all
}

// treeCPU is the CPU time the tree under root has used so far.
func treeCPU(root int) time.Duration {
	var ticks int64
	for _, st := range descendants(root, readAllStats()) {
		ticks += st.cpuTicks
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// treeSize is how many processes the tree under root has now.
func treeSize(root int) int {
	return len(descendants(root, readAllStats()))
}

// rssSampler sums the resident memory of a process tree every 100 ms and
// keeps the peak; it finds the tree's members again every second.
type rssSampler struct {
	stop     chan struct{}
	stopOnce sync.Once
	done     sync.WaitGroup
	peak     int64
}

func sampleRSS(root int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var members []procStat
		for n := 0; ; n++ {
			if n%10 == 0 {
				members = descendants(root, readAllStats())
			}
			if sum := treeRSS(members); sum > s.peak {
				s.peak = sum
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Peak stops sampling and returns the largest sum seen, in bytes.
func (s *rssSampler) Peak() int64 {
	s.stopOnce.Do(func() { close(s.stop) })
	s.done.Wait()
	return s.peak
}

func treeRSS(members []procStat) int64 {
	var sum int64
	for _, st := range members {
		sum += processRSS(st.pid)
	}
	return sum
}

// processRSS is one process's resident memory in bytes; 0 once it is gone.
func processRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	rss, err := parseStatmRSS(b, os.Getpagesize())
	if err != nil {
		return 0
	}
	return rss
}
