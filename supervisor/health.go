package supervisor

import (
	"net/http"

	"wsgo/handoff"
)

// Health checks, served by the master beside /metrics (--metrics-bind),
// in Go: a busy or wedged Python never delays them, and the app cannot
// shadow them.
//
//   - GET /healthz (liveness): 200 "ok" while the master runs, draining
//     included: restarting a server that is finishing its requests would
//     cut them.
//   - GET /readyz (readiness): 200 "ok" once a worker has imported the
//     app and until SIGTERM; 503 "starting" while no worker is ready (at
//     start, or all of them restarting); 503 "draining" from SIGTERM on,
//     through --shutdown-delay and the graceful drain.
const (
	bodyOK       = "ok\n"
	bodyStarting = "starting\n"
	bodyDraining = "draining\n"
)

// handleHealth adds the health checks to mux.
func (m *Master) handleHealth(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		plainText(w, http.StatusOK, bodyOK)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case m.isDraining():
			plainText(w, http.StatusServiceUnavailable, bodyDraining)
		case m.countPhase(ready) == 0:
			plainText(w, http.StatusServiceUnavailable, bodyStarting)
		default:
			plainText(w, http.StatusOK, bodyOK)
		}
	})
}

func plainText(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(body))
}

// beginDraining turns readiness to 503 for good (SIGTERM, SIGINT), and
// tells systemd.
func (m *Master) beginDraining(status string) {
	m.mu.Lock()
	already := m.draining
	m.draining = true
	m.mu.Unlock()
	if !already {
		m.notify("STOPPING=1", "STATUS="+status)
		m.tellAll(handoff.Draining) // for --health-path on the app's listeners
	}
}

// tellAll sends an order without data to every worker not yet reaped; a
// starting one reads it once ready.
func (m *Master) tellAll(k handoff.Kind) {
	for _, w := range m.living() {
		w.ch.Send(handoff.Msg{Kind: k}, -1)
	}
}

func (m *Master) isDraining() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.draining
}
