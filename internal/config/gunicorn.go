package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// What gunicorn users bring along: its flags (aliases in flags.go, and
// these three with a meaning of their own), and the PORT and
// WEB_CONCURRENCY variables of Heroku-style platforms, read as gunicorn
// reads them; its GUNICORN_CMD_ARGS is only warned of.

// parseGunicorn applies --worker-class, --preload and --daemon, PORT and
// WEB_CONCURRENCY, and warns of GUNICORN_CMD_ARGS, which it does not read.
func (o *Options) parseGunicorn(c *given) error {
	if c.Bool("daemon") {
		return usage("wsgo run: " + c.name("daemon") + " is refused: " + foregroundOnly)
	}
	switch class := c.String("worker-class"); strings.ToLower(class[strings.LastIndexByte(class, '.')+1:]) {
	case "":
	case "sync", "syncworker":
		if !c.IsSet("threads") {
			o.Threads = 1
			o.Notes = append(o.Notes, "wsgo: --worker-class sync: one thread per worker (--threads 1), as gunicorn's sync workers")
		}
	case "gthread", "threadworker":
	case "gevent", "geventworker", "geventpywsgiworker", "eventlet", "eventletworker", "tornado", "tornadoworker":
		return c.bad("worker-class", class, "refused: wsgo serves WSGI apps on threads and does not "+
			"monkey-patch; use --threads N for N concurrent requests per worker")
	default:
		return c.bad("worker-class", class, "wsgo runs sync or gthread (Python threads, --threads); "+
			"ASGI workers such as uvicorn's are not WSGI")
	}
	if c.Bool("preload") {
		o.Notes = append(o.Notes, "wsgo: --preload changes nothing: each worker imports the app itself "+
			"(a Go program cannot fork once it runs), so import errors still stop wsgo at start")
	}
	if port := os.Getenv("PORT"); port != "" && !c.IsSet("bind") {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return usage(fmt.Sprintf("wsgo run: PORT=%q is not a port number (1 to 65535); fix it or give --bind", port))
		}
		o.Binds = []string{"0.0.0.0:" + port}
		o.Notes = append(o.Notes, "wsgo: listening on 0.0.0.0:"+port+" from PORT, as gunicorn does (--bind overrides it)")
	}
	if args := strings.TrimSpace(os.Getenv("GUNICORN_CMD_ARGS")); args != "" {
		o.Warnings = append(o.Warnings, fmt.Sprintf("wsgo: GUNICORN_CMD_ARGS=%q is not read: give its flags on wsgo's "+
			"command line (`wsgo run %s TARGET`) or as WSGO_* variables (--workers 2 is WSGO_WORKERS=2), and unset it", args, args))
	}
	if n := os.Getenv("WEB_CONCURRENCY"); n != "" && !c.IsSet("workers") {
		workers, err := parseWorkers(n)
		if err != nil {
			return usage(fmt.Sprintf("wsgo run: WEB_CONCURRENCY=%q: give a number of at least 1 (or unset it and give --workers)", n))
		}
		o.Workers = workers
		o.Notes = append(o.Notes, fmt.Sprintf("wsgo: %d worker(s) from WEB_CONCURRENCY, as gunicorn does (--workers overrides it)", workers))
	}
	return nil
}

// foregroundOnly is why wsgo does not daemonize, and what to do instead.
const foregroundOnly = "wsgo stays in the foreground so that its supervisor sees it; " +
	"run it under systemd (examples/systemd), in a container, or detach it yourself with `setsid -f wsgo run …`"

// What wsgo does instead of a listen backlog and of the uwsgi protocol,
// which gunicorn and uWSGI both have.
const (
	backlogInstead = "wsgo listens with the kernel's largest backlog (net.core.somaxconn: raise that sysctl for a longer queue) " +
		"and its master accepts at once; requests waiting for a Python thread are bounded by --queue-size"
	uwsgiProtocolInstead = "wsgo speaks HTTP, not the uwsgi protocol: point the proxy at --bind over HTTP"
)

