// Package config turns wsgo's command line, WSGO_* variables and
// configuration file into one validated Options. The master parses and
// validates before any worker starts, so a bad flag exits 2 at once,
// naming the flag, and hands the result to each worker it starts
// (Encode, FromMaster): a worker reads neither its command line nor the
// file.
//
// Paths are resolved against the directory wsgo was started in, before
// --chdir moves the worker into the app's directory.
package config

import (
	"log/slog"
	"time"

	"wsgo/httpfront"
)

// DefaultBind is where wsgo listens when neither --bind nor a wsgiref
// script says where.
const DefaultBind = "127.0.0.1:8000"

// Options is the whole configuration of `wsgo run`.
type Options struct {
	Target string // the app: file.py, module:callable, ...

	// Process model (the supervisor's).
	Binds             []string // as given; empty: the script's make_server address, else DefaultBind
	Workers           int
	GracefulTimeout   time.Duration
	ShutdownDelay     time.Duration // SIGTERM: still accepting, not ready
	MaxRequests       int
	MaxRequestsJitter int
	MaxRSSMiB         int
	PidFile           string      // absolute, or ""
	Privileges        *Privileges // --user, --group; nil: stay who we are
	Umask             int         // -1: inherited
	MetricsBind       string
	BatchWorkers      bool // --worker-sched batch: workers run under SCHED_BATCH (internal/cpusched)

	// Python (pyhost's).
	Python           Python
	Threads          int
	QueueSize        int
	Timeout          time.Duration // 0: no limit
	Strict           bool
	Reload           bool
	ReloadExtraFiles []string // absolute

	LogLevel slog.Level
	LogJSON  bool   // --log-format json
	ErrorLog string // absolute path for wsgo's own log lines, or "" for standard error

	// Notes are what the master says at start about how the command line
	// was read (PORT, WEB_CONCURRENCY, gunicorn flags, the config file);
	// Warnings, what it did not apply of them.
	Notes, Warnings []string

	// TLS: both files absolute, or both "". Certs holds them as loaded:
	// by Parse in the master, to check them; by FromMaster in each
	// worker, which so serves what the files hold when it starts (after a
	// SIGHUP, renewed ones).
	CertFile, KeyFile string
	Certs             *httpfront.Certs `json:"-"`

	// Front is the HTTP front's configuration but for what only a worker
	// can make (App, Logger, AccessLog, TLS, Metrics, Timeout).
	Front httpfront.Config
	// AccessLog is the --access-log path ("-": standard output; absolute
	// otherwise); AccessLogSet is false when the flag was not given, which
	// means to the terminal when standard error is one.
	AccessLog     string
	AccessLogSet  bool
	AccessLogJSON bool
}

// Python is what `wsgo run` and `wsgo check` share: where the app is and
// what it sees.
type Python struct {
	Chdir      string   // absolute, or "" to stay
	PythonPath []string // as given: sys.path entries, resolved by Python
	Virtualenv string   // absolute, or "": a .venv next to the app, if any
	Env        []string // KEY=VALUE, set in the process before Python starts
}
