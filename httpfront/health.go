package httpfront

// Health checks on the app's own listeners (--health-path PREFIX):
// GET PREFIX/healthz and PREFIX/readyz, answered by the connection's
// goroutine, never by a Python thread: a probe gets its answer while
// every pythread is busy, and the app cannot shadow the paths. They are
// the worker's view; the master's, on --metrics-bind, also knows whether
// any worker is ready (supervisor/health.go).
//
//   - healthz: 200 "ok" while the worker serves, draining included.
//   - readyz: 200 "ok" until the worker drains (it is being replaced, or
//     the master is stopping: --shutdown-delay included), then 503
//     "draining". A worker serves only once its app is imported.

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"wsgo/wsgi"
)

// ParseHealthPath checks a --health-path: "" for none, "/" for /healthz
// and /readyz, "/-" for /-/healthz and /-/readyz. Its error says what to
// give; the caller names the value.
func ParseHealthPath(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	p, ok := checkedPrefix(s)
	if !ok {
		return "", errors.New("give the URL path the health checks go under, such as /- for /-/healthz and /-/readyz (or / for /healthz and /readyz)")
	}
	return p + "/", nil
}

// health is the answer to a health check.
type health struct {
	s     *Server
	ready bool // readyz, else healthz
}

// healthCheck is the health check a request asks for, or nil.
func (s *Server) healthCheck(req *wsgi.Request) wsgi.App {
	if s.healthPath == "" {
		return nil
	}
	switch strings.TrimPrefix(req.RawPath, s.healthPath) {
	case "healthz":
		return health{s: s}
	case "readyz":
		return health{s: s, ready: true}
	}
	return nil
}

func (h health) ServeWSGI(_ context.Context, req *wsgi.Request, w wsgi.Responder) error {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return sendText(w, http.StatusMethodNotAllowed, wsgi.Header{Name: "Allow", Value: "GET, HEAD"})
	}
	status, body := http.StatusOK, "ok\n"
	if h.ready && h.s.isDraining() {
		status, body = http.StatusServiceUnavailable, "draining\n"
	}
	header := append([]wsgi.Header{{Name: "Cache-Control", Value: "no-store"}}, plainText...)
	if err := w.Start(status, statusText(status), header, int64(len(body))); err != nil {
		return err
	}
	return w.Write([]byte(body))
}

// SetDraining turns readiness to 503 for good, the server serving on
// (the master's SIGTERM with --shutdown-delay).
func (s *Server) SetDraining() {
	s.draining.Store(true)
}

func (s *Server) isDraining() bool {
	return s.draining.Load() || s.shuttingDown()
}
