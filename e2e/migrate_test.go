package e2e

// Tests of what gunicorn and uWSGI users bring along: their flags, PORT and
// WEB_CONCURRENCY, a gunicorn-style configuration file, and `wsgo python`
// for a runtime image without a python3.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestGunicornFlagsAreUnderstood(t *testing.T) {
	app := filepath.Join(cliData(t, "cli"), "flags_app.py")
	dir := t.TempDir()
	accessLog, errorLog := filepath.Join(dir, "access.log"), filepath.Join(dir, "error.log")
	addr := "127.0.0.1:" + freePort(t)
	s := launch(t, nil, "-b", addr, "-e", "GREETING=hello", "--access-logfile", accessLog, "--error-logfile", errorLog,
		"-k", "sync", "--preload", app)
	// The start line goes to the --error-logfile, not to standard error.
	waitFile(t, errorLog, "wsgo: serving ")
	s.URL = "http://" + addr
	if _, body := s.get("/env/GREETING"); body != "hello\n" {
		t.Errorf("-e: the app sees GREETING=%q", body)
	}
	waitFile(t, accessLog, "GET /env/GREETING ")
	// --error-logfile takes wsgo's own lines: the master's start line and
	// the notes on -k sync and --preload.
	for _, want := range []string{"one thread per worker (--threads 1)", "1 worker, 1 threads)",
		"--preload changes nothing: each worker imports the app itself"} {
		waitFile(t, errorLog, want)
	}
}

// A line that starts with one of python3's own options is Python's,
// typed at a shell too: -b, -c and -m are also letters of `wsgo run`'s
// flags, which take it only before an address, a file or a umask.
func TestPythonsOwnFlagLinesStayPythons(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-c", "print(6 * 7)"}, "42\n"},
		{[]string{"-b", "-c", "print('b')"}, "b\n"},
		{[]string{"-m", "json.tool", "--compact"}, "{\"a\":1}\n"},
		{[]string{"-u", "-c", "print('u')"}, "u\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(binary, tc.args...)
			cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "WSGO_PYTHON_EXECUTABLE=") })
			cmd.Stdin = strings.NewReader(`{"a": 1}`)
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != tc.want {
				t.Errorf("%v, output %q; want %q", err, out, tc.want)
			}
		})
	}
}

// gunicorn's argparse takes a short flag's value attached: -w2, -t30,
// -b127.0.0.1:8000; so does wsgo.
func TestGunicornsAttachedShortValues(t *testing.T) {
	app := filepath.Join(cliData(t, "cli"), "flags_app.py")
	addr := "127.0.0.1:" + freePort(t)
	s := cliStartRaw(t, nil, "run", "-w2", "-t30", "-b"+addr, "-eGREETING=hi,there", app)
	_, urls, _, _ := cliStartParts(t, s)
	if urls != "http://"+addr || !strings.Contains(s.logs.String(), "2 workers,") {
		t.Errorf("serving on %s; want %s with 2 workers:\n%s", urls, addr, s.logs.String())
	}
	if _, body := s.get("/env/GREETING"); body != "hi,there\n" {
		t.Errorf("-eGREETING=hi,there: the app sees GREETING=%q", body)
	}
}

