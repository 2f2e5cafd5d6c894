package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"wsgo/handoff"
	"wsgo/internal/promtext"
)

// The master serves the metrics (--metrics-bind) on a listener of its
// own. At each scrape it asks the serving worker of every position for
// the worker's metrics over its channel (handoff.Scrape), waits up to
// scrapeWait, and adds each answer, labelled worker="N" (the position,
// kept by replacements), to its own metrics.
const (
	scrapeWait = time.Second
	maxAnswer  = 16 << 20 // bytes of metrics one worker may send
)

// Reasons of wsgo_worker_restarts_total.
const (
	reasonCrash        = "crash"         // it died while serving
	reasonStartFailure = "start_failure" // it died while importing the app
	reasonReload       = "reload"        // SIGHUP
	reasonMaxRequests  = "max_requests"
	reasonMaxRSS       = "max_rss"
	reasonStuck        = "timeout_stuck" // a thread stayed stuck in a request that timed out
	reasonSignal       = "sigterm"       // the worker itself got SIGTERM
)

// recycleReason is the restart reason of a worker's Recycle.
func recycleReason(why handoff.Why) string {
	switch why {
	case handoff.WhyMaxRequests:
		return reasonMaxRequests
	case handoff.WhyMaxRSS:
		return reasonMaxRSS
	case handoff.WhyStuck:
		return reasonStuck
	case handoff.WhySignal:
		return reasonSignal
	}
	return "recycle"
}

// metrics is the master's side of --metrics-bind. Its methods do nothing
// on nil (no --metrics-bind).
type metrics struct {
	m            *Master
	restarts     *promtext.CounterVec
	ownAnswers   *promtext.CounterVec
	scrapeErrors *promtext.Counter
	server       *http.Server

	scraping sync.Mutex // one scrape at a time

	mu      sync.Mutex
	scrape  uint32             // the number of the scrape under way (or the last)
	answers map[*worker]*reply // the scrape's answers, by worker asked; nil between scrapes
	arrived chan *worker       // a complete answer came; room for every worker asked
}

// reply is what a worker has sent of its metrics.
type reply struct {
	data     []byte
	complete bool // MetricsEnd came
	tooLarge bool // over maxAnswer; data dropped
	unsent   bool // the question could not be sent
}

// serveMetrics listens on the metrics address and serves there.
func (m *Master) serveMetrics() error {
	l, err := m.listenOwn(m.cfg.MetricsBind)
	if err != nil {
		// Listen's advice names --bind, the flag it usually serves.
		return &ListenError{errors.New(strings.ReplaceAll(err.Error(), "--bind", "--metrics-bind"))}
	}
	reg := promtext.NewRegistry()
	x := &metrics{m: m}
	x.restarts = reg.CounterVec("wsgo_worker_restarts_total",
		"Worker processes replaced, by reason: crash, start_failure, reload, max_requests, max_rss, timeout_stuck, sigterm.",
		"reason", reasonCrash, reasonStartFailure, reasonReload, reasonMaxRequests, reasonMaxRSS, reasonStuck, reasonSignal)
	x.ownAnswers = reg.CounterVec("wsgo_master_responses_total",
		"Responses the master sent itself: 502 for a request whose worker died, 503 for a connection no worker took in time.",
		"code", "502", "503")
	x.scrapeErrors = reg.Counter("wsgo_metrics_scrape_errors_total",
		"Scrapes that had to leave a worker out: it did not answer within 1 s, or its answer was unreadable.")
	reg.ProcessMetrics()
	reg.Collect(func() []promtext.Family {
		fams := []promtext.Family{promtext.GaugeFamily("wsgo_connections_waiting",
			"Accepted connections waiting for a worker to be ready.", float64(m.countPending()))}
		for _, p := range []phase{starting, ready, draining} {
			fams = append(fams, promtext.GaugeFamily("wsgo_workers",
				"Worker processes alive, by state: starting (importing the app), ready (serving), draining (finishing before exit).",
				float64(m.countPhase(p)), promtext.Label{Name: "state", Value: p.String()}))
		}
		return fams
	})

	mux := http.NewServeMux()
	// The workers first: their answers take up to scrapeWait, and the
	// master's own numbers are then the freshest.
	mux.Handle("GET /metrics", promtext.Handler(func() []promtext.Family {
		return promtext.Merge(append(x.gatherWorkers(), reg.Gather()...))
	}))
	m.handleHealth(mux)
	// A scraper's idle keep-alive connection is closed after a while: each
	// holds a descriptor of the master's.
	x.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelDebug)}
	go x.server.Serve(l)
	m.metrics = x
	where := URL(l)
	if _, isTCP := l.Addr().(*net.TCPAddr); isTCP {
		where += "/metrics"
	} else {
		where += ", path /metrics"
	}
	m.log.Info("wsgo: metrics on " + where + "; health checks at /healthz and /readyz")
	return nil
}

