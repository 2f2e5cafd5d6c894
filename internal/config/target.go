package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// What users of python3, Django's runserver, uWSGI and PasteDeploy type
// where wsgo wants one TARGET, and what to type instead.

// checkTarget is nil when args, the arguments of `wsgo CMD` after its
// flags, are one TARGET; else the usage error that says what to type
// instead. chdir is --chdir, where a relative TARGET is.
func checkTarget(cmd, chdir string, args []string) error {
	fail := func(msg string) error { return usage("wsgo " + cmd + ": " + msg) }
	switch {
	case len(args) == 0:
		return fail(fmt.Sprintf("give one TARGET, e.g. `wsgo %[1]s hello.py` or `wsgo %[1]s pkg.module:app`", cmd))
	case strings.HasSuffix(args[0], ".ini"):
		return fail(args[0] + ": " + iniInstead(inDir(chdir, args[0])))
	case len(args) == 1:
		return nil
	case args[1] == "runserver":
		return fail(runserverInstead(chdir, args[0], args[2:]))
	}
	if addr, ok := runserverAddress(args[1]); ok && len(args) == 2 {
		return fail(fmt.Sprintf("give the address with --bind: `wsgo %s %s --bind %s`", cmd, args[0], addr))
	}
	msg := "give one TARGET: wsgo serves one app and passes it no arguments"
	if strings.HasSuffix(args[0], ".py") {
		msg += "; " + pythonInstead(args)
	}
	return fail(msg)
}

// commandInstead is what to type instead of `wsgo ARGS` whose first
// argument is not a command: a file or module to serve, or to run with
// its arguments (`wsgo manage.py migrate`); "" when it looks like neither.
func commandInstead(args []string) string {
	switch first := args[0]; {
	case strings.HasSuffix(first, ".ini"):
		return iniInstead(first)
	case filepath.Base(first) == "manage.py":
		return pythonInstead(args)
	case strings.HasSuffix(first, ".py") && len(args) > 1:
		return "to serve it: `wsgo run " + strings.Join(args, " ") + "`; " + pythonInstead(args)
	case strings.HasSuffix(first, ".py") || strings.Contains(first, ":"):
		return "to serve it: `wsgo run " + strings.Join(args, " ") + "`"
	}
	return ""
}

// pythonInstead says how to run a script with its arguments.
func pythonInstead(args []string) string {
	return "to run " + args[0] + " as python3 would: `wsgo python " + strings.Join(args, " ") + "`"
}

// runserverInstead is what to type instead of `manage.py runserver
// [ADDRPORT]`: serve the project's WSGI module, with --reload for
// runserver's autoreload.
func runserverInstead(chdir, managePy string, args []string) string {
	managePy = inDir(chdir, managePy)
	command := "wsgo run "
	if dir := filepath.Dir(managePy); dir != "." {
		command += "--chdir " + dir + " "
	}
	module := djangoWSGIModule(managePy)
	if module == "" {
		module = "PROJECT.wsgi"
	}
	command += module + " --reload"
	if len(args) > 0 {
		if addr, ok := runserverAddress(args[0]); ok {
			command += " --bind " + addr
		}
	}
	return "runserver is Django's development server; wsgo serves the project's WSGI module instead, and --reload " +
		"restarts it on a save as runserver does: `" + command + "` (`wsgo python " + managePy + " COMMAND` runs its other commands)"
}

// djangoSettings finds the settings module that a manage.py sets.
var djangoSettings = regexp.MustCompile(`DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]`)

// djangoWSGIModule is the WSGI module of the Django project whose
// manage.py is at managePy: where startproject puts it, beside the
// settings module that manage.py sets (mysite.settings: mysite.wsgi), if
// that file is there; else "". loader.py's _django_wsgi_module is the
// same for `wsgo run manage.py`.
func djangoWSGIModule(managePy string) string {
	source, err := os.ReadFile(managePy)
	m := djangoSettings.FindSubmatch(source)
	if err != nil || m == nil {
		return ""
	}
	pkg := strings.Split(string(m[1]), ".")
	pkg = pkg[:len(pkg)-1]
	for i, part := range pkg {
		if part == "settings" { // a settings package: config.settings.local
			pkg = pkg[:i]
			break
		}
	}
	module := strings.Join(append(pkg, "wsgi"), ".")
	if _, err := os.Stat(filepath.Join(filepath.Dir(managePy), filepath.Join(pkg...), "wsgi.py")); err != nil {
		return ""
	}
	return module
}

// runserverAddress is the --bind for an address as runserver takes it
// (8000 is 127.0.0.1:8000, 0:8000 is 0.0.0.0:8000), if arg is one.
func runserverAddress(arg string) (string, bool) {
	if strings.Trim(arg, "0123456789") == "" {
		arg = "127.0.0.1:" + arg
	} else if port, ok := strings.CutPrefix(arg, "0:"); ok {
		arg = "0.0.0.0:" + port
	}
	return arg, bindProblem(arg) == ""
}

// inDir is path as seen from dir, when it is relative.
func inDir(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}
