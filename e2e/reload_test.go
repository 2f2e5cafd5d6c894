package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The log lines of --reload, as reload.go writes them.
const (
	reloadWatchingLine = `wsgo: reload: watching %d file\(s\) for changes`
	reloadChangedLine  = `wsgo: reload: (\S+) changed, reloading`
	reloadBrokenLine   = `wsgo: reload: the app failed to load; answering 500 until a save fixes it`
	reloadPublicLine   = `wsgo: --reload is a development feature and %s is not a loopback address`
)

// reloadAppSource is an app answering body on every path, plus /slow,
// which answers "slow " + body after announcing itself on stdout and
// sleeping: a request in flight when a save lands.
func reloadAppSource(body string) string {
	return fmt.Sprintf(`import time

BODY = %q


def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        print("slow request started", flush=True)
        time.sleep(1)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"slow " + BODY.encode()]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [BODY.encode()]
`, body)
}

// save writes a file the way editors do: a new file renamed over the old.
func save(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes a file in place, creating its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// awaitResponse polls path until it answers status with body, or fails
// the test after 15 s. It returns the last body seen.
func (s *server) awaitResponse(path string, status int, body string) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, got := s.get(path)
		if resp.StatusCode == status && (body == "" || got == body) {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("GET %s: still %d %q after 15 s; want %d %q", path, resp.StatusCode, got, status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// expectReloadsOnlyFor checks that reloads were logged, each for file.
// (Each process watching may log the same save, so it does not count them.)
func (s *server) expectReloadsOnlyFor(file string) {
	s.t.Helper()
	lines := regexp.MustCompile(reloadChangedLine).FindAllStringSubmatch(s.logs.String(), -1)
	if len(lines) == 0 {
		s.t.Errorf("no reload line logged")
	}
	for _, m := range lines {
		if m[1] != file {
			s.t.Errorf("a reload line names %s; want only %s", m[1], file)
		}
	}
}

// A save while a client requests in a loop: no request fails, the new
// response is served within a second of the save and the old one never
// again after it.
func TestReloadUnderARequestLoop(t *testing.T) {
	app := writeApp(t, "app.py", reloadAppSource("v1"))
	s := start(t, nil, app, "--reload")
	s.awaitResponse("/", 200, "v1")

	type result struct {
		at   time.Time
		body string
		err  error
	}
	var (
		mu      sync.Mutex
		results []result
		stop    = make(chan struct{})
		loop    sync.WaitGroup
	)
	loop.Add(1)
	go func() {
		defer loop.Done()
		client := &http.Client{Timeout: 30 * time.Second}
		for {
			select {
			case <-stop:
				return
			default:
			}
			r := result{}
			resp, err := client.Get(s.URL + "/")
			if err == nil {
				var b []byte
				b, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				r.body = fmt.Sprintf("%d %s", resp.StatusCode, b)
			}
			r.at, r.err = time.Now(), err
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}
	}()
	time.Sleep(200 * time.Millisecond) // the loop is under way on the old code

	saved := time.Now()
	save(t, app, reloadAppSource("v2"))
	s.awaitResponse("/", 200, "v2")
	time.Sleep(200 * time.Millisecond) // and goes on on the new code
	close(stop)
	loop.Wait()

	var firstNew time.Time
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("request at %s failed: %v", r.at.Format("15:04:05.000"), r.err)
		case r.body == "200 v2":
			if firstNew.IsZero() {
				firstNew = r.at
			}
		case r.body == "200 v1":
			if !firstNew.IsZero() {
				t.Errorf("old response at %s, after the new one at %s", r.at.Format("15:04:05.000"), firstNew.Format("15:04:05.000"))
			}
		default:
			t.Errorf("request at %s got %q", r.at.Format("15:04:05.000"), r.body)
		}
	}
	if firstNew.IsZero() || results[0].body != "200 v1" {
		t.Fatalf("the request loop did not see the old then the new response (%d requests)", len(results))
	}
	t.Logf("%d requests; new response %v after the save", len(results), firstNew.Sub(saved))
	if d := firstNew.Sub(saved); d > time.Second {
		t.Errorf("the new response came %v after the save; want within a second", d)
	}
	s.expectReloadsOnlyFor(app)
}

// A request in flight when a save lands finishes on the old code; the
// next one gets the new.
func TestReloadLetsRequestsInFlightFinish(t *testing.T) {
	app := writeApp(t, "app.py", reloadAppSource("v1"))
	s := start(t, nil, app, "--reload")
	slow := make(chan string, 1)
	go func() {
		resp, body := s.get("/slow")
		slow <- fmt.Sprintf("%d %s", resp.StatusCode, body)
	}()
	if !s.waitLog("slow request started", 15*time.Second) {
		t.Fatal("the slow request did not reach the app")
	}
	save(t, app, reloadAppSource("v2"))
	if got := <-slow; got != "200 slow v1" {
		t.Errorf("the request in flight during the reload got %q; want it finished on the old code: 200 slow v1", got)
	}
	s.awaitResponse("/", 200, "v2")
}

// A save that breaks the app keeps the server up: 500s with the traceback
// in the log, until the next good save, which is served.
func TestReloadBrokenSaveRecovers(t *testing.T) {
	for _, tc := range []struct {
		name, source, inLog string
	}{
		{"syntax error", "def application(environ, start_response:\n", "SyntaxError"},
		{"import error", "import no_such_module_xyz\n", "ModuleNotFoundError: No module named 'no_such_module_xyz'"},
		{"exception", "application = None\n1 / 0\n", "ZeroDivisionError: division by zero"},
		{"not callable", "application = 42\n", "is a int, not a callable WSGI app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := writeApp(t, "app.py", reloadAppSource("v1"))
			s := start(t, nil, app, "--reload")
			s.awaitResponse("/", 200, "v1")

			save(t, app, tc.source)
			s.awaitResponse("/", 500, "")
			if !s.waitLog(reloadBrokenLine, 15*time.Second) {
				t.Fatal("no log line says the app failed to load")
			}
			if !strings.Contains(s.logs.String(), tc.inLog) {
				t.Fatalf("log lacks the error (%q)", tc.inLog)
			}
			if _, body := s.get("/"); strings.Contains(body, tc.inLog) || !strings.Contains(body, "its traceback is in wsgo's log") {
				t.Errorf("the 500 shows the traceback without --debug, or does not say where it is: %q", body)
			}

			save(t, app, reloadAppSource("v2"))
			s.awaitResponse("/", 200, "v2")
		})
	}
}

