package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"wsgo/internal/exitcode"
)

// parse runs `wsgo run ARGS...` through urfave/cli as main does.
func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	return ParseArgs(args...)
}

func TestPathsAreMadeAbsoluteAgainstTheStartDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.Mkdir("public", 0o755)
	os.Mkdir("src", 0o755)
	o, err := parse(t, "app.py", "--chdir", "src", "--static", "/s=public", "--access-log", "logs/../access.log",
		"--pid", "wsgo.pid", "--reload-extra-file", "settings.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{o.Python.Chdir, o.Front.Static[0].Dir, o.AccessLog, o.PidFile, o.ReloadExtraFiles[0]}
	want := []string{"src", "public", "access.log", "wsgo.pid", "settings.toml"}
	for i := range want {
		want[i] = filepath.Join(dir, want[i])
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths %q; want %q", got, want)
	}
}

func TestEveryFlagHasAWSGOVariable(t *testing.T) {
	for _, f := range RunFlags() {
		name := f.Names()[0]
		env := "WSGO_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		withVars, ok := f.(interface{ GetEnvVars() []string })
		if !ok {
			t.Fatalf("--%s: a flag type this test does not know", name)
		}
		vars := withVars.GetEnvVars()
		if !slices.Contains(vars, env) {
			t.Errorf("--%s is not read from %s (it reads %v)", name, env, vars)
		}
	}
}

func TestThreadsUpToTheirMost(t *testing.T) {
	if o, err := parse(t, "app.py", "--threads", "1024"); err != nil || o.Threads != 1024 {
		t.Errorf("--threads 1024: %v; want 1024 threads", err)
	}
}

// gunicorn's 0 (unlimited) for the request line and a header field is
// wsgo's largest, said at start; more than that is refused.
func TestHeadLimitsZeroIsTheLargest(t *testing.T) {
	t.Setenv("WSGO_LIMIT_REQUEST_FIELD_SIZE", "0")
	o, err := parse(t, "app.py", "--limit-request-line", "0")
	if err != nil {
		t.Fatal(err)
	}
	if o.Front.LimitRequestLine != 65536 || o.Front.LimitRequestFieldSize != 65536 {
		t.Errorf("limits %d and %d; want 65536", o.Front.LimitRequestLine, o.Front.LimitRequestFieldSize)
	}
	want := []string{"wsgo: --limit-request-line 0 is wsgo's largest, 65536 bytes: wsgo holds a request's head in memory, so it has no unlimited as gunicorn has",
		"wsgo: WSGO_LIMIT_REQUEST_FIELD_SIZE 0 is wsgo's largest, 65536 bytes: wsgo holds a request's head in memory, so it has no unlimited as gunicorn has"}
	if !slices.Equal(o.Notes, want) {
		t.Errorf("notes %q; want %q", o.Notes, want)
	}
	_, err = parse(t, "app.py", "--limit-request-line", "65537")
	usageError(t, "--limit-request-line 65537", err, `--limit-request-line "65537": give a whole number of bytes from 1 to 65536 (0 means 65536`)
}

func TestVariablesSetOptions(t *testing.T) {
	t.Setenv("WSGO_THREADS", "7")
	t.Setenv("WSGO_TIMEOUT", "30")
	t.Setenv("WSGO_KEEP_ALIVE", "0")
	o, err := parse(t, "app.py")
	if err != nil {
		t.Fatal(err)
	}
	if o.Threads != 7 || o.Timeout != 30*time.Second || o.Front.KeepAlive != -1 {
		t.Errorf("threads %d, timeout %v, keep-alive %v; want 7, 30s, -1 (one request per connection)",
			o.Threads, o.Timeout, o.Front.KeepAlive)
	}
}

