// Command wsgo serves Python WSGI (PEP 3333) applications over HTTP from one
// Go binary that embeds CPython. main.go only reads flags and wires the
// pieces: pyhost runs the app, httpfront speaks HTTP.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
	"wsgo/httpfront/handoff"
	"wsgo/httpfront/master"
	"wsgo/pyhost"
)

var version = "0.1.0-dev"

// Exit codes. A supervisor should not restart wsgo in a loop on
// exitListen or exitAppLoad: the same start would fail the same way.
const (
	exitFailure = 1 // anything else
	exitUsage   = 2 // bad flags or arguments
	exitListen  = 3 // a --bind address cannot be listened on
	exitAppLoad = 4 // Python could not start or the app could not be imported
)

func main() {
	if os.Getpid() == 1 {
		os.Exit(runInit()) // initproc.go: a container's PID 1 reaps and forwards
	}
	app := &cli.App{
		Name:  "wsgo",
		Usage: "serve a Python WSGI app over HTTP, from one binary",
		Description: "wsgo embeds CPython and serves PEP 3333 apps (Flask, Django, Falcon, Bottle,\n" +
			"Pyramid, or a plain application(environ, start_response)).\n\n" +
			"   wsgo run hello.py               serve hello.py's `application` (or `app`)\n" +
			"   wsgo run myproject.wsgi:application -b :8000 --threads 32",
		HideVersion:     true,
		HideHelpCommand: true,
		Commands: []*cli.Command{
			runCommand(),
			checkCommand(),
			{
				Name:   "version",
				Usage:  "print the versions of wsgo, Go and the linked Python",
				Action: printVersion,
			},
		},
		ExitErrHandler: func(c *cli.Context, err error) {
			if err == nil {
				return
			}
			var ec cli.ExitCoder
			if errors.As(err, &ec) {
				if msg := err.Error(); msg != "" {
					fmt.Fprintln(os.Stderr, msg)
				}
				os.Exit(ec.ExitCode())
			}
			fmt.Fprintf(os.Stderr, "wsgo: %v\nRun `wsgo run --help` for the flags.\n", err)
			os.Exit(exitUsage)
		},
	}
	if err := app.Run(interspersed(os.Args)); err != nil {
		app.ExitErrHandler(nil, err)
	}
}