func TestForeignFlagsAreUsageErrorsThatSayWhatToDo(t *testing.T) {
	app := filepath.Join(cliData(t, "cli"), "flags_app.py")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--bnd", ":8000", app}, "wsgo run: unknown flag --bnd; did you mean --bind?"},
		{[]string{"run", "--thread", "4", app}, "did you mean --threads?"},
		{[]string{"run", "-k", "gevent", app}, `--worker-class "gevent": refused: wsgo serves WSGI apps on threads`},
		{[]string{"run", "--daemon", app}, "--daemon is refused: wsgo stays in the foreground"},
		{[]string{"run", "--http", ":8000", app}, "uWSGI's --http is --bind in wsgo"},
		{[]string{"run", "--statsd-host", "localhost:8125", app}, "unknown flag --statsd-host: wsgo has no StatsD client: it serves Prometheus metrics with --metrics-bind ADDR"},
		{[]string{"run", "--backlog", "2048", app}, "unknown flag --backlog: wsgo listens with the kernel's largest backlog (net.core.somaxconn"},
		{[]string{"run", "--capture-output", app}, "unknown flag --capture-output: the app's print() and sys.stderr already go to wsgo's standard output and standard error"},
		{[]string{"run", "--reuse-port", app}, "unknown flag --reuse-port: not needed: only wsgo's master listens"},
		{[]string{"run", "--name", "foo", app}, "unknown flag --name: wsgo does not rename its processes"},
		{[]string{"run", app, "--version"}, "unknown flag --version: wsgo's version is a command of its own: `wsgo version`"},
		{[]string{"run", app, "-v"}, "unknown flag -v: wsgo's version is a command of its own: `wsgo version`"},
		{[]string{"run", "--uid", "www", app}, "unknown flag --uid: uWSGI's --uid is --user in wsgo"},
		{[]string{"run", "--gid", "www", app}, "unknown flag --gid: uWSGI's --gid is --group in wsgo"},
		{[]string{"run", "--lazy-apps", app}, "unknown flag --lazy-apps: always so: each wsgo worker imports the app itself"},
		{[]string{"run", "--py-autoreload", "1", app}, "unknown flag --py-autoreload: uWSGI's --py-autoreload is --reload in wsgo"},
		{[]string{"run", "--ini", "uwsgi.ini"}, "unknown flag --ini: wsgo does not read uWSGI's ini files: give their settings as wsgo's flags"},
		{[]string{"run", "--threads", "many", app}, `wsgo run: --threads "many": give a whole number from 1 to 1024`},
		{[]string{"serve", app}, `wsgo: unknown command "serve"`},
		{[]string{"rn", app}, "did you mean `wsgo run`?"},
		{[]string{app}, "to serve it: `wsgo run " + app + "`"},
		// gunicorn's line with wsgo for gunicorn: not Python's (below).
		{[]string{"-w", "4", "-b", ":8000", app}, "wsgo: -w is a flag of `wsgo run`, and the command comes first: `wsgo run -w 4 -b :8000 " + app + "`"},
		{[]string{"--bind", ":8000", app}, "`wsgo run --bind :8000 " + app + "`"},
		{[]string{"-b", "127.0.0.1:8000", app}, "`wsgo run -b 127.0.0.1:8000 " + app + "`"},
		{[]string{"-c", app}, "`wsgo run -c " + app + "`"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out := cliExit(t, nil, tc.args...)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d; want 2 and %q in:\n%s", code, tc.want, out)
			}
			if n := strings.Count(out, "\n"); n > 3 {
				t.Errorf("%d lines; a usage error is a short message, not the help:\n%s", n, out)
			}
		})
	}
}

