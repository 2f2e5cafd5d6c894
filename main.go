// Command wsgo serves Python WSGI (PEP 3333) applications over HTTP from one
// Go binary that embeds CPython. main.go only wires: internal/config reads
// the command line into Options, supervisor runs the master process,
// worker runs a worker process (pyhost runs the app, httpfront speaks
// HTTP). docs/ARCHITECTURE.md draws the whole.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"wsgo/handoff"
	"wsgo/internal/config"
	"wsgo/internal/exitcode"
	"wsgo/internal/logfmt"
	"wsgo/pyhost"
	"wsgo/supervisor"
	"wsgo/worker"
)

var version = "0.1.0-dev"

func main() {
	if os.Getpid() == 1 {
		os.Exit(supervisor.RunInit()) // a container's PID 1 reaps and forwards
	}
	if args, ok := pythonArgs(os.Args); ok {
		os.Exit(worker.Python(args)) // every argument is Python's
	}
	args, err := config.Interspersed(os.Args)
	if err != nil {
		exit(nil, err)
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
			{
				Name:         "run",
				Usage:        "serve a WSGI app",
				ArgsUsage:    "TARGET",
				Description:  config.RunDescription,
				Flags:        config.RunFlags(),
				Action:       func(c *cli.Context) error { return run(c, args) },
				OnUsageError: usageError,
			},
			{
				Name:      "check",
				Usage:     "import the app as `run` would, show what was found, and exit: 0 if it loads, 4 if not",
				ArgsUsage: "TARGET",
				Description: "TARGET, the flags, the WSGO_* variables and the configuration file are those of\n" +
					"`wsgo run`, so that a `wsgo run` command line checks as it is; the flags that\n" +
					"only concern serving (--bind, --threads, ...) are taken and not used. Prints the\n" +
					"callable found, the Python version and sys.path, or the error `run` would stop with.",
				Flags:        config.RunFlags(),
				Action:       func(c *cli.Context) error { return check(c, args) },
				OnUsageError: usageError,
			},
			{
				Name:      "python",
				Usage:     "run the linked Python as `python3 ARGS` would (manage.py, -m pip, -c); WSGO_CHDIR, WSGO_PYTHONPATH, WSGO_ENV and the virtualenv apply",
				ArgsUsage: "ARGS...",
			},
			{
				Name:   "version",
				Usage:  "print the versions of wsgo, Go and the linked Python",
				Action: printVersion,
			},
		},
		ExitErrHandler: exit,
	}
	exit(nil, app.Run(args))
}

// run is `wsgo run`: the master process, which reads and checks the
// configuration, or a worker the master started, which is handed it.
// args are the arguments urfave/cli parsed c from.
func run(c *cli.Context, args []string) error {
	link, err := handoff.Join()
	if err != nil {
		return exitcode.Errorf(exitcode.Failure, "%s", err.Error())
	}
	var o *config.Options
	if link != nil {
		if o, err = config.FromMaster(); err != nil { // the master logs this worker's exit
			err = exitcode.Errorf(exitcode.Failure, "%s", err.Error())
			if o != nil && o.LogJSON {
				return logStop(logfmt.NewJSONLogger(os.Stderr, slog.LevelInfo), err)
			}
			return err
		}
	} else if o, err = config.Parse(c, args); err != nil {
		if c.String("log-format") == "json" {
			return logStop(logfmt.NewJSONLogger(os.Stderr, slog.LevelInfo), err)
		}
		return err
	}
	if link != nil {
		worker.KeepStdio()
	}
	logOut := io.Writer(os.Stderr)
	if o.ErrorLog != "" {
		f, err := logfmt.OpenFile(o.ErrorLog) // reopened on SIGUSR1
		if err != nil {
			return exitcode.Errorf(exitcode.Usage, "wsgo: cannot open --error-log %s: %v", o.ErrorLog, err)
		}
		defer f.Close()
		logOut = f
	}
	newLogger := logfmt.NewLogger
	if o.LogJSON {
		newLogger = logfmt.NewJSONLogger
	}
	logger := newLogger(logOut, o.LogLevel)
	slog.SetDefault(logger)
	if link != nil {
		return worker.Run(o, link, logger)
	}
	for _, note := range o.Notes {
		logger.Info(note)
	}
	for _, w := range o.Warnings {
		logger.Warn(w)
	}
	err = supervisor.Serve(o, parseRunAgain, logger)
	if o.LogJSON {
		return logStop(logger, err)
	}
	return err
}

// logStop logs err, the error wsgo stops with, as a line of logger (a
// JSON one: --log-format json makes every line an object) and keeps its
// exit code; a usage error's code when it has none.
func logStop(logger *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	code := exitcode.Usage
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	if msg := err.Error(); msg != "" { // else the worker logged why (a failed import)
		logger.Error(msg)
	}
	return cli.Exit("", code)
}

// parseRunAgain reads `wsgo run`'s command line, WSGO_* variables and
// configuration file again, as at start: the master's SIGHUP. The
// process's umask is the master's and stays (Options.KeepMasters).
func parseRunAgain() (*config.Options, error) {
	umask := syscall.Umask(0)
	defer syscall.Umask(umask)
	return config.ParseArgs(os.Args[2:]...) // os.Args[1] is "run": the master is `wsgo run`
}

func check(c *cli.Context, args []string) error {
	o, err := config.ParseCheck(c, args)
	if err != nil {
		return err
	}
	return worker.Check(o)
}

// pythonArgs says whether the command line is Python's: `wsgo python
// ARGS`, or `wsgo -FLAG …` (wsgo is sys.executable for the app, so
// multiprocessing's spawn and pip start `wsgo -c …`, `wsgo -m …`), or,
// from a process that Python started (pyhost.ExecutableEnv), `wsgo
// SCRIPT …`. wsgo's own only global flags are help and version. Typed
// at a shell, a line that starts with a flag of `wsgo run` is that
// command's, left out (config.RunLineFirst says how it is told).
func pythonArgs(args []string) ([]string, bool) {
	if len(args) < 2 {
		return nil, false
	}
	fromPython := os.Getenv(pyhost.ExecutableEnv) != ""
	switch a := args[1]; {
	case a == "python":
		return args[2:], true
	case strings.HasPrefix(a, "-") && !slices.Contains([]string{"-h", "--help", "-v", "-V", "--version"}, a):
		return args[1:], fromPython || !config.RunLineFirst(args[1:])
	case fromPython && a != "help" && !slices.Contains(config.Commands, a):
		return args[1:], true
	}
	return nil, false
}

func usageError(c *cli.Context, err error, _ bool) error { return config.UsageError(c, err) }

func printVersion(*cli.Context) error {
	fmt.Printf("wsgo %s\nGo %s\nPython %s\n", version, strings.TrimPrefix(runtime.Version(), "go"),
		pyhost.PythonVersion())
	return nil
}

// exit ends the process for an error: its own code for one that has it,
// else a usage error (urfave/cli's own, e.g. an unknown flag).
func exit(_ *cli.Context, err error) {
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
	os.Exit(exitcode.Usage)
}
