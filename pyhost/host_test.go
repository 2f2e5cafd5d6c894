package pyhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"wsgo/wsgi"
	"wsgo/wsgi/wsgitest"
)

// CPython starts once per process, so one Host serves every test here;
// start-up failures run in child processes (TestLoadErrors).
var (
	host    *Host
	logs    = &syncBuffer{}
	testLog = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMain(m *testing.M) {
	if target := os.Getenv("PYHOST_CHILD_TARGET"); target != "" {
		_, err := Start(Config{Target: target, Threads: 1, QueueSize: 1, Logger: testLog})
		fmt.Print(err)
		if le, ok := err.(*LoadError); ok {
			fmt.Printf("\n%s%s\n", sourcesMark, strings.Join(le.SourceFiles, ","))
		}
		os.Exit(0)
	}
	if child := childModes[os.Getenv(childMode)]; child != nil {
		os.Exit(child())
	}
	slog.SetDefault(testLog)
	var err error
	host, err = Start(Config{Target: "testdata/apps/app.py", Threads: 4, QueueSize: 64, Logger: testLog})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pyhost tests: cannot start the test app:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := host.Shutdown(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "pyhost tests: shutdown:", err)
		code = 1
	}
	os.Exit(code)
}

func request(path string, body string, header ...wsgi.Header) *wsgi.Request {
	return &wsgi.Request{
		ID: 7, RequestID: "req-7", Method: "GET", RequestURI: path, RawPath: path, Proto: "HTTP/1.1", Scheme: "http",
		ServerName: "example.test", ServerPort: "80", RemoteAddr: "127.0.0.1", RemotePort: "40000",
		Header: header, HasContentLength: body != "", ContentLength: int64(len(body)),
		Body: strings.NewReader(body),
	}
}

func serve(t *testing.T, req *wsgi.Request) (*wsgitest.Recorder, error) {
	t.Helper()
	rec := &wsgitest.Recorder{}
	err := host.ServeWSGI(context.Background(), req, rec)
	return rec, err
}

func TestListResponseIsOneOutputWithItsLength(t *testing.T) {
	rec, err := serve(t, request("/hello", ""))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != 200 || rec.Reason != "OK" || rec.Body.String() != "Hello, world!" || rec.BodyLen != 13 || rec.Flushes != 0 || rec.Ends != 0 {
		t.Fatalf("got %d %q body %q bodyLen %d flushes %d ends %d (a list has no close() to end before)",
			rec.Status, rec.Reason, rec.Body.String(), rec.BodyLen, rec.Flushes, rec.Ends)
	}
	if len(rec.Header) != 1 || rec.Header[0] != (wsgi.Header{Name: "Content-Type", Value: "text/plain"}) {
		t.Fatalf("headers %v", rec.Header)
	}
}

func TestReasonPhraseIsKeptAsGiven(t *testing.T) {
	rec, err := serve(t, request("/reason", ""))
	if err != nil || rec.Status != 299 || rec.Reason != "Custom Reason" || rec.BodyLen != 0 {
		t.Fatalf("err %v, got %d %q bodyLen %d", err, rec.Status, rec.Reason, rec.BodyLen)
	}
}

func TestGeneratorIsStreamedChunkByChunk(t *testing.T) {
	rec, err := serve(t, request("/gen", ""))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Body.String() != "onetwo" || rec.BodyLen != -1 || rec.Flushes != 2 || rec.Ends != 1 {
		t.Fatalf("body %q bodyLen %d flushes %d ends %d; want the end given once, before close()",
			rec.Body.String(), rec.BodyLen, rec.Flushes, rec.Ends)
	}
}

