// Package worker is a worker process's life: it imports the app (pyhost),
// tells the master it is ready, serves the connections the master lends it
// (httpfront) until told to stop, and asks to be replaced when it should
// be: --max-requests, --max-rss, a stuck pythread, or a --reload save.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"wsgo/handoff"
	"wsgo/httpfront"
	"wsgo/internal/config"
	"wsgo/internal/exitcode"
	"wsgo/internal/logfmt"
	"wsgo/pyhost"
)

// Run is a worker process: it imports the app, says so, and serves the
// connections the master lends it until told to stop.
func Run(o *config.Options, link *handoff.Link, logger *slog.Logger) error {
	started := time.Now()
	// The master decides: a terminal's Ctrl-C, Ctrl-\ or hang-up reaches
	// the whole process group, and must not stop workers behind the
	// master's back. SIGINT, SIGQUIT and SIGHUP are caught and dropped (Notify never blocks on a
	// full channel), not ignored: a process the app forks would inherit
	// SIG_IGN, where it gets the default action back from Go's handlers
	// (pyhost's fork.c). SIGTTIN and SIGTTOU stay ignored: caught, they
	// would make a background worker's terminal I/O retry for ever.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	signal.Ignore(syscall.SIGTTIN, syscall.SIGTTOU)
	// Caught from the start, handled once ready (below): a SIGTERM while
	// the app imports must not kill the worker by its default action.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGUSR1)
	ensureTwoPs(logger)
	imported := make(chan struct{})
	onImport := watchImport(o, link, logger, started, imported)
	host, err := pyhost.Start(pyhost.Config{
		Target:      o.Target,
		Chdir:       o.Python.Chdir,
		PythonPath:  o.Python.PythonPath,
		Virtualenv:  o.Python.Virtualenv,
		Threads:     o.Threads,
		Processes:   o.Workers,
		QueueSize:   o.QueueSize,
		Strict:      o.Strict,
		Reload:      o.Reload,
		Replacing:   link.Replacing,
		Debug:       o.Front.Debug,
		Logger:      logger,
		Timeout:     o.Timeout,
		StuckAfter:  o.GracefulTimeout,
		OnStuck:     func(why string) { link.Recycle(handoff.WhyStuck, why) },
		LendingLoad: hostLoad(link),
		OnImport:    onImport,
	})
	close(imported)
	app, reload, err := withReload(o, logger, started, host, err)
	if err != nil {
		var exit *exitcode.Error
		if errors.As(err, &exit) {
			return err
		}
		if o.LogJSON || o.ErrorLog != "" { // where the log's reader looks, as gunicorn's --error-logfile
			logger.Error("wsgo: the app could not be imported", "traceback", err.Error())
		} else { // as Python prints it: the traceback is the message
			fmt.Fprint(os.Stderr, strings.TrimRight(err.Error(), "\n")+"\n")
		}
		return &exitcode.Error{Code: exitcode.AppImport}
	}
	hello := handoff.Hello{Description: o.Target + " (failed to load)", Python: pyhost.PythonVersion()}
	if host != nil {
		hello.Description, hello.ScriptBind = host.Description(), host.ScriptBind()
		if about, err := host.About(); err == nil {
			if about.Virtualenv != "" {
				hello.Notes = append(hello.Notes, "wsgo: using the virtualenv "+about.Virtualenv)
			}
			if about.Warning != "" {
				hello.Warnings = append(hello.Warnings, about.Warning)
			}
		}
	}
	app = newRecycler(app, o.MaxRequests, o.MaxRequestsJitter, o.MaxRSSMiB,
		func(why handoff.Why, reason string) { link.Recycle(why, reason) })
	cfg := o.Front
	cfg.App, cfg.Logger, cfg.Timeout = app, logger, o.Timeout
	if cfg.AccessLog, err = httpfront.OpenConfiguredAccessLog(o.AccessLogSet, o.AccessLog, o.AccessLogJSON, logger); err != nil {
		return exitcode.Errorf(exitcode.Usage, "%s", err.Error())
	}
	if cfg.AccessLog != nil {
		defer cfg.AccessLog.Close()
	}
	var gatherMetrics func() []byte
	if o.MetricsBind != "" {
		cfg.Metrics, gatherMetrics = newMetrics(host, logger)
	}
	if o.Certs != nil { // read by this worker's Parse: one started by SIGHUP serves renewed files
		cfg.TLS = o.Certs.Config()
	}
	if seat := link.Seat(); seat != nil { // a nil *Seat in the interface would not be nil
		cfg.Running = seat
	}
	srv := httpfront.New(cfg)
	if err := link.Ready(hello); err != nil {
		return exitcode.Errorf(exitcode.Failure, "wsgo: worker %d cannot reach the master: %v", link.ID, err)
	}
	go link.Beat()

	release := make(chan bool, 2) // true: give connections back; false: close them
	go func() {
		asked := false
		for sig := range sigs {
			if sig == syscall.SIGUSR1 { // sent to this worker alone, as to a gunicorn worker
				reopenLogs(logger)
				continue
			}
			// SIGTERM to this worker alone (the app, kill, systemd's
			// KillMode=control-group): the master would go on lending it
			// connections it no longer serves. It asks to be replaced and
			// serves until drained; a second SIGTERM, or no master, stops it.
			if !asked && link.Recycle(handoff.WhySignal, "it got SIGTERM itself (to stop wsgo, send SIGTERM to the master)") == nil {
				asked = true
				continue
			}
			release <- false
		}
	}()
	go link.Serve(handoff.Orders{
		Conn:     srv.ServeConn,
		Release:  func() { release <- true },
		Stop:     func() { release <- false },
		Dump:     func() { go logStacks(host, logger) },
		Reopen:   func() { reopenLogs(logger) },
		Draining: srv.SetDraining,
		Metrics:  gatherMetrics,
		Declined: declinedLog(logger),
	})
	var giveBack bool
	changes := reload.changes()
	for waiting := true; waiting; {
		select {
		case giveBack = <-release:
			waiting = false
		case c := <-changes:
			// Watching goes on until this worker is told to go: the
			// reload may fail (the new code hangs or ends its worker), and
			// the next save, or one while the reload is under way, must
			// still be seen. The master tells a new save from this one.
			logger.Info(fmt.Sprintf(logReloadChanged, c.Path))
			link.AskReload(c.At)
		}
	}
	reload.stop()
	ctx, cancel := context.WithTimeout(context.Background(), o.GracefulTimeout)
	defer cancel()
	if giveBack {
		err = srv.Release(ctx)
	} else {
		err = srv.Shutdown(ctx)
	}
	switch { // those in Python were logged with their stacks as they were cut (pyhost's abandon)
	case errors.Is(err, context.DeadlineExceeded):
		logger.Warn(fmt.Sprintf("wsgo: --graceful-timeout (%v) ran out; the requests still running were cut", o.GracefulTimeout))
	case err != nil:
		logger.Warn("wsgo: the graceful stop ended early; requests still running were cut", "err", err)
	}
	if host == nil { // the app failed to load (--reload): Python has nothing to finish
		return nil
	}
	if ctx.Err() != nil { // the requests took the whole graceful timeout: Python gets a second of the master's margin
		ctx, cancel = context.WithTimeout(context.Background(), pythonAfterCut)
		defer cancel()
	}
	if err := host.Shutdown(ctx); err != nil {
		logger.Warn("wsgo: " + err.Error())
	}
	return nil
}