// A boolean variable takes yes, no, on and off too, as environment files
// spell them; a flag on the command line overrides it.
func TestBooleanVariablesTakeYesNoOnOff(t *testing.T) {
	for k, v := range map[string]string{"WSGO_RELOAD": "yes", "WSGO_STRICT": "Off", "WSGO_DEBUG": "on", "WSGO_STREAM_REQUEST_BODY": "1"} {
		t.Setenv(k, v)
	}
	if o, err := parse(t, "app.py"); err != nil || !o.Reload || o.Strict || !o.Front.Debug || !o.Front.StreamRequestBody {
		t.Errorf("%v, %+v; want reload, debug and stream-request-body on, strict off", err, o)
	}
	t.Setenv("WSGO_PRELOAD", "no")
	if o, err := parse(t, "app.py", "--strict"); err != nil || !o.Strict {
		t.Errorf("--strict over WSGO_STRICT=Off: %v; want strict", err)
	}
}

func TestBadValuesAreUsageErrorsNamingTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--workers", "0"}, `--workers "0": give a number of at least 1, or auto`},
		{[]string{"--keep-alive", "-1"}, `--keep-alive "-1": give a whole number of at least 0`},
		{[]string{"--stall-timeout", "0"}, `--stall-timeout "0": give a whole number of at least 1`},
		{[]string{"--access-log-format", "jsn"}, `--access-log-format "jsn": use combined or json`},
		{[]string{"--access-log", "/no/such/dir/a.log"}, `--access-log "/no/such/dir/a.log": open /no/such/dir/a.log: no such file`},
		{[]string{"--static", "s=public"}, `--static "s=public": the URL prefix must start with /`},
		{[]string{"--keyfile", "key.pem"}, "TLS needs both --certfile and --keyfile"},
		{[]string{"--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"--worker-sched", "fifo"}, `--worker-sched "fifo": use batch or normal`},
		{[]string{"--env", "NOEQUALS"}, `--env "NOEQUALS": give KEY=VALUE`},
		{[]string{"--config", "nothere.py"}, `--config "nothere.py": no such file (from `},
		{[]string{"--reload", "--reload-extra-file", "/no/such/dir/x.toml"}, `--reload-extra-file "/no/such/dir/x.toml": its directory /no/such/dir does not exist; create it, or correct the path`},
		// The kernel would refuse the second as an address in use.
		{[]string{"-b", "127.0.0.1:8000", "-b", "127.0.0.1:8000"}, `--bind "127.0.0.1:8000": --bind 127.0.0.1:8000 already listens there; give each address once`},
		{[]string{"-b", "127.0.0.1:8000", "-b", "tcp://127.0.0.1:8000"}, `--bind "tcp://127.0.0.1:8000": --bind 127.0.0.1:8000 already listens there`},
		{[]string{"-b", ":8000", "-b", "127.0.0.1:8000"}, `--bind "127.0.0.1:8000": --bind :8000 already listens there`},
		{[]string{"-b", "[::1]:8000", "-b", "[::]:8000"}, `--bind "[::]:8000": --bind [::1]:8000 already listens there`},
		{[]string{"-b", ":8000", "-b", "[::]:8000"}, `--bind "[::]:8000": --bind :8000 already listens there`},
		{[]string{"-b", "127.0.0.1:8000", "-b", "0.0.0.0:8000"}, `--bind "0.0.0.0:8000": --bind 127.0.0.1:8000 already listens there`},
		{[]string{"-b", "unix:/tmp/w.sock", "-b", "unix:/tmp/w.sock"}, `--bind "unix:/tmp/w.sock": --bind unix:/tmp/w.sock already listens there`},
		{[]string{"-b", "127.0.0.1:8000", "--metrics-bind", "127.0.0.1:8000"}, `--metrics-bind "127.0.0.1:8000": --bind 127.0.0.1:8000 already listens there; give the metrics an address of their own`},
	} {
		_, err := parse(t, append([]string{"app.py"}, tc.args...)...)
		usageError(t, strings.Join(tc.args, " "), err, tc.want)
	}
}

