package e2e

// Tests of how the command line becomes one configuration: paths are
// taken from the directory wsgo was started in, and a bad flag stops wsgo
// before any worker imports the app.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startIn runs `wsgo run ARGS... --bind 127.0.0.1:0` in dir and waits for
// its start line.
func startIn(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return awaitStart(t, launchProgramIn(t, dir, nil, binary, append(append([]string{"run"}, args...), "--bind", "127.0.0.1:0")...))
}

func TestRelativePathsAreTakenFromTheStartDirectoryNotChdir(t *testing.T) {
	startDir, appDir := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(startDir, "public"), 0o755)
	os.WriteFile(filepath.Join(startDir, "public", "hello.txt"), []byte("from the start directory"), 0o644)
	// The same names under the app's directory, which --chdir moves into,
	// must not be what is used.
	os.MkdirAll(filepath.Join(appDir, "public"), 0o755)
	os.WriteFile(filepath.Join(appDir, "public", "hello.txt"), []byte("from the app directory"), 0o644)
	os.WriteFile(filepath.Join(appDir, "app.py"), []byte(frontApp), 0o644)

	s := startIn(t, startDir, "--chdir", appDir, "--static", "/s=public", "--access-log", "access.log", "app:application")
	if resp, body := s.get("/s/hello.txt"); resp.StatusCode != 200 || body != "from the start directory" {
		t.Errorf("GET /s/hello.txt: %d %q; want 200 from the start directory", resp.StatusCode, body)
	}
	s.get("/logged")
	want := filepath.Join(startDir, "access.log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(want)
		if strings.Contains(string(b), "GET /logged ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no line for GET /logged: %q", want, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(appDir, "access.log")); err == nil {
		t.Errorf("an access log was written in the --chdir directory too")
	}
}

func TestBadFlagsExit2BeforeAnyWorkerStarts(t *testing.T) {
	// The app says when it is imported: a bad flag must stop wsgo first.
	app := writeApp(t, "app.py", "import sys\nprint('APP IMPORTED', file=sys.stderr, flush=True)\n"+frontApp)
	dir := t.TempDir() // no virtualenv
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--keep-alive", "-1"}, `wsgo run: --keep-alive "-1": give a whole number of at least 0`},
		{[]string{"--chdir", "/no/such/dir"}, `wsgo run: --chdir "/no/such/dir": not a directory`},
		{[]string{"--virtualenv", dir}, `wsgo run: --virtualenv "` + dir + `": not a virtualenv: it has no pyvenv.cfg`},
		{[]string{"--pid", "/no/such/dir/wsgo.pid"}, `wsgo run: --pid "/no/such/dir/wsgo.pid": its directory /no/such/dir does not exist`},
		{[]string{"--pid", dir}, `wsgo run: --pid "` + dir + `": a directory; give a file in it`},
		{[]string{"--access-log-format", "jsn"}, `--access-log-format "jsn": use combined or json`},
		{[]string{"--static", "/s=no-such-dir"}, `wsgo run: --static "/s=no-such-dir": cannot use the directory`},
		{[]string{"--forwarded-allow-ips", "not-an-ip"}, "not-an-ip"},
		{[]string{"--limit-request-line", "65537"}, `wsgo run: --limit-request-line "65537": give a whole number of bytes from 1 to 65536 (0 means 65536`},
		{[]string{"--limit-request-fields", "0"}, `wsgo run: --limit-request-fields "0": give a whole number of at least 1`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out := cliExit(t, nil, append(append([]string{"run"}, tc.args...), "--workers", "2", app)...)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d; want 2 and %q in:\n%s", code, tc.want, out)
			}
			for _, early := range []string{"APP IMPORTED", "worker 1"} {
				if strings.Contains(out, early) {
					t.Errorf("%q appears before the usage error:\n%s", early, out)
				}
			}
		})
	}
}

// A malformed --bind is a usage error before anything starts, naming the
// flag, the variable or the configuration file's setting it came from.
func TestMalformedBindExits2BeforeAnyWorkerStarts(t *testing.T) {
	app := writeApp(t, "app.py", "import sys\nprint('APP IMPORTED', file=sys.stderr, flush=True)\n"+frontApp)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "wsgo.conf.py"), []byte("bind = ['127.0.0.1:0', 'localhost:8000:1']\n"), 0o644)
	const forms = "; use HOST:PORT, :PORT, [IPV6]:PORT, tcp://HOST:PORT, unix:PATH or fd://N"
	for _, tc := range []struct {
		name string
		dir  string
		env  []string
		args []string
		want string
	}{
		{"--bind garbage", "", nil, []string{"--bind", "garbage"}, `wsgo run: --bind "garbage": missing port in address` + forms},
		{"-b host:port:extra", "", nil, []string{"-b", "host:port:extra"}, `wsgo run: --bind "host:port:extra": too many colons in address` + forms},
		{"WSGO_BIND", "", []string{"WSGO_BIND=garbage"}, nil, `wsgo run: WSGO_BIND="garbage": missing port in address` + forms},
		{"the file's bind", dir, nil, nil, `wsgo run: wsgo.conf.py: bind = localhost:8000:1: too many colons in address` + forms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := launchProgramIn(t, tc.dir, tc.env, binary, append(append([]string{"run"}, tc.args...), "--workers", "2", app)...)
			code, ok := s.wait(10 * time.Second)
			out := s.logs.String()
			if !ok || code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d; want 2 and %q in:\n%s", code, tc.want, out)
			}
			for _, early := range []string{"APP IMPORTED", "worker 1"} {
				if strings.Contains(out, early) {
					t.Errorf("%q appears before the usage error:\n%s", early, out)
				}
			}
		})
	}
}

// gunicorn's limit_request_line = 0 (unlimited) starts wsgo, which takes
// its largest, 64 KiB, and says so; a line past gunicorn's 8190 is served.
func TestGunicornsUnlimitedRequestLineIsTheLargest(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "gunicorn.conf.py")
	os.WriteFile(conf, []byte("limit_request_line = 0\nlimit_request_field_size = 0\n"), 0o644)
	s := frontStart(t, nil, "--config", conf)
	long := "/" + strings.Repeat("a", 20000)
	if resp, _ := s.get(long); resp.StatusCode != 200 {
		t.Errorf("GET of a 20000-byte path: %d; want 200", resp.StatusCode)
	}
	if resp, _ := s.get("/" + strings.Repeat("a", 70000)); resp.StatusCode != 414 {
		t.Errorf("GET of a 70000-byte path: %d; want 414", resp.StatusCode)
	}
	want := "wsgo: " + conf + ": limit_request_line 0 is wsgo's largest, 65536 bytes"
	if !strings.Contains(s.logs.String(), want) {
		t.Errorf("the start does not say %q:\n%s", want, s.logs.String())
	}
}
