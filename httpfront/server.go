// Package httpfront is wsgo's HTTP/1.x server. It is our own rather than
// net/http's because a WSGI application's reason phrase ("200 Everything
// Fine", "404 NOT FOUND") must reach the client as given, which
// http.ResponseWriter cannot do; it reads each request head once
// (head.go). net/http serves HTTP/2 only (h2.go); both protocols then take
// one path to the app (serve.go).
//
// It has no cgo: it talks to Python only through the wsgi contract.
package httpfront

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"wsgo/internal/acceptretry"
	"wsgo/internal/logfmt"
	"wsgo/wsgi"
)

// Config is what a Server needs. Zero durations and sizes take defaults
// (the Default* constants). What only a worker can make (the app, the
// logger, the access log, TLS, metrics) is left out of its JSON, in
// which the master hands its settings to each worker.
type Config struct {
	App    wsgi.App     `json:"-"`
	Logger *slog.Logger `json:"-"` // nil discards logs
	// KeepAlive is how long a connection may sit idle waiting for its
	// next request; negative: one request per connection.
	KeepAlive time.Duration
	// HeaderTimeout is how long a request's line and headers may take to
	// arrive once their first byte has (slowloris).
	HeaderTimeout time.Duration
	// StallTimeout: a body read or response write that makes no progress
	// for this long means the client is gone (a slow one still progresses).
	StallTimeout time.Duration

	// Request limits. A request line over LimitRequestLine gets 414; more
	// than LimitRequestFields header fields, or one over
	// LimitRequestFieldSize bytes, 431; a body over MaxBodySize bytes 413
	// (0: no limit).
	LimitRequestLine      int
	LimitRequestFields    int
	LimitRequestFieldSize int
	MaxBodySize           int64
	// MaxResponseSpool bounds what the server keeps in temporary files of
	// responses its clients take slowly (bufferBudget); 0 takes
	// DefaultMaxResponseSpool.
	MaxResponseSpool int64

	// Static maps URL prefixes to directories served by the front itself
	// (static.go). StaticMaxAge sets their Cache-Control max-age; zero
	// makes clients revalidate every time.
	Static       []StaticDir
	StaticMaxAge time.Duration
	// AccessLog gets one line per response; nil: none.
	AccessLog *AccessLog `json:"-"`
	// ForwardedAllow lists the peers whose proxy headers are believed
	// (proxy.go); nil believes no one.
	ForwardedAllow *AllowList
	// Debug answers an exception before the response started with an HTML
	// page showing its traceback and the request.
	Debug bool
	// Timeout bounds each request, from the start of the app (once the
	// body is received) to the end of its response; past it the app is
	// told (wsgi.ErrTimeout) and the client gets 504, or a cut connection
	// once the response has begun. Zero: no limit.
	Timeout time.Duration
	// StreamRequestBody passes a request body with a Content-Length to
	// the app as it arrives, for apps that stream uploads on purpose.
	// Otherwise every body is received whole first (memory up to a
	// bound, then an unlinked temporary file; see spoolBody), so that a
	// slow uploader costs memory, not a Python thread. Chunked bodies
	// are received whole either way: the app must know their length.
	StreamRequestBody bool
	// TLS, when set, makes every TCP connection a TLS one, with HTTP/2
	// when the client chooses it (ALPN). Unix sockets stay plain.
	TLS *tls.Config `json:"-"`
	// Metrics, when set, counts the requests (NewMetrics).
	Metrics *Metrics `json:"-"`
	// RootPath is the URL path the app is mounted at ("/app", or ""):
	// SCRIPT_NAME; requests outside it get 404 (mount.go).
	RootPath string
	// HealthPath, when set ("/", "/-/"), makes HealthPath+"healthz" and
	// HealthPath+"readyz" health checks answered by the server (health.go).
	HealthPath string
	// ProxyProtocol makes the peers of ForwardedAllow open each
	// connection with a PROXY protocol header (proxyproto.go).
	ProxyProtocol bool
	// Running, in a worker process, counts the requests it runs where
	// its master reads them: the master lends each new connection to the
	// worker with the least load (see handoff's board). Nil: not counted.
	Running RequestCounter `json:"-"`
}

