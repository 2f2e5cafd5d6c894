package config

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// What uWSGI users bring along: its flags (those wsgo has are aliases in
// flags.go) and its ini files, which wsgo does not read.

// uwsgiUnsupported are uWSGI's common flags that wsgo does not take under
// their names, each with what to do instead in wsgo. unknownFlags says it.
var uwsgiUnsupported = []flagInstead{
	{[]string{"ini"}, uwsgiINIInstead},
	{[]string{"http"}, "uWSGI's --http is --bind in wsgo (e.g. --bind 0.0.0.0:8000)"},
	{[]string{"http-socket"}, "uWSGI's --http-socket is --bind in wsgo"},
	{[]string{"socket", "s", "uwsgi-socket"}, uwsgiProtocolInstead},
	{[]string{"module"}, "give the module as wsgo's TARGET: `wsgo run package.module:application`"},
	{[]string{"wsgi-file"}, "give the file as wsgo's TARGET: `wsgo run path/to/file.py`"},
	{[]string{"callable"}, "name the callable after the TARGET's colon: `wsgo run app.py:NAME` or `wsgo run package.module:NAME`"},
	{[]string{"processes"}, "uWSGI's --processes is --workers in wsgo"},
	{[]string{"master", "M"}, "wsgo always runs a master process: leave it out"},
	{[]string{"enable-threads", "T"}, "Python threads always work in wsgo: leave it out"},
	{[]string{"lazy-apps", "lazy"}, "always so: each wsgo worker imports the app itself (the master runs no Python): leave it out"},
	{[]string{"single-interpreter", "i"}, "always so: a wsgo worker runs the app in Python's main interpreter: leave it out"},
	{[]string{"need-app"}, "always so: wsgo exits (code 4) when the app cannot be imported (under --reload it answers 500 until a save fixes it): leave it out"},
	{[]string{"thunder-lock"}, "not needed: only wsgo's master accepts connections, and it lends each to one worker: leave it out"},
	{[]string{"die-on-term"}, "always so: SIGTERM stops wsgo gracefully (SIGHUP reloads it): leave it out"},
	{[]string{"vacuum"}, "always so: wsgo removes its unix sockets and --pid file at exit: leave it out"},
	{[]string{"uid"}, "uWSGI's --uid is --user in wsgo (a name or uid; wsgo also takes its groups)"},
	{[]string{"gid"}, "uWSGI's --gid is --group in wsgo (a name or gid)"},
	{[]string{"pidfile", "pidfile2"}, "uWSGI's --pidfile is --pid FILE in wsgo (the master's PID, removed at exit)"},
	{[]string{"daemonize", "d", "daemonize2"}, "refused: " + foregroundOnly + "; --error-log FILE writes wsgo's log to a file"},
	{[]string{"logto", "logto2"}, "--error-log FILE writes wsgo's own log to a file and --access-log FILE a line per request; the app's print() goes to standard output"},
	{[]string{"chmod-socket", "C"}, "a unix socket of wsgo's gets the mode its --umask leaves: --umask 007 lets its owner and group connect (as --chmod-socket=660), --umask 000 anyone (as 666); the app's files get that umask too"},
	{[]string{"listen", "l"}, "uWSGI's --listen is the backlog: " + backlogInstead},
	{[]string{"buffer-size"}, "uWSGI's --buffer-size bounds a request's whole head (4096 bytes by default); wsgo bounds its parts: --limit-request-line (8190 bytes), --limit-request-field_size (8190) and --limit-request-fields (100). Careful: -b is --bind in wsgo, as in gunicorn"},
	{[]string{"post-buffering"}, "not needed: wsgo receives each request body whole before the app runs (past 1 MiB in a temporary file); --stream-request-body passes it as it arrives instead"},
	{[]string{"limit-post"}, "uWSGI's --limit-post is --max-body-size in wsgo (bytes; a larger body gets 413)"},
	{[]string{"mount"}, "wsgo serves one app: give it as the TARGET and its mountpoint as --root-path (`--mount /app=app.py` is `wsgo run app.py --root-path /app`)"},
	{[]string{"manage-script-name"}, "give the mountpoint as --root-path /PREFIX: SCRIPT_NAME is it and PATH_INFO the rest of the path"},
	{[]string{"harakiri"}, "uWSGI's --harakiri is --timeout in wsgo"},
	{[]string{"max-requests-delta"}, "uWSGI's --max-requests-delta is --max-requests-jitter in wsgo"},
	{[]string{"max-worker-lifetime"}, "wsgo does not replace workers by age: --max-requests N (with --max-requests-jitter) or --max-rss MIB replaces them by use"},
	{[]string{"reload-on-rss"}, "uWSGI's --reload-on-rss is --max-rss in wsgo (MiB)"},
	{[]string{"py-autoreload"}, "uWSGI's --py-autoreload is --reload in wsgo (development: it watches the app's Python files with inotify)"},
	{[]string{"touch-reload"}, "send wsgo's master SIGHUP to reload gracefully (`kill -HUP $(cat FILE)` with --pid FILE, or systemctl reload); in development, --reload --reload-extra-file FILE reloads when FILE changes"},
	{[]string{"stats"}, "uWSGI's stats server is --metrics-bind ADDR in wsgo: Prometheus metrics of the master and every worker at /metrics (docs/metrics.md)"},
	{[]string{"venv"}, "uWSGI's --venv is --virtualenv in wsgo (also spelt --home and -H, as uWSGI spells it)"},
	{[]string{"static-map"}, "uWSGI's --static-map /url=dir is --static /url=dir in wsgo"},
}