// A uWSGI or waitress-serve command line is answered in one run: every
// flag wsgo does not take, and the line in wsgo's words.
func TestForeignCommandLinesAreAnsweredInOneRun(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{strings.Fields("run --http :9340 --wsgi-file myapp.py --callable app --processes 4 --threads 2"), "wsgo run: 4 unknown flags:\n" +
			"  --http: uWSGI's --http is --bind in wsgo (e.g. --bind 0.0.0.0:8000)\n" +
			"  --wsgi-file: give the file as wsgo's TARGET: `wsgo run path/to/file.py`\n" +
			"  --callable: name the callable after the TARGET's colon: `wsgo run app.py:NAME` or `wsgo run package.module:NAME`\n" +
			"  --processes: uWSGI's --processes is --workers in wsgo\n" +
			"In wsgo's words: `wsgo run myapp.py:app -b :9340 -w 4 --threads 2`\n" +
			"Run `wsgo run --help` for the flags.\n"},
		{strings.Fields("run --listen=127.0.0.1:9350 myapp:app"), "wsgo run: unknown flag --listen=127.0.0.1:9350: " +
			"waitress's --listen HOST:PORT is --bind in wsgo (repeatable)\nIn wsgo's words: `wsgo run myapp:app -b 127.0.0.1:9350`\n"},
		{strings.Fields("check --venv /srv/venv myapp:app"), "wsgo check: unknown flag --venv: uWSGI's --venv is --virtualenv in wsgo"},
		// uWSGI's short flags among them are uWSGI's: -w MODULE, -p N.
		{strings.Fields("run --http :9360 -w myapp:app"), "In wsgo's words: `wsgo run myapp:app -b :9360`\n"},
		{strings.Fields("run myapp:app --processes 2 -p 2 --master"), "In wsgo's words: `wsgo run myapp:app -w 2`\n"},
		{strings.Fields("run --http :9370 -p 3 myapp:app"), "In wsgo's words: `wsgo run myapp:app -b :9370 -w 3`\n"},
		{strings.Fields("run -c python:gcmod myapp:app"), `wsgo run: --config "python:gcmod": wsgo reads a configuration file by its path, ` +
			"not gunicorn's python:MODULE; give the module's file: --config gcmod.py\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if code, out := cliExit(t, nil, tc.args...); code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d; want 2 and %q in:\n%s", code, tc.want, out)
			}
		})
	}
}

// exitIn runs the binary with exactly ARGS in dir and waits up to 10 s
// for its exit; it returns the exit code and output.
func exitIn(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	s := launchProgramIn(t, dir, nil, binary, args...)
	code, ok := s.wait(10 * time.Second)
	if !ok {
		t.Fatalf("wsgo %s did not exit within 10 s; output:\n%s", strings.Join(args, " "), s.logs.String())
	}
	return code, s.logs.String()
}

// An ini file given as the TARGET, uWSGI's or PasteDeploy's, says what
// to give instead.
func TestIniTargetsSayWhatToDoInstead(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "uwsgi.ini"), "[uwsgi]\nmodule = mysite.wsgi\nhttp = :8000\n")
	writeFile(t, filepath.Join(dir, "development.ini"), "[app:main]\nuse = egg:my-project\n\n[server:main]\nuse = egg:waitress#main\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "uwsgi.ini"}, "wsgo run: uwsgi.ini: wsgo does not read uWSGI's ini files: give their settings as wsgo's flags, " +
			"`module =` or `wsgi-file =` as the TARGET (each uWSGI flag wsgo does not take says what to give instead; docs/migrating.md has the table)\n"},
		{[]string{"run", "development.ini"}, "wsgo run: development.ini: wsgo does not read PasteDeploy's ini files: serve its app factory as a TARGET, " +
			"`wsgo run my_project:main({})` (it gets no settings from the file then), or serve a module that loads the file: " +
			`application = paste.deploy.loadapp("config:` + filepath.Join(dir, "development.ini") + `")` + "\n"},
		{[]string{"check", "development.ini"}, "wsgo check: development.ini: wsgo does not read PasteDeploy's ini files"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if code, out := exitIn(t, dir, tc.args...); code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d; want 2 and %q in:\n%s", code, tc.want, out)
			}
		})
	}
}

// djangoManagePy is the manage.py of Django's startproject mysite.
const djangoManagePy = `#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    """Run administrative tasks."""
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()
`

