package httpfront

import (
	"strconv"
	"time"

	"wsgo/internal/promtext"
)

// Metrics measures a Server's requests for Prometheus (--metrics-bind):
// responses by status class, their latency, and the requests in flight.
// Every request the front answers counts, the app's and the static
// files', HTTP/1 and HTTP/2, and the refusals of the front itself. A
// request costs a few atomic adds and no allocation.
type Metrics struct {
	inFlight *promtext.Gauge
	latency  *promtext.Histogram
	byClass  *promtext.CounterVec
	classes  [6]*promtext.Counter // none, then 1xx..5xx at status/100, looked up once
	h2Errors *promtext.CounterVec
	h2Conns  *promtext.CounterVec // connection errors, by code
}

// latencyBuckets are the histogram's upper bounds in seconds, from half a
// millisecond (a static file, a refusal) to 30 s (a slow app).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewMetrics makes the metrics of a Server (Config.Metrics) and registers
// them with reg.
func NewMetrics(reg *promtext.Registry) *Metrics {
	m := &Metrics{
		inFlight: reg.Gauge("wsgo_requests_in_flight",
			"Requests whose head was read and whose response is not over yet."),
		latency: reg.Histogram("wsgo_request_duration_seconds",
			"Time from the first byte of a request to the end of its response.", latencyBuckets),
		byClass: reg.CounterVec("wsgo_requests_total",
			"Requests answered, by status class (code: 1xx to 5xx; none: the client left before a response began).", "code"),
		h2Errors: reg.CounterVec("wsgo_http2_protocol_errors_total",
			"HTTP/2 frames and streams refused by the protocol layer before a request reached wsgo (type: net/http's name of the error).", "type"),
		h2Conns: reg.CounterVec("wsgo_http2_connection_errors_total",
			"HTTP/2 connections ended on a connection error, whatever the error (code: the GOAWAY's error code).", "code"),
	}
	for c := range m.classes {
		m.classes[c] = m.byClass.With(statusClass(c * 100))
	}
	return m
}

func (m *Metrics) begin() {
	if m != nil {
		m.inFlight.Inc()
	}
}

func (m *Metrics) end() {
	if m != nil {
		m.inFlight.Dec()
	}
}

// h2Error counts an HTTP/2 error of net/http's, such as a stream it
// reset for a malformed request (h2.go).
func (m *Metrics) h2Error(errType string) {
	if m != nil {
		m.h2Errors.With(errType).Inc()
	}
}

// h2ConnectionError counts an HTTP/2 connection ended with a GOAWAY of
// error code code (h2conn.go).
func (m *Metrics) h2ConnectionError(code string) {
	if m != nil {
		m.h2Conns.With(code).Inc()
	}
}

// answered counts a response with status (0: none was sent) to a request
// whose first byte came at start.
func (m *Metrics) answered(status int, start time.Time) {
	if m == nil {
		return
	}
	m.latency.Observe(time.Since(start).Seconds())
	if c := status / 100; c < len(m.classes) {
		m.classes[c].Inc()
		return
	}
	m.byClass.With(statusClass(status)).Inc() // rare: a lookup is fine
}

// statusClass is the code label of a status: "2xx", or "none" for 0.
func statusClass(status int) string {
	if status == 0 {
		return "none"
	}
	return strconv.Itoa(status/100) + "xx"
}

// answered records a finished response in the access log and the metrics.
func (s *Server) answered(r *responseState) {
	s.accessLog.served(r)
	s.metrics.answered(r.status, r.start)
}
