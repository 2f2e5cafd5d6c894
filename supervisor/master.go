// Package master is wsgo's supervisor process. It owns the listeners,
// accepts every connection and lends it to a worker process (see package
// handoff), starts and replaces workers (crash, --max-requests, a stuck
// thread, SIGHUP, SIGTTIN/SIGTTOU) and stops them gracefully. It never
// runs Python: a worker is the same binary, executed again.
package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"wsgo/handoff"
	"wsgo/internal/config"
	"wsgo/internal/exitcode"
)

// Config is what Run needs.
type Config struct {
	Workers int
	// Binds are the addresses to listen on; empty: the wsgiref address the
	// app asked for (handoff.Hello.ScriptBind), else DefaultBind.
	Binds       []string
	DefaultBind string
	Listen      func(bind string) (net.Listener, error)
	URL         func(net.Listener) string
	// Command makes the command of a new worker: this binary, these
	// arguments. Run adds the descriptors and environment of the wire
	// (3 to 6) before the command's own ExtraFiles, which it closes once
	// the worker has started.
	Command func() *exec.Cmd
	// Reconfigure, if set, is called on SIGHUP before the workers are
	// replaced, off the master's loop (it may run the configuration
	// file): what Command gives from then on is for it to decide. False:
	// new workers could not start (it said why); no reload.
	Reconfigure     func() bool
	BatchWorkers    bool // start workers under SCHED_BATCH (internal/cpusched)
	Reload          bool // --reload: a save, not SIGHUP, brings the next reload
	GracefulTimeout time.Duration
	// ShutdownDelay is how long the listeners keep accepting after
	// SIGTERM, with /readyz answering 503, before the graceful drain.
	ShutdownDelay time.Duration
	PidFile       string
	Threads       int // per worker, for the start line
	Logger        *slog.Logger
	// Listening, if set, is called with each listener before the start
	// line (for warnings about where it listens).
	Listening func(net.Listener)
	// Privileges, if set, is who to run as once listening (privileges.go).
	Privileges *config.Privileges
	// MetricsBind, if set, is the address to serve metrics and health
	// checks on (metrics.go, health.go).
	MetricsBind string
	// AnswerLog, if set, logs a response the master sent itself (502 for a
	// request whose worker died, 503 when no worker could start in time)
	// beside the workers' access lines: the peer, the status, the body's
	// size, and the request as its worker recorded it (the master never
	// reads one; all "" when the worker had not recorded it).
	AnswerLog func(remote string, status int, bytes int64, req handoff.Request)
}

// StartError says the first workers could not start: Code is what wsgo
// exits with (4 when the app cannot be imported); the log said why.
type StartError struct{ Code int }

func (e *StartError) Error() string {
	return fmt.Sprintf("wsgo: a worker exited with code %d while starting", e.Code)
}

// ListenError wraps a failure to listen on a bind address.
type ListenError struct{ Err error }

func (e *ListenError) Error() string { return e.Err.Error() }
func (e *ListenError) Unwrap() error { return e.Err }

// pendingLimit is how long an accepted connection may wait for a worker
// (all are restarting) before it is answered 503.
const pendingLimit = 30 * time.Second

// Master is the running supervisor.
type Master struct {
	cfg         Config
	log         *slog.Logger
	listeners   []net.Listener
	listenFiles []*os.File // blocking duplicates, accepted from
	socketFiles []string   // the unix sockets it made (and removes at exit)
	accepting   sync.WaitGroup
	events      chan event

	metrics     *metrics  // nil without MetricsBind
	schedWarned sync.Once // StartBatch was refused (worker.go)
	notifier    *notifier // nil without NOTIFY_SOCKET (systemd.go)
	status      string    // the STATUS= of READY=1

	mu       sync.Mutex
	seats    *seats               // the workers' places on the board
	workers  map[*worker]struct{} // every process not yet reaped
	spawned  uint64               // workers started so far (worker.serial)
	pending  []pendingConn        // accepted, waiting for a ready worker
	stopping bool                 // the listeners are closing
	draining bool                 // SIGTERM came: not ready (health.go)

	// Owned by the loop goroutine.
	target  int             // how many workers should serve (SIGTTIN/SIGTTOU)
	nextID  int             // number for the next new position
	current map[int]*worker // the serving (or starting) worker of each position
	crashes map[int]int     // start-up deaths in a row, per position
	// reloading is the reload under way, or nil; reloadAgain, when not
	// "", the reason of one asked for meanwhile; reloadBegan, when the
	// latest began.
	reloading   *batch
	reloadAgain string
	reloadBegan time.Time
	// echoes: how many signals were queued, unread, before the stop was
	// announced (see countEchoes).
	echoes int
}