// Server serves HTTP/1.0 and HTTP/1.1 on any number of listeners, and
// HTTP/2 over TLS.
type Server struct {
	app           wsgi.App
	log           *slog.Logger
	keepAlive     time.Duration // also the wait for a connection's first request
	noKeepAlive   bool          // one request per connection
	headerTimeout time.Duration
	stallTimeout  time.Duration
	limits        limits
	static        *staticFiles // nil without Config.Static
	accessLog     *AccessLog
	trust         *AllowList
	debug         bool
	timeout       time.Duration
	streamBody    bool // Config.StreamRequestBody
	tlsConfig     *tls.Config
	metrics       *Metrics
	proxyProtocol bool
	rootPath      string
	healthPath    string
	draining      atomic.Bool      // SetDraining: readiness is 503
	running       RequestCounter   // nil: none
	buffers       *bufferBudget    // what all connections hold for their clients
	refusals      *logfmt.Throttle // of the log lines for refused requests
	spoolCuts     *logfmt.Throttle // of the warnings for responses cut for room in the spool
	hangupArmed   atomic.Bool      // the look for hung-up clients is due (gone.go)

	// ctx is the parent of every request context; cancelled with
	// wsgi.ErrStopped when a Shutdown runs out of time.
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu        sync.Mutex
	closing   chan struct{} // closed when Shutdown or Release starts
	releasing bool          // Release: lent connections go back, not closed
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	live      sync.WaitGroup // one count per connection in conns
	h2        h2front        // the TLS connections that chose HTTP/2
}

