package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// A configuration file is Python, as gunicorn's is: wsgo runs it with the
// Python it links (`wsgo python`, in a child process, so that the master
// never starts Python) and takes the module-level names that are
// gunicorn's setting names. Flags and WSGO_* variables win over it.

// DefaultConfigFile is read when present in the start directory and
// --config is not given, as gunicorn reads ./gunicorn.conf.py; without
// it, gunicorn's own is, so that a project coming from gunicorn keeps
// its settings.
const (
	DefaultConfigFile  = "wsgo.conf.py"
	gunicornConfigFile = "gunicorn.conf.py"
)

// readSettings runs a configuration file and prints its settings as JSON:
// values JSON can hold as they are, others by repr(); callables by name
// only: gunicorn's server hooks, which wsgo does not run, and the
// functions and classes the file imports or defines for itself.
const readSettings = `
import json, runpy, sys
ns = runpy.run_path(sys.argv[1], run_name="__config__")
out, hooks = {}, []
for k, v in ns.items():
    if k.startswith("_") or type(v) is type(sys):
        continue
    if callable(v):
        hooks.append(k)
        continue
    try:
        json.dumps(v)
        out[k] = v
    except (TypeError, ValueError):
        out[k] = repr(v)
json.dump({"settings": out, "hooks": hooks}, sys.stdout)
`

// gunicornSettings maps gunicorn's setting names to wsgo's flags.
var gunicornSettings = map[string]string{
	"bind": "bind", "workers": "workers", "threads": "threads", "timeout": "timeout",
	"graceful_timeout": "graceful-timeout", "keepalive": "keep-alive", "max_requests": "max-requests",
	"max_requests_jitter": "max-requests-jitter", "accesslog": "access-log", "errorlog": "error-log",
	"loglevel": "log-level", "forwarded_allow_ips": "forwarded-allow-ips", "raw_env": "env", "chdir": "chdir",
	"pythonpath": "pythonpath", "pidfile": "pid", "certfile": "certfile", "keyfile": "keyfile", "reload": "reload",
	"reload_extra_files": "reload-extra-file", "limit_request_line": "limit-request-line",
	"limit_request_fields": "limit-request-fields", "limit_request_field_size": "limit-request-field_size",
	"worker_class": "worker-class", "preload_app": "preload", "daemon": "daemon", "user": "user", "group": "group",
	"umask": "umask", "root_path": "root-path", "proxy_protocol": "proxy-protocol",
}

// applyConfigFile sets, from --config FILE, ./wsgo.conf.py or
// ./gunicorn.conf.py, every flag
// the command line and the environment left unset, noting in c.file
// which; it returns the file's wsgi_app (gunicorn's TARGET setting) and
// what to say about it: notes, and warnings of settings it does not apply.
func (c *given) applyConfigFile() (target string, notes, warnings []string, err error) {
	path := c.String("config")
	if path == "" {
		if path = defaultConfigFile(); path == "" {
			return "", nil, nil, nil
		}
	}
	if module, ok := strings.CutPrefix(path, "python:"); ok {
		return "", nil, nil, c.bad("config", path, "wsgo reads a configuration file by its path, not gunicorn's python:MODULE; "+
			"give the module's file: --config "+strings.ReplaceAll(module, ".", "/")+".py")
	}
	if _, err := os.Stat(path); err != nil {
		why := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			dir, _ := os.Getwd()
			why = "no such file (from " + dir + "); give the path of a gunicorn-style configuration file " +
				"(Python: bind = \"127.0.0.1:8000\", workers = 4, ...), or leave --config out"
		}
		return "", nil, nil, c.bad("config", path, why)
	}
	var got struct {
		Settings map[string]any
		Hooks    []string
	}
	cmd := exec.Command("/proc/self/exe", "python", "-c", readSettings, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		err = json.Unmarshal(out, &got)
	}
	if err != nil {
		return "", nil, nil, usage(fmt.Sprintf("wsgo %s: the configuration file %s failed (%v):\n%s", c.Command.Name, path, err,
			strings.TrimRight(stderr.String(), "\n")))
	}
	var unknown, hooks []string
	for _, name := range got.Hooks {
		if slices.Contains(gunicornHooks, name) {
			hooks = append(hooks, name)
		} else if _, ok := gunicornSettingsInstead[name]; ok {
			unknown = append(unknown, name) // logger_class = MyLogger
		} // else a name the file imports or defines for itself (Path, cpu_count)
	}
	for name, v := range got.Settings {
		if name == "wsgi_app" {
			target, _ = v.(string)
			continue
		}
		flag, ok := gunicornSettings[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if c.IsSet(flag) {
			continue // flags and WSGO_* win
		}
		values, err := settingValues(name, flag, v)
		if err != nil {
			return "", nil, nil, usage(fmt.Sprintf("wsgo %s: %s: %v", c.Command.Name, path, err))
		}
		for _, s := range values {
			if err := c.Set(flag, s); err != nil {
				why := valueHint(c.Command.Flags, flag)
				if why == "" {
					why = err.Error()
				}
				// the file is Python: its booleans are True and False
				why = strings.Replace(why, "true or false", "True or False", 1)
				return "", nil, nil, usage(fmt.Sprintf("wsgo %s: %s: %s = %v: %s", c.Command.Name, path, name, v, why))
			}
		}
		c.file[flag] = path + ": " + name
	}
	read := "wsgo: settings read from " + path
	if path == gunicornConfigFile && !c.IsSet("config") {
		read += ", as gunicorn would (there is no " + DefaultConfigFile + "; that name, or -c FILE, also works)"
	}
	warnings, ignored := notApplied(path, unknown)
	notes = append([]string{read}, ignored...)
	if len(hooks) > 0 {
		slices.Sort(hooks)
		warnings = append(warnings, fmt.Sprintf("wsgo: %s: not run, wsgo has no server hooks: %s", path, strings.Join(hooks, ", ")))
	}
	return target, notes, warnings, nil
}