func (p phase) String() string {
	switch p {
	case starting:
		return "starting"
	case ready:
		return "ready"
	}
	return "draining"
}

// close stops serving metrics.
func (x *metrics) close() {
	if x != nil {
		x.server.Close()
	}
}

// restarted counts n workers replaced for reason.
func (x *metrics) restarted(reason string, n int) {
	if x != nil && n > 0 {
		x.restarts.With(reason).Add(uint64(n))
	}
}

// answeredItself counts n responses of the master with status code.
func (x *metrics) answeredItself(code string, n int) {
	if x != nil && n > 0 {
		x.ownAnswers.With(code).Add(uint64(n))
	}
}

func (m *Master) countPending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

func (m *Master) countPhase(p phase) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for w := range m.workers {
		if w.phase == p {
			n++
		}
	}
	return n
}

// scrapeTargets lists the workers to ask, by position: the ready one of
// each; while a replacement is under way a position has two ready ones
// for a moment, and the newer counts.
func (m *Master) scrapeTargets() []*worker {
	m.mu.Lock()
	byID := map[int]*worker{}
	for w := range m.workers {
		if o := byID[w.id]; w.phase == ready && (o == nil || w.serial > o.serial) {
			byID[w.id] = w
		}
	}
	m.mu.Unlock()
	ws := make([]*worker, 0, len(byID))
	for _, w := range byID {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].id < ws[j].id })
	return ws
}

// gatherWorkers asks the workers for their metrics and returns them,
// labelled. A worker that does not answer within scrapeWait, or answers
// what cannot be read, is left out, logged and counted; the scrape goes
// on without it.
func (x *metrics) gatherWorkers() []promtext.Family {
	x.scraping.Lock()
	defer x.scraping.Unlock()
	asked := x.m.scrapeTargets()
	x.mu.Lock()
	x.scrape++
	n := x.scrape
	x.answers = make(map[*worker]*reply, len(asked))
	x.arrived = make(chan *worker, len(asked))
	for _, w := range asked {
		x.answers[w] = &reply{}
	}
	x.mu.Unlock()
	waiting := len(asked)
	for _, w := range asked {
		if w.ch.Send(handoff.Msg{Kind: handoff.Scrape, Slot: n}, -1) != nil {
			x.mu.Lock()
			x.answers[w].unsent = true
			x.mu.Unlock()
			waiting--
		}
	}
	deadline := time.NewTimer(scrapeWait)
	defer deadline.Stop()
wait:
	for ; waiting > 0; waiting-- {
		select {
		case <-x.arrived:
		case <-deadline.C:
			break wait // the rest are late
		}
	}
	x.mu.Lock()
	answers := x.answers
	x.answers = nil
	x.mu.Unlock()

	var families []promtext.Family
	for _, w := range asked {
		f, err := answers[w].families(w.id)
		if err != nil {
			x.scrapeErrors.Inc()
			x.m.log.Warn(fmt.Sprintf("wsgo: metrics of worker %d (pid %d) left out of this scrape: %v", w.id, w.cmd.Process.Pid, err))
			continue
		}
		families = append(families, f...)
	}
	return families
}

// received takes a piece of a worker's answer (MetricsPart or
// MetricsEnd). Pieces of a scrape that has given up are dropped.
func (x *metrics) received(w *worker, msg handoff.Msg) {
	if x == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	a := x.answers[w]
	if a == nil || msg.Slot != x.scrape || a.complete {
		return
	}
	if len(a.data)+len(msg.Data) > maxAnswer {
		a.data, a.tooLarge = nil, true
	}
	if !a.tooLarge {
		a.data = append(a.data, msg.Data...)
	}
	if msg.Kind == handoff.MetricsEnd {
		a.complete = true
		x.arrived <- w // never blocks: one per worker asked
	}
}

// families decodes a reply and labels its metrics with the worker's
// position.
func (a *reply) families(id int) ([]promtext.Family, error) {
	switch {
	case a.unsent:
		return nil, errors.New("the worker could not be asked (it is exiting)")
	case !a.complete:
		return nil, fmt.Errorf("no answer within %s", scrapeWait)
	case a.tooLarge:
		return nil, fmt.Errorf("the answer is over %d bytes", maxAnswer)
	}
	families, err := promtext.Decode(a.data, promtext.Label{Name: "worker", Value: strconv.Itoa(id)})
	if err != nil {
		return nil, fmt.Errorf("its answer cannot be read: %w", err)
	}
	return families, nil
}