func TestEnviron(t *testing.T) {
	req := request("", "abc",
		wsgi.Header{Name: "X-Multi", Value: "1"}, wsgi.Header{Name: "Cookie", Value: "a=1"},
		wsgi.Header{Name: "X-Multi", Value: "2"}, wsgi.Header{Name: "Cookie", Value: "b=2"})
	req.RawPath = "/environ/caf%C3%A9/x%2Fy%zz"
	req.RawQuery = "q=%20x"
	req.RequestURI = "/environ/caf%C3%A9/x%2Fy%zz?q=%20x"
	req.ContentType = "text/plain"
	rec, err := serve(t, req)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("%v: %s", err, rec.Body.String())
	}
	want := map[string]any{
		"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/environ/cafÃ©/x/y%zz",
		"QUERY_STRING": "q=%20x", "REQUEST_URI": "/environ/caf%C3%A9/x%2Fy%zz?q=%20x",
		"SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "example.test", "SERVER_PORT": "80",
		"REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000", "CONTENT_TYPE": "text/plain",
		"CONTENT_LENGTH": "3", "HTTP_X_MULTI": "1, 2", "HTTP_COOKIE": "a=1; b=2",
		"wsgi.url_scheme": "http", "wsgi.version": []any{1.0, 0.0}, "wsgi.multithread": true,
		"wsgi.multiprocess": false, "wsgi.run_once": false, "wsgi.input_terminated": true,
	}
	for k, v := range want {
		if fmt.Sprint(env[k]) != fmt.Sprint(v) {
			t.Errorf("environ[%q] = %#v, want %#v", k, env[k], v)
		}
	}
	if len(env) != len(want) {
		t.Errorf("environ has %d str/flag keys, want %d: %v", len(env), len(want), env)
	}
}

