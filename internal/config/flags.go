package config

import (
	"time"

	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
)

// RunDescription is `wsgo run --help`'s text above the flags.
const RunDescription = "TARGET is one of:\n" +
	"   file.py                 the file's `application`, else its `app`\n" +
	"   file.py:callable        a named callable in the file\n" +
	"   package.module:callable a callable in an importable module\n" +
	"   module:factory()        the app a factory returns (literal arguments allowed)\n\n" +
	"The file's directory (or --chdir) goes first on sys.path; a file in a package\n" +
	"(mysite/wsgi.py next to mysite/__init__.py) is imported as mysite.wsgi, with the\n" +
	"package root first. A wsgiref script that\n" +
	"calls make_server(host, port, app).serve_forever() is served on that address\n" +
	"unless --bind is given. Every flag can also be set as WSGO_<FLAG>, e.g.\n" +
	"WSGO_BIND=0.0.0.0:8000 or WSGO_THREADS=32."

// RunFlags are the flags of `wsgo run`, each also a WSGO_* variable.
// README.md's table and docs/ describe them; Parse reads them.
func RunFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "bind", Aliases: []string{"b"}, EnvVars: []string{"WSGO_BIND"},
			Value: cli.NewStringSlice(DefaultBind),
			Usage: "`ADDR` to listen on: HOST:PORT, :PORT, [IPV6]:PORT, tcp://HOST:PORT, unix:PATH, or fd://N for a listening socket inherited on descriptor N (repeatable)"},
		&cli.StringFlag{Name: "workers", Aliases: []string{"w"}, EnvVars: []string{"WSGO_WORKERS"}, Value: "1",
			Usage: "`N` worker processes, each with its own Python and --threads; auto = one per CPU the process may use (a container's CPU limit counts)"},
		&cli.IntFlag{Name: "threads", EnvVars: []string{"WSGO_THREADS"}, Value: 16,
			Usage: "`N` Python threads per worker serve requests (more helps apps that wait on I/O), at most 1024"},
		&cli.StringFlag{Name: "worker-sched", EnvVars: []string{"WSGO_WORKER_SCHED"}, Value: "batch",
			Usage: "Linux CPU scheduling `POLICY` of the workers: batch (SCHED_BATCH: wsgo's network threads do not interrupt Python on a busy core; more throughput) or normal (wake-ups preempt: for cores shared with latency-sensitive programs)"},
		&cli.IntFlag{Name: "queue-size", EnvVars: []string{"WSGO_QUEUE_SIZE"}, Value: 1024,
			Usage: "`N` requests may wait for a free thread; beyond that clients get 503"},
		&cli.StringFlag{Name: "chdir", EnvVars: []string{"WSGO_CHDIR"},
			Usage: "change to `DIR` before loading the app; it goes first on sys.path"},
		&cli.StringSliceFlag{Name: "pythonpath", EnvVars: []string{"WSGO_PYTHONPATH"},
			Usage: "add `DIR` to sys.path (repeatable)"},
		&cli.StringFlag{Name: "virtualenv", Aliases: []string{"home", "H"}, EnvVars: []string{"WSGO_VIRTUALENV", "VIRTUAL_ENV"},
			Usage: "use the virtualenv `DIR`: its site-packages before the system's, which stay only if its pyvenv.cfg includes them (default: VIRTUAL_ENV, else a .venv next to the app or in --chdir)"},
		envFlag{&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, EnvVars: []string{"WSGO_ENV"},
			Usage: "set environment variable `KEY=VALUE` for the app, the value whole, commas included (repeatable); WSGO_ENV holds several, a comma before each further KEY="}},
		&cli.IntFlag{Name: "graceful-timeout", EnvVars: []string{"WSGO_GRACEFUL_TIMEOUT"}, Value: 30,
			Usage: "`SECONDS` in-flight requests get to finish after SIGTERM, SIGINT, or a worker's replacement; a worker silent this long (stopped or wedged) is replaced, and a replacement still importing the app is given up"},
		&cli.IntFlag{Name: "shutdown-delay", EnvVars: []string{"WSGO_SHUTDOWN_DELAY"},
			Usage: "after SIGTERM, keep accepting connections for `SECONDS` with /readyz answering 503, so a load balancer stops sending first; then finish in-flight requests"},
		&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, EnvVars: []string{"WSGO_TIMEOUT"}, Value: 0,
			Usage: "`SECONDS` a request may take from its body's arrival (a wait for a free Python thread counts); past it the client gets 504 and Python gets wsgo.RequestTimeout (0 = no limit)"},
		&cli.IntFlag{Name: "max-requests", EnvVars: []string{"WSGO_MAX_REQUESTS"},
			Usage: "replace a worker after it has served `N` requests (0 = never)"},
		&cli.IntFlag{Name: "max-requests-jitter", EnvVars: []string{"WSGO_MAX_REQUESTS_JITTER"},
			Usage: "add a random 0..`N` to each worker's --max-requests, so workers do not all recycle at once"},
		&cli.IntFlag{Name: "max-rss", EnvVars: []string{"WSGO_MAX_RSS"},
			Usage: "replace a worker whose memory (RSS) has grown past `MIB` mebibytes, checked between requests (0 = never)"},
		&cli.StringFlag{Name: "pid", Aliases: []string{"p"}, EnvVars: []string{"WSGO_PID"},
			Usage: "write the master process's PID to `FILE` (removed at exit)"},
		&cli.StringFlag{Name: "log-format", EnvVars: []string{"WSGO_LOG_FORMAT"}, Value: "text",
			Usage: "`FORMAT` of wsgo's own log lines (the app's wsgi.errors included): text or json (one object per line)"},
		&cli.StringFlag{Name: "error-log", Aliases: []string{"error-logfile", "log-file"}, EnvVars: []string{"WSGO_ERROR_LOG"},
			Usage: "write wsgo's own log lines to `FILE` instead of standard error (- for standard error)"},
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, EnvVars: []string{"WSGO_CONFIG"},
			Usage: "read settings from the Python `FILE`, with gunicorn's setting names (default: ./wsgo.conf.py if present, else ./gunicorn.conf.py); flags and WSGO_* win over it"},
		&cli.StringFlag{Name: "worker-class", Aliases: []string{"k"}, EnvVars: []string{"WSGO_WORKER_CLASS"},
			Usage: "gunicorn's `CLASS`, for migration: sync means --threads 1, gthread keeps --threads; async classes are refused"},
		&cli.BoolFlag{Name: "preload", Aliases: []string{"preload-app"}, EnvVars: []string{"WSGO_PRELOAD"},
			Usage: "gunicorn's --preload, accepted for migration: each wsgo worker imports the app itself"},
		&cli.BoolFlag{Name: "daemon", Aliases: []string{"D"}, EnvVars: []string{"WSGO_DAEMON"},
			Usage: "refused: wsgo stays in the foreground; run it under systemd or a container"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, EnvVars: []string{"WSGO_USER"},
			Usage: "started as root: listen, then run the master and workers as `USER` (name or uid), with its groups"},
		&cli.StringFlag{Name: "group", Aliases: []string{"g"}, EnvVars: []string{"WSGO_GROUP"},
			Usage: "started as root: run as `GROUP` (name or gid); default: --user's group"},
		&cli.StringFlag{Name: "umask", Aliases: []string{"m"}, EnvVars: []string{"WSGO_UMASK"},
			Usage: "file mode creation mask of wsgo and the app, in octal (`MODE`, e.g. 027; default: inherited)"},
		&cli.StringFlag{Name: "log-level", EnvVars: []string{"WSGO_LOG_LEVEL"}, Value: "info",
			Usage: "`LEVEL`: debug, info, warning, error or critical"},
		&cli.BoolFlag{Name: "strict", EnvVars: []string{"WSGO_STRICT"}, Value: true,
			Usage: "answer 500 when the app sends str where WSGI needs bytes, as PEP 3333 requires; --strict=false sends it as UTF-8 with one warning"},
		&cli.StringFlag{Name: "certfile", EnvVars: []string{"WSGO_CERTFILE"},
			Usage: "serve TLS (HTTP/2 and HTTP/1.1) on every TCP --bind with the PEM certificate chain in `FILE`; re-read on SIGHUP"},
		&cli.StringFlag{Name: "keyfile", EnvVars: []string{"WSGO_KEYFILE"},
			Usage: "the PEM private key of --certfile, in `FILE`; re-read on SIGHUP; left out, --certfile must hold the key too"},
		&cli.BoolFlag{Name: "reload", EnvVars: []string{"WSGO_RELOAD"},
			Usage: "development: reload the app when one of its Python files changes; a broken save answers 500 until fixed"},
		&cli.StringSliceFlag{Name: "reload-extra-file", EnvVars: []string{"WSGO_RELOAD_EXTRA_FILE"},
			Usage: "with --reload, also reload when `FILE` changes (repeatable)"},
		&cli.StringFlag{Name: "metrics-bind", EnvVars: []string{"WSGO_METRICS_BIND"},
			Usage: "serve Prometheus metrics of the master and every worker (/metrics) and health checks (/healthz, /readyz) on `ADDR` (HOST:PORT or unix:PATH; default: off)"},
		&cli.StringFlag{Name: "health-path", EnvVars: []string{"WSGO_HEALTH_PATH"},
			Usage: "answer health checks on the app's listeners too, from Go: `PREFIX`/healthz and PREFIX/readyz (e.g. /- for /-/healthz; default: off)"},
		&cli.StringFlag{Name: "root-path", EnvVars: []string{"WSGO_ROOT_PATH"},
			Usage: "mount the app at the URL `PATH` (e.g. /app): SCRIPT_NAME is PATH, PATH_INFO the rest, other paths get 404 (default: SCRIPT_NAME from the environment, else none)"},
		&cli.StringSliceFlag{Name: "static", EnvVars: []string{"WSGO_STATIC"},
			Usage: "serve the files of DIR under the URL prefix, from Go (`/PREFIX=DIR`, repeatable)"},
		&cli.IntFlag{Name: "static-max-age", EnvVars: []string{"WSGO_STATIC_MAX_AGE"},
			Usage: "Cache-Control max-age of static files in `SECONDS` (0: clients revalidate every time)"},
		&cli.StringFlag{Name: "access-log", Aliases: []string{"access-logfile"}, EnvVars: []string{"WSGO_ACCESS_LOG"},
			Usage: "write one line per request to `FILE` (- for standard output; default: to standard error when it is a terminal, else none)"},
		&cli.StringFlag{Name: "access-log-format", EnvVars: []string{"WSGO_ACCESS_LOG_FORMAT"}, Value: "combined",
			Usage: "`FORMAT` of the access log: combined or json"},
		&cli.StringFlag{Name: "forwarded-allow-ips", EnvVars: []string{"WSGO_FORWARDED_ALLOW_IPS", "FORWARDED_ALLOW_IPS"},
			Value: "127.0.0.1,::1",
			Usage: "proxies whose X-Forwarded-* and Forwarded headers are believed: `LIST` of addresses, CIDRs, unix, or *"},
		&cli.StringFlag{Name: "proxy-protocol", EnvVars: []string{"WSGO_PROXY_PROTOCOL"}, Value: "off",
			Usage: "connections from --forwarded-allow-ips peers must open with a PROXY protocol header (v1 or v2; HAProxy, AWS NLB), whose client address becomes REMOTE_ADDR; other peers are served as plain HTTP. `MODE` is optional: off, or v1, v2 or auto (all three read either version), or true or false"},
		&cli.IntFlag{Name: "limit-request-line", EnvVars: []string{"WSGO_LIMIT_REQUEST_LINE"},
			Value: httpfront.DefaultLimitRequestLine, Usage: "longest request line in `BYTES`, at most 65536 (0: 65536); longer gets 414"},
		&cli.IntFlag{Name: "limit-request-fields", EnvVars: []string{"WSGO_LIMIT_REQUEST_FIELDS"},
			Value: httpfront.DefaultLimitRequestFields, Usage: "most header fields in a request (`N`); more gets 431"},
		&cli.IntFlag{Name: "limit-request-field_size", EnvVars: []string{"WSGO_LIMIT_REQUEST_FIELD_SIZE"},
			Value: httpfront.DefaultLimitRequestFieldSize, Usage: "longest header field in `BYTES`, at most 65536 (0: 65536); longer gets 431"},
		&cli.Int64Flag{Name: "max-body-size", EnvVars: []string{"WSGO_MAX_BODY_SIZE"},
			Usage: "largest request body in `BYTES`; larger gets 413 (0: no limit)"},
		&cli.Int64Flag{Name: "max-response-spool", EnvVars: []string{"WSGO_MAX_RESPONSE_SPOOL"}, Value: httpfront.DefaultMaxResponseSpool,
			Usage: "most `BYTES` a worker keeps in temporary files of responses its clients take slowly; past it, the app's writes wait for the clients, but while requests wait for a Python thread, a response whose client takes nothing for 250 ms is cut"},
		&cli.BoolFlag{Name: "stream-request-body", EnvVars: []string{"WSGO_STREAM_REQUEST_BODY"},
			Usage: "pass a request body with a Content-Length to the app as it arrives, rather than receiving it whole first (for apps that stream uploads; a slow client then holds a Python thread)"},
		&cli.IntFlag{Name: "keep-alive", EnvVars: []string{"WSGO_KEEP_ALIVE"}, Value: secs(httpfront.DefaultKeepAlive),
			Usage: "`SECONDS` an idle connection waits for its next request (0: one request per connection)"},
		&cli.IntFlag{Name: "header-timeout", EnvVars: []string{"WSGO_HEADER_TIMEOUT"}, Value: secs(httpfront.DefaultHeaderTimeout),
			Usage: "`SECONDS` a request's headers may take to arrive (against slowloris)"},
		&cli.IntFlag{Name: "stall-timeout", EnvVars: []string{"WSGO_STALL_TIMEOUT"}, Value: secs(httpfront.DefaultStallTimeout),
			Usage: "`SECONDS` a body read or response write may make no progress before the client is dropped"},
		&cli.BoolFlag{Name: "debug", EnvVars: []string{"WSGO_DEBUG"},
			Usage: "show an HTML page with the traceback when the app raises before responding (never in production)"},
	}
}

func secs(d time.Duration) int { return int(d / time.Second) }