func printVersion(*cli.Context) error {
	fmt.Printf("wsgo %s\nGo %s\nPython %s\n", version, strings.TrimPrefix(runtime.Version(), "go"),
		pyhost.PythonVersion())
	return nil
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "serve a WSGI app",
		ArgsUsage: "TARGET",
		Description: "TARGET is one of:\n" +
			"   file.py                 the file's `application`, else its `app`\n" +
			"   file.py:callable        a named callable in the file\n" +
			"   package.module:callable a callable in an importable module\n" +
			"   module:factory()        the app a factory returns (literal arguments allowed)\n\n" +
			"The file's directory (or --chdir) goes first on sys.path. A wsgiref script that\n" +
			"calls make_server(host, port, app).serve_forever() is served on that address\n" +
			"unless --bind is given. Every flag can also be set as WSGO_<FLAG>, e.g.\n" +
			"WSGO_BIND=0.0.0.0:8000 or WSGO_THREADS=32.",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "bind", Aliases: []string{"b"}, EnvVars: []string{"WSGO_BIND"},
				Value: cli.NewStringSlice("127.0.0.1:8000"),
				Usage: "`ADDR` to listen on: HOST:PORT, :PORT, [IPV6]:PORT or unix:PATH (repeatable)"},
			&cli.StringFlag{Name: "workers", Aliases: []string{"w"}, EnvVars: []string{"WSGO_WORKERS"}, Value: "1",
				Usage: "`N` worker processes, each with its own Python and --threads; auto = one per CPU"},
			&cli.IntFlag{Name: "threads", EnvVars: []string{"WSGO_THREADS"}, Value: 16,
				Usage: "`N` Python threads per worker serve requests (more helps apps that wait on I/O)"},
			&cli.IntFlag{Name: "queue-size", EnvVars: []string{"WSGO_QUEUE_SIZE"}, Value: 1024,
				Usage: "`N` requests may wait for a free thread; beyond that clients get 503"},
			&cli.StringFlag{Name: "chdir", EnvVars: []string{"WSGO_CHDIR"},
				Usage: "change to `DIR` before loading the app; it goes first on sys.path"},
			&cli.StringSliceFlag{Name: "pythonpath", EnvVars: []string{"WSGO_PYTHONPATH"},
				Usage: "add `DIR` to sys.path (repeatable)"},
			&cli.StringSliceFlag{Name: "env", EnvVars: []string{"WSGO_ENV"},
				Usage: "set environment variable `KEY=VALUE` for the app (repeatable)"},
			&cli.IntFlag{Name: "graceful-timeout", EnvVars: []string{"WSGO_GRACEFUL_TIMEOUT"}, Value: 30,
				Usage: "`SECONDS` in-flight requests get to finish after SIGTERM, SIGINT, or a worker's replacement"},
			&cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, EnvVars: []string{"WSGO_TIMEOUT"}, Value: 0,
				Usage: "`SECONDS` a request may run; past it the client gets 504 and Python gets wsgo.RequestTimeout (0 = no limit)"},
			&cli.IntFlag{Name: "max-requests", EnvVars: []string{"WSGO_MAX_REQUESTS"},
				Usage: "replace a worker after it has served `N` requests (0 = never)"},
			&cli.IntFlag{Name: "max-requests-jitter", EnvVars: []string{"WSGO_MAX_REQUESTS_JITTER"},
				Usage: "add a random 0..`N` to each worker's --max-requests, so workers do not all recycle at once"},
			&cli.IntFlag{Name: "max-rss", EnvVars: []string{"WSGO_MAX_RSS"},
				Usage: "replace a worker whose memory (RSS) has grown past `MIB` mebibytes, checked between requests (0 = never)"},
			&cli.StringFlag{Name: "pid", Aliases: []string{"p"}, EnvVars: []string{"WSGO_PID"},
				Usage: "write the master process's PID to `FILE` (removed at exit)"},
			&cli.StringFlag{Name: "log-level", EnvVars: []string{"WSGO_LOG_LEVEL"}, Value: "info",
				Usage: "`LEVEL`: debug, info, warning, error or critical"},
			&cli.BoolFlag{Name: "strict", EnvVars: []string{"WSGO_STRICT"},
				Usage: "answer 500 when the app sends str where WSGI needs bytes (default: warn once, send UTF-8)"},
			&cli.StringFlag{Name: "certfile", EnvVars: []string{"WSGO_CERTFILE"},
				Usage: "serve TLS (HTTP/2 and HTTP/1.1) on every TCP --bind with the PEM certificate chain in `FILE`; re-read on SIGHUP"},
			&cli.StringFlag{Name: "keyfile", EnvVars: []string{"WSGO_KEYFILE"},
				Usage: "the PEM private key of --certfile, in `FILE`; re-read on SIGHUP"},
			&cli.BoolFlag{Name: "reload", EnvVars: []string{"WSGO_RELOAD"},
				Usage: "development: reload the app when one of its Python files changes; a broken save answers 500 until fixed"},
			&cli.StringSliceFlag{Name: "reload-extra-file", EnvVars: []string{"WSGO_RELOAD_EXTRA_FILE"},
				Usage: "with --reload, also reload when `FILE` changes (repeatable)"},
			&cli.StringFlag{Name: "metrics-bind", EnvVars: []string{"WSGO_METRICS_BIND"},
				Usage: "serve Prometheus metrics of the master and every worker on `ADDR` (HOST:PORT or unix:PATH), path /metrics (default: off)"},
		}, frontFlags()...),
		Action: run,
	}
}

func run(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("wsgo run: give one TARGET, e.g. `wsgo run hello.py` or `wsgo run pkg.module:app`", exitUsage)
	}
	level, err := parseLevel(c.String("log-level"))
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	logger := httpfront.NewLogger(os.Stderr, level)
	slog.SetDefault(logger)
	if err := setEnv(c); err != nil {
		return err
	}
	workers, err := parseWorkers(c.String("workers"))
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	for _, name := range []string{"timeout", "max-requests", "max-requests-jitter", "max-rss", "graceful-timeout"} {
		if c.Int(name) < 0 {
			return cli.Exit(fmt.Sprintf("wsgo run: --%s must be 0 or more", name), exitUsage)
		}
	}
	if c.Int("threads") < 1 || c.Int("queue-size") < 1 {
		return cli.Exit("wsgo run: --threads and --queue-size must be at least 1", exitUsage)
	}
	// Read by the master too, so that bad files stop wsgo before any
	// worker starts; each worker reads them afresh (SIGHUP renews them).
	certs, err := loadCerts(c)
	if err != nil {
		return err
	}

	w, err := handoff.Join()
	if err != nil {
		return cli.Exit(err.Error(), exitFailure)
	}
	if w != nil {
		return runWorker(c, w, certs, logger)
	}
	return runMaster(c, workers, certs, logger)
}

