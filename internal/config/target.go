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
		if instead := directoryInstead(cmd, chdir, args[0]); instead != "" {
			return fail(instead)
		}
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

// directoryInstead is what to give instead of a TARGET that is a
// directory by its path (mysite/, ., ../app), which names no app: the
// WSGI module or app file in it, or in its subdirectories as Django's
// project root has them (mysite.wsgi), else the package itself by name;
// "" if target is no such directory. A directory named as a module
// (mysite) is imported as its package.
func directoryInstead(cmd, chdir, target string) string {
	dir := inDir(chdir, target)
	if fi, err := os.Stat(dir); moduleName.MatchString(target) || err != nil || !fi.IsDir() {
		return ""
	}
	var instead []string
	for _, pattern := range []string{"wsgi.py", "app.py", "*/wsgi.py", "__init__.py"} {
		found, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range found {
			rel, _ := filepath.Rel(dir, f)
			instead = append(instead, "`wsgo "+cmd+" "+asTarget(chdir, filepath.Join(target, rel))+"`")
		}
		if len(instead) > 0 {
			break
		}
	}
	msg := target + " is a directory; TARGET is the app's file, module or module:callable"
	if len(instead) == 0 {
		return msg + ", e.g. `wsgo " + cmd + " " + filepath.Join(target, "app.py") + "`"
	}
	return msg + ": " + strings.Join(instead, " or ")
}

// moduleName matches a dotted module name, as Python imports it.
var moduleName = regexp.MustCompile(`^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$`)

// asTarget is the .py file at path (from chdir) as a TARGET: its
// module's dotted name when it is in a package below chdir
// (mysite/wsgi.py: mysite.wsgi; mysite/__init__.py: mysite), else path.
func asTarget(chdir, path string) string {
	sep := string(filepath.Separator)
	parts := strings.Split(strings.TrimSuffix(strings.TrimSuffix(path, ".py"), sep+"__init__"), sep)
	packages := parts[:len(parts)-1] // the directories that must be packages
	if filepath.Base(path) == "__init__.py" {
		packages = parts
	}
	if len(packages) == 0 {
		return path // a file of no package: app.py
	}
	for _, part := range parts {
		if !moduleName.MatchString(part) {
			return path
		}
	}
	for i := range packages {
		if !isFile(inDir(chdir, filepath.Join(filepath.Join(packages[:i+1]...), "__init__.py"))) {
			return path
		}
	}
	return strings.Join(parts, ".")
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
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
