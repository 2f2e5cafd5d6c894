package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// A command line of another server's (uWSGI's, gunicorn's, waitress's)
// has several flags wsgo does not take: all of them are reported at
// once, each with what to do instead, and, when every one has a wsgo
// equivalent, the whole line is given in wsgo's words, so that a user
// copies one line rather than editing and running it once per flag.

// waitressUnsupported are waitress-serve's flags that wsgo does not take
// under their names, each with what to do instead (its --listen is
// uWSGI's too: foreignInstead tells them apart by the value).
var waitressUnsupported = []flagInstead{
	{[]string{"host", "port"}, "waitress's --host and --port are one --bind HOST:PORT in wsgo (e.g. --bind 127.0.0.1:8080)"},
	{[]string{"call"}, "write the factory's call in the TARGET: `wsgo run module:create_app()` serves the app it returns"},
	{[]string{"unix-socket"}, "waitress's --unix-socket PATH is --bind unix:PATH in wsgo"},
	{[]string{"unix-socket-perms"}, "a unix socket of wsgo's gets the mode its --umask leaves: --umask 007 gives 660"},
	{[]string{"url-prefix"}, "waitress's --url-prefix is --root-path in wsgo (SCRIPT_NAME is it, PATH_INFO the rest of the path)"},
	{[]string{"max-request-body-size"}, "waitress's --max-request-body-size is --max-body-size in wsgo (bytes; a larger body gets 413)"},
	{[]string{"max-request-header-size"}, "wsgo bounds a request's head by its parts: --limit-request-line, --limit-request-field_size and --limit-request-fields"},
	{[]string{"connection-limit"}, "wsgo holds any number of connections (a goroutine each): --workers × --threads requests run at once, and --queue-size more wait (then 503)"},
	{[]string{"channel-timeout"}, "waitress's --channel-timeout is --keep-alive in wsgo (SECONDS an idle connection is kept); --stall-timeout drops one whose transfer makes no progress"},
	{[]string{"trusted-proxy"}, "waitress's --trusted-proxy is --forwarded-allow-ips in wsgo"},
	{[]string{"trusted-proxy-headers", "trusted-proxy-count", "clear-untrusted-proxy-headers"},
		"from --forwarded-allow-ips peers wsgo reads X-Forwarded-For, -Proto, -Host, -Port, -Prefix and Forwarded, and from others none"},
	{[]string{"url-scheme"}, "wsgo sets wsgi.url_scheme: https with --certfile, else X-Forwarded-Proto from --forwarded-allow-ips peers"},
	{[]string{"expose-tracebacks"}, "--debug shows an uncaught exception's traceback in the 500 page (development only)"},
	{[]string{"ipv4", "ipv6", "no-ipv4", "no-ipv6"}, "give each address to listen on as a --bind: 0.0.0.0:PORT, [::]:PORT"},
}

// waitressFlagsInstead indexes waitressUnsupported.
var waitressFlagsInstead = byFlag(waitressUnsupported)

// flagInstead is what to do in wsgo instead of another server's flags.
type flagInstead struct {
	flags   []string // as that server's command line spells them, without dashes
	instead string
}

// byFlag indexes a list of flagInstead by flag.
func byFlag(list []flagInstead) map[string]string {
	index := map[string]string{}
	for _, u := range list {
		for _, f := range u.flags {
			index[f] = u.instead
		}
	}
	return index
}

// waitressListen says whether --listen value is waitress's HOST:PORT,
// which is wsgo's --bind, rather than uWSGI's backlog, a number.
func waitressListen(name, value string) bool {
	return name == "listen" && strings.Contains(value, ":")
}

// foreignInstead is what to do instead of another server's flag name
// given value, and whether it is one.
func foreignInstead(name, value string) (string, bool) {
	if waitressListen(name, value) {
		return "waitress's --listen HOST:PORT is --bind in wsgo (repeatable)", true
	}
	for _, m := range []map[string]string{gunicornFlagsInstead, uwsgiFlagsInstead, waitressFlagsInstead} {
		if hint, ok := m[name]; ok {
			return hint, true
		}
	}
	return "", false
}

