package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAppCost(t *testing.T) {
	a := parseAppCost("a warning the app printed\nappcost calls=2000 cpu_ns=90000000 wall_ns=100000000\n")
	if a.err != nil || a.calls != 2000 || a.cpu != 90*time.Millisecond || a.wall != 100*time.Millisecond {
		t.Fatalf("parseAppCost = %+v", a)
	}
	if got := a.cpuPerCall(); got != 45 {
		t.Errorf("cpuPerCall = %v µs, want 45", got)
	}
	for _, bad := range []string{"", "Traceback (most recent call last):", "appcost calls=0 cpu_ns=1 wall_ns=1", "appcost calls=x"} {
		if a := parseAppCost(bad); a.err == nil {
			t.Errorf("parseAppCost(%q) = %+v, want an error", bad, a)
		}
	}
}

func TestAppCostRunsTheApp(t *testing.T) {
	apps, err := filepath.Abs("../apps")
	if err != nil {
		t.Fatal(err)
	}
	a := runAppCost(apps, workloadNamed("post"), "")
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.calls < 3 || a.cpu <= 0 || a.wall < time.Second {
		t.Errorf("post1m in the loop: %+v, want at least 3 calls over at least 1 s", a)
	}
}

func TestAppCostReportsAFailingApp(t *testing.T) {
	apps, err := filepath.Abs("../apps")
	if err != nil {
		t.Fatal(err)
	}
	a := runAppCost(apps, workload{app: "no_such_app", path: "/"}, "")
	if a.err == nil || !strings.Contains(a.err.Error(), "No module named 'no_such_app'") {
		t.Errorf("an app that cannot be imported: %v, want the ImportError", a.err)
	}
}
