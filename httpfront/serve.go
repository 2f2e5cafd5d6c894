package httpfront

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"wsgo/internal/logfmt"
	"wsgo/internal/sendfile"
	"wsgo/wsgi"
)

// RequestCounter counts the requests a Server runs (Config.Running).
type RequestCounter interface {
	Begin() // a request starts
	End()   // and ends
}

// errPanic stands for a recovered panic of the application.
var errPanic = errors.New("wsgo: panic serving the request")

// errClientGone is what an app's run amounts to when the client left (an
// HTTP/2 stream reset, a connection closed under a hard stop) before the
// response began: there is no one to answer, and nothing went wrong. A
// Responder's Start returns it too (wsgi.ErrClientGone).
var errClientGone = wsgi.ErrClientGone

// answerer is the answering side of one request, HTTP/1 (response) or
// HTTP/2 (h2response): what serveRequest needs beyond a wsgi.Responder.
type answerer interface {
	wsgi.Responder
	state() *responseState
	// refuse answers a request the front will not pass to the app, with
	// a constant body, and logs why.
	refuse(status int, why string)
	// finish completes the response once the app returned err; it
	// reports whether the connection may carry another request.
	finish(err error) bool
	// named is told once the request has its id and its context's
	// cancel (state().requestID, cancel).
	named()
}

// serveRequest serves one request whatever its protocol: the files of a
// --static directory or the app, with the body received whole first
// (spoolBody: a slow uploader then costs memory, not a Python thread),
// the proxy headers of a trusted peer applied, under --timeout. It
// reports whether the connection may carry another request.
func (s *Server) serveRequest(parent context.Context, req *wsgi.Request, x answerer, trusted bool) bool {
	s.metrics.begin()
	defer s.metrics.end()
	if s.running != nil {
		s.running.Begin()
		defer s.running.End()
	}
	st := x.state()
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	st.req, st.requestID, st.cancel = req, s.identify(req, trusted), cancel
	x.named()
	defer s.answered(st)

	app, toPython := s.route(req)
	if toPython && (req.ContentLength < 0 || req.ContentLength > 0 && !s.streamBody) {
		spooled, n, release, err := spoolBody(req.Body, req.ContentLength, s.buffers)
		if err != nil {
			if parent.Err() == nil { // else the stop cut the connection, or the stream was reset: no one to answer
				x.refuse(s.bodyRefusal(err))
			}
			return false
		}
		defer release()
		req.Body, req.ContentLength, req.HasContentLength = spooled, n, true
	}
	if s.timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, s.timeout, wsgi.ErrTimeout)
		defer stop()
	}
	st.begin(ctx)
	err := s.callApp(ctx, app, req, x)
	if !st.started && st.err == nil && ctx.Err() != nil && !errors.Is(context.Cause(ctx), wsgi.ErrTimeout) {
		s.log.Debug("wsgo: the client left before the response began", "request", req.RequestID)
		err = errClientGone
	}
	// Deferred: an HTTP/2 finish that resets its stream panics out of
	// here (http.ErrAbortHandler), and these must be logged all the same.
	defer func() {
		st.reportLength(s.log, err)
		if errors.Is(st.err, errSpoolCut) {
			s.logSpoolCut(st)
		}
	}()
	return x.finish(err)
}

// reportLength logs a body that did not match the app's Content-Length,
// which PEP 3333 asks the server to report, or the length of its file:
// the connection was closed after it (a client would otherwise misread
// the next response), and the fix is the app's.
func (r *responseState) reportLength(log *slog.Logger, err error) {
	const fix = "; fix the app's Content-Length header, or leave it out"
	switch {
	case r.truncated:
		log.Warn("wsgo: the app sent more body than its Content-Length; the rest was dropped and the connection closed"+fix,
			"request", r.req.RequestID, "path", r.req.RequestURI)
	case errors.Is(r.err, sendfile.ErrShortFile):
		log.Warn("wsgo: a file ended before the size it had when its response began (it shrank while it was sent), "+
			"so the connection was closed; replace such a file by writing a new one and renaming it over the old",
			"request", r.req.RequestID, "path", r.req.RequestURI)
	case err == nil && r.err == nil && r.started && !r.noBody && r.remain > 0:
		log.Warn("wsgo: the app's body ended short of its Content-Length, so the connection was closed"+fix,
			"request", r.req.RequestID, "path", r.req.RequestURI, "missing", r.remain)
	}
}

// logSpoolCut warns of a response cut by errSpoolCut, at most once every
// 10 s: the clients that never read may be many.
func (s *Server) logSpoolCut(r *responseState) {
	if ok, notLogged := s.spoolCuts.Admit(time.Now()); ok {
		s.log.Warn(errSpoolCut.Error(), logfmt.NotLogged([]any{"request", r.req.RequestID, "path", r.req.RequestURI}, notLogged)...)
	}
}

// route picks what answers a request: a health check, a --static
// directory, Go for a request outside --root-path, else the app, with
// SCRIPT_NAME set.
// toPython: it is the app, whose requests have their bodies spooled (the
// others are drained unread).
func (s *Server) route(req *wsgi.Request) (app wsgi.App, toPython bool) {
	if check := s.healthCheck(req); check != nil {
		return check, false
	}
	if files := s.static.match(req.RawPath); files != nil {
		return files, false
	}
	if !mount(req, s.rootPath) {
		return outsideMount, false
	}
	return s.app, true
}

// bodyRefusal is the status and reason to refuse a request whose body
// could not be received whole.
func (s *Server) bodyRefusal(err error) (int, string) {
	switch {
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge, s.limits.bodyWhy()
	}
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return http.StatusRequestTimeout, "the request body stopped coming for --stall-timeout"
	}
	return http.StatusBadRequest, "reading the request body: " + err.Error()
}

// callApp runs app, turning a panic into errPanic.
func (s *Server) callApp(ctx context.Context, app wsgi.App, req *wsgi.Request, w wsgi.Responder) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("wsgo: panic serving a request", "request", req.RequestID, "panic", p, "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	return app.ServeWSGI(ctx, req, w)
}

// identify applies the proxy headers of a trusted peer to req (its
// client, scheme and host) and returns its request id: what every request
// whose head was read whole is logged and answered with.
func (s *Server) identify(req *wsgi.Request, trusted bool) string {
	if trusted {
		forward(req, s.trust)
	}
	return requestID(req)
}

// logRefusal logs a request the front refused. A limit's refusal is a
// warning naming the flag, for the operator may have set it too low; at
// most refusalBurst a second, so that a client sending nothing else
// cannot flood the log: the next line logged counts those that were not.
func (s *Server) logRefusal(status int, why, remote, requestID string) {
	level := slog.LevelDebug
	var attrs []any
	if isLimit(status) {
		level = slog.LevelWarn
		why += "; raise the flag if such requests are legitimate"
		logged, skipped := s.refusals.Admit(time.Now())
		if !logged {
			return
		}
		attrs = logfmt.NotLogged(attrs, skipped)
	}
	attrs = append(attrs, "status", status, "why", why, "remote", remote)
	if requestID != "" {
		attrs = append(attrs, "request", requestID)
	}
	s.log.Log(context.Background(), level, "wsgo: request refused", attrs...)
}

// refusalBurst is how many refusals a second are logged (logRefusal).
const refusalBurst = 10
