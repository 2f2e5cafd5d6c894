package main

import (
	"os"
	"slices"
	"testing"
)

func TestParseStat(t *testing.T) {
	// A comm with spaces and parentheses, as a process may name itself.
	line := "4242 (gunicorn: (worker) [app]) S 4241 4241 4241 0 -1 4194560 1523 0 0 0 " +
		"120 35 7 3 20 0 1 0 8123 51234816 9000 18446744073709551615 1 1 0 0 0 0 0 16781312 134235655 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{pid: 4242, ppid: 4241, cpuTicks: 120 + 35 + 7 + 3}); st != want {
		t.Fatalf("parseStat = %+v, want %+v", st, want)
	}
}

func TestParseStatRefusesBrokenLines(t *testing.T) {
	for _, line := range []string{"", "4242 gunicorn S 1", "4242 (x) S 1 2 3", "x (y) S 1 1 1 0 -1 0 0 0 0 0 1 2 3 4 20"} {
		if st, err := parseStat([]byte(line)); err == nil {
			t.Errorf("parseStat(%q) = %+v, want an error", line, st)
		}
	}
}

func TestParseStatOfThisProcess(t *testing.T) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseStat(b)
	if err != nil {
		t.Fatal(err)
	}
	if st.pid != os.Getpid() || st.ppid != os.Getppid() {
		t.Errorf("parseStat(/proc/self/stat) = pid %d ppid %d, want %d %d", st.pid, st.ppid, os.Getpid(), os.Getppid())
	}
}

func TestParseStatmRSS(t *testing.T) {
	rss, err := parseStatmRSS([]byte("12508 2291 1632 146 0 1093 0\n"), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if rss != 2291*4096 {
		t.Fatalf("parseStatmRSS = %d, want %d", rss, 2291*4096)
	}
	if _, err := parseStatmRSS([]byte("12508\n"), 4096); err == nil {
		t.Error("parseStatmRSS of one field: want an error")
	}
}

func TestDescendants(t *testing.T) {
	all := []procStat{
		{pid: 1, ppid: 0}, {pid: 10, ppid: 1, cpuTicks: 1}, {pid: 11, ppid: 10, cpuTicks: 2},
		{pid: 12, ppid: 10, cpuTicks: 3}, {pid: 13, ppid: 12, cpuTicks: 4}, {pid: 20, ppid: 1, cpuTicks: 5},
	}
	var pids []int
	for _, st := range descendants(10, all) {
		pids = append(pids, st.pid)
	}
	slices.Sort(pids)
	if !slices.Equal(pids, []int{10, 11, 12, 13}) {
		t.Fatalf("descendants(10) = %v, want [10 11 12 13]", pids)
	}
	if got := descendants(99, all); len(got) != 0 {
		t.Errorf("descendants of a gone process = %v, want none", got)
	}
}
