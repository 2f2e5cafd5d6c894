package pyhost

import (
	"context"
	"log/slog"

	"wsgo/wsgi"
)

// BrokenApp stands in for an app that failed to import while --reload
// waits for a save that fixes it. Under --debug (debug) every request
// fails before its response starts, with an error whose Traceback() is
// the load's traceback, for the front's page. Otherwise it answers a 500
// that says where the traceback is and what to do, not the traceback
// itself: only --debug puts source and paths in a response. Each request
// logs one line; the traceback itself is for the caller to log once. It
// needs no Python, so it works after any failure.
func BrokenApp(err *LoadError, log *slog.Logger, debug bool) wsgi.App {
	return brokenApp{err: &AppBrokenError{report: err.Report, described: err.Exception}, log: log, debug: debug}
}

type brokenApp struct {
	err   *AppBrokenError
	log   *slog.Logger
	debug bool
}

// brokenPage is the body of a broken app's 500 without --debug.
const brokenPage = "500 Internal Server Error\n\nThe app failed to load: its traceback is in wsgo's log.\n" +
	"Save a fix and wsgo reloads it (--reload); run with --debug to see the traceback here.\n"

func (b brokenApp) ServeWSGI(_ context.Context, req *wsgi.Request, w wsgi.Responder) error {
	b.log.Error("wsgo: 500: the app failed to load (traceback above); save a fix to reload it",
		"request", req.RequestID, "method", req.Method, "path", req.RequestURI)
	if b.debug {
		return b.err
	}
	header := []wsgi.Header{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
	if err := w.Start(500, "Internal Server Error", header, int64(len(brokenPage))); err != nil {
		return err
	}
	return w.Write([]byte(brokenPage))
}

// AppBrokenError is what BrokenApp's requests fail with.
type AppBrokenError struct {
	report    string
	described *wsgi.Exception
}

func (e *AppBrokenError) Error() string { return "wsgo: the app failed to load" }

// Traceback is the load's traceback and the sentence naming the fix
// (wsgi.TracebackError).
func (e *AppBrokenError) Traceback() string { return e.report }

// Exception is the load's failure described for the --debug page, or nil.
func (e *AppBrokenError) Exception() *wsgi.Exception { return e.described }
