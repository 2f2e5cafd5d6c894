package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"0", []int{0}},
		{"3,1", []int{1, 3}},
		{"0,2-4", []int{0, 2, 3, 4}},
		{"1-2,2", []int{1, 2}},
	} {
		if got, err := parseCPUList(tc.in); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "x", "1-", "3-1", "-1", "1,,2"} {
		if got, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) = %v, want an error", bad, got)
		}
	}
}

func TestPinFlagSplitsTheCPUs(t *testing.T) {
	allowed := []int{0, 1, 2, 3}
	for _, tc := range []struct {
		set         string
		server, wrk []int
	}{
		{"true", []int{0}, []int{1, 2, 3}}, // the bare flag: the first CPU
		{"1,3", []int{1, 3}, []int{0, 2}},
		{"false", nil, nil},
	} {
		var f pinFlag
		if err := f.Set(tc.set); err != nil {
			t.Fatalf("Set(%q): %v", tc.set, err)
		}
		p, err := f.resolve(allowed)
		if err != nil || !slices.Equal(p.server, tc.server) || !slices.Equal(p.wrk, tc.wrk) {
			t.Errorf("-pin=%s on CPUs %v: %+v, %v; want servers %v, wrk %v", tc.set, allowed, p, err, tc.server, tc.wrk)
		}
	}
}

func TestPinFlagRefusesWhatCannotRun(t *testing.T) {
	var f pinFlag
	if err := f.Set("0-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.resolve([]int{0, 1}); err == nil || !strings.Contains(err.Error(), "none for wrk") {
		t.Errorf("every CPU for the servers: %v, want an error naming wrk", err)
	}
	if err := f.Set("5"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.resolve([]int{0, 1}); err == nil || !strings.Contains(err.Error(), "only run on CPUs 0,1") {
		t.Errorf("a CPU outside the affinity: %v, want an error naming the allowed CPUs", err)
	}
	if err := f.Set("x"); err == nil {
		t.Error("Set(\"x\") accepted, want an error")
	}
}

func TestPinnedPrefixesTaskset(t *testing.T) {
	if got := pinned([]int{0, 2}, []string{"wrk", "-c1"}); !slices.Equal(got, []string{"taskset", "-c", "0,2", "wrk", "-c1"}) {
		t.Errorf("pinned = %q", got)
	}
	if got := pinned(nil, []string{"wrk"}); !slices.Equal(got, []string{"wrk"}) {
		t.Errorf("not pinned = %q", got)
	}
}

func TestCasesAddThePinnedTable(t *testing.T) {
	b := &bench{options: options{threads: 16, procs: []int{1, 2}, pin: pinning{server: []int{0}, wrk: []int{1}},
		servers: []*serverKind{serverNamed(wsgoName), serverNamed("uwsgi-1t"), serverNamed("waitress"), serverNamed(ceilingName)}},
		hasWorkers: true}
	var got []string
	for _, c := range b.cases(workloadNamed("hello")) {
		got = append(got, c.String())
	}
	want := []string{
		"hello wsgo 1×16", "hello wsgo 1×1", "hello uwsgi-1t 1×1", "hello waitress 1×16", "hello ceiling 1×1",
		"hello wsgo 2×16", "hello uwsgi-1t 2×1",
		"hello wsgo 1×16 pinned", "hello wsgo 1×1 pinned", "hello uwsgi-1t 1×1 pinned", "hello waitress 1×16 pinned", "hello ceiling 1×1 pinned",
	}
	if !slices.Equal(got, want) {
		t.Errorf("cases:\n got  %q\n want %q", got, want)
	}
}
