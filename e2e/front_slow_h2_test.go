package e2e

// Slow readers over HTTP/2 cost memory, not pythreads (issue 12 item 5):
// each stream's response is queued above the session once its writer is
// released, and sent by a goroutine as the client's window allows.

import (
	"io"
	"net/http"
	"testing"
	"time"
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