// Django's habits, manage.py's commands, runserver and its address, and
// manage.py as the TARGET, say what to type instead; and what they say
// to serve is served.
func TestDjangoHabitsSayWhatToTypeInstead(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "manage.py"), djangoManagePy)
	writeFile(t, filepath.Join(dir, "mysite", "__init__.py"), "")
	writeFile(t, filepath.Join(dir, "mysite", "wsgi.py"), `
def application(environ, start_response):  # as get_wsgi_application() would serve
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"mysite"]
`)
	runserver := "wsgo run: runserver is Django's development server; wsgo serves the project's WSGI module instead, " +
		"and --reload restarts it on a save as runserver does: "
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"manage.py", "migrate"}, 2,
			"wsgo: unknown command \"manage.py\"; to run manage.py as python3 would: `wsgo python manage.py migrate`\n"},
		{[]string{"run", "manage.py", "migrate"}, 2,
			"wsgo run: give one TARGET: wsgo serves one app and passes it no arguments; to run manage.py as python3 would: `wsgo python manage.py migrate`\n"},
		{[]string{"run", "manage.py", "runserver"}, 2,
			runserver + "`wsgo run mysite.wsgi --reload` (`wsgo python manage.py COMMAND` runs its other commands)\n"},
		{[]string{"run", "manage.py", "runserver", "0:8000"}, 2,
			runserver + "`wsgo run mysite.wsgi --reload --bind 0.0.0.0:8000` (`wsgo python manage.py COMMAND` runs its other commands)\n"},
		{[]string{"run", "mysite.wsgi", "127.0.0.1:8000"}, 2,
			"wsgo run: give the address with --bind: `wsgo run mysite.wsgi --bind 127.0.0.1:8000`\n"},
		{[]string{"run", "manage.py", "--bind", "127.0.0.1:0"}, 4,
			"wsgo: manage.py is Django's command-line utility, not a WSGI app: serve the project's WSGI module, `wsgo run mysite.wsgi` " +
				"(--reload restarts it on a save, as runserver does); `wsgo python manage.py COMMAND` runs its commands\n"},
		{[]string{"check", filepath.Join(dir, "manage.py")}, 4,
			"wsgo: " + filepath.Join(dir, "manage.py") + " is Django's command-line utility, not a WSGI app: serve the project's WSGI module, " +
				"`wsgo run --chdir " + dir + " mysite.wsgi` (--reload restarts it on a save, as runserver does); `wsgo python " +
				filepath.Join(dir, "manage.py") + " COMMAND` runs its commands\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if code, out := exitIn(t, dir, tc.args...); code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d; want %d and %q in:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
	if _, body := startIn(t, dir, "mysite.wsgi").get("/"); body != "mysite" {
		t.Errorf("wsgo run mysite.wsgi: %q; want the project's app", body)
	}
}

func TestDashDashVersion(t *testing.T) {
	code, out := cliExit(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "wsgo ") || !strings.Contains(out, "\nPython 3.") {
		t.Errorf("exit %d, output %q; want 0 and the versions", code, out)
	}
}

func TestPORTAndWEB_CONCURRENCYAsGunicornReadsThem(t *testing.T) {
	app := filepath.Join(cliData(t, "cli"), "flags_app.py")
	port := freePort(t)
	s := cliStartRaw(t, []string{"PORT=" + port, "WEB_CONCURRENCY=3"}, "run", app)
	_, urls, _, _ := cliStartParts(t, s)
	if urls != "http://0.0.0.0:"+port {
		t.Errorf("listening on %s; want http://0.0.0.0:%s from PORT", urls, port)
	}
	if !strings.Contains(s.logs.String(), "3 workers,") || !strings.Contains(s.logs.String(), "from PORT, as gunicorn does") {
		t.Errorf("the start does not say 3 workers and PORT:\n%s", s.logs.String())
	}
	// --bind wins over PORT.
	s2 := start(t, []string{"PORT=" + port}, app)
	if _, urls, _, _ := cliStartParts(t, s2); !strings.HasPrefix(urls, "http://127.0.0.1:") {
		t.Errorf("--bind did not win over PORT: %s", urls)
	}
}

