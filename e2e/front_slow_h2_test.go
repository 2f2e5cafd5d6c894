package e2e

// Slow readers over HTTP/2 cost memory, not pythreads (issue 12 item 5):
// each stream's response is queued above the session once its writer is
// released, and sent by a goroutine as the client's window allows.

import (
	"io"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// h2GetWithoutReading starts a GET of path over HTTP/2 and returns its
// response, whose body is not read until the caller does: the client's
// flow-control window stops the server once it is full.
func h2GetWithoutReading(t *testing.T, s *server, client *http.Client, path string) *http.Response {
	t.Helper()
	resp, err := client.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %d; want HTTP/2.0 200", path, resp.Proto, resp.StatusCode)
	}
	return resp
}

// untimedClient is tlsClient without its overall time limit, for the body
// of a response is read long after the request; its head is waited for
// 20 s at most.
func untimedClient(cert testCert) *http.Client {
	tr := tlsClient(false, cert).Transport.(*http.Transport)
	tr.ResponseHeaderTimeout = 20 * time.Second
	return &http.Client{Transport: tr}
}

// Eight HTTP/2 streams of 64 MiB whose client does not read, past its
// flow-control window, against four pythreads: every stream is produced
// at once, a GET is answered meanwhile, each is queued on disk, and each
// arrives whole when read later.
func TestH2ClientsThatNeverReadCostNoPythreads(t *testing.T) {
	s, cert := startSlowTLS(t, "--threads", "4")
	streams := untimedClient(cert)
	checkUnreadStreams(t, s, tlsClient(false, cert), "wsgo-response-", func() func() io.Reader {
		resp := h2GetWithoutReading(t, s, streams, "/stream")
		return func() io.Reader { return resp.Body }
	})
}

// A stream past --timeout to an HTTP/2 client that does not read: the
// write blocked on the client's window does not hold the pythread.
func TestTimeoutReachesAnH2StreamToAClientThatDoesNotRead(t *testing.T) {
	s, cert := startSlowTLS(t, "--threads", "1", "--timeout", "2")
	h2GetWithoutReading(t, s, untimedClient(cert), "/slow")
	checkTimeoutFreesPythread(t, s, tlsClient(false, cert))
}

// An HTTP/2 client that keeps reading, slowly, is not cut: it need take
// only 64 KiB of the queued response per --stall-timeout, as over HTTP/1.
// The queued part past memory (a temporary file) was sent in pieces of
// 256 KiB under one deadline each, so a client taking 128 KiB/s was reset
// after 1 s (an audit found it at 3 KB/s against the default 60 s).
func TestH2ClientReadingSlowlyButSteadilyIsNotCut(t *testing.T) {
	t.Parallel() // long waits, little CPU: run beside the others (Makefile: -parallel 4)
	s := start(t, nil, writeApp(t, "app.py", slowReaderApp), "--stall-timeout", "1")
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &h2c, ResponseHeaderTimeout: 20 * time.Second,
		HTTP2: &http.HTTP2Config{MaxReceiveBufferPerStream: 64 << 10, MaxReceiveBufferPerConnection: 64 << 10}}}
	resp := h2GetWithoutReading(t, s, client, "/stream")
	const want = 1 << 20 // past the 256 KiB a response queues in memory
	buf := make([]byte, 16<<10)
	for got, start := 0, time.Now(); got < want; {
		time.Sleep(125 * time.Millisecond) // 16 KiB at a time: 128 KiB/s
		n, err := io.ReadFull(resp.Body, buf)
		got += n
		if err != nil {
			t.Fatalf("after %d bytes in %v: %v; want the client kept while it reads", got, time.Since(start), err)
		}
	}
}

// headFirstApp: /big is 32 MiB; /head-first sends its head alone first,
// through the write() callable, before its body.
const headFirstApp = `def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(32 << 20))])
        return (b"x" * (1 << 20) for _ in range(32))
    if path == "/head-first":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"")
        return [b"late body"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"quick"]
`

// A response head sent alone (write(b"")) on an HTTP/2 connection whose
// socket is full, because its client opened a huge window and then read
// nothing, waits in the stream's outbox, not in the one pythread: another
// client is served meanwhile.
func TestH2HeadFlushBehindAFullSocketHoldsNoPythread(t *testing.T) {
	cert := makeCert(t, t.TempDir(), "head")
	env := []string{"WSGO_CERTFILE=" + cert.certFile, "WSGO_KEYFILE=" + cert.keyFile}
	s := start(t, env, writeApp(t, "app.py", headFirstApp), "--threads", "1", "--stall-timeout", "60")
	raw := dialH2(t, s, cert)
	const most = 1<<31 - 1
	if err := raw.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: most}); err != nil {
		t.Fatal(err)
	}
	if err := raw.fr.WriteWindowUpdate(0, most-65535); err != nil {
		t.Fatal(err)
	}
	raw.request(1, "GET", "/big", true) // 32 MiB the client never reads: more than the sockets hold
	time.Sleep(time.Second)
	raw.request(3, "GET", "/head-first", true)
	time.Sleep(500 * time.Millisecond)

	client := tlsClient(true, cert)
	client.Timeout = 10 * time.Second
	resp, body := frontDo(t, client, mustRequest(t, "GET", s.URL+"/quick", nil))
	if resp.StatusCode != 200 || body != "quick" {
		t.Fatalf("GET /quick while a head waits: %d %q; want 200 quick", resp.StatusCode, body)
	}
}
