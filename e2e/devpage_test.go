package e2e

// The --debug page, as a developer sees it: the exception as the
// headline, the app's frames open with their source, the libraries'
// folded, a SyntaxError's file, line and caret.

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// devpageApp fails in a library (json) called from the app's own helper,
// with a message that holds markup.
const devpageApp = `import json


def parse(text):
    return json.loads(text)


def application(environ, start_response):
    try:
        parse("{<script>")
    except ValueError as exc:
        raise RuntimeError("cannot parse <script>alert(1)</script>") from exc
`

func TestDevPageFramesAndSource(t *testing.T) {
	app := writeApp(t, "app.py", devpageApp)
	s := start(t, nil, app, "--debug")
	resp, body := frontGet(t, s, "/")
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	pageHas(t, body,
		"<title>500 Internal Server Error: RuntimeError: cannot parse &lt;script&gt;alert(1)&lt;/script&gt;</title>",
		"<h1>RuntimeError</h1>\n<div class=\"msg\">cannot parse &lt;script&gt;alert(1)&lt;/script&gt;</div>",
		// The headline names the app's frame that raised.
		`<div class="where">in <code>application</code>, `+app+`, line 12</div>`,
		// The app's frames are open, with their source around the line.
		`<details class="frame own" open><summary><span class="fn">application</span><span class="file">`+app+`, line 12</span>`,
		`<details class="frame own" open><summary><span class="fn">parse</span><span class="file">`+app+`, line 5</span>`,
		"<div><span class=\"no\">4</span>def parse(text):</div>",
		// The cause comes after, named as Python names it.
		"The exception above was raised from this one (raise ... from):",
		"<div class=\"exc\">json.decoder.JSONDecodeError: <span class=\"msg\">Expecting property name enclosed in double quotes: line 1 column 2 (char 1)</span></div>",
		// Request and copyable text stay.
		"<tr><th>Method</th><td>GET</td></tr>",
		"<pre>Traceback (most recent call last):\n")
	// json's frames are a library's: folded, and marked so.
	lib := regexp.MustCompile(`<details class="frame lib"><summary><span class="fn">(\w+)</span><span class="file">[^<]*/json/(\w+)\.py, line \d+</span><span class="tag">library</span>`)
	if got := lib.FindAllStringSubmatch(body, -1); len(got) < 2 || got[0][1] != "loads" || got[0][2] != "__init__" {
		t.Errorf("library frames %q; want json's, folded, starting with loads in json/__init__.py", got)
	}
	if strings.Contains(body, `class="frame lib" open`) {
		t.Error("a library frame is open")
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<wsgo loader>") {
		t.Errorf("unescaped markup or wsgo's own frames on the page:\n%s", body)
	}
	// Python 3.11+ says which expression failed; the page marks it.
	if pythonMinor(t, s) >= 11 && !strings.Contains(body, "<div class=\"cur\"><span class=\"no\">5</span>    return <mark>json.loads(text)</mark></div>") {
		t.Errorf("the failing call is not marked on parse's line 5:\n%s", body)
	}
}

// A SyntaxError on --reload: its file, line and caret, its message as the
// headline, wsgo's advice apart.
func TestDevPageSyntaxErrorOnReload(t *testing.T) {
	app, body := devpageBroken(t, "def application(environ, start_response):\n    x = = 1\n")
	pageHas(t, body,
		"<title>500 Internal Server Error: SyntaxError: invalid syntax</title>",
		"<h1>SyntaxError</h1>\n<div class=\"msg\">invalid syntax</div>",
		`<div class="where">`+app+`, line 2</div>`,
		`<div class="note">wsgo: importing `+app+` failed with the error above; fix it and save: --reload is watching.</div>`,
		"<div class=\"cur\"><span class=\"no\">2</span>    x = <mark>=</mark> 1</div>\n<div class=\"caret\"><span class=\"no\"></span>        ^</div>")
	if strings.Contains(body, "The application raised") || strings.Contains(body, "<h1>wsgo:") {
		t.Errorf("the headline is wsgo's sentence, not the error:\n%s", body)
	}
}

// An app that cannot be found has no Python exception of its own: wsgo's
// sentence is the headline.
func TestDevPageLoadErrorWithoutException(t *testing.T) {
	app, body := devpageBroken(t, "x = 1\n")
	pageHas(t, body, `<h1 class="msg">wsgo: found no WSGI app in `+app+`: it defines neither &#39;application&#39; nor &#39;app&#39;.`)
}