// pythonAfterCut is how long Python may take to finish (atexit handlers)
// once a stop has cut requests at the graceful timeout: with the front's
// wait for them to log (httpfront.cutLogWait), within the margin the
// master gives before it kills the worker (supervisor.KillMargin).
const pythonAfterCut = time.Second

// declinedLog logs the connections this worker could not take (each got
// 503 from the master), at most one line every 10 s: under a flood of
// connections each would be one.
func declinedLog(logger *slog.Logger) func(error) {
	throttle := logfmt.Throttle{Period: 10 * time.Second}
	return func(err error) {
		ok, missed := throttle.Admit(time.Now())
		if !ok {
			return
		}
		msg := fmt.Sprintf("wsgo: worker pid %d could not take a connection, which got 503: %v", os.Getpid(), err)
		var limit syscall.Rlimit
		if errors.Is(err, syscall.EMFILE) && syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit) == nil {
			msg += fmt.Sprintf("; it has open all the %d file descriptors it may: raise the limit (LimitNOFILE= under systemd, ulimit -n), "+
				"or lower --keep-alive and --header-timeout, which bound how long idle clients hold theirs", limit.Cur)
		}
		if missed > 0 {
			msg += fmt.Sprintf(" (and %d more since the last such line)", missed)
		}
		logger.Error(msg)
	}
}

// reopenLogs reopens the log files (SIGUSR1 to the master or to this
// worker).
func reopenLogs(logger *slog.Logger) {
	if err := logfmt.ReopenAll(); err != nil {
		logger.Error(err.Error())
		return
	}
	logger.Info(fmt.Sprintf("wsgo: worker pid %d reopened its log files", os.Getpid()))
}

// logStacks logs the Python stack of every thread (SIGUSR2 to the master).
func logStacks(host *pyhost.Host, logger *slog.Logger) {
	if host == nil {
		logger.Info("wsgo: the app failed to load: no Python stacks to show")
		return
	}
	logger.Info(fmt.Sprintf("wsgo: Python stacks of worker pid %d", os.Getpid()), "traceback", host.Stacks())
}

// hostLoad is the worker's seat on the master's board for pyhost's share
// of the load, or nil.
func hostLoad(link *handoff.Link) pyhost.LoadCounter {
	if seat := link.Seat(); seat != nil { // a nil *Seat in the interface would not be nil
		return seat
	}
	return nil
}