// foreignSwitches are the foreign flags that take no value, so that the
// argument after one is not read as its value.
var foreignSwitches = setOf(strings.Fields(`master M enable-threads T lazy-apps lazy single-interpreter i
	need-app thunder-lock die-on-term vacuum manage-script-name
	spew check-config print-config no-sendfile reuse-port initgroups capture-output R
	enable-stdio-inheritance log-syslog disable-redirect-access-to-syslog enable-backlog-metric
	suppress-ragged-eofs do-handshake-on-connect no-control-socket permit-obsolete-folding
	strip-header-spaces permit-unconventional-http-method permit-unconventional-http-version
	casefold-http-method call ipv4 ipv6 no-ipv4 no-ipv6 expose-tracebacks clear-untrusted-proxy-headers v version`))

// foreignFlagsAre are the foreign flags that are one of wsgo's under
// another name (the value kept), or that wsgo needs none of ("": left
// out); foreignLine translates the others it can itself.
var foreignFlagsAre = map[string]string{
	"http": "-b", "http-socket": "-b", "processes": "-w", "uid": "--user", "gid": "--group",
	"pidfile": "--pid", "harakiri": "--timeout", "max-requests-delta": "--max-requests-jitter",
	"reload-on-rss": "--max-rss", "limit-post": "--max-body-size", "static-map": "--static",
	"venv": "--virtualenv", "url-prefix": "--root-path", "max-request-body-size": "--max-body-size",
	"channel-timeout": "--keep-alive", "trusted-proxy": "--forwarded-allow-ips",
	"master": "", "M": "", "enable-threads": "", "T": "", "lazy-apps": "", "lazy": "",
	"single-interpreter": "", "i": "", "need-app": "", "thunder-lock": "", "die-on-term": "",
	"vacuum": "", "post-buffering": "", "listen": "", "l": "", "backlog": "", "reload-engine": "",
	"spew": "", "no-sendfile": "", "reuse-port": "", "worker-tmp-dir": "", "initgroups": "",
	"capture-output": "", "R": "", "enable-stdio-inheritance": "",
}

// foreignFlag is a flag of the command line that wsgo does not take.
type foreignFlag struct {
	given, name, value string
	hasValue           bool
}

// commandWord is an argument of the command line, or a flag of wsgo's
// with its value, as typed: what foreignLine keeps.
type commandWord struct {
	typed   []string
	foreign *foreignFlag
}

// unknownFlags is the usage error for the flags of words that the
// command does not take: each with what to do instead in wsgo when it
// is another server's, else the nearest flag wsgo has; then the whole
// command line in wsgo's words, when foreignLine can say it.
func unknownFlags(cmd string, words []commandWord, positional []string, known map[string]string) error {
	var lines []string
	for _, w := range words {
		if f := w.foreign; f != nil {
			line := f.given
			if hint, ok := foreignInstead(f.name, f.value); ok {
				line += ": " + hint
			} else if s := suggest(f.name, longNames(known)); s != "" {
				line += fmt.Sprintf("; did you mean --%s?", s)
			}
			lines = append(lines, line)
		}
	}
	msg := fmt.Sprintf("wsgo %s: unknown flag %s", cmd, lines[0])
	if len(lines) > 1 {
		msg = fmt.Sprintf("wsgo %s: %d unknown flags:\n  %s", cmd, len(lines), strings.Join(lines, "\n  "))
	}
	if line, ok := foreignLine(cmd, words, positional); ok {
		msg += "\nIn wsgo's words: `" + line + "`"
	}
	return usage(msg + fmt.Sprintf("\nRun `wsgo %s --help` for the flags.", cmd))
}