// --reload-extra-file does nothing without --reload: a warning says so.
func TestReloadExtraFileWithoutReloadWarns(t *testing.T) {
	const want = "wsgo: --reload-extra-file is watched only with --reload, which is off: add --reload, or leave --reload-extra-file out"
	for _, tc := range []struct {
		args []string
		warn bool
	}{
		{[]string{"app.py", "--reload-extra-file", "settings.toml"}, true},
		{[]string{"app.py", "--reload-extra-file", "settings.toml", "--reload"}, false},
	} {
		o, err := parse(t, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(o.Warnings, want) != tc.warn {
			t.Errorf("%v: warnings %q; want the warning: %v", tc.args, o.Warnings, tc.warn)
		}
	}
}

// Addresses that cannot both be listened on are refused; those that can pass.
func TestBindsThatDoNotOverlapPass(t *testing.T) {
	for _, binds := range [][]string{
		{"127.0.0.1:8000", "127.0.0.1:8001"},
		{"127.0.0.1:8000", "127.0.0.2:8000"},
		{"0.0.0.0:8000", "[::1]:8000"},
		{"0.0.0.0:8000", "[::]:8000"}, // each listens on its family only: both, as waitress's --ipv4 --ipv6
		{"[::]:8000", "127.0.0.1:8000"},
		{"127.0.0.1:0", ":0"},
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"unix:/tmp/a.sock", "unix:/tmp/b.sock"},
	} {
		if _, err := parse(t, "app.py", "-b", binds[0], "-b", binds[1]); err != nil {
			t.Errorf("%v: %v", binds, err)
		}
	}
}

// A value of --env is one KEY=VALUE, commas and all, as gunicorn's -e is;
// WSGO_ENV holds several, a comma starting a pair only before NAME=, and
// a flag replaces it.
func TestEnvValuesKeepTheirCommas(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want []string
	}{
		{"", []string{"-e", "ALLOWED_HOSTS=a.com,b.com"}, []string{"ALLOWED_HOSTS=a.com,b.com"}},
		{"", []string{"--env=FOO=1,A=2", "-e", "B=x"}, []string{"FOO=1,A=2", "B=x"}},
		{"WSGO_ENV=FOO=1,ALLOWED_HOSTS=a.com, b.com ,B=", nil, []string{"FOO=1", "ALLOWED_HOSTS=a.com, b.com", "B="}},
		{"WSGO_ENV=FOO=1", []string{"-e", "B=2,3"}, []string{"B=2,3"}},
	} {
		t.Run(tc.env+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			for _, k := range []string{"FOO", "A", "B", "ALLOWED_HOSTS"} {
				t.Setenv(k, "") // parse sets them in this process: restored after
			}
			if k, v, ok := strings.Cut(tc.env, "="); ok {
				t.Setenv(k, v)
			}
			o, err := parse(t, append(tc.args, "app.py")...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.Python.Env, tc.want) {
				t.Errorf("env %q; want %q", o.Python.Env, tc.want)
			}
		})
	}
}

// --chdir, --virtualenv and --pid that are what they should be pass the
// master's checks (TestBadValuesNameWhereTheyCameFrom has those that fail).
func TestGoodPathsPass(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pyvenv.cfg"), nil, 0o644)
	old := t.TempDir() // virtualenv's old layout, without pyvenv.cfg
	os.MkdirAll(filepath.Join(old, "lib", "python3.11"), 0o755)
	for _, venv := range []string{dir, old} {
		if _, err := parse(t, "app.py", "--virtualenv", venv, "--chdir", dir, "--pid", filepath.Join(dir, "wsgo.pid")); err != nil {
			t.Errorf("--virtualenv %s: %v", venv, err)
		}
	}
}