// gunicornUnsupported are gunicorn's settings that wsgo does not take,
// each with what to do instead in wsgo. gunicorn's flags among them are
// usage errors saying so (unknownFlags), its setting names in a
// configuration file are logged so (notApplied). The settings wsgo takes
// are aliases of its flags (flags.go) and gunicornSettings (conffile.go).
var gunicornUnsupported = []struct {
	settings []string // as a configuration file names them
	flags    []string // as gunicorn's command line spells them, without dashes
	instead  string
}{
	{[]string{"backlog"}, []string{"backlog"}, backlogInstead},
	{[]string{"worker_connections"}, []string{"worker-connections"},
		"wsgo holds any number of connections (a goroutine each): --workers × --threads requests run at once, and --queue-size more wait"},
	{[]string{"reload_engine"}, []string{"reload-engine"}, "wsgo's --reload always watches with inotify: leave it out"},
	{[]string{"spew"}, []string{"spew"}, "it traces gunicorn's own Python code, and wsgo's server is Go: leave it out"},
	{[]string{"check_config"}, []string{"check-config"}, "`wsgo check TARGET` imports the app as `wsgo run` would, and exits 0 if it loads"},
	{[]string{"print_config"}, []string{"print-config"},
		"not supported; `wsgo run --help` lists every flag with its WSGO_* variable"},
	{[]string{"sendfile"}, []string{"no-sendfile"},
		"wsgo sends files (wsgi.file_wrapper, --static) with sendfile(2) where it can and copies them where it cannot (TLS, HTTP/2): leave it out"},
	{[]string{"reuse_port"}, []string{"reuse-port"},
		"not needed: only wsgo's master listens, and it keeps its sockets through SIGHUP and worker restarts, so nothing binds the port twice"},
	{[]string{"worker_tmp_dir"}, []string{"worker-tmp-dir"}, "not needed: wsgo's workers show they are alive in shared memory, not in a temporary file"},
	{[]string{"initgroups"}, []string{"initgroups"}, "always so: --user runs wsgo with every group of the user"},
	{[]string{"tmp_upload_dir"}, nil, "wsgo keeps large request bodies in unlinked temporary files under $TMPDIR: set TMPDIR in its environment"},
	{[]string{"secure_scheme_headers"}, nil,
		"wsgo sets wsgi.url_scheme from the X-Forwarded-Proto or Forwarded header of --forwarded-allow-ips peers"},
	{[]string{"access_log_format"}, []string{"access-logformat"},
		"gunicorn's format string is not supported; wsgo's --access-log-format is combined or json"},
	{[]string{"syslog", "syslog_addr", "syslog_prefix", "syslog_facility", "disable_redirect_access_to_syslog"},
		[]string{"log-syslog", "log-syslog-to", "log-syslog-prefix", "log-syslog-facility", "disable-redirect-access-to-syslog"},
		"wsgo does not write to syslog: its log goes to standard error (or --error-log), which journald or the container runtime collects"},
	{[]string{"capture_output"}, []string{"capture-output"},
		"the app's print() and sys.stderr already go to wsgo's standard output and standard error (journald or the container runtime collects them), not to --error-log; what it writes to wsgi.errors goes to wsgo's log"},
	{[]string{"logger_class"}, []string{"logger-class"},
		"wsgo's log is its own: --log-format json writes it as JSON lines, --access-log-format json the access log"},
	{[]string{"logconfig", "logconfig_dict", "logconfig_json"}, []string{"log-config", "log-config-json"},
		"set up the app's logging in the app; wsgo's own log is set by --log-level, --log-format and --error-log"},
	{[]string{"enable_stdio_inheritance"}, []string{"R", "enable-stdio-inheritance"},
		"not needed: wsgo never daemonizes, so the app keeps its standard output and error (-e PYTHONUNBUFFERED=1 unbuffers print)"},
	{[]string{"statsd_host", "statsd_prefix", "dogstatsd_tags"}, []string{"statsd-host", "statsd-prefix", "dogstatsd-tags"},
		"wsgo has no StatsD client: it serves Prometheus metrics with --metrics-bind ADDR (docs/metrics.md)"},
	{[]string{"enable_backlog_metric"}, []string{"enable-backlog-metric"},
		"wsgo's Prometheus metrics (--metrics-bind ADDR) count the requests waiting for a Python thread (wsgo_python_queue_depth)"},
	{[]string{"proc_name"}, []string{"n", "name"},
		"wsgo does not rename its processes: ps shows each one's command line, and --pid FILE writes the master's PID"},
	{[]string{"paste", "raw_paste_global_conf"}, []string{"paste", "paster", "paste-global"},
		`wsgo serves a module:callable TARGET: write a module with application = paste.deploy.loadapp("config:/path/to/app.ini")`},
	{[]string{"proxy_allow_ips"}, []string{"proxy-allow-from"},
		"wsgo's --proxy-protocol takes the PROXY header from the peers in --forwarded-allow-ips"},
	{[]string{"protocol", "uwsgi_allow_ips"}, []string{"protocol", "uwsgi-allow-from"}, uwsgiProtocolInstead},
	{[]string{"ssl_version", "ciphers"}, []string{"ssl-version", "ciphers"},
		"wsgo's TLS is Go's: TLS 1.2 and 1.3 with Go's cipher suites, not configurable"},
	{[]string{"cert_reqs", "ca_certs"}, []string{"cert-reqs", "ca-certs"},
		"wsgo does not verify client certificates: check them at a proxy in front"},
	{[]string{"suppress_ragged_eofs", "do_handshake_on_connect"}, []string{"suppress-ragged-eofs", "do-handshake-on-connect"},
		"not needed with Go's TLS: leave it out"},
	{[]string{"http_protocols", "http2_cleartext"}, []string{"http-protocols", "http2-cleartext"},
		"wsgo serves HTTP/2 and HTTP/1.1 on every --bind: HTTP/2 by ALPN with TLS, with prior knowledge without (Upgrade: h2c is not supported); leave it out"},
	{[]string{"http2_max_concurrent_streams", "http2_initial_window_size", "http2_max_frame_size", "http2_max_header_list_size"},
		[]string{"http2-max-concurrent-streams", "http2-initial-window-size", "http2-max-frame-size", "http2-max-header-list-size"},
		"wsgo's HTTP/2 settings are Go's and not configurable; --limit-request-* and --max-body-size apply to HTTP/2 requests too"},
	{[]string{"permit_obsolete_folding", "strip_header_spaces", "permit_unconventional_http_method",
		"permit_unconventional_http_version", "casefold_http_method"},
		[]string{"permit-obsolete-folding", "strip-header-spaces", "permit-unconventional-http-method",
			"permit-unconventional-http-version", "casefold-http-method"},
		"wsgo's request parser follows RFC 9110 and 9112 and is not configurable"},
	{[]string{"forwarder_headers"}, []string{"forwarder-headers"},
		"from --forwarded-allow-ips peers wsgo reads X-Forwarded-For, -Proto, -Host, -Port, -Prefix and Forwarded; mount the app with --root-path"},
	{[]string{"tolerate_dangerous_framing"}, []string{"tolerate-dangerous-framing"}, // Debian's backport to gunicorn 20.1
		"wsgo answers a request with both Transfer-Encoding and Content-Length 400 and closes its connection (RFC 9112 6.1), " +
			"as such framing is how requests are smuggled past a proxy: leave it out"},
	{[]string{"header_map"}, []string{"header-map"},
		"wsgo drops header fields whose names have an underscore, as gunicorn's default (drop) does: leave it out"},
	{[]string{"asgi_loop", "asgi_lifespan", "asgi_disconnect_grace_period"}, []string{"asgi-loop", "asgi-lifespan", "asgi-disconnect-grace-period"},
		"wsgo serves WSGI apps, not ASGI: leave it out"},
	{[]string{"http_parser"}, []string{"http-parser"}, "wsgo parses HTTP in Go: leave it out"},
	{[]string{"dirty_apps", "dirty_workers", "dirty_timeout", "dirty_threads", "dirty_graceful_timeout"},
		[]string{"dirty-app", "dirty-workers", "dirty-timeout", "dirty-threads", "dirty-graceful-timeout"},
		"wsgo has no pool of dirty workers: run long jobs in a task queue or a service of their own"},
	{nil, []string{"v", "version"}, "wsgo's version is a command of its own: `wsgo version`"},
	{[]string{"control_socket", "control_socket_mode", "control_socket_disable"}, []string{"control-socket", "control-socket-mode", "no-control-socket"},
		"wsgo has no control socket: signal its master (HUP reloads, TTIN and TTOU add and remove a worker, TERM stops; docs/processes.md) and read its state from --metrics-bind"},
}

// gunicornFlagsInstead and gunicornSettingsInstead index gunicornUnsupported.
var gunicornFlagsInstead, gunicornSettingsInstead = func() (byFlag, bySetting map[string]string) {
	byFlag, bySetting = map[string]string{}, map[string]string{}
	for _, u := range gunicornUnsupported {
		for _, f := range u.flags {
			byFlag[f] = u.instead
		}
		for _, s := range u.settings {
			bySetting[s] = u.instead
		}
	}
	return byFlag, bySetting
}()
