package main

import (
	"strings"
	"testing"
	"time"
)

// A real wrk 4.1 output with report.lua's summary line.
const wrkOutput = `Running 1s test @ http://127.0.0.1:19002/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   293.18us  815.39us  13.40ms   98.38%
    Req/Sec    46.66k     4.61k   53.75k    63.64%
  51009 requests in 1.10s, 6.28MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 5
Requests/sec:  46372.62
Transfer/sec:      5.70MB
wsgobench requests=51009 bytes=6580161 duration_us=1099981 connect=1 read=2 write=3 status=5 timeout=4 p50_us=185 p99_us=2043
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{requests: 51009, bytes: 6580161, duration: 1099981 * time.Microsecond, errors: 15,
		p50: 185 * time.Microsecond, p99: 2043 * time.Microsecond}
	if r != want {
		t.Fatalf("parseWrk = %+v, want %+v", r, want)
	}
	if got := int(r.perSecond()); got != 46372 {
		t.Errorf("perSecond = %d, want 46372 (as wrk prints)", got)
	}
}

func TestParseWrkRefusesIncompleteOutput(t *testing.T) {
	for name, out := range map[string]string{
		"no summary":    "Running 1s test @ http://127.0.0.1:1/\nunable to connect to 127.0.0.1:1 Connection refused\n",
		"missing field": "wsgobench requests=1 bytes=2 duration_us=3 connect=0 read=0 write=0 status=0 timeout=0 p50_us=1\n",
		"not a number":  "wsgobench requests=x bytes=2 duration_us=3 connect=0 read=0 write=0 status=0 timeout=0 p50_us=1 p99_us=2\n",
	} {
		if r, err := parseWrk(out); err == nil {
			t.Errorf("%s: parseWrk = %+v, want an error", name, r)
		}
	}
}

func TestReportLuaPrintsEveryFieldParseWrkNeeds(t *testing.T) {
	for _, k := range []string{"requests=", "bytes=", "duration_us=", "connect=", "read=", "write=", "status=", "timeout=", "p50_us=", "p99_us="} {
		if !strings.Contains(string(reportLua), k) {
			t.Errorf("report.lua does not print %s", k)
		}
	}
}

// A workload's header goes to wrk with -H, before the URL; none, no -H.
func TestWrkArgsCarryTheWorkloadsHeader(t *testing.T) {
	l := wrkLoad{url: "http://127.0.0.1:1/", connections: 50, threads: 2, duration: 3 * time.Second,
		script: "r.lua", header: "Connection: close", paceMs: 7}
	want := "-t2 -c50 -d3s --timeout 5s -H Connection: close -s r.lua http://127.0.0.1:1/ -- 0 7"
	if got := strings.Join(l.args(), " "); got != want {
		t.Errorf("wrk args = %q; want %q", got, want)
	}
	l.header = ""
	if got := strings.Join(l.args(), " "); strings.Contains(got, "-H") {
		t.Errorf("wrk args without a header = %q; want no -H", got)
	}
}