// The help is shown however it is asked for, and a topic that is no
// command is a usage error.
func TestHelpAnywhere(t *testing.T) {
	for _, tc := range []struct{ args, want []string }{
		{[]string{"help"}, []string{"--help"}},
		{[]string{"help", "check"}, []string{"check", "--help"}},
		{[]string{"run", "myapp:app", "--threads", "4", "--help"}, []string{"run", "--help"}},
		{[]string{"check", "myapp:app", "-h"}, []string{"check", "--help"}},
	} {
		got, err := Interspersed(append([]string{"wsgo"}, tc.args...))
		if want := append([]string{"wsgo"}, tc.want...); err != nil || !slices.Equal(got, want) {
			t.Errorf("Interspersed(%q) = %q, %v; want %q", tc.args, got, err, want)
		}
	}
	_, err := Interspersed([]string{"wsgo", "help", "rn"})
	usageError(t, "wsgo help rn", err, "wsgo help: no command \"rn\"; did you mean `wsgo help run`?")
}

func TestInterspersedPutsTheTargetAfterTheFlags(t *testing.T) {
	got, err := Interspersed([]string{"wsgo", "run", "app.py", "-b", ":80", "--reload", "--threads=4", "-w", "2", "-e", "A=1", "--access-logfile", "-"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"wsgo", "run", "--bind=:80", "--reload", "--threads=4", "--workers=2", "--env=A=1", "--access-log=-", "--", "app.py"}
	if !slices.Equal(got, want) {
		t.Errorf("Interspersed = %q; want %q", got, want)
	}
}

// A short flag's value may be attached, as gunicorn takes it; a long
// flag with one dash is still a long flag, or a near miss of one.
func TestInterspersedTakesAttachedShortValues(t *testing.T) {
	got, err := Interspersed([]string{"wsgo", "run", "-w2", "-b127.0.0.1:8000", "-t30", "-eA=1,2", "-threads=4", "app.py"})
	want := []string{"wsgo", "run", "--workers=2", "--bind=127.0.0.1:8000", "--timeout=30", "--env=A=1,2", "--threads=4", "--", "app.py"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Interspersed = %q, %v; want %q", got, err, want)
	}
	_, err = Interspersed([]string{"wsgo", "run", "-threds", "4", "app.py"})
	usageError(t, "-threds", err, "unknown flag -threds; did you mean --threads?")
	_, err = Interspersed([]string{"wsgo", "run", "-paste", "x.ini"})
	usageError(t, "-paste", err, "unknown flag -paste: wsgo serves a module:callable TARGET")
}

// usageError checks that err is a usage error (exit 2) containing want.
func usageError(t *testing.T, what string, err error, want string) {
	t.Helper()
	var ec *exitcode.Error
	if !errors.As(err, &ec) || ec.Code != exitcode.Usage || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: error %v; want a usage error containing %q", what, err, want)
	}
}

