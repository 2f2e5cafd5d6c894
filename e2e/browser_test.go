package e2e

// A real browser (Debian's chromium, headless, driven over the DevTools
// protocol with chromedp) through the flows a developer coming from
// `manage.py runserver` or `flask run` tries first: a Django admin login
// (CSRF, sessions, the admin's CSS from --static) and a Flask form under
// --reload.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts a headless chromium for the test and returns its
// context, bounded to a minute.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed, so the browser tests cannot run: .ci/setup installs it (apt-get install chromium)", chromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// browse runs steps in the browser, failing the test with what failed.
func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// browserGet runs one action that gives a value, failing the test if it fails.
func browserGet[T any](t *testing.T, ctx context.Context, action chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// browserDjangoProject is a Django project with the admin, as
// `django-admin startproject` makes it, trimmed: SQLite, the admin's
// static files collected to ./static for --static.
var browserDjangoProject = map[string]string{
	"manage.py": `import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line(sys.argv)
`,
	"mysite/__init__.py": "",
	"mysite/settings.py": `from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "wsgo-e2e-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware",
              "django.middleware.common.CommonMiddleware",
              "django.middleware.csrf.CsrfViewMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware"]
ROOT_URLCONF = "mysite.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"
`,
	"mysite/urls.py": `from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
`,
	"mysite/wsgi.py": `import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
application = get_wsgi_application()
`,
}

// Logs into the Django admin: the login form's CSRF token and cookie, the
// session after the redirect, and the admin's stylesheet served by
// --static and applied (the header's background is the admin's blue).
func TestBrowserDjangoAdminLogin(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	for name, source := range browserDjangoProject {
		writeFile(t, filepath.Join(dir, name), source)
	}
	if err := os.Mkdir(filepath.Join(dir, "static"), 0o755); err != nil { // for --static; collectstatic fills it
		t.Fatal(err)
	}
	// Django connects to its database at the first request: the setup
	// may follow the start, which skips the test when Django is missing.
	s := fwStartArgs(t, "django", "mysite.wsgi:application", "--chdir", dir, "--static", "/static="+filepath.Join(dir, "static"))
	for _, args := range [][]string{
		{"migrate", "--noinput"},
		{"collectstatic", "--noinput"},
		{"createsuperuser", "--noinput", "--username", "ada", "--email", "ada@example.com"},
	} {
		cmd := exec.Command(binary, append([]string{"python", "manage.py"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DJANGO_SUPERUSER_PASSWORD=correct horse battery")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("wsgo python manage.py %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	browse(t, ctx, "logging in",
		chromedp.Navigate(s.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS("#id_username")),
		chromedp.SendKeys(chromedp.CSS("#id_username"), "ada"),
		chromedp.SendKeys(chromedp.CSS("#id_password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#login-form")),
		chromedp.WaitVisible(chromedp.CSS("#user-tools")),
		// The page's load event comes after its stylesheets: a node can be
		// visible before base.css applies (CI's PYLINK=shared run once read
		// the header's colour in between).
		chromedp.Poll[chromedp.Void](`document.readyState === "complete"`))
	// Read in one evaluation: the admin's scripts may still be replacing
	// nodes, and a node looked up by id in one call can be gone by the next
	// (CDP's "No node with given id found").
	page := browserGet(t, ctx, chromedp.Evaluate[[]string](`[
		document.querySelector("#content h1").innerText,
		document.querySelector("#user-tools strong").innerText,
		getComputedStyle(document.getElementById("header")).backgroundColor]`))
	if len(page) != 3 {
		t.Fatalf("the admin page gave %q", page)
	}
	heading, user, header := page[0], page[1], page[2]
	if heading != "Site administration" || !strings.EqualFold(user, "ada") {
		t.Errorf("after logging in: heading %q, user %q; want Site administration, ada", heading, user)
	}
	// DEBUG is off, so Django serves no static files: the colour comes
	// from base.css as --static served it.
	if header != "rgb(65, 118, 144)" {
		t.Errorf("the admin header's background is %q; want rgb(65, 118, 144) from admin/css/base.css", header)
	}
}

// browserFlaskApp is a Flask form whose greeting is GREETING.
func browserFlaskApp(greeting string) string {
	return `from flask import Flask, request

app = Flask(__name__)
GREETING = "` + greeting + `"


@app.route("/", methods=["GET", "POST"])
def form():
    if request.method == "POST":
        return '<p id="greeting">%s, %s</p>' % (GREETING, request.form["name"])
    return ('<h1>%s form</h1><form method="post"><input id="name" name="name">'
            '<button id="send" type="submit">Send</button></form>' % GREETING)
`
}

// Posts a Flask form under --reload, edits the app, and posts again: the
// second post sees the change.
func TestBrowserFlaskFormUnderReload(t *testing.T) {
	ctx := browser(t)
	app := writeApp(t, "app.py", browserFlaskApp("Hello"))
	s := fwStartArgs(t, "flask", app, "--reload")

	post := func(want string) {
		t.Helper()
		browse(t, ctx, "posting the form",
			chromedp.Navigate(s.URL+"/"),
			chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SendKeys(chromedp.CSS("#name"), "Ada"),
			chromedp.Click(chromedp.CSS("#send")),
			chromedp.WaitVisible(chromedp.CSS("#greeting")))
		if got := browserGet(t, ctx, chromedp.Text(chromedp.CSS("#greeting"))); got != want {
			t.Errorf("the form's answer is %q; want %q", got, want)
		}
	}
	post("Hello, Ada")
	save(t, app, browserFlaskApp("Welcome"))
	browserAwait(t, s, "/", "<h1>Welcome form</h1>")
	post("Welcome, Ada")
}

// browserAwait polls path until its body holds want, or fails after 15 s.
func browserAwait(t *testing.T, s *server, path, want string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, body := s.get(path); strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: no %q after 15 s", path, want)
		}
	}
}

// The --debug page in a browser: markup in the exception's message stays
// text (the script it holds does not run), the app's frames are open and
// the libraries' folded.
func TestBrowserDevPage(t *testing.T) {
	ctx := browser(t)
	app := writeApp(t, "app.py", `import json


def application(environ, start_response):
    try:
        json.loads("{")
    except ValueError:
        raise RuntimeError("""<script>document.title = "ran"</script><img src=x onerror='document.title = "ran"'>""")
`)
	s := start(t, nil, app, "--debug")
	browse(t, ctx, "opening the page", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("header h1")))
	got := browserGet(t, ctx, chromedp.Evaluate[[]string](`[document.title, document.querySelector("header h1").textContent, document.querySelector("header .msg").textContent,
		String(document.scripts.length),
		[...document.querySelectorAll("details.frame")].map(d => (d.open ? "open " : "folded ") + d.querySelector(".fn").textContent).join(", ")]`))
	message := `<script>document.title = "ran"</script><img src=x onerror='document.title = "ran"'>`
	want := []string{"500 Internal Server Error: RuntimeError: " + message, "RuntimeError", message, "0",
		"open application, open application, folded loads, folded decode, folded raw_decode"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("title, type, message, scripts, frames:\n%q\nwant\n%q", got, want)
	}
}