func TestConfigFileWithGunicornSettings(t *testing.T) {
	dir := cliData(t, "cli")
	port := freePort(t)
	conf := `import multiprocessing
from multiprocessing import cpu_count
from pathlib import Path
bind = "127.0.0.1:` + port + `"
workers = 2
threads = 3
raw_env = ["GREETING=from the file", "OTHER=x", "ALLOWED_HOSTS=a.com,b.com"]
wsgi_app = "flags_app:application"
proc_name = "myapp"
backlog = 64
MY_CONSTANT = 3
def post_fork(server, worker):
    pass
def helper():
    return Path(".")
`
	os.WriteFile(filepath.Join(dir, "wsgo.conf.py"), []byte(conf), 0o644)
	t.Run("wsgo.conf.py in the start directory, flags win", func(t *testing.T) {
		s := awaitStart(t, launchProgramIn(t, dir, []string{"WSGO_WORKERS=1"}, binary, "run", "--threads", "5"))
		_, urls, _, threads := cliStartParts(t, s)
		if urls != "http://127.0.0.1:"+port || threads != "5" || !strings.Contains(s.logs.String(), "1 worker,") {
			t.Errorf("bind %s, threads %s; want the file's bind, --threads 5 and WSGO_WORKERS=1:\n%s", urls, threads, s.logs.String())
		}
		if _, body := s.get("/env/GREETING"); body != "from the file\n" {
			t.Errorf("raw_env: GREETING=%q", body)
		}
		if _, body := s.get("/env/ALLOWED_HOSTS"); body != "a.com,b.com\n" {
			t.Errorf("raw_env: ALLOWED_HOSTS=%q; want the value whole, as gunicorn keeps it", body)
		}
		for _, want := range []string{"[INFO] wsgo: settings read from wsgo.conf.py", "[INFO] wsgo: wsgo.conf.py: ignored, not wsgo settings: MY_CONSTANT\n",
			"[WARNING] wsgo: wsgo.conf.py: proc_name is not applied: wsgo does not rename its processes",
			"[WARNING] wsgo: wsgo.conf.py: backlog is not applied: wsgo listens with the kernel's largest backlog",
			"[WARNING] wsgo: wsgo.conf.py: not run, wsgo has no server hooks: post_fork\n"} {
			if !strings.Contains(s.logs.String(), want) {
				t.Errorf("the log lacks %q", want)
			}
		}
	})
	t.Run("-c FILE, and a broken file is a usage error with its traceback", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.conf.py")
		os.WriteFile(bad, []byte("workers = 1\nimport no_such_module_here\n"), 0o644)
		code, out := cliExit(t, nil, "run", "-c", bad, filepath.Join(dir, "flags_app.py"))
		if code != 2 || !strings.Contains(out, "the configuration file "+bad+" failed") ||
			!strings.Contains(out, "ModuleNotFoundError: No module named 'no_such_module_here'") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
}

// A bad value from the file is named as the file spells it, not as a
// flag the user never typed.
func TestConfigFileValuesAreNamedAsTheFileSetsThem(t *testing.T) {
	dir := cliData(t, "cli")
	os.WriteFile(filepath.Join(dir, "wsgo.conf.py"), []byte("workers = 0\nwsgi_app = 'flags_app:application'\n"), 0o644)
	s := launchProgramIn(t, dir, nil, binary, "run")
	code, _ := s.wait(10 * time.Second)
	if want := "wsgo run: wsgo.conf.py: workers = 0: give a number of at least 1, or auto"; code != 2 || !strings.Contains(s.logs.String(), want) {
		t.Errorf("exit %d; want 2 and %q in:\n%s", code, want, s.logs.String())
	}
}

// A setting whose number or boolean does not parse is named with what to
// give, in the file's terms.
func TestConfigFileNumbersAndBooleansThatDoNotParse(t *testing.T) {
	for setting, want := range map[string]string{
		`timeout = "abc"`:  "wsgo run: wsgo.conf.py: timeout = abc: give a whole number of at least 0",
		`threads = "many"`: "wsgo run: wsgo.conf.py: threads = many: give a whole number from 1 to 1024",
		`reload = "maybe"`: "wsgo run: wsgo.conf.py: reload = maybe: give True or False",
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "wsgo.conf.py"), []byte(setting+"\n"), 0o644)
		s := launchProgramIn(t, dir, nil, binary, "run", "app.py")
		if code, _ := s.wait(10 * time.Second); code != 2 || !strings.Contains(s.logs.String(), want+"\n") {
			t.Errorf("%s: exit %d; want 2 and %q in:\n%s", setting, code, want, s.logs.String())
		}
	}
}

