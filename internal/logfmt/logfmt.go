// Package logfmt formats every line wsgo logs, the master's and the
// workers', one way.
package logfmt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// NewLogger logs one line per record to w, gunicorn-style, with the
// process's PID (the master's, or a worker's):
//
//	[2026-11-23 09:13:35 +0000] [4242] [INFO] message key=value
//
// An attribute named "traceback", and the lines of a message after its
// first, are printed after the line as they are, since a Python traceback
// quoted onto one line is unreadable.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&lineHandler{out: &lockedWriter{w: w}, level: level, pid: os.Getpid()})
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

type lineHandler struct {
	out   *lockedWriter
	level slog.Level
	pid   int
	attrs []slog.Attr // from WithAttrs, printed before the record's own
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	// A message of several lines (what an app wrote to wsgi.errors) has
	// its attributes on its first line, so that they are said once.
	first, more, _ := strings.Cut(r.Message, "\n")
	fmt.Fprintf(&b, "[%s] [%d] [%s] %s", r.Time.Format("2006-01-02 15:04:05 -0700"), h.pid, levelName(r.Level),
		printable(strings.TrimSuffix(first, "\r")))
	var traceback string
	add := func(a slog.Attr) bool {
		if a.Key == "traceback" {
			traceback = a.Value.String()
			return true
		}
		v := a.Value.String()
		if strings.ContainsAny(v, " \t\n\"=") || v == "" || strings.IndexFunc(v, unprintable) >= 0 {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	writeContinued(&b, more)
	writeContinued(&b, strings.TrimRight(traceback, "\n"))
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err := io.WriteString(h.out.w, b.String())
	return err
}

// writeContinued writes the lines that follow a record's first, as they
// are but for what printable escapes, and one starting with '[' is
// indented: text an app logs (a client's input in it) cannot pass for a
// record of its own.
func writeContinued(b *strings.Builder, text string) {
	for line := range strings.Lines(text) {
		line = printable(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"))
		if line != "" && line[0] == '[' {
			b.WriteString("  ")
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// printable writes the control characters of a line (but tabs), DEL, the
// C1 controls and bytes that are not UTF-8 as escapes: text from outside
// (a client's path in an exception, what an app writes to wsgi.errors)
// must not drive the terminal that shows the log (its title, its screen,
// its clipboard), nor, with a carriage return, start a line that passes
// for a record.
func printable(s string) string {
	if strings.IndexFunc(s, unprintable) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unprintable(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unprintable(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unprintable reports whether r is one printable escapes; U+FFFD stands
// for bytes that are not UTF-8 (a real U+FFFD is kept).
func unprintable(r rune) bool {
	return r < 0x20 && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f || r == utf8.RuneError
}

func (h *lineHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lineHandler{out: h.out, level: h.level, pid: h.pid, attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...)}
}

// WithGroup is not used by wsgo; groups are flattened.
func (h *lineHandler) WithGroup(string) slog.Handler { return h }

func levelName(l slog.Level) string {
	switch {
	case l >= Critical:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

// Critical is the level above Error, as in Python's logging.
const Critical = slog.LevelError + 4

// ParseLevel reads a --log-level: debug, info, warning, error or critical.
// Its error says what to give; the caller names the value.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warning", "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "critical":
		return Critical, nil
	}
	return 0, errors.New("use debug, info, warning, error or critical")
}

// NewJSONLogger logs one JSON object per line to w, for log pipelines:
// "time", "level" (named as NewLogger names them), "msg", "pid", then the
// attributes; a traceback stays whole in "traceback".
func NewJSONLogger(w io.Writer, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.LevelKey && len(groups) == 0 {
			if l, ok := a.Value.Any().(slog.Level); ok {
				return slog.String(slog.LevelKey, levelName(l))
			}
		}
		return a
	}})
	return slog.New(h).With("pid", os.Getpid())
}
