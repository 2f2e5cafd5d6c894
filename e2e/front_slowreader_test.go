package e2e

// Slow readers cost memory, not pythreads (issue 12 item 5): a response
// the client does not take is queued by the front (memory, then an
// unlinked temporary file) and the pythread goes back to the pool.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const slowReaderApp = `
import threading, time
lock = threading.Lock()
streamed = 0

def stream():
    global streamed
    chunk = b"x" * 65536
    for _ in range(1024):  # 64 MiB
        yield chunk
    with lock:
        streamed += 1

def slow_stream():
    chunk = b"x" * 65536
    for _ in range(1024):  # 64 MiB over 10 s
        time.sleep(0.01)
        yield chunk

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/stream":
        return stream()
    if environ["PATH_INFO"] == "/slow":
        return slow_stream()
    return [b"streamed %d" % streamed]
`

// getWithoutReading sends a GET of path on a connection with a small
// receive buffer that is never read.
func getWithoutReading(t *testing.T, s *server, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	return c
}

// workerFiles maps a process's open descriptors (/proc/PID/fd/N) to
// their link targets.
func workerFiles(t *testing.T, pid int) map[string]string {
	t.Helper()
	links, err := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil {
			targets[l] = target
		}
	}
	return targets
}

// rssKiB is a process's resident set, from /proc/PID/status.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kib
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// Eight clients that never read a 64 MiB stream, against four pythreads:
// every stream is produced to its end at once, a GET meanwhile is
// answered, and the worker holds the streams in temporary files, not in
// memory.
func TestClientsThatNeverReadCostNoPythreads(t *testing.T) {
	s := start(t, nil, writeApp(t, "app.py", slowReaderApp), "--threads", "4")
	pid := readyPids(s)["1"]
	for range 8 {
		defer getWithoutReading(t, s, "/stream").Close()
	}
	awaitStreamed(t, s, &http.Client{Timeout: 20 * time.Second}, 8)
	checkQueuedOnDisk(t, pid, 8, "wsgo-response-")
}

// awaitStreamed waits until slowReaderApp has produced want streams to
// their end, asking for the count over client: each GET must be answered
// while the streams' clients do not read.
func awaitStreamed(t *testing.T, s *server, client *http.Client, want int) {
	t.Helper()
	wantBody := fmt.Sprintf("streamed %d", want)
	var body string
	for deadline := time.Now().Add(20 * time.Second); body != wantBody && time.Now().Before(deadline); {
		resp, err := client.Get(s.URL + "/count")
		if err != nil {
			t.Fatalf("a GET while %d clients do not read: %v", want, err)
		}
		b := make([]byte, 64)
		n, _ := resp.Body.Read(b)
		resp.Body.Close()
		body = string(b[:n])
		time.Sleep(50 * time.Millisecond)
	}
	if body != wantBody {
		t.Fatalf("the app produced %q of %d streams; their pythreads are held by clients that do not read", body, want)
	}
}

// checkQueuedOnDisk checks that worker pid holds n queued responses in
// files whose names contain held (its temporary files: wsgo-response-),
// not in memory.
func checkQueuedOnDisk(t *testing.T, pid, n int, held string) {
	t.Helper()
	spools := 0
	for _, f := range workerFiles(t, pid) {
		if strings.Contains(f, held) {
			spools++
		}
	}
	if spools != n {
		t.Errorf("%d open files %s hold responses; want one per client that does not read (%d)", spools, held, n)
	}
	// 8 × 64 MiB is 512 MiB: what stays in memory must be far less.
	if rss := rssKiB(t, pid); rss > 128<<10 {
		t.Errorf("the worker's RSS is %d MiB with %d streams queued; want them on disk, under 128 MiB", rss>>10, n)
	}
}

// A stream past --timeout to a client that does not read: its pythread
// is not held by the write (the timeout used to wait for the write to
// fail, --stall-timeout later), so the timeout interrupts the app at once.
func TestTimeoutReachesAStreamToAClientThatDoesNotRead(t *testing.T) {
	s := start(t, nil, writeApp(t, "app.py", slowReaderApp), "--threads", "1", "--timeout", "2")
	defer getWithoutReading(t, s, "/slow").Close()
	checkTimeoutFreesPythread(t, s, nil)
}

// Three clients that never read a 64 MiB stream each, against a
// --max-response-spool of 16 MiB: the worker's temporary files never
// hold more than the spool (the streams wait for their clients instead),
// a GET is still answered by the pythread left, and once the clients
// leave, their streams end and their files are closed.
func TestMaxResponseSpoolBoundsWhatSlowClientsHoldOnDisk(t *testing.T) {
	const spool = 16 << 20
	s := start(t, nil, writeApp(t, "app.py", slowReaderApp), "--threads", "4", "--max-response-spool", strconv.Itoa(spool))
	pid := readyPids(s)["1"]
	var clients []net.Conn
	for range 3 {
		clients = append(clients, getWithoutReading(t, s, "/stream"))
	}
	most, last, steady := int64(0), int64(-1), 0
	for deadline := time.Now().Add(20 * time.Second); steady < 5 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		_, held := spooled(t, pid)
		most = max(most, held)
		if held == last && held > spool/2 {
			steady++
		} else {
			steady = 0
		}
		last = held
	}
	if steady < 5 {
		t.Fatalf("the worker's temporary files did not settle near the 16 MiB spool (last %d bytes)", last)
	}
	if most > spool+256<<10 {
		t.Errorf("the worker's temporary files held up to %d bytes; --max-response-spool is %d", most, spool)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(s.URL + "/count")
	if err != nil {
		t.Fatalf("a GET while the spool is full: %v", err)
	}
	resp.Body.Close()
	for _, c := range clients {
		c.Close()
	}
	files := -1
	for deadline := time.Now().Add(10 * time.Second); files != 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		files, _ = spooled(t, pid)
	}
	if files != 0 {
		t.Errorf("%d temporary files are still open after the clients left", files)
	}
}

// Clients that never read, once the spool is full, used to hold every
// Python thread: their writes waited for room until --stall-timeout (60
// s; for ever, for a client that takes a little now and then), and no
// other request was served meanwhile. Now, when a request waits for a
// thread, a write that finds the spool full and its client taking
// nothing for 250 ms cuts its response, and the request is served.
func TestClientsThatNeverReadCannotHoldEveryThreadOnceTheSpoolIsFull(t *testing.T) {
	s := start(t, nil, writeApp(t, "app.py", slowReaderApp), "--threads", "2", "--max-response-spool", strconv.Itoa(16<<20))
	pid := readyPids(s)["1"]
	stuck := []net.Conn{getWithoutReading(t, s, "/stream"), getWithoutReading(t, s, "/stream")}
	for _, c := range stuck {
		defer c.Close()
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, held := spooled(t, pid); held >= 15<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the two streams did not fill the 16 MiB spool")
		}
	}
	began := time.Now()
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Get(s.URL + "/count")
	if err != nil {
		t.Fatalf("a GET while both threads wait for room in the full spool: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "streamed 0" {
		t.Errorf("the GET got %d %q; want 200 \"streamed 0\"", resp.StatusCode, body)
	}
	t.Logf("answered in %v", time.Since(began).Round(time.Millisecond))
	// The cut responses' queues are dropped with their connections, and
	// their disk freed. (Reading what the kernel holds tells nothing: a
	// client of a 4 KiB buffer waits on TCP's persist timer.)
	files := -1
	for deadline := time.Now().Add(10 * time.Second); files != 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		files, _ = spooled(t, pid)
	}
	if files != 0 {
		t.Errorf("%d temporary files are still open; want the cut responses' queues dropped", files)
	}
	mustLog(t, s, `\[WARNING\] wsgo: the response was cut: the worker's --max-response-spool was full of responses its clients take slowly, `+
		`this client took nothing for 250 ms, and other requests waited for the Python thread writing it; raise --max-response-spool, `+
		`or add --threads or --workers request=[0-9a-f]{32} path=/stream\n`)
	if n := logCount(s, "wsgo: the response was cut"); n != 1 {
		t.Errorf("%d lines about cut responses; want 1 (one every 10 s at most)", n)
	}
}

// spooled counts worker pid's response spools and sums their sizes.
func spooled(t *testing.T, pid int) (files int, bytes int64) {
	t.Helper()
	for fd, target := range workerFiles(t, pid) {
		if fi, err := os.Stat(fd); err == nil && strings.Contains(target, "wsgo-response-") {
			files++
			bytes += fi.Size()
		}
	}
	return files, bytes
}