// runMaster supervises the worker processes, which are this binary run
// again with the same arguments.
func runMaster(c *cli.Context, workers int, certs *httpfront.Certs, logger *slog.Logger) error {
	var binds []string
	if c.IsSet("bind") {
		binds = c.StringSlice("bind")
	}
	url := httpfront.URL
	if certs != nil {
		logger.Info("wsgo: TLS certificate: " + certs.Describe())
		url = httpfront.TLSURL
	}
	err := master.Run(master.Config{
		Workers:     workers,
		Binds:       binds,
		DefaultBind: "127.0.0.1:8000",
		Listen:      httpfront.Listen,
		URL:         url,
		Command: func() *exec.Cmd {
			// /proc/self/exe: the very binary running, even if a deploy
			// has replaced the file since.
			return exec.Command("/proc/self/exe", os.Args[1:]...)
		},
		GracefulTimeout: time.Duration(c.Int("graceful-timeout")) * time.Second,
		MetricsBind:     c.String("metrics-bind"),
		Listening: func(l net.Listener) {
			if c.Bool("debug") && !httpfront.IsLoopback(l.Addr()) {
				logger.Warn("wsgo: --debug shows tracebacks and request headers to every client of " + url(l) +
					", which is not a loopback address; use --debug only on 127.0.0.1 or ::1")
			}
			if w := publicWarning(c, l, url(l)); w != "" {
				logger.Warn(w)
			}
		},
		PidFile: c.String("pid"),
		Threads: c.Int("threads"),
		Logger:  logger,
	})
	var startErr *master.StartError
	var listenErr *master.ListenError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &startErr):
		return cli.Exit("", startErr.Code)
	case errors.As(err, &listenErr):
		return cli.Exit(err.Error(), exitListen)
	}
	return cli.Exit(err.Error(), exitFailure)
}

// parseWorkers reads --workers: a count, or auto for one per CPU.
func parseWorkers(s string) (int, error) {
	if strings.EqualFold(s, "auto") {
		return runtime.NumCPU(), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("wsgo run: --workers %q: give a number of at least 1, or auto (one per CPU)", s)
	}
	return n, nil
}

// setEnv sets the --env variables for the app.
func setEnv(c *cli.Context) error {
	for _, kv := range c.StringSlice("env") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return cli.Exit(fmt.Sprintf("wsgo %s: --env %q must be KEY=VALUE", c.Command.Name, kv), exitUsage)
		}
		os.Setenv(k, v)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
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
		return slog.LevelError + 4, nil
	}
	return 0, fmt.Errorf("wsgo run: --log-level %q: use debug, info, warning, error or critical", s)
}

// interspersed moves the TARGET of `run` and `check` after their flags, so
// `wsgo run app.py --threads 4` works as gunicorn users expect (urfave/cli
// v2 stops parsing flags at the first argument), and spells every alias by
// its flag's name (urfave/cli v2 refuses `--bind A -b B`).
func interspersed(args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmdFlags []cli.Flag
	switch args[1] {
	case "run":
		cmdFlags = runCommand().Flags
	case "check":
		cmdFlags = checkCommand().Flags
	default:
		return args
	}
	takesValue, canonical := map[string]bool{}, map[string]string{}
	for _, f := range cmdFlags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
			canonical[n] = f.Names()[0]
		}
	}
	var flags, positional []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			positional = append(positional, rest[i+1:]...)
			i = len(rest)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if c, ok := canonical[name]; ok {
				name = c
				a = "--" + name
				if hasValue {
					a += "=" + value
				}
			}
			flags = append(flags, a)
			if !hasValue && takesValue[name] && i+1 < len(rest) {
				i++
				flags = append(flags, rest[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	out := append([]string{args[0], args[1]}, flags...)
	if len(positional) > 0 {
		out = append(append(out, "--"), positional...)
	}
	return out
}