// gunicornHooks are gunicorn's server hooks, which a configuration file
// defines as functions; wsgo runs none of them, and says so.
var gunicornHooks = []string{"on_starting", "on_reload", "when_ready", "pre_fork", "post_fork", "post_worker_init",
	"worker_int", "worker_abort", "pre_exec", "pre_request", "post_request", "child_exit", "worker_exit",
	"nworkers_changed", "on_exit", "ssl_context"}

// defaultConfigFile is the configuration file read without --config: the
// first of wsgo's and gunicorn's in the start directory, or "".
func defaultConfigFile() string {
	for _, name := range []string{DefaultConfigFile, gunicornConfigFile} {
		if _, err := os.Stat(name); err == nil {
			return name
		}
	}
	return ""
}

// notApplied is what the start says of the file's names that are not
// wsgo's settings: a warning for each of gunicorn's, saying what to do
// instead (the user meant it to act); a note naming the others, the
// file's own variables, in one line.
func notApplied(path string, names []string) (warnings, notes []string) {
	slices.Sort(names)
	var ignored []string
	for _, name := range names {
		if instead, ok := gunicornSettingsInstead[name]; ok {
			warnings = append(warnings, fmt.Sprintf("wsgo: %s: %s is not applied: %s", path, name, instead))
		} else {
			ignored = append(ignored, name)
		}
	}
	if len(ignored) > 0 {
		notes = append(notes, fmt.Sprintf("wsgo: %s: ignored, not wsgo settings: %s", path, strings.Join(ignored, ", ")))
	}
	return warnings, notes
}

// settingValues turns a setting's Python value into flag values: a list
// gives one value each (bind, raw_env), gunicorn's comma-separated
// strings stay whole, numbers and booleans are spelt as flags take them.
func settingValues(name, flag string, v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		if flag == "pythonpath" {
			return strings.Split(v, ","), nil
		}
		return []string{v}, nil
	case bool:
		return []string{strconv.FormatBool(v)}, nil
	case float64:
		if v != float64(int64(v)) {
			return nil, fmt.Errorf("%s = %v: give a whole number", name, v)
		}
		base := 10
		if flag == "umask" {
			base = 8 // umask = 0o027 reaches JSON as 23; --umask reads octal
		}
		return []string{strconv.FormatInt(int64(v), base)}, nil
	case []any:
		var out []string
		for _, e := range v {
			s, err := settingValues(name, flag, e)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		if flag == "forwarded-allow-ips" {
			return []string{strings.Join(out, ",")}, nil
		}
		return out, nil
	case nil:
		return nil, nil
	}
	return nil, errors.New(name + ": a value wsgo cannot use")
}
