package main

// --reload in a single process: when a source file of the app changes,
// wsgo stops as gracefully as on SIGTERM (requests in flight finish on the
// old code) and executes itself again with the same arguments. CPython
// cannot reliably import an app afresh in the same process. The listening
// sockets stay open across the exec, so clients that connect meanwhile
// wait in the kernel's backlog instead of being refused.
//
// The master/worker model replaces the restart (reloader.restart and the
// handed-over listeners) with the master's reload of its workers; the rest
// (what is watched, the broken app, the log lines) stays.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
	"wsgo/httpfront/watch"
	"wsgo/pyhost"
	"wsgo/wsgi"
)

// The log lines of --reload; e2e/reload_test.go waits for them.
const (
	logReloadWatching = "wsgo: reload: watching %d file(s) for changes"
	logReloadChanged  = "wsgo: reload: %s changed, reloading"
	logReloadBroken   = "wsgo: reload: the app failed to load; answering 500 until a save fixes it"
	logReloadPublic   = "wsgo: --reload is a development feature and %s is not a loopback address; do not use --reload in production"
)

// inheritedFDsEnv names the listening sockets a restart hands to the new
// process: their descriptor numbers, comma-separated, in --bind order.
const inheritedFDsEnv = "WSGO_INHERITED_FDS"

// refreshAfter is how long after a request the watched files are brought
// up to date with the modules the app imported while serving (Django
// imports its views on the first request); requests meanwhile share the
// refresh.
const refreshAfter = time.Second

// startDir is the working directory wsgo was started in: the restart goes
// back to it, since loading the app may have changed it (--chdir).
var startDir, _ = os.Getwd()

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
// while its files are watched for the save that fixes it.
func withReload(c *cli.Context, log *slog.Logger, host *pyhost.Host, loadErr error) (wsgi.App, *reloader, error) {
	if !c.Bool("reload") {
		return host, nil, loadErr
	}
	r := &reloader{host: host, log: log}
	app, files := wsgi.App(r), []string(nil)
	if loadErr != nil {
		var le *pyhost.LoadError
		if !errors.As(loadErr, &le) || len(le.SourceFiles) == 0 {
			return nil, nil, loadErr // Python did not start, or there is nothing to watch
		}
		log.Error(logReloadBroken, "traceback", le.Report)
		app, files = pyhost.BrokenApp(le, log), le.SourceFiles
	} else {
		files = host.SourceFiles()
	}
	w, err := watch.New(files, c.StringSlice("reload-extra-file"), log)
	if err != nil {
		return nil, nil, cli.Exit(err.Error(), exitFailure)
	}
	r.w = w
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

// changes delivers the first changed file of each save; nil (never
// ready) without --reload.
func (r *reloader) changes() <-chan string {
	if r == nil {
		return nil
	}
	return r.w.Changes()
}

// warnIfPublic warns, under --reload, about each listener reachable from
// other machines.
func (r *reloader) warnIfPublic(listeners []net.Listener) {
	if r == nil {
		return
	}
	for _, l := range listeners {
		if a, ok := l.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
			r.log.Warn(fmt.Sprintf(logReloadPublic, httpfront.URL(l)))
		}
	}
}

// restart reloads the app for a change of path: it stops like a graceful
// stop (drain), then executes wsgo again with the listeners open. It
// returns only if that fails, or if a signal asked wsgo to stop meanwhile.
func (r *reloader) restart(path string, listeners []net.Listener, drain func(), sigs <-chan os.Signal) error {
	r.log.Info(fmt.Sprintf(logReloadChanged, path))
	r.w.Close()
	fds, err := keepOpen(listeners)
	if err != nil {
		return cli.Exit(fmt.Sprintf("wsgo: --reload cannot keep the listeners open for the restart: %v", err), exitFailure)
	}
	drain()
	select {
	case sig := <-sigs:
		r.log.Info(fmt.Sprintf("wsgo: %s received during the reload, stopping", sig))
		return nil
	default:
	}
	exe, err := os.Executable()
	if err == nil {
		if err = os.Chdir(startDir); err == nil {
			err = syscall.Exec(exe, os.Args, append(os.Environ(), inheritedFDsEnv+"="+fds))
		}
	}
	return cli.Exit(fmt.Sprintf("wsgo: --reload cannot start wsgo again: %v", err), exitFailure)
}

// keepOpen duplicates each listener's socket onto a descriptor that
// survives exec (dup(2) does not copy close-on-exec) and returns their
// numbers for inheritedFDsEnv. Unix sockets are told not to remove their
// file when the server closes them: the new process serves on it.
func keepOpen(listeners []net.Listener) (string, error) {
	var fds []string
	for _, l := range listeners {
		if ul, ok := l.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false)
		}
		sc, ok := l.(syscall.Conn)
		if !ok {
			return "", fmt.Errorf("%s has no file descriptor", httpfront.URL(l))
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			return "", err
		}
		var dup int
		var dupErr error
		if err := raw.Control(func(fd uintptr) { dup, dupErr = syscall.Dup(int(fd)) }); err != nil {
			return "", err
		}
		if dupErr != nil {
			return "", fmt.Errorf("duplicating %s: %w", httpfront.URL(l), dupErr)
		}
		fds = append(fds, strconv.Itoa(dup))
	}
	return strings.Join(fds, ","), nil
}

// inheritedListeners takes over the listeners a --reload restart handed
// to this process, or returns nil when there are none. It removes
// inheritedFDsEnv, so the app, its children and the next restart never see
// it; call it before Python starts.
func inheritedListeners() ([]net.Listener, error) {
	list, ok := os.LookupEnv(inheritedFDsEnv)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(inheritedFDsEnv)
	var listeners []net.Listener
	for _, s := range strings.Split(list, ",") {
		fd, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("wsgo: %s=%q is not a list of descriptors", inheritedFDsEnv, list)
		}
		f := os.NewFile(uintptr(fd), "listener")
		l, err := net.FileListener(f) // a close-on-exec duplicate
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("wsgo: the listener handed over by --reload (descriptor %d): %v", fd, err)
		}
		if ul, ok := l.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(true) // as for a socket of our own
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
}
