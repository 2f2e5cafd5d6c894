package worker

import (
	"bytes"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"wsgo/httpfront"
	"wsgo/pyhost"
)

// newMetrics makes what a worker measures for --metrics-bind: its
// front's requests (front, for httpfront.Config) and its Python threads
// (none when host is nil: an app that failed to load under --reload).
// gather encodes them for the master, which asks at each scrape
// (handoff.Orders.Metrics); nothing in it takes the GIL.
func newMetrics(host *pyhost.Host, logger *slog.Logger) (front *httpfront.Metrics, gather func() []byte) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if host != nil {
		reg.MustRegister(newLoadCollector(host))
	}
	front = httpfront.NewMetrics(reg)
	gather = func() []byte {
		families, err := reg.Gather()
		if err != nil {
			logger.Warn("wsgo: gathering metrics: " + err.Error())
		}
		var b bytes.Buffer
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeProtoDelim))
		for _, f := range families {
			if err := enc.Encode(f); err != nil {
				logger.Warn("wsgo: encoding metrics: " + err.Error())
				return nil
			}
		}
		return b.Bytes()
	}
	return front, gather
}

// loadCollector reports the Python threads' work, one snapshot per scrape
// (pyhost.Host.Load).
type loadCollector struct {
	host                   *pyhost.Host
	threads, busy, waiting *prometheus.Desc
}

func newLoadCollector(host *pyhost.Host) loadCollector {
	return loadCollector{
		host:    host,
		threads: prometheus.NewDesc("wsgo_python_threads", "Python threads that serve requests (--threads).", nil, nil),
		busy:    prometheus.NewDesc("wsgo_python_threads_busy", "Python threads serving a request, running Python or waiting on its client.", nil, nil),
		waiting: prometheus.NewDesc("wsgo_python_queue_depth", "Requests waiting for a free Python thread.", nil, nil),
	}
}

func (c loadCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.threads
	ch <- c.busy
	ch <- c.waiting
}

func (c loadCollector) Collect(ch chan<- prometheus.Metric) {
	l := c.host.Load()
	ch <- prometheus.MustNewConstMetric(c.threads, prometheus.GaugeValue, float64(l.Threads))
	ch <- prometheus.MustNewConstMetric(c.busy, prometheus.GaugeValue, float64(l.Busy))
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(l.Queued))
}
