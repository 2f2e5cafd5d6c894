package main

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

	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
	"wsgo/httpfront/handoff"
	"wsgo/pyhost"
)

// runWorker is a worker process: it imports the app, says so, and serves
// the connections the master lends it until told to stop.
func runWorker(c *cli.Context, w *handoff.Worker, certs *httpfront.Certs, logger *slog.Logger) error {
	grace := time.Duration(c.Int("graceful-timeout")) * time.Second
	timeout := time.Duration(c.Int("timeout")) * time.Second
	// The master decides: a terminal's Ctrl-C or hang-up reaches the whole
	// process group, and must not stop workers behind the master's back.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU)
	host, err := pyhost.Start(pyhost.Config{
		Target:     c.Args().First(),
		Chdir:      c.String("chdir"),
		PythonPath: c.StringSlice("pythonpath"),
		Threads:    c.Int("threads"),
		QueueSize:  c.Int("queue-size"),
		Strict:     c.Bool("strict"),
		Reload:     c.Bool("reload"),
		Logger:     logger,
		Timeout:    timeout,
		StuckAfter: grace,
		OnStuck:    func() { w.Recycle(handoff.WhyStuck, "a Python thread stays stuck in a request that timed out") },
	})
	app, reload, err := withReload(c, logger, host, err)
	if err != nil {
		var exit cli.ExitCoder
		if errors.As(err, &exit) {
			return err
		}
		fmt.Fprint(os.Stderr, strings.TrimRight(err.Error(), "\n")+"\n")
		return cli.Exit("", exitAppLoad)
	}
	hello := handoff.Hello{Description: c.Args().First() + " (failed to load)", Python: pyhost.PythonVersion()}
	if host != nil {
		hello.Description, hello.ScriptBind = host.Description(), host.ScriptBind()
	}
	app = newRecycler(app, c.Int("max-requests"), c.Int("max-requests-jitter"), c.Int("max-rss"),
		func(why handoff.Why, reason string) { w.Recycle(why, reason) })
	cfg, closeAccessLog, err := frontConfig(c, logger)
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	defer closeAccessLog()
	cfg.App, cfg.Timeout = app, timeout
	var gatherMetrics func() []byte
	if c.String("metrics-bind") != "" {
		cfg.Metrics, gatherMetrics = workerMetrics(host, logger)
	}
	if certs != nil {
		cfg.TLS = certs.Config()
	}
	srv := httpfront.New(cfg)
	if err := w.Ready(hello); err != nil {
		return cli.Exit(fmt.Sprintf("wsgo: worker %d cannot reach the master: %v", w.ID, err), exitFailure)
	}

	release := make(chan bool, 2) // true: give connections back; false: close them
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGUSR1)
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGUSR1 {
				go logStacks(host, logger)
				continue
			}
			release <- false
		}
	}()
	go w.Serve(handoff.Orders{
		Conn:    srv.ServeConn,
		Release: func() { release <- true },
		Stop:    func() { release <- false },
		Dump:    func() { go logStacks(host, logger) },
		Metrics: gatherMetrics,
	})
	var giveBack bool
	changes := reload.changes()
	for waiting := true; waiting; {
		select {
		case giveBack = <-release:
			waiting = false
		case path := <-changes:
			logger.Info(fmt.Sprintf(logReloadChanged, path))
			reload.stop() // the new workers watch from now on
			changes = nil
			w.AskReload()
		}
	}
	reload.stop()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if giveBack {
		err = srv.Release(ctx)
	} else {
		err = srv.Shutdown(ctx)
	}
	if err != nil {
		logger.Warn("wsgo: graceful timeout reached; requests still running were cut", "err", err)
	}
	if host == nil { // the app failed to load (--reload): Python has nothing to finish
		return nil
	}
	if err := host.Shutdown(ctx); err != nil {
		logger.Warn("wsgo: " + err.Error())
	}
	return nil
}

// logStacks logs the Python stack of every thread (SIGUSR1).
func logStacks(host *pyhost.Host, logger *slog.Logger) {
	if host == nil {
		logger.Info("wsgo: the app failed to load: no Python stacks to show")
		return
	}
	logger.Info(fmt.Sprintf("wsgo: Python stacks of worker pid %d", os.Getpid()), "traceback", host.Stacks())
}
