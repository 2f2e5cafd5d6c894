package worker

// --reload: each worker watches its app's source files; at a change it
// asks the master for a reload, which starts new workers (importing the
// code afresh: CPython cannot reliably re-import an app in one process)
// and drains the old ones once the new are ready, so requests in flight
// finish on the old code and none is lost. Under --reload an app that
// fails to import does not stop the worker: it answers 500 (the traceback
// page under --debug) and watches for the save that fixes it.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"wsgo/internal/config"
	"wsgo/internal/exitcode"
	"wsgo/internal/watch"
	"wsgo/pyhost"
	"wsgo/wsgi"
)

// The log lines of --reload; e2e/reload_test.go waits for them.
const (
	logReloadWatching = "wsgo: reload: watching %d file(s) for changes"
	logReloadChanged  = "wsgo: reload: %s changed, reloading"
	logReloadBroken   = "wsgo: reload: the app failed to load; answering 500 until a save fixes it"
)

// refreshAfter is how long after a request the watched files are brought
// up to date with the modules the app imported while serving (Django
// imports its views on the first request); requests meanwhile share the
// refresh. A module saved in between is not missed: the watcher counts a
// file modified since the worker started as changed.
const refreshAfter = time.Second

// reloader watches the app's source files for --reload.
type reloader struct {
	w          *watch.Watcher
	host       *pyhost.Host // nil when the app failed to load
	log        *slog.Logger
	refreshDue atomic.Bool // a refresh is scheduled
}

// withReload returns the app to serve and, under --reload, its reloader.
// Without --reload it changes nothing: a load error stays an error. Under
// --reload, an app that failed to import is served by pyhost.BrokenApp
// while its files are watched for the save that fixes it. started is
// when the worker started, before it read any of the app's files.
func withReload(o *config.Options, log *slog.Logger, started time.Time, host *pyhost.Host, loadErr error) (wsgi.App, *reloader, error) {
	if !o.Reload {
		return host, nil, loadErr
	}
	r := &reloader{host: host, log: log}
	app, files := wsgi.App(r), []string(nil)
	var le *pyhost.LoadError
	if loadErr != nil {
		if !errors.As(loadErr, &le) || len(le.SourceFiles) == 0 || !slices.ContainsFunc(le.SourceFiles, dirExists) {
			// Python did not start, there is nothing to watch, or the
			// app's directory does not exist (a mistyped path): no save
			// there can fix it, and the error is what it is without --reload.
			return nil, nil, loadErr
		}
		app, files = pyhost.BrokenApp(le, log, o.Front.Debug), watchable(le.SourceFiles)
	} else {
		files = host.SourceFiles()
	}
	w, err := watch.New(started, files, o.ReloadExtraFiles, log)
	if err != nil {
		return nil, nil, exitcode.Errorf(exitcode.Failure, "%s", err.Error())
	}
	r.w = w
	if le != nil {
		log.Error(logReloadBroken, "traceback", le.Report)
	}
	log.Info(fmt.Sprintf(logReloadWatching, w.Len()))
	return app, r, nil
}

// ServeWSGI serves with the host, then has the modules the request may
// have imported watched.
func (r *reloader) ServeWSGI(ctx context.Context, req *wsgi.Request, w wsgi.Responder) error {
	err := r.host.ServeWSGI(ctx, req, w)
	if r.refreshDue.CompareAndSwap(false, true) {
		time.AfterFunc(refreshAfter, r.refresh)
	}
	return err
}

func (r *reloader) refresh() {
	r.refreshDue.Store(false) // before listing: a later import gets its own refresh
	before := r.w.Len()
	if err := r.w.Add(r.host.SourceFiles()); err != nil {
		r.log.Warn(err.Error())
	}
	if n := r.w.Len(); n > before {
		r.log.Info(fmt.Sprintf(logReloadWatching, n))
	}
}

// dirExists reports whether the directory of file exists, to be watched.
func dirExists(file string) bool {
	fi, err := os.Stat(filepath.Dir(file))
	return err == nil && fi.IsDir()
}

// watchable is files less those whose directory does not exist.
func watchable(files []string) []string {
	return slices.DeleteFunc(slices.Clone(files), func(f string) bool { return !dirExists(f) })
}

// changes delivers the first changed file of each save; nil (never
// ready) without --reload.
func (r *reloader) changes() <-chan watch.Change {
	if r == nil {
		return nil
	}
	return r.w.Changes()
}

// stop ends the watching: a worker being replaced leaves saves to the new.
func (r *reloader) stop() {
	if r != nil {
		r.w.Close()
	}
}
