package pyhost

import (
	"context"
	"log/slog"

	"wsgo/wsgi"
)

// BrokenApp stands in for an app that failed to import while --reload
// waits for a save that fixes it: every request fails before its
// response starts, with an error whose Traceback() is the load's traceback
// (the front shows it under --debug, else answers a plain 500). Each
// request logs one line; the traceback itself is for the caller to log
// once. It needs no Python, so it works after any failure.
func BrokenApp(err *LoadError, log *slog.Logger) wsgi.App {
	return brokenApp{err: &AppBrokenError{report: err.Report, described: err.Exception}, log: log}
}

type brokenApp struct {
	err *AppBrokenError
	log *slog.Logger
}

func (b brokenApp) ServeWSGI(_ context.Context, req *wsgi.Request, _ wsgi.Responder) error {
	b.log.Error("wsgo: 500: the app failed to load (traceback above); save a fix to reload it",
		"request", req.ID, "method", req.Method, "path", req.RequestURI)
	return b.err
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
