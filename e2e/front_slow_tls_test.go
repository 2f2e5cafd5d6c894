package e2e

// Slow readers over TLS cost memory, not pythreads (issue 12 item 5):
// HTTP/1.1 over TLS queues whole records under the session, HTTP/2
// queues each stream's response above it.

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// startSlowTLS serves slowReaderApp over TLS.
func startSlowTLS(t *testing.T, args ...string) (*server, testCert) {
	t.Helper()
	cert := makeCert(t, t.TempDir(), "slow")
	env := []string{"WSGO_CERTFILE=" + cert.certFile, "WSGO_KEYFILE=" + cert.keyFile}
	return start(t, env, append([]string{writeApp(t, "app.py", slowReaderApp)}, args...)...), cert
}

// tlsGetWithoutReading sends a GET of path over HTTP/1.1 and TLS, on a
// connection that is not read until the caller does. (Its receive buffer
// is the kernel's default, a few MiB: a small one would leave a late
// reader to the sender's zero-window probes on loopback, whose MSS is
// larger than the buffer.)
func tlsGetWithoutReading(t *testing.T, s *server, cert testCert, path string) *tls.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", s.Addr, &tls.Config{RootCAs: certPool(cert), NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(90 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	return c
}

// checkWhole reads a 64 MiB stream of slowReaderApp to its end.
func checkWhole(t *testing.T, which int, body io.Reader) {
	t.Helper()
	n, err := io.Copy(io.Discard, body)
	if err != nil || n != 64<<20 {
		t.Errorf("stream %d, read late: %d bytes, %v; want all %d", which, n, err, 64<<20)
	}
}

// Eight clients that never read a 64 MiB stream over HTTP/1.1 and TLS,
// against four pythreads: every stream is produced at once, a GET is
// answered meanwhile, and each stream arrives whole when read later (the
// session survived its released writes).
func TestTLSClientsThatNeverReadCostNoPythreads(t *testing.T) {
	s, cert := startSlowTLS(t, "--threads", "4")
	checkUnreadStreams(t, s, tlsClient(true, cert), "wsgo-response-", func() func() io.Reader {
		c := tlsGetWithoutReading(t, s, cert, "/stream")
		return func() io.Reader {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			return resp.Body
		}
	})
}

// checkUnreadStreams starts eight 64 MiB responses of the app with open,
// each not read until the function it returns is called; checks that the
// app produces them all while client's GETs are answered, that the worker
// holds them in files named held, and that each arrives whole when read.
func checkUnreadStreams(t *testing.T, s *server, client *http.Client, held string, open func() func() io.Reader) {
	t.Helper()
	pid := readyPids(s)["1"]
	var later []func() io.Reader
	for range 8 {
		later = append(later, open())
	}
	awaitStreamed(t, s, client, 8)
	checkQueuedOnDisk(t, pid, 8, held)
	for i, body := range later {
		checkWhole(t, i, body())
	}
}

// A stream past --timeout to a client that does not read, over TLS: the
// write does not hold the pythread, so the timeout interrupts the app at
// once, and the pythread serves the next request.
func TestTimeoutReachesATLSStreamToAClientThatDoesNotRead(t *testing.T) {
	s, cert := startSlowTLS(t, "--threads", "1", "--timeout", "2")
	tlsGetWithoutReading(t, s, cert, "/slow")
	checkTimeoutFreesPythread(t, s, tlsClient(true, cert))
}

// checkTimeoutFreesPythread checks that slowReaderApp's /slow, whose
// client does not read, is interrupted at --timeout, and that its
// pythread then serves a GET over client.
func checkTimeoutFreesPythread(t *testing.T, s *server, client *http.Client) {
	t.Helper()
	if !s.waitLog(`wsgo: request ran past --timeout; raising wsgo.RequestTimeout in its thread request=\S+ method=GET path=/slow\nits Python stack was:`, 15*time.Second) {
		t.Fatal("the timed-out stream's thread was not interrupted")
	}
	resp, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/count", nil))
	if resp.StatusCode != 200 || body != "streamed 0" {
		t.Errorf("after the timeout: %d %q", resp.StatusCode, body)
	}
}