// An error names the value as the user gave it: the flag, the variable,
// and the accepted range; a flag wins over its variable, so names it.
func TestBadValuesNameWhereTheyCameFrom(t *testing.T) {
	dir := t.TempDir() // a directory that is no virtualenv
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"WSGO_WORKERS=0"}, nil, `wsgo run: WSGO_WORKERS="0": give a number of at least 1, or auto`},
		{[]string{"WSGO_WORKERS=0"}, []string{"-w", "-1"}, `wsgo run: --workers "-1": give a number of at least 1`},
		{nil, []string{"--threads", "-1"}, `wsgo run: --threads "-1": give a whole number from 1 to 1024`},
		{nil, []string{"--threads", "1025"}, `wsgo run: --threads "1025": give a whole number from 1 to 1024: each is an OS thread`},
		{[]string{"WSGO_THREADS=20000"}, nil, `wsgo run: WSGO_THREADS="20000": give a whole number from 1 to 1024`},
		{[]string{"WSGO_QUEUE_SIZE=0"}, nil, `wsgo run: WSGO_QUEUE_SIZE="0": give a whole number of at least 1`},
		{[]string{"WSGO_TIMEOUT=-5"}, nil, `wsgo run: WSGO_TIMEOUT="-5": give a whole number of at least 0`},
		{nil, []string{"--max-body-size=-1"}, `wsgo run: --max-body-size "-1": give a whole number of at least 0`},
		{[]string{"WSGO_MAX_RESPONSE_SPOOL=0"}, nil, `wsgo run: WSGO_MAX_RESPONSE_SPOOL="0": give a whole number of at least 1`},
		{nil, []string{"--threads", "x"}, `wsgo run: --threads "x": give a whole number from 1 to 1024`},
		{[]string{"WSGO_THREADS=abc"}, nil, `wsgo run: WSGO_THREADS="abc": give a whole number from 1 to 1024`},
		{[]string{"WSGO_MAX_BODY_SIZE=1k"}, nil, `wsgo run: WSGO_MAX_BODY_SIZE="1k": give a whole number of at least 0`},
		{nil, []string{"--timeout=30s"}, `wsgo run: --timeout "30s": give a whole number of at least 0`},
		{nil, []string{"--static-max-age", "10000000000"}, `wsgo run: --static-max-age "10000000000": give a whole number of at least 0, at most 9223372036 (seconds: 292 years)`},
		{[]string{"WSGO_TIMEOUT=9223372037"}, nil, `wsgo run: WSGO_TIMEOUT="9223372037": give a whole number of at least 0, at most 9223372036`},
		{nil, []string{"--strict", "false"}, "wsgo run: --strict false: write --strict=false; a flag that is true or false"},
		{nil, []string{"--preload-app", "True"}, "wsgo run: --preload-app True: write --preload=true;"},
		{nil, []string{"--strict=maybe"}, `wsgo run: --strict "maybe": give true or false`},
		{[]string{"WSGO_RELOAD=maybe"}, nil, `wsgo run: WSGO_RELOAD="maybe": give true or false (also 1 or 0, yes or no, on or off)`},
		{[]string{"WSGO_LOG_LEVEL=loud"}, nil, `wsgo run: WSGO_LOG_LEVEL="loud": use debug, info, warning, error or critical`},
		{[]string{"FORWARDED_ALLOW_IPS=localhost"}, nil, `wsgo run: FORWARDED_ALLOW_IPS="localhost": bad entry "localhost"`},
		{[]string{"VIRTUAL_ENV=/no/such/venv"}, nil, `wsgo run: VIRTUAL_ENV="/no/such/venv": not a directory`},
		{[]string{"WSGO_UMASK=999"}, nil, `wsgo run: WSGO_UMASK="999": give an octal mode from 0 to 777`},
		{nil, []string{"--chdir", "/no/such/dir"}, `wsgo run: --chdir "/no/such/dir": not a directory; give the app's directory`},
		{[]string{"WSGO_CHDIR=/no/such/dir"}, nil, `wsgo run: WSGO_CHDIR="/no/such/dir": not a directory`},
		{nil, []string{"--virtualenv", dir}, `wsgo run: --virtualenv "` + dir + `": not a virtualenv: it has no pyvenv.cfg`},
		{[]string{"VIRTUAL_ENV=" + dir}, nil, `wsgo run: VIRTUAL_ENV="` + dir + `": not a virtualenv`},
		{nil, []string{"--pid", "/no/such/dir/x.pid"}, `wsgo run: --pid "/no/such/dir/x.pid": its directory /no/such/dir does not exist; create it`},
		{nil, []string{"--pid", dir}, `wsgo run: --pid "` + dir + `": a directory; give a file in it, e.g. ` + dir + `/wsgo.pid`},
		{nil, []string{"-p", "4"}, `wsgo run: --pid "4": a number where the pid file's path goes: -p is gunicorn's --pid, while uWSGI's -p is its number of processes, which is --workers (-w) here; for a pid file of that name, give ./4`},
		{[]string{"WSGO_PID=2"}, nil, `wsgo run: WSGO_PID="2": a number where the pid file's path goes`},
		{[]string{"WSGO_PROXY_PROTOCOL=v3"}, nil, `wsgo run: WSGO_PROXY_PROTOCOL="v3": use off, v1, v2 or auto`},
		{nil, []string{"--proxy-protocol=v3"}, `wsgo run: --proxy-protocol "v3": use off, v1, v2 or auto`},
		{[]string{"WSGO_PROXY_PROTOCOL=v2"}, []string{"--forwarded-allow-ips", ""}, "wsgo run: WSGO_PROXY_PROTOCOL needs the load balancers"},
		{[]string{"WSGO_CERTFILE=/no/such/cert.pem", "WSGO_KEYFILE=/no/such/key.pem"}, nil,
			"wsgo: cannot read WSGO_CERTFILE: open /no/such/cert.pem: no such file or directory"},
	} {
		t.Run(strings.Join(append(tc.env, tc.args...), " "), func(t *testing.T) {
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			_, err := parse(t, append([]string{"app.py"}, tc.args...)...)
			usageError(t, "", err, tc.want)
		})
	}
}

