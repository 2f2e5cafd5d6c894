package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// uwsgiCommonFlags are the uWSGI flags that guides and uwsgi.ini files
// use most, as its options reference spells them.
var uwsgiCommonFlags = strings.Fields(`--ini --http --http-socket --socket -s --module --wsgi-file --callable
	--processes --threads --master -M --enable-threads -T --harakiri --max-requests --max-requests-delta
	--static-map --home -H --virtualenv --chdir --pythonpath --env --reload-on-rss --pidfile --daemonize
	--logto --die-on-term --vacuum --lazy-apps --py-autoreload --touch-reload --buffer-size
	--post-buffering --limit-post --mount --manage-script-name --max-worker-lifetime --listen --stats
	--need-app --single-interpreter --chmod-socket --thunder-lock --uid --gid`)

// Every common uWSGI flag is one of wsgo's, or an exit-2 error that says
// what to do instead: never a bare "unknown flag", nor a guess.
func TestEveryCommonUWSGIFlagIsTakenOrSaysWhatToDoInstead(t *testing.T) {
	expectTakenOrInstead(t, uwsgiCommonFlags)
}

func TestUWSGIFlagsSayWhatWsgoDoesInstead(t *testing.T) {
	expectInstead(t, map[string]string{
		"--uid":            "uWSGI's --uid is --user in wsgo",
		"--gid":            "uWSGI's --gid is --group in wsgo",
		"--pidfile":        "--pid FILE",
		"--py-autoreload":  "is --reload in wsgo",
		"--limit-post":     "is --max-body-size in wsgo",
		"--stats":          "--metrics-bind ADDR",
		"--listen":         "net.core.somaxconn",
		"--mount":          "`wsgo run app.py --root-path /app`",
		"--reload-on-rss":  "is --max-rss in wsgo",
		"--callable":       "`wsgo run app.py:NAME`",
		"--daemonize":      "refused: wsgo stays in the foreground",
		"--ini":            "wsgo does not read uWSGI's ini files",
		"--chmod-socket":   "--umask 007",
		"--post-buffering": "--stream-request-body",
	})
}

// A TARGET that is an ini file says what to do with uWSGI's and with
// PasteDeploy's, naming the factory its [app:main] uses.
func TestIniTargetSaysWhatToDoInstead(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ content, want string }{
		"uwsgi.ini":         {"[uwsgi]\nmodule = mysite.wsgi\n", uwsgiINIInstead},
		"app.ini":           {"# uWSGI\n[uwsgi]\nhttp = :8000\n", uwsgiINIInstead},
		"missing-uwsgi.ini": {"", uwsgiINIInstead},
		"development.ini": {"[app:main]\nuse = egg:my-project#main\npyramid.reload_templates = true\n[server:main]\nuse = egg:waitress#main\n",
			"`wsgo run my_project:main({})`"},
		"call.ini":    {"[app:main]\nuse = call:myapp.web:make_app\n", "`wsgo run myapp.web:make_app({})`"},
		"missing.ini": {"", "`wsgo run PACKAGE:main({})`"},
	} {
		path := filepath.Join(dir, name)
		if tc.content != "" {
			writeTestFile(t, path, tc.content)
		}
		if got := iniInstead(path); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q; want %q", name, got, tc.want)
		}
	}
}

// -w and -b are gunicorn's in wsgo (--workers, --bind); a uWSGI user's
// module after -w, or buffer size after -b, is answered with what uWSGI
// meant. A value that is no such thing gets the plain error.
func TestUWSGIShortFlagsThatClashSayWhatUWSGIMeant(t *testing.T) {
	const module = "uWSGI's -w names the app, which wsgo takes as its TARGET: `wsgo run "
	const bufferSize = "uWSGI's -b (--buffer-size) is --limit-request-line and --limit-request-field_size"
	for _, tc := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"-w", "app:application"}, `--workers "app:application": give a number of at least 1, or auto (one per CPU); -w is --workers in wsgo, as in gunicorn: ` + module + "app:application`", ""},
		{[]string{"app.py", "-w", "mysite.wsgi"}, module + "mysite.wsgi`", ""},
		{[]string{"app.py", "-w", "0"}, `--workers "0": give a number of at least 1, or auto`, "uWSGI"},
		{[]string{"app.py", "-b", "8000"}, `--bind "8000": missing port in address`, ""},
		{[]string{"app.py", "-b", "8000"}, "a port alone is :8000", ""},
		{[]string{"app.py", "-b", "32768"}, bufferSize, ""},
		{[]string{"app.py", "-b", "garbage"}, `--bind "garbage": missing port in address`, "uWSGI"},
	} {
		_, err := parse(t, tc.args...)
		what := strings.Join(tc.args, " ")
		usageError(t, what, err, tc.want)
		if tc.not != "" && err != nil && strings.Contains(err.Error(), tc.not) {
			t.Errorf("%s: error %v; want no mention of %s", what, err, tc.not)
		}
	}
}