// Under --reload an app that cannot be imported at start does not stop
// wsgo (exit 4): it answers 500 until the file is fixed.
func TestReloadStartsWithABrokenApp(t *testing.T) {
	app := writeApp(t, "app.py", "import no_such_module_xyz\n")
	s := start(t, nil, app, "--reload")
	if !s.waitLog(reloadBrokenLine, 15*time.Second) {
		t.Fatal("no log line says the app failed to load")
	}
	if !strings.Contains(s.logs.String(), "fix it and save: --reload is watching") {
		t.Error("the report does not say that a save is enough")
	}
	s.awaitResponse("/", 500, "")
	writeFile(t, app, reloadAppSource("fixed"))
	s.awaitResponse("/", 200, "fixed")
}

// A file that is not Python, and a Python file the app neither imports
// nor could (a subdirectory), change nothing; the app's file then does.
func TestReloadIgnoresUnrelatedFiles(t *testing.T) {
	app := writeApp(t, "app.py", reloadAppSource("v1"))
	dir := filepath.Dir(app)
	s := start(t, nil, app, "--reload")
	s.awaitResponse("/", 200, "v1")

	writeFile(t, filepath.Join(dir, "notes.txt"), "not Python")
	writeFile(t, filepath.Join(dir, "scripts", "tool.py"), "print('not imported')")
	save(t, filepath.Join(dir, "data.json"), "{}")
	time.Sleep(time.Second) // room for a wrong reload to be logged
	writeFile(t, app, reloadAppSource("v2"))
	s.awaitResponse("/", 200, "v2")
	s.expectReloadsOnlyFor(app)
}

func TestReloadExtraFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "settings.ini")
	writeFile(t, conf, "first")
	app := writeApp(t, "app.py", fmt.Sprintf(`
def application(environ, start_response):
    start_response("200 OK", [])
    return [SETTING]

with open(%q, "rb") as f:
    SETTING = f.read()
`, conf))
	s := start(t, nil, app, "--reload", "--reload-extra-file", conf)
	s.awaitResponse("/", 200, "first")
	writeFile(t, conf, "second")
	s.awaitResponse("/", 200, "second")
}