type pendingConn struct {
	heldConn
	since time.Time
}

// Run starts the workers, listens, serves until SIGTERM or SIGINT, and
// stops gracefully. It returns nil after a graceful stop.
func Run(cfg Config) error {
	m := &Master{
		cfg:     cfg,
		log:     cfg.Logger,
		events:  make(chan event, 64),
		workers: map[*worker]struct{}{},
		target:  cfg.Workers,
		current: map[int]*worker{},
		crashes: map[int]int{},
	}
	if cfg.PidFile != "" {
		if err := checkPidFile(cfg.PidFile); err != nil { // before any worker imports the app
			return err
		}
	}
	// systemd's variables are for the master alone.
	var activated []net.Listener
	if Activated() {
		var err error
		if activated, err = activatedListeners(); err != nil {
			return err
		}
	}
	seats, err := newSeats()
	if err != nil {
		return err
	}
	defer seats.close()
	m.seats = seats
	m.notifier = newNotifier()
	forgetSystemd()
	// Before the first worker: a supervisor may signal as soon as it sees
	// the start line, and SIGINT from a terminal reaches workers too.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR1,
		syscall.SIGUSR2, syscall.SIGTTIN)
	defer signal.Stop(sigs)
	ttouDone := make(chan struct{})
	defer close(ttouDone)
	watchTTOU(sigs, ttouDone)

	if cfg.MetricsBind != "" {
		if err := m.serveMetrics(); err != nil {
			return err
		}
		defer m.metrics.close()
	}
	from := ""
	if activated != nil {
		m.listeners, from = activated, " (sockets from systemd)"
	} else if len(cfg.Binds) > 0 {
		if err := m.listen(cfg.Binds); err != nil {
			return err
		}
	}
	hello, early, err := m.startAll(sigs)
	if err != nil {
		m.closeListeners()
		if err == errStoppedStarting {
			return nil
		}
		return err
	}
	if len(m.listeners) == 0 {
		binds := []string{cfg.DefaultBind}
		if hello.ScriptBind != "" {
			binds, from = []string{hello.ScriptBind}, " (the address the script gave make_server)"
		}
		if err := m.listen(binds); err != nil {
			m.killAll("wsgo could not start")
			return err
		}
	}
	if err := m.dropPrivileges(); err != nil {
		m.killAll("wsgo could not start")
		m.closeListeners()
		return err
	}
	if cfg.PidFile != "" {
		if err := writePidFile(cfg.PidFile); err != nil {
			m.killAll("wsgo could not start")
			return err
		}
		defer removePidFile(cfg.PidFile)
	}
	var urls []string
	for _, l := range m.listeners {
		urls = append(urls, cfg.URL(l))
		f, err := l.(interface{ File() (*os.File, error) }).File()
		if err != nil {
			m.killAll("wsgo could not start")
			return &ListenError{fmt.Errorf("wsgo: %s: %w", cfg.URL(l), err)}
		}
		m.listenFiles = append(m.listenFiles, f)
		if cfg.Listening != nil {
			cfg.Listening(l)
		}
		m.accepting.Add(1)
		go m.accept(l, int(f.Fd())) // Fd makes it (and l: one open file) blocking
	}
	m.status = fmt.Sprintf("serving %s on %s", hello.Description, strings.Join(urls, ", "))
	m.log.Info(fmt.Sprintf("wsgo: %s%s (Python %s, %s, %d threads)", m.status, from, hello.Python,
		plural(cfg.Workers, "worker"), cfg.Threads))
	for _, note := range hello.Notes {
		m.log.Info(note)
	}
	for _, w := range hello.Warnings {
		m.log.Warn(w)
	}
	m.notifyReady()
	for _, sig := range early {
		m.signaled(sig)
	}
	if why := m.reloadAgain; why != "" { // a ready worker saw a save while others imported
		m.reloadAgain = ""
		m.reload(why, time.Time{})
	}
	return m.loop(sigs)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (m *Master) listen(binds []string) error {
	for _, b := range binds {
		l, err := m.listenOwn(b)
		if err != nil {
			m.closeListeners()
			return &ListenError{err}
		}
		m.listeners = append(m.listeners, l)
	}
	return nil
}

