package httpfront

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"wsgo/internal/logfmt"
	"wsgo/wsgi"
)

// accessQueue is how many lines may wait for the writer. Past it, lines
// are dropped and counted: a slow disk must never delay a response.
const accessQueue = 4096

// AccessLog writes one line per response (--access-log), in the combined
// format or as JSON, from a goroutine of its own.
type AccessLog struct {
	entries chan accessEntry
	out     io.Writer
	w       *bufio.Writer
	file    *logfmt.File  // closed by Close; nil for standard output
	json    *json.Encoder // encodes into line
	line    bytes.Buffer  // the line being written; run's own
	color   bool
	log     *slog.Logger
	dropped atomic.Int64
	failing bool // the last write failed; logged once until one succeeds

	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// accessEntry is one line's worth.
type accessEntry struct {
	time                  time.Time // when the request's head began to arrive
	remote                string
	method, target, proto string // "" when the request could not be parsed
	path, query           string
	status                int
	bytes                 int64 // body bytes sent
	duration              time.Duration
	requestID             string
	referer, userAgent    string
}

// ParseAccessLogFormat reads --access-log-format: "combined" or "json".
// Its error says what to give; the caller names the value.
func ParseAccessLogFormat(format string) (asJSON bool, err error) {
	if format != "json" && format != "combined" {
		return false, errors.New("use combined or json")
	}
	return format == "json", nil
}

// OpenAccessLog opens path ("-" for standard output; a file is appended
// to, created if need be), in JSON lines or the combined format. Lines of
// the combined format are coloured by status class when standard output
// is a terminal and NO_COLOR is not set. A file is reopened by
// logfmt.ReopenAll.
func OpenAccessLog(path string, asJSON bool, logger *slog.Logger) (*AccessLog, error) {
	if path == "-" {
		color := !asJSON && term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("NO_COLOR") == ""
		return newAccessLog(os.Stdout, asJSON, color, logger), nil
	}
	f, err := logfmt.OpenFile(path) // reopened on SIGUSR1
	if err != nil {
		return nil, fmt.Errorf("wsgo: cannot open --access-log %s: %v; %s, or give - for standard output", path, err, logfmt.FileAdvice(err))
	}
	a := newAccessLog(f, asJSON, false, logger)
	a.file = f
	return a, nil
}

// OpenConfiguredAccessLog opens the access log as --access-log says:
// given (set), path as OpenAccessLog opens it, or none for ""; not given,
// standard error when it is a terminal (TerminalAccessLog). It may be nil.
func OpenConfiguredAccessLog(set bool, path string, asJSON bool, logger *slog.Logger) (*AccessLog, error) {
	switch {
	case !set:
		return TerminalAccessLog(logger), nil
	case path == "":
		return nil, nil
	}
	return OpenAccessLog(path, asJSON, logger)
}

// TerminalAccessLog logs access lines to standard error when it is a
// terminal (coloured, unless NO_COLOR is set), for a developer watching
// the server; nil when it is not.
func TerminalAccessLog(logger *slog.Logger) *AccessLog {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	return newAccessLog(os.Stderr, false, os.Getenv("NO_COLOR") == "", logger)
}

func newAccessLog(out io.Writer, asJSON, color bool, logger *slog.Logger) *AccessLog {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &AccessLog{
		entries: make(chan accessEntry, accessQueue),
		out:     out,
		w:       bufio.NewWriterSize(out, 64<<10),
		color:   color,
		log:     logger,
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if asJSON {
		a.json = json.NewEncoder(&a.line)
		a.json.SetEscapeHTML(false)
	}
	go a.run()
	return a
}

// Close writes the lines still queued and closes the file. Lines that
// come later are dropped.
func (a *AccessLog) Close() error {
	var err error
	a.closeOnce.Do(func() {
		close(a.quit)
		<-a.done
		if a.file != nil {
			err = a.file.Close()
		}
	})
	return err
}

// add queues e, or drops and counts it when the queue is full.
func (a *AccessLog) add(e accessEntry) {
	select {
	case <-a.quit:
	case a.entries <- e:
	default:
		a.dropped.Add(1)
	}
}

// served logs a response of the application or of the static files, or
// the refusal of a request whose head was fine.
func (a *AccessLog) served(r *responseState) {
	if a == nil {
		return
	}
	req := r.req
	e := accessEntry{
		time: r.start, remote: req.RemoteAddr,
		method: req.Method, target: req.RequestURI, proto: req.Proto, path: req.RawPath, query: req.RawQuery,
		status: r.status, bytes: r.sent, duration: time.Since(r.start), requestID: r.requestID,
	}
	e.referer, e.userAgent = headerValue(req.Header, "Referer"), headerValue(req.Header, "User-Agent")
	a.add(e)
}

// AnsweredUnread logs a response to a request this process did not read
// (the master's 502 when the worker serving it died), with the request's
// id, method, target and protocol as the worker recorded them: "-"
// stands for those it had not, and for Referer and User-Agent.
func (a *AccessLog) AnsweredUnread(remote string, status int, bytes int64, id, method, target, proto string) {
	if a != nil {
		e := accessEntry{time: time.Now(), remote: remote, status: status, bytes: bytes, requestID: id}
		if method != "" {
			e.method, e.target, e.proto = method, target, proto
			e.path, e.query = splitTarget(target)
		}
		a.add(e)
	}
}

// rejected logs a request refused for its head, with the id its refusal
// carried; h is nil when it could not be parsed.
func (a *AccessLog) rejected(c *conn, h *requestHead, req *wsgi.Request, requestID string, status int, bytes int64, start time.Time) {
	if a == nil {
		return
	}
	e := accessEntry{time: start, remote: c.remoteIP, requestID: requestID, status: status, bytes: bytes, duration: time.Since(start)}
	if req != nil { // the head was whole: a trusted proxy's client
		e.remote = req.RemoteAddr
	}
	if h != nil {
		e.method, e.target, e.proto = h.method, h.target, h.proto
		e.path, e.query = splitTarget(h.target)
		e.referer, e.userAgent = headerValue(h.header, "Referer"), headerValue(h.header, "User-Agent")
	}
	a.add(e)
}

func (a *AccessLog) run() {
	defer close(a.done)
	line := &a.line
	write := func(e *accessEntry) {
		line.Reset()
		if a.json != nil {
			a.json.Encode(jsonLine(e)) // into line
		} else {
			line.Write(a.combined(line.AvailableBuffer(), e))
		}
		// Whole lines only: the workers of one server append to the same
		// file, and a write cut mid-line would interleave with theirs.
		if a.w.Buffered() > 0 && a.w.Available() < line.Len() {
			a.flush()
		}
		a.w.Write(line.Bytes()) // errors surface in flush
	}
	for {
		select {
		case e := <-a.entries:
			write(&e)
			if len(a.entries) == 0 {
				a.flush()
			}
		case <-a.quit:
			for {
				select {
				case e := <-a.entries:
					write(&e)
				default:
					a.flush()
					return
				}
			}
		}
	}
}

// flush writes the buffer out, and reports lines dropped since the last
// flush. A failed write loses the buffer: a log that keeps failing must
// not grow without bound.
func (a *AccessLog) flush() {
	err := a.w.Flush()
	switch {
	case err != nil && !a.failing:
		a.log.Error("wsgo: cannot write the access log; its lines are lost until a write succeeds", "err", err)
		fallthrough
	case err != nil:
		a.failing = true
		a.w.Reset(a.out)
	default:
		a.failing = false
	}
	if n := a.dropped.Swap(0); n > 0 {
		a.log.Warn("wsgo: access log lines dropped: its output could not keep up", "dropped", n)
	}
}

// combined formats e in Apache's combined format, followed by the request
// id in quotes:
//
//	127.0.0.1 - - [02/Jan/2026:15:04:05 +0000] "GET /a?b HTTP/1.1" 200 12 "-" "curl/8.5" "3f2a..."
func (a *AccessLog) combined(b []byte, e *accessEntry) []byte {
	if a.color {
		b = append(b, statusColor(e.status)...)
	}
	b = append(b, orDash(e.remote)...)
	b = append(b, " - - ["...)
	b = e.time.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] "...)
	if e.method == "" {
		b = append(b, `"-"`...)
	} else {
		b = quoted(b, e.method+" "+e.target+" "+e.proto)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, ' ')
	if e.bytes == 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, e.bytes, 10)
	}
	for _, s := range [...]string{e.referer, e.userAgent, e.requestID} {
		b = append(b, ' ')
		b = quoted(b, orDash(s))
	}
	if a.color {
		b = append(b, "\x1b[0m"...)
	}
	return append(b, '\n')
}