// The short flags uWSGI and gunicorn spell alike: wsgo's are gunicorn's,
// and a uWSGI value given to them is answered with what uWSGI meant.

// uwsgiModule reports whether a --workers (-w) value is rather uWSGI's
// -w, a module: `-w app:application`, `-w myproject.wsgi`, `-w app.py`,
// or `-w app` beside an app.py. A mere word (`-w four`,
// WSGO_WORKERS=abc) is no module, and gets no advice about one.
func uwsgiModule(workers string) bool {
	if _, err := strconv.Atoi(workers); err == nil || strings.EqualFold(workers, "auto") || !uwsgiModuleName.MatchString(workers) {
		return false
	}
	if strings.ContainsAny(workers, ".:") {
		return true
	}
	_, err := os.Stat(workers + ".py")
	return err == nil
}

var uwsgiModuleName = regexp.MustCompile(`^[A-Za-z_][\w.]*(:[\w.]+)?$`)

// workersInstead is what to give --workers instead of an invalid value.
func workersInstead(workers string) string {
	msg := "give a number of at least 1, or auto (one per CPU)"
	if uwsgiModule(workers) {
		msg += "; -w is --workers in wsgo, as in gunicorn: uWSGI's -w names the app, which wsgo takes as its TARGET: `wsgo run " + workers + "`"
	}
	return msg
}

// uwsgiBufferSizeHint adds to a --bind (-b) error, when the value is a
// bare number, how to give a port alone, and what uWSGI's -b
// (--buffer-size) is in wsgo.
func uwsgiBufferSizeHint(bind string) string {
	if _, err := strconv.Atoi(bind); err != nil {
		return ""
	}
	return "; a port alone is :" + bind + "; -b is --bind in wsgo, as in gunicorn: uWSGI's -b (--buffer-size) is --limit-request-line and --limit-request-field_size"
}

// uwsgiFlagsInstead indexes uwsgiUnsupported.
var uwsgiFlagsInstead = byFlag(uwsgiUnsupported)

// uwsgiINIInstead is what to do with a uWSGI ini file.
const uwsgiINIInstead = "wsgo does not read uWSGI's ini files: give their settings as wsgo's flags, " +
	"`module =` or `wsgi-file =` as the TARGET (each uWSGI flag wsgo does not take says what to give instead; docs/migrating.md has the table)"

// iniInstead is what to do with the ini file at path given as a TARGET:
// uWSGI's (a [uwsgi] section), else PasteDeploy's (Pyramid's
// development.ini, gunicorn's --paste).
func iniInstead(path string) string {
	sections, use := iniSections(path)
	if sections["uwsgi"] || (len(sections) == 0 && strings.Contains(filepath.Base(path), "uwsgi")) {
		return uwsgiINIInstead
	}
	abs, _ := filepath.Abs(path)
	return fmt.Sprintf("wsgo does not read PasteDeploy's ini files: serve its app factory as a TARGET, `wsgo run %s({})` "+
		"(it gets no settings from the file then), or serve a module that loads the file: "+
		"application = paste.deploy.loadapp(\"config:%s\")", pasteFactory(use), abs)
}

// iniSections are the names of the ini file's sections, and the `use`
// of its [app:main]; none if it cannot be read.
func iniSections(path string) (sections map[string]bool, use string) {
	sections = map[string]bool{}
	f, err := os.Open(path)
	if err != nil {
		return sections, ""
	}
	defer f.Close()
	section := ""
	for lines := bufio.NewScanner(f); lines.Scan(); {
		line := strings.TrimSpace(lines.Text())
		if name, ok := strings.CutPrefix(line, "["); ok && strings.HasSuffix(name, "]") {
			section = strings.TrimSpace(strings.TrimSuffix(name, "]"))
			sections[section] = true
		} else if key, value, ok := strings.Cut(line, "="); ok && section == "app:main" && strings.TrimSpace(key) == "use" {
			use = strings.TrimSpace(value)
		}
	}
	return sections, use
}

// pasteFactory is the app factory that a `use =` names, as a TARGET
// without its call: `call:module:factory`, or `egg:project` (whose factory
// is project:main in Pyramid's layout); PACKAGE:main when it names none.
func pasteFactory(use string) string {
	if call, ok := strings.CutPrefix(use, "call:"); ok {
		return call
	}
	if egg, ok := strings.CutPrefix(use, "egg:"); ok {
		project, _, _ := strings.Cut(egg, "#")
		return strings.ReplaceAll(project, "-", "_") + ":main"
	}
	return "PACKAGE:main"
}
