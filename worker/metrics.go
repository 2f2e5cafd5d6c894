package worker

import (
	"log/slog"

	"wsgo/httpfront"
	"wsgo/internal/promtext"
	"wsgo/pyhost"
)

// newMetrics makes what a worker measures for --metrics-bind: its
// front's requests (front, for httpfront.Config) and its Python threads
// (none when host is nil: an app that failed to load under --reload).
// gather encodes them for the master, which asks at each scrape
// (handoff.Orders.Metrics); nothing in it takes the GIL.
func newMetrics(host *pyhost.Host, logger *slog.Logger) (front *httpfront.Metrics, gather func() []byte) {
	reg := promtext.NewRegistry()
	reg.ProcessMetrics()
	if host != nil {
		reg.Collect(func() []promtext.Family {
			l := host.Load() // one snapshot for the three
			return []promtext.Family{
				promtext.GaugeFamily("wsgo_python_threads", "Python threads that serve requests (--threads).", float64(l.Threads)),
				promtext.GaugeFamily("wsgo_python_threads_busy", "Python threads serving a request, running Python or waiting on its client.", float64(l.Busy)),
				promtext.GaugeFamily("wsgo_python_queue_depth", "Requests waiting for a free Python thread.", float64(l.Queued)),
			}
		})
	}
	front = httpfront.NewMetrics(reg)
	gather = func() []byte {
		data, err := promtext.Encode(reg.Gather())
		if err != nil {
			logger.Warn("wsgo: encoding metrics: " + err.Error())
		}
		return data
	}
	return front, gather
}
