package e2e

// Tests of --metrics-bind: the master's page gathers every worker's
// metrics. Requests that are counted close their connection, and the
// tests read them to the end: a worker counts a response before it closes
// the connection, so the next scrape sees it.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsApp answers 200, 404 at /missing, 500 (an exception) at /boom;
// /block?FIFO opens the named FIFO and reads it to the end: the request
// runs until the test opens the FIFO, and ends when the test closes it.
const metricsApp = `
def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/block":
        with open(environ["QUERY_STRING"], "rb") as gate:
            gate.read()
    elif path == "/missing":
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    elif path == "/boom":
        raise ValueError("boom")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]
`

// metricsServer is a wsgo with --metrics-bind.
type metricsServer struct {
	*server
	metricsURL string
}

var metricsLine = regexp.MustCompile(`wsgo: metrics on (http://\S+/metrics)`)

// startMetrics starts metricsApp with ARGS and metrics on a free port;
// env entries are added to its environment.
func startMetrics(t *testing.T, env []string, args ...string) *metricsServer {
	t.Helper()
	app := writeApp(t, "metrics_app.py", metricsApp)
	return withMetrics(t, start(t, env, append([]string{app, "--metrics-bind", "127.0.0.1:0"}, args...)...))
}

// withMetrics is s, started with --metrics-bind, and its metrics page.
func withMetrics(t *testing.T, s *server) *metricsServer {
	t.Helper()
	m := metricsLine.FindStringSubmatch(s.logs.String())
	if m == nil {
		t.Fatalf("no metrics line in the output:\n%s", s.logs.String())
	}
	return &metricsServer{server: s, metricsURL: m[1]}
}

// sample is one value of a scrape: a counter's or gauge's value, or a
// histogram's count.
type sample struct {
	labels map[string]string
	value  float64
}

type scrape map[string][]sample // by metric name

// scrape fetches and parses the metrics page.
func (s *metricsServer) scrape() scrape {
	s.t.Helper()
	resp, err := http.Get(s.metricsURL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %s", s.metricsURL, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		s.t.Fatalf("the metrics page does not parse: %v", err)
	}
	out := scrape{}
	for name, f := range families {
		for _, m := range f.Metric {
			out[name] = append(out[name], sample{labels: labelMap(m), value: value(m)})
		}
	}
	return out
}