// gunicorn reads ./gunicorn.conf.py by default; so does wsgo when there
// is no ./wsgo.conf.py, and says so.
func TestGunicornConfPyIsReadWhenThereIsNoWsgoConfPy(t *testing.T) {
	dir := cliData(t, "cli")
	port := freePort(t)
	os.WriteFile(filepath.Join(dir, "gunicorn.conf.py"),
		[]byte("bind = '127.0.0.1:"+port+"'\nworkers = 2\nwsgi_app = 'flags_app:application'\n"), 0o644)
	s := awaitStart(t, launchProgramIn(t, dir, nil, binary, "run"))
	if _, urls, _, _ := cliStartParts(t, s); urls != "http://127.0.0.1:"+port || !strings.Contains(s.logs.String(), "2 workers,") {
		t.Errorf("listening on %s; want gunicorn.conf.py's bind and workers:\n%s", urls, s.logs.String())
	}
	if want := "wsgo: settings read from gunicorn.conf.py, as gunicorn would (there is no wsgo.conf.py; that name, or -c FILE, also works)"; strings.Count(s.logs.String(), want) != 1 {
		t.Errorf("the log does not say once %q:\n%s", want, s.logs.String())
	}
	s.stop(syscall.SIGTERM)

	// wsgo.conf.py comes first.
	os.WriteFile(filepath.Join(dir, "wsgo.conf.py"), []byte("wsgi_app = 'flags_app:application'\n"), 0o644)
	s = startIn(t, dir)
	if logs := s.logs.String(); !strings.Contains(logs, "settings read from wsgo.conf.py") || strings.Contains(logs, "gunicorn.conf.py") {
		t.Errorf("with both files, wsgo.conf.py is not the one read:\n%s", logs)
	}
}

