package e2e

// wsgi.file_wrapper to a slow reader (issue 12 item 5): once released,
// the front queues a reference to the file, not a copy, and the pythread
// goes back to the pool.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// slowFileApp answers /stream with a 64 MiB file through
// wsgi.file_wrapper; /count tells how many of those the app has closed,
// which pyhost does once their pythread has handed the file over.
const slowFileApp = `
import io, os, threading
lock = threading.Lock()
streamed = 0
PATH = os.path.join(os.path.dirname(__file__), "big.bin")
with open(PATH, "wb") as f:
    f.truncate(64 << 20)

class Counted(io.FileIO):  # a FileIO, whose read() sendfile stands for
    def __init__(self):
        super().__init__(PATH, "rb")
    def close(self):
        global streamed
        if not self.closed:
            with lock:
                streamed += 1
        super().close()

def application(environ, start_response):
    if environ["PATH_INFO"] == "/stream":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](Counted())
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"streamed %d" % streamed]
`

// Eight clients that never read a 64 MiB file_wrapper response, against
// four pythreads, over plain HTTP/1.1 and over HTTP/2: every file is
// handed over at once, a GET is answered meanwhile, the worker holds the
// file open eight times (references, not copies), and each response
// arrives whole when read later.
func TestFileWrapperToClientsThatNeverReadCostsNoPythreads(t *testing.T) {
	t.Run("HTTP1.1", func(t *testing.T) {
		s := start(t, nil, writeApp(t, "app.py", slowFileApp), "--threads", "4")
		checkUnreadStreams(t, s, frontHTTP, "big.bin", func() func() io.Reader {
			c, err := net.Dial("tcp", s.Addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			c.SetDeadline(time.Now().Add(90 * time.Second))
			fmt.Fprintf(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
			return func() io.Reader {
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatal(err)
				}
				return resp.Body
			}
		})
	})
	t.Run("HTTP2", func(t *testing.T) {
		cert := makeCert(t, t.TempDir(), "slow")
		env := []string{"WSGO_CERTFILE=" + cert.certFile, "WSGO_KEYFILE=" + cert.keyFile}
		s := start(t, env, writeApp(t, "app.py", slowFileApp), "--threads", "4")
		streams := untimedClient(cert)
		checkUnreadStreams(t, s, tlsClient(false, cert), "big.bin", func() func() io.Reader {
			resp := h2GetWithoutReading(t, s, streams, "/stream")
			return func() io.Reader { return resp.Body }
		})
	})
}