// quoted appends s in double quotes, escaped as Apache does: \" and \\,
// and \xHH for control and non-ASCII bytes, so no client byte can forge
// a line or a field.
func quoted(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := range len(s) {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < ' ' || c >= 0x7f:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// statusColor is the ANSI colour of a status class: 2xx green, 3xx cyan,
// 4xx yellow, 5xx red.
func statusColor(status int) string {
	switch status / 100 {
	case 2:
		return "\x1b[32m"
	case 3:
		return "\x1b[36m"
	case 4:
		return "\x1b[33m"
	case 5:
		return "\x1b[31m"
	}
	return "\x1b[0m"
}

// accessJSON is a line of --access-log-format json.
type accessJSON struct {
	Time       string `json:"time"`
	RemoteAddr string `json:"remote_addr"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	Query      string `json:"query"`
	Proto      string `json:"proto"`
	Status     int    `json:"status"`
	Bytes      int64  `json:"bytes"`
	DurationUS int64  `json:"duration_us"`
	RequestID  string `json:"request_id"`
	Referer    string `json:"referer"`
	UserAgent  string `json:"user_agent"`
}

func jsonLine(e *accessEntry) accessJSON {
	return accessJSON{
		Time:       e.time.Format("2006-01-02T15:04:05.000000Z07:00"),
		RemoteAddr: e.remote,
		Method:     e.method,
		Path:       e.path,
		Query:      e.query,
		Proto:      e.proto,
		Status:     e.status,
		Bytes:      e.bytes,
		DurationUS: e.duration.Microseconds(),
		RequestID:  e.requestID,
		Referer:    e.referer,
		UserAgent:  e.userAgent,
	}
}