// The master reads the configuration file, once at start and again at
// SIGHUP, and hands the result to its workers, which read neither the
// file nor the command line: a file that counts its runs shows it.
func TestConfigFileIsReadByTheMasterAndHandedToWorkers(t *testing.T) {
	dir := cliData(t, "cli")
	runs := filepath.Join(dir, "runs")
	conf := filepath.Join(dir, "wsgo.conf.py")
	write := func(greeting, extra string) {
		src := "with open(" + strconv.Quote(runs) + ", \"a\") as f:\n    f.write(\"run\\n\")\n" +
			"workers = 2\nraw_env = [\"GREETING=" + greeting + "\"]\nwsgi_app = \"flags_app:application\"\n" + extra
		if err := os.WriteFile(conf, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	countRuns := func() int {
		b, _ := os.ReadFile(runs)
		return strings.Count(string(b), "run\n")
	}
	reload := func(s *server, n int) {
		t.Helper()
		s.cmd.Process.Signal(syscall.SIGHUP)
		if !s.waitLog(fmt.Sprintf(`(?s)(?:wsgo: reload \(SIGHUP\) done.*?){%d}`, n), 30*time.Second) {
			t.Fatalf("SIGHUP %d did not complete:\n%s", n, s.logs.String())
		}
		// Until the old workers have handed back the client's idle
		// keep-alive connection, they may serve its next request.
		if !s.waitLog(fmt.Sprintf(`(?s)(?:exited: exit code 0.*?){%d}`, 2*n), 30*time.Second) {
			t.Fatalf("the old workers did not exit after SIGHUP %d:\n%s", n, s.logs.String())
		}
	}
	write("one", "")
	s := awaitStart(t, launchProgramIn(t, dir, nil, binary, "run", "--bind", "127.0.0.1:0"))
	if n := countRuns(); n != 1 {
		t.Errorf("the file ran %d times for a master and 2 workers; want once, in the master", n)
	}
	if _, body := s.get("/env/GREETING"); body != "one\n" {
		t.Errorf("GREETING=%q before SIGHUP; want the file's one", body)
	}
	if _, body := s.get("/env/WSGO_INTERNAL_OPTIONS"); body != "<unset>\n" {
		t.Errorf("the app sees the master's hand-off: WSGO_INTERNAL_OPTIONS=%q", body)
	}

	write("two", "workers = 3\n")
	reload(s, 1)
	if n := countRuns(); n != 2 {
		t.Errorf("after SIGHUP the file ran %d times in all; want twice (the master, again)", n)
	}
	if _, body := s.get("/env/GREETING"); body != "two\n" {
		t.Errorf("GREETING=%q after SIGHUP; want the edited file's two", body)
	}
	if !strings.Contains(s.logs.String(), "wsgo: SIGHUP: workers changed, which only a restart of wsgo applies") {
		t.Errorf("the log does not say the master's workers setting stays:\n%s", s.logs.String())
	}

	os.WriteFile(conf, []byte("import no_such_module_here\n"), 0o644)
	reload(s, 2)
	if !strings.Contains(s.logs.String(), "wsgo: SIGHUP: the new workers keep the settings they had") ||
		!strings.Contains(s.logs.String(), "No module named 'no_such_module_here'") {
		t.Errorf("the broken file's error is not logged:\n%s", s.logs.String())
	}
	if _, body := s.get("/env/GREETING"); body != "two\n" {
		t.Errorf("GREETING=%q after a SIGHUP with a broken file; want the last good settings' two", body)
	}
}

func TestWsgoPython(t *testing.T) {
	lib := t.TempDir()
	os.WriteFile(filepath.Join(lib, "mylib.py"), []byte("VALUE = 42\n"), 0o644)
	cmd := exec.Command(binary, "python", "-c", "import sys, os, mylib; print(mylib.VALUE, os.environ['X']); sys.exit(3)")
	cmd.Env = append(os.Environ(), "WSGO_PYTHONPATH="+lib, "WSGO_ENV=X=from-env")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 3 || string(out) != "42 from-env\n" {
		t.Errorf("exit %d, output %q; want 3 and \"42 from-env\\n\"", cmd.ProcessState.ExitCode(), out)
	}
	// A bad WSGO_ENV or WSGO_CHDIR is refused as `wsgo run` refuses it.
	for _, tc := range []struct{ env, want string }{
		{"WSGO_ENV=NOEQUALS", `wsgo python: WSGO_ENV="NOEQUALS": give KEY=VALUE` + "\n"},
		{"WSGO_CHDIR=/no/such/dir", `wsgo python: WSGO_CHDIR="/no/such/dir": not a directory; give the app's directory (a relative one is taken from where wsgo starts)` + "\n"},
	} {
		cmd := exec.Command(binary, "python", "-c", "print('ran')")
		cmd.Env = append(os.Environ(), tc.env)
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 2 || string(out) != tc.want {
			t.Errorf("%s: exit %d, output %q; want 2 and %q", tc.env, cmd.ProcessState.ExitCode(), out, tc.want)
		}
	}
}

// TestWsgoPythonPrintsToAPipeOrFile: what Python prints through C's stdio
// (-V, --version, --help) reaches stdout when it is a pipe or a file, as
// python3's does; wsgo's exit used to drop stdio's buffer.
func TestWsgoPythonPrintsToAPipeOrFile(t *testing.T) {
	version := regexp.MustCompile(`\APython 3\.\d+\.\d+\S*\n\z`)
	for _, tc := range []struct {
		args []string
		want *regexp.Regexp
	}{
		{[]string{"-V"}, version},
		{[]string{"--version"}, version},
		{[]string{"--help"}, regexp.MustCompile(`\Ausage: \S+ \[option\] \.\.\.(.*\n)+\z`)},
		{[]string{"-c", "print(1)"}, regexp.MustCompile(`\A1\n\z`)},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := exec.Command(binary, append([]string{"python"}, tc.args...)...).Output()
			if err != nil || !tc.want.Match(out) {
				t.Errorf("to a pipe: %v, output %q; want it to match %s", err, out, tc.want)
			}
			f, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binary, append([]string{"python"}, tc.args...)...)
			cmd.Stdout = f
			err = cmd.Run()
			f.Close()
			out, _ = os.ReadFile(f.Name())
			if err != nil || !tc.want.Match(out) {
				t.Errorf("to a file: %v, output %q; want it to match %s", err, out, tc.want)
			}
		})
	}
}