// Modules of the app reload it: one beside it, imported at start, and one
// in a package elsewhere, imported lazily by a request (as Django imports
// views), once wsgo has seen the import.
func TestReloadOnTheAppsModules(t *testing.T) {
	app := writeApp(t, "app.py", `
import helper


def application(environ, start_response):
    start_response("200 OK", [])
    if environ["PATH_INFO"] == "/lazy":
        from pkg import views
        return [views.NAME.encode()]
    return [helper.NAME.encode()]
`)
	dir := filepath.Dir(app)
	helper := filepath.Join(dir, "helper.py")
	writeFile(t, helper, `NAME = "helper v1"`)
	views := filepath.Join(dir, "pkg", "views.py")
	writeFile(t, filepath.Join(dir, "pkg", "__init__.py"), "")
	writeFile(t, views, `NAME = "views v1"`)

	s := start(t, nil, app, "--reload")
	s.awaitResponse("/", 200, "helper v1")
	save(t, helper, `NAME = "helper v2"`)
	s.awaitResponse("/", 200, "helper v2")

	s.awaitResponse("/lazy", 200, "views v1")
	// app.py, helper.py, then pkg/__init__.py and pkg/views.py: after the
	// restart above the count starts at 2 again.
	if !s.waitLog(fmt.Sprintf(reloadWatchingLine, 4), 15*time.Second) {
		t.Fatal("the lazily imported module is not watched")
	}
	save(t, views, `NAME = "views v2"`)
	s.awaitResponse("/lazy", 200, "views v2")
}

// A package the app imports but that does not exist yet (500, a
// ModuleNotFoundError) is seen when it is created beside the app, as the
// shell would: mkdir, an empty __init__.py, then the module; so is a later
// edit of its module.
func TestReloadSeesANewPackage(t *testing.T) {
	app := writeApp(t, "app.py", reloadAppSource("v1"))
	dir := filepath.Dir(app)
	s := start(t, nil, app, "--reload")
	s.awaitResponse("/", 200, "v1")

	save(t, app, `from mypkg import helper


def application(environ, start_response):
    start_response("200 OK", [])
    return [helper.H.encode()]
`)
	s.awaitResponse("/", 500, "")
	if !strings.Contains(s.logs.String(), "No module named 'mypkg'") {
		t.Fatal("the log lacks the ModuleNotFoundError")
	}
	pkg := filepath.Join(dir, "mypkg")
	if err := os.Mkdir(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(pkg, "__init__.py"), "")
	writeFile(t, filepath.Join(pkg, "helper.py"), `H = "x"`)
	s.awaitResponse("/", 200, "x")
	save(t, filepath.Join(pkg, "helper.py"), `H = "y"`)
	s.awaitResponse("/", 200, "y")
}

// A save right after a request imported a module (before wsgo watches
// it: Django imports its views on the first request) reloads the app.
func TestReloadSeesASaveRightAfterALazyImport(t *testing.T) {
	app := writeApp(t, "app.py", `
def application(environ, start_response):
    from pkg import views
    start_response("200 OK", [])
    return [views.NAME.encode()]
`)
	dir := filepath.Dir(app)
	views := filepath.Join(dir, "pkg", "views.py")
	writeFile(t, filepath.Join(dir, "pkg", "__init__.py"), "")
	writeFile(t, views, `NAME = "views v1"`)

	s := start(t, nil, app, "--reload")
	if _, body := s.get("/"); body != "views v1" {
		t.Fatalf("first request: %q; want views v1", body)
	}
	saved := time.Now()
	save(t, views, `NAME = "views v2"`)
	s.awaitResponse("/", 200, "views v2")
	if d := time.Since(saved); d > 5*time.Second {
		t.Errorf("the new view came %v after the save; want within 5 s", d)
	}
	s.expectReloadsOnlyFor(views)
}

