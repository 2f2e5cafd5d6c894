package worker

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"wsgo/handoff"
	"wsgo/internal/config"
	"wsgo/internal/exitcode"
	"wsgo/internal/watch"
	"wsgo/pyhost"
)

// An import that never ends (app.run() at module level, a wait for a
// database) would otherwise leave the worker silent: started, never ready.
const (
	// slowImportAfter is how long the app's import may take before the
	// worker says where it is; slowImportEvery, how often it says so again.
	slowImportAfter = 10 * time.Second
	slowImportEvery = time.Minute
	// importWatchAfter is how long an import may take under --reload
	// before the app's files read so far are watched: a save then ends this
	// worker (the master starts it afresh), as no import that hangs can
	// load the fix.
	importWatchAfter = time.Second
)

const logSlowImport = "wsgo: worker %d (pid %d) is still importing %s after %s: an import that serves by itself " +
	"(app.run(), serve_forever()) or waits (a database, a lock, input()) never ends; " +
	"move such calls under `if __name__ == \"__main__\":`"

// watchImport looks after the app's import from started until imported
// is closed; it returns pyhost.Config.OnImport. Each second it checks that
// the master lives: this worker's channel is read only once the app is
// imported, and an import that hangs would otherwise outlive a master
// killed by SIGKILL (its end of the channel is then closed; comparing
// parent pids missed a master killed before the worker first read its
// own, CI saw it once). From when the import has begun it says where an
// import that takes long is, and under --reload asks to be started
// afresh at a save.
func watchImport(o *config.Options, link *handoff.Link, logger *slog.Logger, started time.Time, imported <-chan struct{}) func(*pyhost.ImportProbe) {
	probes := make(chan *pyhost.ImportProbe, 1)
	go func() {
		var probe *pyhost.ImportProbe // once the import has begun
		var files *watch.Watcher      // --reload
		var changes <-chan watch.Change
		defer func() {
			if files != nil {
				files.Close()
			}
		}()
		asked := false
		warnAt := started.Add(slowImportAfter)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-imported:
				return
			case probe = <-probes:
			case c, ok := <-changes:
				if !ok {
					changes = nil
					continue
				}
				logger.Info(fmt.Sprintf(logReloadChanged, c.Path))
				link.AskReload(c.At)
				asked, changes = true, nil
			case now := <-tick.C:
				if link.MasterGone() {
					logger.Error(fmt.Sprintf("wsgo: worker %d: the master process is gone while the app was importing; exiting", link.ID))
					os.Exit(exitcode.Failure)
				}
				if probe == nil {
					continue
				}
				if o.Reload && !asked && now.Sub(started) >= importWatchAfter {
					files, changes = watchImported(probe, files, changes, started, o.ReloadExtraFiles)
				}
				if !now.Before(warnAt) {
					warnSlowImport(probe, logger, link.ID, o.Target, now.Sub(started))
					warnAt = now.Add(slowImportEvery)
				}
			}
		}
	}()
	return func(p *pyhost.ImportProbe) { probes <- p }
}

// watchImported watches the app's files the import has read so far, with
// those already watched (w, nil at first).
func watchImported(probe *pyhost.ImportProbe, w *watch.Watcher, changes <-chan watch.Change, started time.Time, extra []string) (*watch.Watcher, <-chan watch.Change) {
	paths, ok := probe.SourceFiles()
	paths = watchable(paths)
	switch {
	case !ok || len(paths) == 0:
	case w == nil:
		if nw, err := watch.New(started, paths, extra, nil); err == nil {
			return nw, nw.Changes()
		}
	default:
		w.Add(paths)
	}
	return w, changes
}

// warnSlowImport says how long the import has taken so far, and where
// it is now.
func warnSlowImport(probe *pyhost.ImportProbe, logger *slog.Logger, id int, target string, took time.Duration) {
	msg := fmt.Sprintf(logSlowImport, id, os.Getpid(), target, took.Round(time.Second))
	stack, ok := probe.Stack()
	if !ok {
		stack = "(unknown: the import has kept the GIL in C code for over a second)\n"
	}
	logger.Warn(msg+"; the import is at", "traceback", stack)
}