// devpageBroken serves an app.py of source that fails to load, under
// --debug --reload, and returns its path and the page of a request.
func devpageBroken(t *testing.T, source string) (string, string) {
	t.Helper()
	app := writeApp(t, "app.py", source)
	s := start(t, nil, app, "--debug", "--reload")
	if !s.waitLog(reloadBrokenLine, 15*time.Second) {
		t.Fatal("no log line says the app failed to load")
	}
	_, body := frontGet(t, s, "/")
	return app, body
}

// pageHas checks that body holds every one of wants.
func pageHas(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
}

// pythonMinor is the minor version of the Python s runs, from its start line.
func pythonMinor(t *testing.T, s *server) int {
	t.Helper()
	m := regexp.MustCompile(`\(Python 3\.(\d+)\.`).FindStringSubmatch(s.logs.String())
	if m == nil {
		t.Fatalf("no Python version in the start line:\n%s", s.logs.String())
	}
	minor, _ := strconv.Atoi(m[1])
	return minor
}

// Flask and Django answer an exception with their own 500 unless told to
// let it through: under --debug wsgo tells them, says so, and shows its
// page; without --debug they keep their own.

const devpageFlask = `from flask import Flask

app = Flask(__name__)


@app.route("/boom")
def boom():
    return 1 / 0
`

const devpageDjango = `from django.conf import settings

settings.configure(DEBUG=True, SECRET_KEY="wsgo-e2e-not-secret", ROOT_URLCONF=__name__,
                   ALLOWED_HOSTS=["*"], MIDDLEWARE=[], INSTALLED_APPS=[])

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402


def boom(request):
    return 1 / 0


urlpatterns = [path("boom", boom)]
application = get_wsgi_application()
`

func TestDevPageFrameworksPropagateUnderDebug(t *testing.T) {
	for _, fw := range []struct{ name, module, source, setting, without string }{
		{"Flask", "flask", devpageFlask, "PROPAGATE_EXCEPTIONS", "<h1>Internal Server Error</h1>"},
		{"Django", "django", devpageDjango, "DEBUG_PROPAGATE_EXCEPTIONS", "<title>ZeroDivisionError\n          at /boom</title>"},
	} {
		t.Run(fw.name, func(t *testing.T) {
			app := writeApp(t, "app.py", fw.source)
			said := `\[INFO\] wsgo: --debug: ` + fw.name + `'s \(` + fw.setting + ` = True\) exceptions reach wsgo's debug page`

			s := fwStartArgs(t, fw.module, app, "--debug")
			if !s.waitLog(said, 10*time.Second) {
				t.Errorf("no log line says %s's exceptions propagate", fw.name)
			}
			_, body := frontGet(t, s, "/boom")
			pageHas(t, body, "<h1>ZeroDivisionError</h1>\n<div class=\"msg\">division by zero</div>",
				`<details class="frame own" open><summary><span class="fn">boom</span><span class="file">`+app+`, line `)

			s = start(t, nil, app)
			resp, body := frontGet(t, s, "/boom")
			if resp.StatusCode != 500 || !strings.Contains(body, fw.without) || strings.Contains(body, "wsgo shows this page") {
				t.Errorf("without --debug, %d and not %s's own page:\n%s", resp.StatusCode, fw.name, body)
			}
			if regexp.MustCompile(said).MatchString(s.logs.String()) {
				t.Error("without --debug, the log says exceptions propagate")
			}
		})
	}
}

// A RecursionError shows the repeating frame three times and counts the
// rest, as Python's traceback does, rather than a page of a thousand frames.
func TestDevPageRecursion(t *testing.T) {
	s := start(t, nil, writeApp(t, "app.py", `def down(n):
    return down(n + 1)


def application(environ, start_response):
    return down(0)
`), "--debug")
	_, body := frontGet(t, s, "/")
	pageHas(t, body, "<h1>RecursionError</h1>")
	if n := strings.Count(body, `<span class="fn">down</span>`); n != 3 {
		t.Errorf("down's frame shown %d times; want 3", n)
	}
	if !regexp.MustCompile(`<div class="repeated">the frame above came \d{3} more times in a row</div>`).MatchString(body) {
		t.Errorf("no count of the repeated frames:\n%.3000s", body)
	}
}
