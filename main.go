// Command wsgo serves Python WSGI (PEP 3333) applications over HTTP from one
// Go binary that embeds CPython. main.go only reads flags and wires the
// pieces: pyhost runs the app, httpfront speaks HTTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
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
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "bind", Aliases: []string{"b"}, EnvVars: []string{"WSGO_BIND"},
				Value: cli.NewStringSlice("127.0.0.1:8000"),
				Usage: "`ADDR` to listen on: HOST:PORT, :PORT, [IPV6]:PORT or unix:PATH (repeatable)"},
			&cli.IntFlag{Name: "threads", EnvVars: []string{"WSGO_THREADS"}, Value: 16,
				Usage: "`N` Python threads serve requests (more helps apps that wait on I/O)"},
			&cli.IntFlag{Name: "queue-size", EnvVars: []string{"WSGO_QUEUE_SIZE"}, Value: 1024,
				Usage: "`N` requests may wait for a free thread; beyond that clients get 503"},
			&cli.StringFlag{Name: "chdir", EnvVars: []string{"WSGO_CHDIR"},
				Usage: "change to `DIR` before loading the app; it goes first on sys.path"},
			&cli.StringSliceFlag{Name: "pythonpath", EnvVars: []string{"WSGO_PYTHONPATH"},
				Usage: "add `DIR` to sys.path (repeatable)"},
			&cli.StringSliceFlag{Name: "env", EnvVars: []string{"WSGO_ENV"},
				Usage: "set environment variable `KEY=VALUE` for the app (repeatable)"},
			&cli.IntFlag{Name: "graceful-timeout", EnvVars: []string{"WSGO_GRACEFUL_TIMEOUT"}, Value: 30,
				Usage: "`SECONDS` in-flight requests get to finish after SIGTERM or SIGINT"},
			&cli.StringFlag{Name: "log-level", EnvVars: []string{"WSGO_LOG_LEVEL"}, Value: "info",
				Usage: "`LEVEL`: debug, info, warning, error or critical"},
			&cli.BoolFlag{Name: "strict", EnvVars: []string{"WSGO_STRICT"},
				Usage: "answer 500 when the app sends str where WSGI needs bytes (default: warn once, send UTF-8)"},
			&cli.BoolFlag{Name: "reload", EnvVars: []string{"WSGO_RELOAD"},
				Usage: "development: reload the app when one of its Python files changes; a broken save answers 500 until fixed"},
			&cli.StringSliceFlag{Name: "reload-extra-file", EnvVars: []string{"WSGO_RELOAD_EXTRA_FILE"},
				Usage: "with --reload, also reload when `FILE` changes (repeatable)"},
		},
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
	for _, kv := range c.StringSlice("env") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return cli.Exit(fmt.Sprintf("wsgo run: --env %q must be KEY=VALUE", kv), exitUsage)
		}
		os.Setenv(k, v)
	}
	if c.Int("threads") < 1 || c.Int("queue-size") < 1 || c.Int("graceful-timeout") < 0 {
		return cli.Exit("wsgo run: --threads and --queue-size must be at least 1, --graceful-timeout at least 0", exitUsage)
	}
	handedOver, err := inheritedListeners() // by the process a --reload restart replaced
	if err != nil {
		return cli.Exit(err.Error(), exitListen)
	}

	host, err := pyhost.Start(pyhost.Config{
		Target:     c.Args().First(),
		Chdir:      c.String("chdir"),
		PythonPath: c.StringSlice("pythonpath"),
		Threads:    c.Int("threads"),
		QueueSize:  c.Int("queue-size"),
		Strict:     c.Bool("strict"),
		Reload:     c.Bool("reload"),
		Logger:     logger,
	})
	app, reload, err := withReload(c, logger, host, err)
	if err != nil {
		var exit cli.ExitCoder
		if errors.As(err, &exit) {
			return err
		}
		fmt.Fprint(os.Stderr, strings.TrimRight(err.Error(), "\n")+"\n")
		return cli.Exit("", exitAppLoad)
	}

	binds, from, desc := c.StringSlice("bind"), "", c.Args().First()+" (failed to load)"
	if host != nil {
		desc = host.Description()
	}
	if !c.IsSet("bind") && host != nil && host.ScriptBind() != "" {
		binds, from = []string{host.ScriptBind()}, " (the address the script gave make_server)"
	}
	listeners := handedOver
	if handedOver != nil {
		binds = nil
	}
	for _, b := range binds {
		l, err := httpfront.Listen(b)
		if err != nil {
			return cli.Exit(err.Error(), exitListen)
		}
		listeners = append(listeners, l)
	}

	// Before the start line: a supervisor may signal as soon as it sees it.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	reload.warnIfPublic(listeners)
	srv := httpfront.New(httpfront.Config{App: app, Logger: logger})
	// drain stops gracefully: in-flight requests finish, then Python stops.
	drain := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.Int("graceful-timeout"))*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			logger.Warn("wsgo: graceful timeout reached; requests still running were cut", "err", err)
		}
		if host == nil { // the app failed to load (--reload): Python has nothing to finish
			return
		}
		if err := host.Shutdown(ctx); err != nil {
			logger.Warn("wsgo: " + err.Error())
		}
	}
	serveErr := make(chan error, len(listeners))
	var urls []string
	for _, l := range listeners {
		urls = append(urls, httpfront.URL(l))
		go func(l net.Listener) { serveErr <- srv.Serve(l) }(l)
	}
	logger.Info(fmt.Sprintf("wsgo: serving %s on %s%s (Python %s, %d threads)", desc,
		strings.Join(urls, ", "), from, pyhost.PythonVersion(), c.Int("threads")))

	select {
	case sig := <-sigs:
		logger.Info(fmt.Sprintf("wsgo: %s received, finishing in-flight requests (up to %ds; again to stop now)",
			sig, c.Int("graceful-timeout")))
	case err := <-serveErr:
		return cli.Exit(fmt.Sprintf("wsgo: %v", err), exitFailure)
	case path := <-reload.changes():
		return reload.restart(path, listeners, drain, sigs)
	}
	go func() {
		<-sigs
		logger.Warn("wsgo: second signal, stopping now")
		os.Exit(exitFailure)
	}()
	drain()
	logger.Info("wsgo: stopped")
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

// interspersed moves `run`'s TARGET after its flags, so `wsgo run app.py
// --threads 4` works as gunicorn users expect (urfave/cli v2 stops
// parsing flags at the first argument), and spells every alias by its
// flag's name (urfave/cli v2 refuses `--bind A -b B`).
func interspersed(args []string) []string {
	if len(args) < 2 || args[1] != "run" {
		return args
	}
	takesValue, canonical := map[string]bool{}, map[string]string{}
	for _, f := range runCommand().Flags {
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
	out := append([]string{args[0], "run"}, flags...)
	if len(positional) > 0 {
		out = append(append(out, "--"), positional...)
	}
	return out
}