func TestEnvironOmitsContentHeadersTheRequestLacks(t *testing.T) {
	rec, err := serve(t, request("/environ", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"CONTENT_TYPE"`, `"CONTENT_LENGTH"`} {
		if strings.Contains(rec.Body.String(), k) {
			t.Errorf("environ has %s: %s", k, rec.Body.String())
		}
	}
}

func TestInputReadMethods(t *testing.T) {
	req := request("/input", "line one\nabcdefgh\nrest 1\nrest 2\n")
	rec, err := serve(t, req)
	if err != nil {
		t.Fatal(err)
	}
	// readline(), readline(3), read(4), readlines(), read(), read(10), readline()
	want := `["line one\n", "abc", "defg", ["h\n", "rest 1\n", "rest 2\n"], "", "", ""]`
	if rec.Body.String() != want {
		t.Fatalf("got  %s\nwant %s", rec.Body.String(), want)
	}
}

func TestInputIteratesLinesOfAnUnknownLengthBody(t *testing.T) {
	req := request("/iterate-input", "")
	req.HasContentLength, req.ContentLength = false, -1
	req.Body = io.MultiReader(strings.NewReader("a\nb\n"), strings.NewReader("c"))
	rec, err := serve(t, req)
	if err != nil || rec.Body.String() != "3" {
		t.Fatalf("err %v, body %q", err, rec.Body.String())
	}
}

func TestExceptionBeforeHeadersIsAnAppErrorWithItsTraceback(t *testing.T) {
	_, err := serve(t, request("/raise", ""))
	var appErr *AppError
	if !errors.As(err, &appErr) || appErr.HeadersSent {
		t.Fatalf("err = %#v", err)
	}
	for _, want := range []string{"Traceback", "app.py", "LookupError: raised before start_response"} {
		if !strings.Contains(appErr.Report, want) {
			t.Errorf("report lacks %q:\n%s", want, appErr.Report)
		}
	}
}

func TestHeaderInjectionIsRefusedInsideTheApp(t *testing.T) {
	rec, err := serve(t, request("/bad-header", ""))
	var appErr *AppError
	if !errors.As(err, &appErr) || rec.Started {
		t.Fatalf("err %v, started %v", err, rec.Started)
	}
	if !strings.Contains(appErr.Report, "ValueError: start_response: value of header X-Evil contains a control character") {
		t.Fatalf("report:\n%s", appErr.Report)
	}
}

func TestExceptionMidBodyClosesTheIterable(t *testing.T) {
	rec, err := serve(t, request("/tracked-fail", ""))
	var appErr *AppError
	if !errors.As(err, &appErr) || !appErr.HeadersSent || rec.Body.String() != "a" {
		t.Fatalf("err %v, body %q", err, rec.Body.String())
	}
	assertClosed(t, "tracked-fail")
}

func TestClientGoneClosesTheIterable(t *testing.T) {
	rec := &wsgitest.Recorder{Err: errors.New("client gone")}
	if err := host.ServeWSGI(context.Background(), request("/tracked", ""), rec); err == nil {
		t.Fatal("want the write error back")
	}
	assertClosed(t, "tracked")
}

func assertClosed(t *testing.T, name string) {
	t.Helper()
	rec, err := serve(t, request("/closed", ""))
	if err != nil || !strings.Contains(rec.Body.String(), `"`+name+`"`) {
		t.Fatalf("close() of %s not recorded: %v %s", name, err, rec.Body.String())
	}
}

func TestWriteCallableSendsBeforeTheIterable(t *testing.T) {
	rec, err := serve(t, request("/write", ""))
	if err != nil || rec.Body.String() != "written returned" || rec.Flushes != 1 {
		t.Fatalf("err %v body %q flushes %d", err, rec.Body.String(), rec.Flushes)
	}
}

func TestExcInfoReplacesHeadersNotYetSent(t *testing.T) {
	rec, err := serve(t, request("/exc-info-replaces", ""))
	if err != nil || rec.Status != 500 || rec.Reason != "Oops" || len(rec.Header) != 1 || rec.Header[0].Name != "X-Second" {
		t.Fatalf("err %v: %d %q %v", err, rec.Status, rec.Reason, rec.Header)
	}
}

func TestErrorsStreamIsLoggedWithTheRequest(t *testing.T) {
	if _, err := serve(t, request("/errors", "")); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{`msg="to the log" request=req-7`, `msg=partial request=req-7`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

// TestNoLeakPerRequest is the boundary's leak check: CPython's count of
// allocated blocks must not grow with the number of requests served.
func TestNoLeakPerRequest(t *testing.T) {
	blocks := func() int {
		rec, err := serve(t, request("/blocks", ""))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(rec.Body.String())
		return n
	}
	paths := []string{"/hello", "/gen", "/write", "/input", "/raise", "/tracked"}
	run := func(n int) {
		for i := 0; i < n; i++ {
			for _, p := range paths {
				serve(t, request(p, "some\nbody\n"))
			}
		}
	}
	run(200) // warm caches, interned strings, free lists
	before := blocks()
	run(2000)
	after := blocks()
	// A leak of one object per request would add 12,000 blocks; caches
	// that settle (linecache for the tracebacks, type caches) add a few
	// hundred, varying from run to run.
	if grown := after - before; grown > 1000 {
		t.Fatalf("allocated blocks grew by %d over %d requests (from %d to %d)", grown, 2000*len(paths), before, after)
	}
}

// sourcesMark starts the line where a child process prints its
// LoadError.SourceFiles, comma-separated.
const sourcesMark = "SOURCES: "

// loadInChild starts a Host for target in a child process and returns its
// output: the LoadError's text and the sourcesMark line.
func loadInChild(t *testing.T, target string) string {
	t.Helper()
	return loadInChildIn(t, "", target)
}

// loadInChildIn is loadInChild with the child's working directory set.
func loadInChildIn(t *testing.T, dir, target string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PYHOST_CHILD_TARGET="+target)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child for %s: %v\n%s", target, err, out)
	}
	return string(out)
}

func absPaths(t *testing.T, rel ...string) []string {
	t.Helper()
	var out []string
	for _, r := range rel {
		p, err := filepath.Abs(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestSourceFilesAreTheAppsOwnModules: the app file, and a module it
// imports lazily once imported; never the standard library (json, os...)
// nor a module from a site-packages directory.
func TestSourceFilesAreTheAppsOwnModules(t *testing.T) {
	if got, want := host.SourceFiles(), absPaths(t, "testdata/apps/app.py", "testdata/apps/hostile.py"); !slices.Equal(got, want) {
		t.Fatalf("before the lazy import: %q, want %q", got, want)
	}
	rec, err := serve(t, request("/import-helper", ""))
	if err != nil || rec.Body.String() != "lazy_helper with installed_pkg" {
		t.Fatalf("err %v body %q", err, rec.Body.String())
	}
	want := absPaths(t, "testdata/apps/app.py", "testdata/apps/hostile.py", "testdata/apps/lazy_helper.py")
	if got := host.SourceFiles(); !slices.Equal(got, want) {
		t.Fatalf("after the lazy import: %q, want %q", got, want)
	}
}

// TestLoadErrors starts CPython in a child process per case, as each
// life-cycle scenario needs a fresh process. A failed load still names the
// files to watch for a fix (--reload), including a module that failed
// half-imported.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, target, want string
		sources            []string
	}{
		{"missing file", "testdata/apps/nope.py", "wsgo: cannot find the app file 'testdata/apps/nope.py'",
			[]string{"testdata/apps/nope.py"}},
		{"missing module", "no_such_module_xyz:app", "wsgo: no module named 'no_such_module_xyz'", nil},
		{"missing callable", "testdata/apps/app.py:nothing", "has no 'nothing'; callables defined there: Tracked, application, chunks, environ_view, input_view, routes, slow_stream",
			[]string{"testdata/apps/app.py", "testdata/apps/hostile.py"}},
		{"not callable", "testdata/apps/app.py:closed", "is a list, not a callable WSGI app",
			[]string{"testdata/apps/app.py", "testdata/apps/hostile.py"}},
		{"syntax error in an imported module", "testdata/broken/syntax_app.py", "SyntaxError",
			[]string{"testdata/broken/syntax_app.py", "testdata/broken/syntax_helper.py"}},
		{"exception in an imported module", "testdata/broken/raise_app.py", "NameError: name 'undefined_name' is not defined",
			[]string{"testdata/broken/raise_app.py", "testdata/broken/raise_helper.py"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := loadInChild(t, tc.target)
			if !strings.Contains(out, tc.want) {
				t.Fatalf("output lacks %q:\n%s", tc.want, out)
			}
			_, line, _ := strings.Cut(out, sourcesMark)
			var got []string
			if line = strings.TrimSpace(line); line != "" {
				got = strings.Split(line, ",")
			}
			if want := absPaths(t, tc.sources...); !slices.Equal(got, want) {
				t.Fatalf("SourceFiles %q, want %q\n%s", got, want, out)
			}
		})
	}
}

func TestBrokenAppFailsEveryRequestWithTheReport(t *testing.T) {
	var log bytes.Buffer
	app := BrokenApp(&LoadError{Report: "Traceback (most recent call last):\nSyntaxError: bad\n"},
		slog.New(slog.NewTextHandler(&log, nil)), true)
	for i := 0; i < 2; i++ {
		rec := &wsgitest.Recorder{}
		err := app.ServeWSGI(context.Background(), request("/any", ""), rec)
		var reporter interface{ Traceback() string }
		if !errors.As(err, &reporter) || reporter.Traceback() != "Traceback (most recent call last):\nSyntaxError: bad\n" {
			t.Fatalf("error %v has no Traceback() with the traceback", err)
		}
		if rec.Started {
			t.Fatal("BrokenApp started a response; the front must answer the error")
		}
	}
	if n := strings.Count(log.String(), "\n"); n != 2 || !strings.Contains(log.String(), "the app failed to load") {
		t.Fatalf("want one log line per request, got %d:\n%s", n, log.String())
	}
}

// Without --debug the 500 says where the traceback is, and not what it says.
func TestBrokenAppWithoutDebugPointsAtTheLog(t *testing.T) {
	app := BrokenApp(&LoadError{Report: "Traceback (most recent call last):\nSyntaxError: bad\n"},
		slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	rec := &wsgitest.Recorder{}
	if err := app.ServeWSGI(context.Background(), request("/any", ""), rec); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if rec.Status != 500 || rec.BodyLen != int64(len(body)) || !strings.Contains(body, "its traceback is in wsgo's log") ||
		!strings.Contains(body, "--debug") || strings.Contains(body, "SyntaxError") {
		t.Fatalf("%d, %d bytes declared: %q; want a 500 that points at the log and --debug, without the traceback", rec.Status, rec.BodyLen, body)
	}
}