// --bind takes gunicorn's forms: tcp://HOST:PORT is HOST:PORT, unix://PATH
// is unix:PATH, fd://N an inherited listening socket.
func TestBindTakesGunicornsForms(t *testing.T) {
	o, err := parse(t, "app.py", "--bind", "tcp://127.0.0.1:8000", "-b", "unix:///run/app.sock", "-b", "fd://3",
		"-b", "[::1]:80", "-b", ":8080", "--metrics-bind", "tcp://127.0.0.1:9100")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1:8000", "unix:/run/app.sock", "fd://3", "[::1]:80", ":8080"}
	if !slices.Equal(o.Binds, want) || o.MetricsBind != "127.0.0.1:9100" {
		t.Errorf("binds %q, metrics %q; want %q and 127.0.0.1:9100", o.Binds, o.MetricsBind, want)
	}
}

// A malformed address is a usage error, before anything listens, naming
// where it came from and the forms there are.
func TestMalformedBindIsAUsageError(t *testing.T) {
	const forms = "; use HOST:PORT, :PORT, [IPV6]:PORT, tcp://HOST:PORT, unix:PATH or fd://N"
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"--bind", "garbage"}, `wsgo run: --bind "garbage": missing port in address` + forms},
		{"", []string{"-b", "host:port:extra"}, `wsgo run: --bind "host:port:extra": too many colons in address` + forms},
		{"", []string{"-b", "127.0.0.1:http"}, `wsgo run: --bind "127.0.0.1:http": the port must be a number from 0 to 65535` + forms},
		{"", []string{"-b", "unix:"}, `wsgo run: --bind "unix:": the socket path is empty`},
		{"", []string{"-b", "fd://three"}, `wsgo run: --bind "fd://three": the descriptor must be a number`},
		{"WSGO_BIND=:8000,garbage", nil, `wsgo run: WSGO_BIND="garbage": missing port in address` + forms},
		{"", []string{"--metrics-bind", "9100"}, `wsgo run: --metrics-bind "9100": missing port in address` + forms},
	} {
		t.Run(tc.env+strings.Join(tc.args, " "), func(t *testing.T) {
			if k, v, ok := strings.Cut(tc.env, "="); ok {
				t.Setenv(k, v)
			}
			_, err := parse(t, append([]string{"app.py"}, tc.args...)...)
			usageError(t, "", err, tc.want)
		})
	}
}