// listenOwn listens on bind, remembering the socket file it makes (not
// that of a unix socket inherited through fd://N, which is not its own).
func (m *Master) listenOwn(bind string) (net.Listener, error) {
	l, err := m.cfg.Listen(bind)
	if err == nil && strings.HasPrefix(bind, "unix:") {
		if a, ok := l.Addr().(*net.UnixAddr); ok {
			m.socketFiles = append(m.socketFiles, a.Name)
		}
	}
	return l, err
}

func (m *Master) closeListeners() {
	for _, l := range m.listeners {
		l.Close()
	}
	m.listeners = nil
}

// startAll starts the first workers and waits until all are ready, or one
// exits. It returns the first one's Hello, and the signals that came
// meanwhile for the loop to act on. A stop signal meanwhile ends the
// workers at once, as they serve nothing yet: an import that hangs must
// not make `docker stop` or Ctrl-C wait for SIGKILL.
func (m *Master) startAll(sigs <-chan os.Signal) (handoff.Hello, []os.Signal, error) {
	for i := 0; i < m.target; i++ {
		m.nextID++
		w, err := m.spawn(m.nextID, false)
		if err != nil {
			m.killAll("wsgo could not start")
			return handoff.Hello{}, nil, err
		}
		m.current[w.id] = w
	}
	var hello handoff.Hello
	var early []os.Signal
	for ready := 0; ready < m.target; {
		select {
		case sig := <-sigs:
			if !stopSignal(sig) {
				early = append(early, sig)
				continue
			}
			m.log.Info(fmt.Sprintf("wsgo: %s received while the workers were importing the app: stopping", osSignalName(sig)))
			for _, w := range m.living() {
				w.dismissed = true
			}
			m.killAll("wsgo was told to stop while the app was importing")
			m.log.Info("wsgo: stopped")
			return hello, nil, errStoppedStarting
		case ev := <-m.events:
			switch ev.kind {
			case evReady:
				if ev.w.superseded {
					continue
				}
				m.markReady(ev.w)
				if ready == 0 {
					hello = ev.w.hello
				}
				ready++
			case evReload: // --reload: a save while the app imports
				if m.importing(ev.w) {
					m.supersede(ev.w, ev.detail)
				} else if !ev.w.superseded {
					m.reloadAgain = ev.detail
				}
			case evExit:
				m.reap(ev.w)
				if ev.w.superseded {
					w, err := m.spawn(ev.w.id, false)
					if err != nil {
						m.log.Error(err.Error())
						m.killAll("wsgo could not start")
						return hello, nil, err
					}
					m.current[w.id] = w
					continue
				}
				m.killAll("wsgo could not start")
				return hello, nil, &StartError{Code: m.startFailed(ev.w)}
			}
		}
	}
	return hello, early, nil
}

// startFailed returns the exit code for a first worker that exited before
// it was ready. Its own error exits 4 once it has printed why; any other
// end while importing (os._exit(), a crash in C code, a signal) is the
// app's too, and exits 4 as well: exit 0 would tell a supervisor that all
// went well, and 2, Go's code for a crash, that the flags were wrong.
func (m *Master) startFailed(w *worker) int {
	code := exitCode(w.state)
	if code == exitcode.AppImport || code == exitcode.Usage && w.crashed == "" { // the worker said why
		return code
	}
	m.log.Error(fmt.Sprintf("wsgo: worker %d ended while importing the app (its exit is above), so there is no app to serve; "+
		"find what ended it (os._exit(), a crash in C code, a signal) in the app's import, then start wsgo again", w.id))
	return exitcode.AppImport
}

// stopSignal reports whether sig stops wsgo.
func stopSignal(sig os.Signal) bool {
	return sig == syscall.SIGINT || sig == syscall.SIGTERM || sig == syscall.SIGQUIT
}

// killAll ends every worker at once and waits for them (start-up failure,
// second signal), saying why.
func (m *Master) killAll(why string) {
	ws := m.living()
	for _, w := range ws {
		w.kill(why)
	}
	for len(ws) > 0 {
		if ev := <-m.events; ev.kind == evExit {
			m.reap(ev.w)
			ws = ws[:len(ws)-1]
		}
	}
}

// living lists every worker process not yet reaped.
func (m *Master) living() []*worker {
	m.mu.Lock()
	defer m.mu.Unlock()
	ws := make([]*worker, 0, len(m.workers))
	for w := range m.workers {
		ws = append(ws, w)
	}
	return ws
}

func exitCode(ps *os.ProcessState) int {
	if ps == nil || ps.ExitCode() < 0 {
		return 1
	}
	return ps.ExitCode()
}

// errStoppedStarting says a stop signal came before the workers were ready.
var errStoppedStarting = errors.New("stopped while starting")