// TestWsgoPythonIsSysExecutable: Python started again by the app, as
// multiprocessing's spawn does (`sys.executable -c …`), is wsgo again.
func TestWsgoPythonIsSysExecutable(t *testing.T) {
	script := writeApp(t, "spawn.py", `import multiprocessing, sys
if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    with multiprocessing.Pool(2) as pool:
        print(sys.executable, pool.map(abs, [-1, -2, -3]))
`)
	out, err := exec.Command(binary, "python", script).CombinedOutput()
	if want := binary + " [1, 2, 3]\n"; err != nil || string(out) != want {
		t.Errorf("wsgo python: %v, output %q; want %q", err, out, want)
	}

	// The same from an app that wsgo run serves.
	app := writeApp(t, "spawn_app.py", `import multiprocessing, sys
def application(environ, start_response):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        body = "%s %s" % (sys.executable, pool.map(abs, [-1, -2, -3]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
`)
	s := start(t, nil, app)
	if _, body := s.get("/"); body != binary+" [1, 2, 3]" {
		t.Errorf("wsgo run: %q; want %q", body, binary+" [1, 2, 3]")
	}
}

// TestWsgoPythonSignalsAreAsPython3s: `wsgo python` starts with the
// handlers python3 starts with (not Go's), so Ctrl-C raises
// KeyboardInterrupt, and multiprocessing's forkserver, which restores
// them in its children, works; and a script given to sys.executable runs,
// as Django's autoreloader and subprocess.run([sys.executable, "x.py"])
// expect.
func TestWsgoPythonSignalsAreAsPython3s(t *testing.T) {
	child := writeApp(t, "child.py", "import sys\nprint('child', sys.argv[1:])\n")
	script := writeApp(t, "signals.py", `import multiprocessing, os, signal, subprocess, sys, time
def square(x):
    return x * x
if __name__ == "__main__":
    print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN,
          [signal.getsignal(s) == signal.SIG_DFL for s in (signal.SIGCHLD, signal.SIGTERM, signal.SIGUSR1)])
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    except KeyboardInterrupt:
        print("KeyboardInterrupt")
    multiprocessing.set_start_method("forkserver")
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(4)))
    print(subprocess.run([sys.executable, sys.argv[1], "a"], capture_output=True, text=True).stdout, end="")
`)
	cmd := exec.Command(binary, "python", script, child)
	out, err := cmd.CombinedOutput()
	want := "True True [True, True, True]\nKeyboardInterrupt\n[0, 1, 4, 9]\nchild ['a']\n"
	if err != nil || string(out) != want {
		t.Errorf("wsgo python: %v, output:\n%s\nwant:\n%s", err, out, want)
	}
	// From a shell, `wsgo FILE` is a mistyped `wsgo run FILE`.
	if code, out := cliExit(t, nil, child); code != 2 || !strings.Contains(out, "to serve it: `wsgo run "+child+"`") {
		t.Errorf("wsgo %s from a shell: exit %d, %q; want 2 and the hint", child, code, out)
	}
}

// freePort is a loopback TCP port nobody listens on now.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// waitFile waits up to 10 s for path to contain want.
func waitFile(t *testing.T, path, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s lacks %q:\n%s", filepath.Base(path), want, b)
			return
		}
	}
}
