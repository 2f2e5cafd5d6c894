package pyhost

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
)

// logAppText logs what reached wsgi.errors (level 0: one entry per
// write() that completed lines, per flush(), or per traceback, see
// errors.c) or an exception report from a response's close() (level 1).
// j is nil once the request is over: a thread of the app wrote after its
// end.
func logAppText(j *job, level int, text string) {
	log := slog.Default().With("after", "its request ended")
	if j != nil {
		log = j.log.With("request", j.req.RequestID, "path", j.req.RequestURI)
	}
	if level == 1 {
		log.Error("the response's close() raised an exception", "traceback", text)
		return
	}
	text = strings.TrimRight(text, "\n")
	log.Log(context.Background(), appTextLevel(text), text, "from", "wsgi.errors")
}

// appErrorText is text that reports an error: a traceback, or a line of
// logging's at ERROR or CRITICAL, in its default formats ("ERROR:root:…")
// or after a bracketed time as Flask's ("[2026-…] ERROR in app: …").
var appErrorText = regexp.MustCompile(`^(?:\[[^\]\n]*\] ?)*\[?(?:ERROR|CRITICAL)\b|(?m)^Traceback \(most recent call last\):$`)

// appTextLevel is the level of what the app wrote to wsgi.errors: ERROR
// for an error (appErrorText), else WARNING, as a stream named "errors"
// holds nothing the app meant as routine.
func appTextLevel(text string) slog.Level {
	if appErrorText.MatchString(text) {
		return slog.LevelError
	}
	return slog.LevelWarn
}