// gunicorn's --proxy-protocol MODE (24.1 and later) is taken as the
// flag's value and as WSGO_PROXY_PROTOCOL's: off is off, v1, v2 and auto
// are on, and so are a bare --proxy-protocol and a true boolean.
func TestGunicornsProxyProtocolModes(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want bool
	}{
		{"", []string{"--proxy-protocol", "v2", "app.py"}, true},
		{"", []string{"app.py", "--proxy-protocol", "off"}, false},
		{"", []string{"--proxy-protocol=Auto", "app.py"}, true},
		{"", []string{"--proxy-protocol", "app.py"}, true},
		{"", []string{"app.py", "--proxy-protocol"}, true},
		{"", []string{"app.py"}, false},
		{"WSGO_PROXY_PROTOCOL=v2", []string{"app.py"}, true},
		{"WSGO_PROXY_PROTOCOL=v1", []string{"app.py"}, true},
		{"WSGO_PROXY_PROTOCOL=auto", []string{"app.py"}, true},
		{"WSGO_PROXY_PROTOCOL=off", []string{"app.py"}, false},
		{"WSGO_PROXY_PROTOCOL=1", []string{"app.py"}, true},
		{"WSGO_PROXY_PROTOCOL=v2", []string{"app.py", "--proxy-protocol", "off"}, false},
	} {
		t.Run(tc.env+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			if k, v, ok := strings.Cut(tc.env, "="); ok {
				t.Setenv(k, v)
			}
			o, err := parse(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if o.Target != "app.py" || o.Front.ProxyProtocol != tc.want {
				t.Errorf("target %q, proxy protocol %v; want app.py, %v", o.Target, o.Front.ProxyProtocol, tc.want)
			}
		})
	}
}

// A flag that takes a value and is given none is a usage error. It used
// to take the -- that Interspersed puts before the TARGET (or the next
// flag) as its value: --error-logfile wrote a file named --.
func TestAFlagWithoutItsValueIsAUsageError(t *testing.T) {
	for _, args := range [][]string{
		{"app.py", "--error-logfile"},
		{"app.py", "--pid"},
		{"app.py", "--threads"},
		{"app.py", "-b"},
		{"--access-logfile", "--threads", "4", "app.py"},
		{"--pid", "--", "app.py"},
	} {
		flag := args[len(args)-1]
		if flag == "app.py" {
			flag = args[0]
		}
		_, err := parse(t, args...)
		usageError(t, strings.Join(args, " "), err, "wsgo run: "+flag+" needs a value: "+flag+" VALUE, or --")
	}
	// A value may begin with a dash: - is standard output.
	if o, err := parse(t, "app.py", "--access-logfile", "-"); err != nil || o.AccessLog != "-" {
		t.Errorf("--access-logfile -: %+v, %v; want standard output", o, err)
	}
}

// A bare --proxy-protocol is on; a word after it that is no MODE, beside
// a TARGET, is taken for a wrong MODE rather than a second TARGET.
func TestAWrongProxyProtocolModeIsNamed(t *testing.T) {
	for _, args := range [][]string{
		{"app.py", "--proxy-protocol", "v3"},
		{"--proxy-protocol", "v3", "app.py"},
	} {
		_, err := parse(t, args...)
		usageError(t, strings.Join(args, " "), err, `wsgo run: --proxy-protocol "v3": use off, v1, v2 or auto`)
	}
	if o, err := parse(t, "--proxy-protocol", "app.py"); err != nil || !o.Front.ProxyProtocol || o.Target != "app.py" {
		t.Errorf("--proxy-protocol app.py: %+v, %v; want the PROXY protocol on, for app.py", o, err)
	}
}

// uWSGI's -w MODULE advice is for what looks like a module, not any word.
func TestWorkersAdviceAboutUWSGIOnlyForAModule(t *testing.T) {
	t.Chdir(t.TempDir())
	writeTestFile(t, "app.py", "")
	const uwsgi = "uWSGI's -w names the app"
	for value, want := range map[string]bool{"four": false, "abc": false, "app": true, "app:application": true, "mysite.wsgi": true} {
		_, err := parse(t, "app.py", "-w", value)
		usageError(t, "-w "+value, err, "give a number of at least 1, or auto")
		if got := err != nil && strings.Contains(err.Error(), uwsgi); got != want {
			t.Errorf("-w %s: %v; want uWSGI's advice %v", value, err, want)
		}
	}
}