// New makes a Server; it starts serving with Serve. It panics without an
// App.
func New(cfg Config) *Server {
	if cfg.App == nil {
		panic("httpfront: Config.App is nil")
	}
	s := &Server{
		app:           cfg.App,
		log:           cfg.Logger,
		keepAlive:     orDefault(cfg.KeepAlive, DefaultKeepAlive),
		headerTimeout: orDefault(cfg.HeaderTimeout, DefaultHeaderTimeout),
		stallTimeout:  orDefault(cfg.StallTimeout, DefaultStallTimeout),
		limits: limits{
			line:      orDefault(cfg.LimitRequestLine, DefaultLimitRequestLine),
			fields:    orDefault(cfg.LimitRequestFields, DefaultLimitRequestFields),
			fieldSize: orDefault(cfg.LimitRequestFieldSize, DefaultLimitRequestFieldSize),
			body:      max(cfg.MaxBodySize, 0),
		},
		static:        newStaticFiles(cfg.Static, cfg.StaticMaxAge),
		accessLog:     cfg.AccessLog,
		trust:         cfg.ForwardedAllow,
		debug:         cfg.Debug,
		noKeepAlive:   cfg.KeepAlive < 0,
		timeout:       cfg.Timeout,
		streamBody:    cfg.StreamRequestBody,
		tlsConfig:     cfg.TLS,
		metrics:       cfg.Metrics,
		proxyProtocol: cfg.ProxyProtocol,
		rootPath:      cfg.RootPath,
		healthPath:    cfg.HealthPath,
		running:       cfg.Running,
		buffers:       newBufferBudget(orDefault(cfg.MaxResponseSpool, DefaultMaxResponseSpool)),
		closing:       make(chan struct{}),
		listeners:     make(map[net.Listener]struct{}),
		conns:         make(map[*conn]struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.static != nil {
		s.static.log = s.log
	}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	s.refusals = &logfmt.Throttle{Burst: refusalBurst, Period: time.Second}
	s.spoolCuts = &logfmt.Throttle{Period: 10 * time.Second}
	return s
}

// orDefault is v, or def when v is zero or negative.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Serve accepts connections on l until Shutdown, then returns nil. Call it
// once per listener, each in its own goroutine.
func (s *Server) Serve(l net.Listener) error {
	if !s.addListener(l) {
		l.Close()
		return nil
	}
	defer s.removeListener(l)
	var backoff acceptretry.Backoff
	for {
		rwc, err := l.Accept()
		if err != nil {
			if s.shuttingDown() {
				return nil
			}
			if !acceptretry.Temporary(err) {
				return fmt.Errorf("wsgo: accepting connections on %s: %w", l.Addr(), err)
			}
			select {
			case <-time.After(backoff.Failed(s.log, err, "listener", l.Addr().String())):
			case <-s.closing:
				return nil
			}
			continue
		}
		backoff.Accepted()
		s.ServeConn(rwc)
	}
}

// ServeConn serves one connection in a goroutine of its own; a connection
// lent by another process implements Lent. After Shutdown or Release has
// begun it closes rwc (or gives it back) instead.
func (s *Server) ServeConn(rwc net.Conn) {
	c := newConn(s, rwc) // TLS and a PROXY header come in the connection's goroutine
	if !s.addConn(c) {
		c.end(false)
		s.live.Done()
		return
	}
	go c.serve()
}

// Shutdown stops the server gracefully: listeners close at once, and
// requests in flight finish their response (with Connection: close). Idle
// connections close once no request runs (closeIdleIfQuiet); until then
// a request sent on one as the stop began is answered too, with
// Connection: close, rather than met by a closed socket. A connection
// that has not brought its first
// request yet gets until KeepAlive to do so: the client may have sent it
// before the shutdown began. It returns when every connection is gone, or
// when ctx is done: then it closes what is left, cancels the requests'
// contexts, waits up to cutLogWait for them to end and returns ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	return s.stop(ctx, false)
}

// Release is Shutdown for a server of lent connections that another
// process will go on serving: idle ones, fresh ones included, are given
// back at once (Lent.Return), and busy ones after their response.
func (s *Server) Release(ctx context.Context) error {
	return s.stop(ctx, true)
}

// cutLogWait is how long the requests a stop cuts get to end and log,
// well within the margin the master gives a worker past the graceful
// timeout before it kills it (supervisor.KillMargin).
const cutLogWait = 500 * time.Millisecond

func (s *Server) stop(ctx context.Context, release bool) error {
	s.mu.Lock()
	select {
	case <-s.closing:
	default:
		s.releasing = release
		close(s.closing)
	}
	for l := range s.listeners {
		l.Close()
	}
	if s.releasing {
		for c := range s.conns {
			if c.idle {
				c.rwc.SetReadDeadline(time.Now()) // wakes it to give itself back
			}
		}
	}
	s.closeIdleIfQuiet(nil)
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.h2.shutdown(ctx)
		s.live.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancel(wsgi.ErrStopped)
		s.h2.close()
		s.mu.Lock()
		for c := range s.conns {
			c.rwc.Close()
		}
		s.mu.Unlock()
		// The requests cut end now (those in Python when it returns): a
		// moment to add their access-log lines, which the caller closes.
		select {
		case <-done:
		case <-time.After(cutLogWait):
		}
		return ctx.Err()
	}
}

func (s *Server) shuttingDown() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

func (s *Server) addListener(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shuttingDown() {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) removeListener(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
}

// addConn registers a new connection, idle until its first request. The
// live count is taken either way: the caller's Done balances a refusal.
func (s *Server) addConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live.Add(1)
	if s.shuttingDown() {
		return false
	}
	c.idle, c.fresh = true, true
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.closeIdleIfQuiet(nil)
	s.mu.Unlock()
	s.live.Done()
}

// closeIdleIfQuiet, in a full stop once no request runs, wakes the idle
// connections to close (awaitRequest gives up), except the one that
// closes itself, and the fresh ones, which keep their KeepAlive to bring
// a first request. s.mu: held.
func (s *Server) closeIdleIfQuiet(except *conn) {
	if !s.shuttingDown() || s.releasing {
		return
	}
	for c := range s.conns {
		if !c.idle {
			return
		}
	}
	for c := range s.conns {
		if !c.fresh && c != except {
			c.rwc.SetReadDeadline(time.Now())
		}
	}
}

// setIdle records whether c waits between requests, where Shutdown may
// close it. It reports false when shutting down: c must then close.
func (s *Server) setIdle(c *conn, idle bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.idle = idle
	if !idle {
		c.fresh = false
	} else {
		s.closeIdleIfQuiet(c) // c closes itself: false below
	}
	return !s.shuttingDown()
}

func (s *Server) isFresh(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return c.fresh
}

func (s *Server) isReleasing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.releasing
}