// A unix socket survives the reload and is removed at the stop.
func TestReloadOnAUnixSocket(t *testing.T) {
	app := writeApp(t, "app.py", reloadAppSource("v1"))
	sock := cliSocketPath(t)
	s := start(t, nil, app, "--reload", "--bind", "unix:"+sock)
	client := cliUnixClient(sock)
	get := func() string {
		resp, err := client.Get("http://wsgo.test/")
		if err != nil {
			t.Fatalf("GET over the unix socket: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, b)
	}
	if got := get(); got != "200 v1" {
		t.Fatalf("got %q", got)
	}
	save(t, app, reloadAppSource("v2"))
	deadline := time.Now().Add(15 * time.Second)
	for get() != "200 v2" {
		if time.Now().After(deadline) {
			t.Fatal("the reload was not served on the unix socket")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket file is left after the stop (%v)", err)
	}
}

func TestReloadWarnsOnAPublicBind(t *testing.T) {
	app := writeApp(t, "app.py", reloadAppSource("v1"))
	s := start(t, nil, app, "--reload", "--bind", "0.0.0.0:0")
	if !s.waitLog(fmt.Sprintf(reloadPublicLine, regexp.QuoteMeta(s.URL)), 5*time.Second) {
		t.Error("no warning about --reload on 0.0.0.0")
	}
	local := start(t, nil, app, "--reload")
	if strings.Contains(local.logs.String(), "is a development feature") {
		t.Error("--reload on 127.0.0.1 warns")
	}
}

// reloadFailedLine is the master's line for a reload whose new worker
// could not start, as loop.go writes it under --reload.
const reloadFailedLine = `wsgo: reload \(the app's files changed\) failed: the new worker could not start; the old workers keep serving \(save a fix: --reload is watching\)`

// A save whose import hangs fails its reload (killed at
// --graceful-timeout), the old code serving meanwhile; the fix saved while
// that reload was still under way is loaded once it has failed.
func TestReloadAfterASaveThatHangs(t *testing.T) {
	app := writeApp(t, "app.py", reloadAppSource("v1"))
	s := start(t, nil, app, "--reload", "--graceful-timeout", "3")
	s.awaitResponse("/", 200, "v1")

	save(t, app, "import time\ntime.sleep(1000)\n"+reloadAppSource("hung"))
	if !s.waitLog(`reload \(the app's files changed\): starting 1 new worker`, 10*time.Second) {
		t.Fatal("the save was not reloaded")
	}
	time.Sleep(time.Second)
	save(t, app, reloadAppSource("v2"))
	if _, body := s.get("/"); body != "v1" {
		t.Errorf("while the hung import runs, got %q; want the old code's v1", body)
	}
	s.awaitResponse("/", 200, "v2")
	if !s.waitLog(reloadFailedLine, time.Second) {
		t.Error("no line says the reload failed and that a save is enough")
	}
	if strings.Contains(s.logs.String(), "SIGHUP") {
		t.Error("the log tells a --reload user to send SIGHUP")
	}
}

// A save that ends its worker while importing (os._exit) fails its
// reload; watching goes on, and the next save is served.
func TestReloadAfterASaveThatEndsTheWorker(t *testing.T) {
	app := writeApp(t, "app.py", reloadAppSource("v1"))
	s := start(t, nil, app, "--reload")
	s.awaitResponse("/", 200, "v1")

	save(t, app, "import os\nos._exit(3)\n")
	if !s.waitLog(reloadFailedLine, 15*time.Second) {
		t.Fatal("no line says the reload failed and that a save is enough")
	}
	s.awaitResponse("/", 200, "v1")
	save(t, app, reloadAppSource("v2"))
	s.awaitResponse("/", 200, "v2")
	save(t, app, reloadAppSource("v3"))
	s.awaitResponse("/", 200, "v3")
}

// A TARGET in a directory that does not exist cannot be fixed by a save
// there: under --reload wsgo says so exactly as without it, and exits 4,
// with no line of --reload's.
func TestReloadWithAMissingDirectory(t *testing.T) {
	target := filepath.Join(t.TempDir(), "r14", "app.py")
	normalize := regexp.MustCompile(`(?m)^\[[^]]*\] \[\d+\] |pid \d+`)
	var outputs []string
	for _, args := range [][]string{{target}, {target, "--reload"}} {
		s := launch(t, nil, args...)
		code, ok := s.wait(20 * time.Second)
		if !ok {
			t.Fatalf("wsgo run %s did not exit; output:\n%s", strings.Join(args, " "), s.logs.String())
		}
		if code != 4 {
			t.Errorf("wsgo run %s exited %d; want 4", strings.Join(args, " "), code)
		}
		outputs = append(outputs, normalize.ReplaceAllString(s.logs.String(), ""))
	}
	if !strings.Contains(outputs[0], "cannot find the app file") {
		t.Fatalf("without --reload, no line says the file is missing:\n%s", outputs[0])
	}
	if outputs[1] != outputs[0] {
		t.Errorf("under --reload the output differs; got\n%s\nwant\n%s", outputs[1], outputs[0])
	}
}

// Under --reload an app whose import hangs at start (no worker ready, no
// start line yet) is started afresh by the save that fixes it.
func TestReloadReplacesAnImportThatHangsAtStart(t *testing.T) {
	app := writeApp(t, "app.py", "import time\ntime.sleep(1000)\n"+reloadAppSource("hung"))
	s := launch(t, nil, app, "--reload")
	time.Sleep(1500 * time.Millisecond)
	save(t, app, reloadAppSource("v2"))
	awaitStart(t, s)
	s.awaitResponse("/", 200, "v2")
	if !s.waitLog(`reload \(the app's files changed\): worker 1 \(pid \d+\) was still importing the app; starting it afresh`, time.Second) {
		t.Error("no line says the importing worker is started afresh")
	}
	if strings.Contains(s.logs.String(), "ERROR") {
		t.Error("starting the worker afresh is logged as an error")
	}
}
