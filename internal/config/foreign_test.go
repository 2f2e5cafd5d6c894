package config

import (
	"strings"
	"testing"
)

// A command line of another server's reports every flag wsgo does not
// take at once, and says the whole line in wsgo's words when it can.
func TestForeignCommandLineIsReportedWholeAndTranslated(t *testing.T) {
	for _, tc := range []struct {
		args  string
		wants []string
		line  string // "": none can be said
	}{
		{"--http :9340 --wsgi-file myapp.py --callable app --processes 4 --threads 2",
			[]string{"4 unknown flags:\n", "\n  --http: uWSGI's --http is --bind", "\n  --wsgi-file: give the file", "\n  --callable: name the callable",
				"\n  --processes: uWSGI's --processes is --workers"},
			"wsgo run myapp.py:app -b :9340 -w 4 --threads 2"},
		{"--master --enable-threads --module mysite.wsgi --http-socket=127.0.0.1:8000 --uid www --vacuum --harakiri 30",
			[]string{"7 unknown flags:"}, "wsgo run mysite.wsgi -b 127.0.0.1:8000 --user www --timeout 30"},
		{"--listen=127.0.0.1:9350 myapp:app", []string{"unknown flag --listen=127.0.0.1:9350: waitress's --listen HOST:PORT is --bind"},
			"wsgo run myapp:app -b 127.0.0.1:9350"},
		{"--host 127.0.0.1 --port 9350 --call --url-prefix /app --max-request-body-size 1000 --threads 4 myapp:create_app",
			[]string{"5 unknown flags:"}, "wsgo run 'myapp:create_app()' -b 127.0.0.1:9350 --root-path /app --max-body-size 1000 --threads 4"},
		{"--port 9350 --unix-socket /run/app.sock myapp:app", []string{"2 unknown flags:"}, "wsgo run myapp:app -b 0.0.0.0:9350 -b unix:/run/app.sock"},
		{"--venv /srv/venv app.py", []string{"unknown flag --venv: uWSGI's --venv is --virtualenv in wsgo"}, "wsgo run app.py --virtualenv /srv/venv"},
		{"--reuse-port app.py -w 2", []string{"unknown flag --reuse-port: not needed"}, "wsgo run app.py -w 2"},
		// not every flag has an equivalent, or no TARGET results: no line
		{"--socket :3031 --module mysite.wsgi --processes 2", []string{"3 unknown flags:", "--socket: wsgo speaks HTTP"}, ""},
		{"--http :9340 --bnd :8000 app.py", []string{"2 unknown flags:", "\n  --bnd; did you mean --bind?"}, ""},
		{"--http :9340 --processes 4", []string{"2 unknown flags:"}, ""},
		{"--listen 1024 --connection-limit 100 app.py", []string{"uWSGI's --listen is the backlog", "--connection-limit: wsgo holds any number"}, ""},
	} {
		_, err := Interspersed(append([]string{"wsgo", "run"}, strings.Fields(tc.args)...))
		if err == nil {
			t.Errorf("%s: no error", tc.args)
			continue
		}
		msg := err.Error()
		for _, want := range tc.wants {
			if !strings.Contains(msg, want) {
				t.Errorf("%s:\n%s\nwant %q", tc.args, msg, want)
			}
		}
		if said := strings.Contains(msg, "In wsgo's words"); tc.line == "" && said {
			t.Errorf("%s:\n%s\nwant no line in wsgo's words", tc.args, msg)
		} else if tc.line != "" && !strings.Contains(msg, "\nIn wsgo's words: `"+tc.line+"`\n") {
			t.Errorf("%s:\n%s\nwant the line `%s`", tc.args, msg, tc.line)
		}
	}
}

// waitress-serve's flags say what wsgo takes instead; its --listen
// HOST:PORT is told from uWSGI's --listen BACKLOG by the value.
func TestWaitressFlagsSayWhatWsgoDoesInstead(t *testing.T) {
	expectInstead(t, map[string]string{
		"--listen=127.0.0.1:9350":         "waitress's --listen HOST:PORT is --bind in wsgo",
		"--listen=128":                    "uWSGI's --listen is the backlog",
		"--host":                          "--bind HOST:PORT",
		"--port":                          "--bind HOST:PORT",
		"--call":                          "`wsgo run module:create_app()`",
		"--unix-socket":                   "--bind unix:PATH",
		"--url-prefix":                    "--root-path",
		"--max-request-body-size":         "--max-body-size",
		"--connection-limit":              "--queue-size",
		"--channel-timeout":               "--keep-alive",
		"--trusted-proxy":                 "--forwarded-allow-ips",
		"--expose-tracebacks":             "--debug",
		"--max-request-header-size":       "--limit-request-line",
		"--clear-untrusted-proxy-headers": "--forwarded-allow-ips",
	})
}

// gunicorn's -c python:MODULE is not read: wsgo says to give the file.
func TestConfigPythonModuleSaysToGiveTheFile(t *testing.T) {
	_, err := parse(t, "-c", "python:settings.gunicorn", "app.py")
	usageError(t, "-c python:settings.gunicorn", err, `wsgo run: --config "python:settings.gunicorn": wsgo reads a configuration file by its path, `+
		"not gunicorn's python:MODULE; give the module's file: --config settings/gunicorn.py")
}