// foreignLine is the command line of words and positional in wsgo's
// words, if every foreign flag has an equivalent and one TARGET results:
// uWSGI's --wsgi-file, --module and --callable, and waitress's --call,
// are the TARGET; waitress's --host and --port are one --bind.
func foreignLine(cmd string, words []commandWord, positional []string) (string, bool) {
	if len(positional) > 1 {
		return "", false
	}
	target, callable, call := strings.Join(positional, ""), "", false
	var host, port string
	hostPort := -1 // where in out their --bind goes
	var out []string
	for _, w := range words {
		f := w.foreign
		if f == nil {
			switch uwsgi := uwsgiShort(w.typed); {
			case uwsgi == "-w" && !givesWorkers(out):
				out = append(out, "-w", w.typed[1])
			case uwsgi == "-w":
			case uwsgi == "TARGET" && target == "":
				target = w.typed[1]
			case uwsgi == "TARGET":
				return "", false
			default:
				out = append(out, w.typed...)
			}
			continue
		}
		if f.hasValue == foreignSwitches[f.name] {
			return "", false // a value where none is taken, or none where one is
		}
		switch to, ok := foreignFlagsAre[f.name]; {
		case waitressListen(f.name, f.value):
			out = append(out, "-b", strings.Replace(f.value, "*:", ":", 1)) // waitress's every interface
		case ok && to == "-w" && givesWorkers(out):
		case ok && to != "":
			out = append(out, to, f.value)
		case ok:
		case f.name == "wsgi-file" || f.name == "module":
			if target != "" {
				return "", false
			}
			target = f.value
		case f.name == "callable":
			callable = f.value
		case f.name == "call":
			call = true
		case f.name == "host" || f.name == "port":
			if hostPort < 0 {
				hostPort = len(out)
				out = append(out, "-b", "")
			}
			if f.name == "host" {
				host = f.value
			} else {
				port = f.value
			}
		case f.name == "unix-socket":
			out = append(out, "-b", "unix:"+f.value)
		case f.name == "py-autoreload":
			if f.value != "0" {
				out = append(out, "--reload")
			}
		default:
			return "", false
		}
	}
	if hostPort >= 0 {
		out[hostPort+1] = waitressBind(host, port)
	}
	if callable != "" {
		if strings.Contains(target, ":") {
			return "", false
		}
		target += ":" + callable
	}
	if call {
		if !strings.Contains(target, ":") || strings.Contains(target, "(") {
			return "", false
		}
		target += "()"
	}
	if target == "" {
		return "", false
	}
	line := []string{"wsgo", cmd}
	for _, a := range append([]string{target}, out...) {
		line = append(line, shellQuote(a))
	}
	return strings.Join(line, " "), true
}

// uwsgiShort reads a flag of wsgo's, as typed, that a line with uWSGI's
// flags means as uWSGI does: -p N is its processes (wsgo's -w, where -p
// is gunicorn's --pid), -w MODULE its app (wsgo's TARGET, where -w counts
// workers; uwsgiModule). It returns "-w", "TARGET", or "" for a flag
// meant as wsgo's.
func uwsgiShort(typed []string) string {
	switch {
	case len(typed) != 2:
	case typed[0] == "-p" && consistsOf(typed[1], "0123456789"):
		return "-w"
	case typed[0] == "-w" && uwsgiModule(typed[1]):
		return "TARGET"
	}
	return ""
}

// givesWorkers: the line out has a number of workers already.
func givesWorkers(out []string) bool {
	return slices.Contains(out, "-w") || slices.Contains(out, "--workers")
}

// waitressBind is the --bind of waitress's --host and --port, either of
// which may be left to waitress's default (0.0.0.0 and 8080).
func waitressBind(host, port string) string {
	if host == "" {
		host = "0.0.0.0"
	}
	if port == "" {
		port = "8080"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + port
}

// shellSafe are the arguments that a shell takes as they are.
var shellSafe = regexp.MustCompile(`^[\w@%+=:,./-]+$`)

// shellQuote is a as a shell would take it back: a factory's call
// quoted, as the shell would read its parentheses.
func shellQuote(a string) string {
	if shellSafe.MatchString(a) {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func setOf(names []string) map[string]bool {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return set
}