func labelMap(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.Label {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// sum adds the values of name's series that have the labels given as
// name/value pairs: summed over workers unless "worker" is among them.
func (sc scrape) sum(name string, labels ...string) float64 {
	total := 0.0
	sc.each(name, labels, func(value float64) { total += value })
	return total
}

// each calls f with the value of each of name's series that have labels.
func (sc scrape) each(name string, labels []string, f func(value float64)) {
	for _, s := range sc[name] {
		match := true
		for i := 0; i < len(labels); i += 2 {
			match = match && s.labels[labels[i]] == labels[i+1]
		}
		if match {
			f(s.value)
		}
	}
}

// count is how many of name's series have the labels given as name/value
// pairs (sum cannot tell a series at 0 from none).
func (sc scrape) count(name string, labels ...string) int {
	n := 0
	sc.each(name, labels, func(float64) { n++ })
	return n
}

// workers lists the worker labels of name's series.
func (sc scrape) workers(name string) map[string]bool {
	ws := map[string]bool{}
	for _, s := range sc[name] {
		if w, ok := s.labels["worker"]; ok {
			ws[w] = true
		}
	}
	return ws
}

// eventually scrapes until ok holds, for up to 20 s; it returns the last
// scrape and whether ok held.
func (s *metricsServer) eventually(ok func(scrape) bool) (scrape, bool) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		sc := s.scrape()
		if ok(sc) || time.Now().After(deadline) {
			return sc, ok(sc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// status sends a GET that closes its connection and returns the status.
func (s *metricsServer) status(path string) int {
	s.t.Helper()
	return statusOf(s.t, s.raw("GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
}

var statusLine = regexp.MustCompile(`^HTTP/1\.1 (\d{3}) `)

func statusOf(t testing.TB, response string) int {
	t.Helper()
	m := statusLine.FindStringSubmatch(response)
	if m == nil {
		t.Fatalf("not an HTTP response: %q", response)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// getAsync sends a GET like status, in the background; the channel gets the
// whole response (or the error).
func (s *metricsServer) getAsync(path string) <-chan string {
	out := make(chan string, 1)
	go func() {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			out <- err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(60 * time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
		got, err := io.ReadAll(c)
		if err != nil {
			out <- err.Error()
			return
		}
		out <- string(got)
	}()
	return out
}

// gate is a FIFO that a /block request waits on.
type gate struct {
	t    *testing.T
	path string
	w    *os.File
}

func newGate(t *testing.T, name string) *gate {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	g := &gate{t: t, path: path}
	t.Cleanup(g.unblock) // a failed test leaves no request hanging in the app
	return g
}

// entered waits until the app has opened the gate: its request is running.
func (g *gate) entered() {
	g.t.Helper()
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(g.path, os.O_WRONLY, 0) // returns once a reader has opened it
		if err == nil {
			opened <- f
		}
	}()
	select {
	case g.w = <-opened:
	case <-time.After(30 * time.Second):
		g.t.Fatalf("the app never opened %s", g.path)
	}
}

// release lets the request finish.
func (g *gate) release() {
	g.w.Close()
	g.w = nil
}

// unblock releases the gate whether or not the app has opened it (an
// open for reading and writing never blocks, and lets a reader's open
// return), and removes it, so that a request still to come fails.
func (g *gate) unblock() {
	if g.w == nil {
		g.w, _ = os.OpenFile(g.path, os.O_RDWR, 0)
	}
	os.Remove(g.path)
	if g.w != nil {
		g.release()
	}
}

func TestMetricsCountRequestsOfEveryWorker(t *testing.T) {
	static := t.TempDir()
	if err := os.WriteFile(filepath.Join(static, "file.txt"), []byte("static\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startMetrics(t, nil, "--workers", "2", "--static", "/s="+static)
	before := s.scrape()
	if ws := before.workers("wsgo_requests_total"); !ws["1"] || !ws["2"] || len(ws) != 2 {
		t.Fatalf("wsgo_requests_total comes from workers %v, want 1 and 2", ws)
	}
	// Every code's series is there from the start, at 0 where nothing
	// was answered so: none (a client gone before any status) included.
	for _, w := range []string{"1", "2"} {
		if n := before.count("wsgo_requests_total", "code", "none", "worker", w); n != 1 {
			t.Errorf("worker %s has %d wsgo_requests_total{code=\"none\"} series before any request; want 1", w, n)
		}
	}
	if n := before.sum("wsgo_requests_total", "code", "none"); n != 0 {
		t.Errorf("wsgo_requests_total{code=\"none\"} = %v before any request; want 0", n)
	}
	if n := before.sum("wsgo_workers", "state", "ready"); n != 2 {
		t.Errorf("wsgo_workers{state=ready} = %v, want 2", n)
	}

	for path, want := range map[string]int{"/": 200, "/a": 200, "/b": 200, "/s/file.txt": 200, "/missing": 404, "/boom": 500} {
		if got := s.status(path); got != want {
			t.Fatalf("GET %s: %d, want %d", path, got, want)
		}
	}
	if got := statusOf(t, s.raw("GET / HTTP/1.1\r\n\r\n")); got != 400 { // no Host: the front refuses it
		t.Fatalf("a request without Host: %d, want 400", got)
	}

	after := s.scrape()
	for code, want := range map[string]float64{"1xx": 0, "2xx": 4, "3xx": 0, "4xx": 2, "5xx": 1} {
		if d := after.sum("wsgo_requests_total", "code", code) - before.sum("wsgo_requests_total", "code", code); d != want {
			t.Errorf("wsgo_requests_total{code=%q} went up by %v, want %v", code, d, want)
		}
	}
	if d := after.sum("wsgo_request_duration_seconds") - before.sum("wsgo_request_duration_seconds"); d != 7 {
		t.Errorf("the latency histogram counted %v requests, want 7", d)
	}
	if n := after.sum("wsgo_requests_in_flight"); n != 0 {
		t.Errorf("wsgo_requests_in_flight = %v, want 0", n)
	}
	if n := after.sum("wsgo_python_threads", "worker", "1"); n != 16 {
		t.Errorf("wsgo_python_threads{worker=1} = %v, want 16", n)
	}
	for _, name := range []string{"wsgo_metrics_scrape_errors_total", "wsgo_connections_waiting"} {
		if n := after.sum(name); n != 0 {
			t.Errorf("%s = %v, want 0", name, n)
		}
	}

	resp, err := http.Get(s.metricsURL[:len(s.metricsURL)-len("/metrics")] + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /other on the metrics listener: %s, want 404", resp.Status)
	}
}

func TestMetricsGaugesFollowASlowRequest(t *testing.T) {
	s := startMetrics(t, nil, "--workers", "2")
	g := newGate(t, "slow")
	done := s.getAsync("/block?" + g.path)
	g.entered()
	during := s.scrape()
	if n := during.sum("wsgo_requests_in_flight"); n != 1 {
		t.Errorf("wsgo_requests_in_flight while the app runs = %v, want 1", n)
	}
	if n := during.sum("wsgo_python_threads_busy"); n != 1 {
		t.Errorf("wsgo_python_threads_busy while the app runs = %v, want 1", n)
	}
	g.release()
	if got := statusOf(t, <-done); got != 200 {
		t.Fatalf("/block: %d", got)
	}
	if n := s.scrape().sum("wsgo_requests_in_flight"); n != 0 {
		t.Errorf("wsgo_requests_in_flight after the response = %v, want 0", n)
	}
	// The thread parks a moment after the response is out.
	if sc, ok := s.eventually(func(sc scrape) bool { return sc.sum("wsgo_python_threads_busy") == 0 }); !ok {
		t.Errorf("wsgo_python_threads_busy stays %v after the request", sc.sum("wsgo_python_threads_busy"))
	}
}

func TestMetricsQueueDepth(t *testing.T) {
	s := startMetrics(t, nil, "--workers", "1", "--threads", "1")
	first, second := newGate(t, "first"), newGate(t, "second")
	firstDone := s.getAsync("/block?" + first.path)
	first.entered() // the one thread is taken
	secondDone := s.getAsync("/block?" + second.path)
	sc, ok := s.eventually(func(sc scrape) bool { return sc.sum("wsgo_python_queue_depth") == 1 })
	if !ok {
		t.Fatalf("wsgo_python_queue_depth = %v with one request waiting for the thread, want 1", sc.sum("wsgo_python_queue_depth"))
	}
	if n := sc.sum("wsgo_requests_in_flight"); n != 2 {
		t.Errorf("wsgo_requests_in_flight = %v, want 2", n)
	}
	first.release()
	second.entered()
	if n := s.scrape().sum("wsgo_python_queue_depth"); n != 0 {
		t.Errorf("wsgo_python_queue_depth = %v once the thread took the second request, want 0", n)
	}
	second.release()
	for _, done := range []<-chan string{firstDone, secondDone} {
		if got := statusOf(t, <-done); got != 200 {
			t.Errorf("/block: %d, want 200", got)
		}
	}
}

func TestMetricsCountWorkerRestarts(t *testing.T) {
	s := startMetrics(t, nil, "--workers", "2")
	if n := s.scrape().sum("wsgo_worker_restarts_total"); n != 0 {
		t.Fatalf("wsgo_worker_restarts_total = %v before any restart", n)
	}
	pid := readyPids(s.server)["1"]
	if pid == 0 { // kill(0) would signal the test's own process group
		t.Fatal("no ready line of worker 1")
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if !s.waitLog(`(?s)exited: killed by signal 9.*wsgo: worker 1 \(pid \d+\) ready`, 30*time.Second) {
		t.Fatal("worker 1 was not restarted")
	}
	// The ready line comes a moment before the worker is marked ready.
	sc, _ := s.eventually(func(sc scrape) bool { return len(sc.workers("wsgo_requests_total")) == 2 })
	if n := sc.sum("wsgo_worker_restarts_total", "reason", "crash"); n != 1 {
		t.Errorf("wsgo_worker_restarts_total{reason=crash} = %v, want 1", n)
	}
	if n := sc.sum("wsgo_worker_restarts_total"); n != 1 {
		t.Errorf("wsgo_worker_restarts_total = %v over all reasons, want 1", n)
	}
	if n := sc.sum("wsgo_workers", "state", "ready"); n != 2 {
		t.Errorf("wsgo_workers{state=ready} = %v, want 2", n)
	}
	if ws := sc.workers("wsgo_requests_total"); !ws["1"] || !ws["2"] {
		t.Errorf("after the restart the page has workers %v, want 1 and 2", ws)
	}
}

func TestMetricsCountRestartsByReason(t *testing.T) {
	s := startMetrics(t, nil, "--workers", "1", "--max-requests", "2")
	s.status("/")
	s.status("/")
	if !s.waitLog(`wsgo: recycling worker 1 done`, 30*time.Second) {
		t.Fatal("worker 1 was not recycled after --max-requests 2")
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog(`wsgo: reload \(SIGHUP\) done`, 30*time.Second) {
		t.Fatal("SIGHUP did not reload")
	}
	sc := s.scrape()
	reasons := map[string]float64{"max_requests": 1, "reload": 1, "crash": 0, "start_failure": 0, "max_rss": 0, "timeout_stuck": 0, "sigterm": 0}
	for reason, want := range reasons {
		if n := sc.sum("wsgo_worker_restarts_total", "reason", reason); n != want {
			t.Errorf("wsgo_worker_restarts_total{reason=%q} = %v, want %v", reason, n, want)
		}
	}
	if got := len(sc["wsgo_worker_restarts_total"]); got != len(reasons) {
		t.Errorf("wsgo_worker_restarts_total has %d series, want one per reason (%d), zeros included", got, len(reasons))
	}
}

// awaitStopped waits until every thread of process pid is stopped: a
// SIGSTOP stops each thread when it next runs, not at once.
func awaitStopped(t *testing.T, pid int) {
	t.Helper()
	stopped := regexp.MustCompile(`^\d+ \(.*\) T `)
	deadline := time.Now().Add(20 * time.Second)
	for {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		all := len(tasks) > 0
		for _, task := range tasks {
			stat, _ := os.ReadFile(task)
			all = all && stopped.Match(stat)
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not stop", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMetricsLeaveOutAWorkerThatDoesNotAnswer stops a worker (SIGSTOP):
// the scrape goes on without it and counts the miss; once it runs again,
// its late answer is dropped and the next scrape has it back.
func TestMetricsLeaveOutAWorkerThatDoesNotAnswer(t *testing.T) {
	s := startMetrics(t, nil, "--workers", "2")
	pid := readyPids(s.server)["2"]
	if pid == 0 { // kill(0) would signal the test's own process group
		t.Fatal("no ready line of worker 2")
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) }) // before the server's cleanup kills the master
	awaitStopped(t, pid)
	sc := s.scrape()
	if ws := sc.workers("wsgo_requests_total"); !ws["1"] || ws["2"] {
		t.Errorf("with worker 2 stopped the page has workers %v, want 1 only", ws)
	}
	if n := sc.sum("wsgo_metrics_scrape_errors_total"); n != 1 {
		t.Errorf("wsgo_metrics_scrape_errors_total = %v, want 1", n)
	}
	if !s.waitLog(`metrics of worker 2 \(pid \d+\) left out of this scrape: no answer within 1s`, 10*time.Second) {
		t.Error("the missed worker was not logged")
	}
	syscall.Kill(pid, syscall.SIGCONT)
	sc = s.scrape()
	if ws := sc.workers("wsgo_requests_total"); !ws["1"] || !ws["2"] {
		t.Errorf("with worker 2 running again the page has workers %v, want 1 and 2", ws)
	}
	if n := sc.sum("wsgo_metrics_scrape_errors_total"); n != 1 {
		t.Errorf("wsgo_metrics_scrape_errors_total = %v after a good scrape, want still 1", n)
	}
}

func TestMetricsCountHTTP2Requests(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "localhost")
	s := startMetrics(t, []string{"WSGO_CERTFILE=" + cert.certFile, "WSGO_KEYFILE=" + cert.keyFile}, "--workers", "2")
	before := s.scrape()
	client := tlsClient(false, cert)
	for path, want := range map[string]int{"/": 200, "/missing": 404, "/boom": 500} {
		resp, _ := frontDo(t, client, mustRequest(t, "GET", s.URL+path, nil))
		if resp.StatusCode != want || resp.ProtoMajor != 2 {
			t.Fatalf("GET %s: %s over %s, want %d over HTTP/2", path, resp.Status, resp.Proto, want)
		}
	}
	// An HTTP/2 stream is counted just after its end reaches the client.
	want := map[string]float64{"2xx": 1, "4xx": 1, "5xx": 1}
	counted := func(sc scrape) bool {
		for code, n := range want {
			if sc.sum("wsgo_requests_total", "code", code)-before.sum("wsgo_requests_total", "code", code) != n {
				return false
			}
		}
		return true
	}
	if sc, ok := s.eventually(counted); !ok {
		for code, n := range want {
			t.Errorf("wsgo_requests_total{code=%q} went up by %v, want %v", code,
				sc.sum("wsgo_requests_total", "code", code)-before.sum("wsgo_requests_total", "code", code), n)
		}
	}
}

func TestMetricsBindErrorExits3(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	app := writeApp(t, "metrics_app.py", metricsApp)
	code, out := cliExit(t, []string{"WSGO_METRICS_BIND=" + busy.Addr().String()}, "run", app, "--bind", "127.0.0.1:0")
	want := "wsgo: cannot listen on " + busy.Addr().String() + ": address already in use; stop the other server or pick another port with --metrics-bind"
	if code != 3 || !strings.Contains(out, want) {
		t.Errorf("exit code %d and output:\n%s\nwant 3 and %q", code, out, want)
	}
}
