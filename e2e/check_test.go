package e2e

// Tests of `wsgo check TARGET`: it imports the app as `wsgo run` would and
// exits 0 with what it found, or 4 with the error run would stop with.
// Python writes no bytecode here: examples/ is the repository's.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var noBytecode = []string{"PYTHONDONTWRITEBYTECODE=1"}

// checkRun runs `wsgo check ARGS...` and checks its exit code and that
// each of want is in its output, which it returns.
func checkRun(t *testing.T, code int, args, want []string) string {
	t.Helper()
	got, out := cliExit(t, noBytecode, append([]string{"check"}, args...)...)
	if got != code {
		t.Errorf("exit code %d; want %d", got, code)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	return out
}

func TestCheckGoodApps(t *testing.T) {
	dir := cliData(t, "cli")
	examples := examplesDir(t)
	// An app that needs its --env variable at import time.
	needsEnv := writeApp(t, "needs_env.py", `import os
REGION = os.environ["APP_REGION"]

def application(environ, start_response):
    start_response("200 OK", [])
    return [REGION.encode()]
`)
	tests := []struct {
		name string
		args []string
		want []string // each must appear in the output
	}{
		{"a file's application", []string{filepath.Join(examples, "hello.py")}, []string{
			"wsgo check: " + filepath.Join(examples, "hello.py") + ":application loads\n",
			"callable: hello.application\n          <function application at 0x",
			"sys.path: " + examples + "\n          /",
		}},
		{"a class named after ':' with --chdir", []string{"--chdir", examples, "callable_class.py:AppClass"}, []string{
			"wsgo check: callable_class.py:AppClass loads\n",
			"callable: callable_class.AppClass\n          <class 'callable_class.AppClass'>\n",
		}},
		{"a module found through --pythonpath, flags after the TARGET", []string{"pkg.web:handler", "--pythonpath", dir}, []string{
			"wsgo check: pkg.web:handler loads\n",
			"callable: pkg.web.handler\n",
			"\n          " + dir + "\n",
		}},
		{"--env reaches the app's import", []string{needsEnv, "--env", "APP_REGION=eu"}, []string{
			"wsgo check: " + needsEnv + ":application loads\n",
		}},
		{"a wsgiref script shows the address it asked for", []string{filepath.Join(examples, "web_application.py")}, []string{
			"(the app given to make_server) loads\n",
			"callable: __main__.application\n",
			"address:  localhost:8051 (given to make_server; `wsgo run` serves there unless --bind is given)\n",
		}},
	}
	python := regexp.MustCompile(`\nPython:   3\.\d+\.\d+\S*\n`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := checkRun(t, 0, tc.args, tc.want)
			if !python.MatchString(out) {
				t.Errorf("output has no Python version line")
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

func TestCheckBrokenAppsExit4(t *testing.T) {
	dir := cliData(t, "cli")
	p := func(name string) string { return filepath.Join(dir, "errors", name) }
	noArgs := writeApp(t, "noargs.py", "def application():\n    return []\n")
	threeArgs := writeApp(t, "three.py", "import functools\ndef app(environ, start_response, extra):\n    return []\n")
	exits := writeApp(t, "exits.py", "import os\nos._exit(0)\n")
	crashes := writeApp(t, "crashes.py", "import ctypes\nctypes.string_at(0)\n")
	factory := writeApp(t, "factory.py", "def create_app(name=\"x\", debug=False):\n    return None\n")
	kwOnly := writeApp(t, "kwonly.py", "class App:\n    def __call__(self, environ, start_response, *, config):\n        return []\napp = App().__call__\n")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"a syntax error shows the file and line", []string{p("syntaxerr.py")}, []string{
			`File "` + p("syntaxerr.py") + `", line 3`,
			"SyntaxError: invalid syntax",
			"wsgo: importing " + p("syntaxerr.py") + " failed with the error above; fix it and start wsgo again."}},
		{"a missing callable is named, with the ones there are", []string{p("noapp.py") + ":nosuch"}, []string{
			"wsgo: " + p("noapp.py") + " has no 'nosuch'; callables defined there: handler, make_thing"}},
		{"a module that is not found is named", []string{"--chdir", dir, "nosuch_module_xyz:app"}, []string{
			"wsgo: no module named 'nosuch_module_xyz' (sys.path[0] is " + dir + ")"}},
		{"a variable the app needs and --env does not give", []string{writeApp(t, "needs_env.py", "import os\nos.environ['APP_REGION']\n")}, []string{
			"KeyError: 'APP_REGION'"}},
		{"a function without the two parameters", []string{noArgs}, []string{
			"wsgo: " + noArgs + ":application cannot be a WSGI app: the server calls it as application(environ, start_response), " +
				"and it takes 0 positional arguments (" + noArgs + " line 1); give it the two parameters (def application(environ, start_response):), " +
				"or, if it makes the app (a factory), call it: " + noArgs + ":application()"}},
		{"a function requiring a third", []string{threeArgs + ":app"}, []string{
			"and it requires 3 positional arguments (" + threeArgs + " line 2)"}},
		{"a method requiring a keyword", []string{kwOnly + ":app"}, []string{
			"and it requires the keyword argument config (" + kwOnly + " line 2)"}},
		{"a factory named without its call (Flask's CLI habit)", []string{factory + ":create_app"}, []string{
			"wsgo: " + factory + ":create_app looks like an app factory, not the app (its name is a factory's; its parameters " +
				"(name, debug) are all optional, which a WSGI app's never are): every request would call it as " +
				"create_app(environ, start_response). If it makes the app, call it: " + factory + ":create_app()"}},
		{"an import that calls os._exit(0)", []string{exits}, []string{
			"wsgo check: importing " + exits + " ended the process (exit status 0) before the app was loaded"}},
		{"an import that crashes in C", []string{crashes}, []string{
			"SIGSEGV", "wsgo check: importing " + crashes + " ended the process (exit status 2) before the app was loaded"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := checkRun(t, 4, tc.args, tc.want)
			if strings.Contains(out, "loads\n") {
				t.Errorf("output claims the app loads")
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

func TestCheckUsage(t *testing.T) {
	code, out := cliExit(t, nil, "check")
	if code != 2 || !strings.Contains(out, "wsgo check: give one TARGET") {
		t.Errorf("wsgo check without TARGET: exit %d, output %q; want 2 and the usage", code, out)
	}
	code, out = cliExit(t, nil, "check", "--help")
	for _, w := range []string{"wsgo check [command options] TARGET", "--chdir", "--pythonpath", "--env", "$WSGO_CHDIR"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("wsgo check --help: exit %d; want 0 and %q in:\n%s", code, w, out)
		}
	}
	if !strings.Contains(out, "--threads") || !strings.Contains(out, "taken and not used") {
		t.Errorf("wsgo check --help lacks run's serving flags, or that they are not used:\n%s", out)
	}
}

// TestCheckReadsRunsConfiguration: `wsgo check` in place of `wsgo run`,
// the rest of the command line kept, reads what run reads: the
// configuration file's pythonpath, raw_env and wsgi_app, and run's flags.
func TestCheckReadsRunsConfiguration(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "svc.py"), []byte(`import os
NAME = os.environ["APP_NAME"]

def application(environ, start_response):
    start_response("200 OK", [])
    return [NAME.encode()]
`), 0o644)
	os.WriteFile(filepath.Join(dir, "gunicorn.conf.py"), []byte("pythonpath = \"src\"\nraw_env = [\"APP_NAME=svc\"]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "other.conf.py"), []byte("pythonpath = \"src\"\nraw_env = [\"APP_NAME=svc\"]\nwsgi_app = \"svc:application\"\n"), 0o644)
	tests := []struct {
		name string
		args []string
		env  []string
	}{
		{"gunicorn.conf.py and run's flags", []string{"svc:application", "-b", "127.0.0.1:9000", "--threads", "4", "-w", "2"}, nil},
		{"-c FILE's wsgi_app, without TARGET", []string{"-c", "other.conf.py"}, nil},
		{"WSGO_CONFIG and WSGO_* serving variables", nil, []string{"WSGO_CONFIG=other.conf.py", "WSGO_THREADS=8", "WSGO_RELOAD=true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := launchProgramIn(t, dir, append(tc.env, noBytecode...), binary, append([]string{"check"}, tc.args...)...)
			code, ok := s.wait(10 * time.Second)
			out := s.logs.String()
			if !ok || code != 0 || !strings.Contains(out, "wsgo check: svc:application loads\n") ||
				!strings.Contains(out, "wsgo: settings read from ") {
				t.Errorf("exit %d; want 0, the settings file named, and svc:application loading:\n%s", code, out)
			}
		})
	}
}

// A TARGET that may be a factory named without its call loads with a
// warning; one that is plainly an app (parameters named as WSGI's, *args,
// a partial, an instance) with none.
func TestCheckWarnsOfWhatLooksLikeAFactory(t *testing.T) {
	path := writeApp(t, "apps.py", `import functools

def make_app(settings, debug):
    return None

def build(config=None, testing=False):
    return None

def create_app(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]

def deco(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapper

@deco
def make_wsgi_app(e, s):
    return []

def _app(a, b, c=1):
    return []

get_app = functools.partial(_app, c=2)

class App:
    def __call__(self, env, respond):
        return []

app_factory = App()
`)
	warns := map[string]string{
		"make_app": "wsgo: " + path + ":make_app looks like an app factory, not the app (its name is a factory's): " +
			"every request would call it as make_app(environ, start_response). If it makes the app, call it: " +
			path + ":make_app(...), with its arguments as literals\n",
		"build": "wsgo: " + path + ":build looks like an app factory, not the app (its parameters (config, testing) " +
			"are all optional, which a WSGI app's never are): every request would call it as build(environ, start_response). " +
			"If it makes the app, call it: " + path + ":build()\n",
	}
	for _, name := range []string{"make_app", "build", "create_app", "make_wsgi_app", "get_app", "app_factory"} {
		t.Run(name, func(t *testing.T) {
			out := checkRun(t, 0, []string{path + ":" + name}, []string{"wsgo check: " + path + ":" + name + " loads\n"})
			if want := warns[name]; want != "" && !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			} else if want == "" && strings.Contains(out, "looks like an app factory") {
				t.Errorf("a warning of a factory for an app:\n%s", out)
			}
		})
	}
	t.Run("wsgo run warns at start", func(t *testing.T) {
		s := start(t, nil, path+":make_app")
		if !s.waitLog(`\[WARNING\] wsgo: `+regexp.QuoteMeta(path)+`:make_app looks like an app factory`, 5*time.Second) {
			t.Errorf("no warning at start:\n%s", s.logs.String())
		}
	})
}
