package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTree writes files (path relative to a fresh directory: content)
// and returns the directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// packageProject is Django's layout without Django: proj/wsgi.py names
// its settings module by its package, and holds a callable instance of a
// class from another module, as Django's WSGIHandler is.
var packageProject = map[string]string{
	"handler.py": `class Handler:
    def __init__(self, settings):
        self.settings = settings
    def __call__(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%s %s" % (__import__("proj.wsgi").wsgi.__name__, self.settings.NAME)).encode()]
`,
	"proj/__init__.py": "",
	"proj/settings.py": `NAME = "proj settings"` + "\n",
	"proj/sibling.py":  `VALUE = 1` + "\n",
	"proj/wsgi.py": `import importlib, os
import sibling  # a sibling import, as under python proj/wsgi.py
from handler import Handler
os.environ.setdefault("PROJ_SETTINGS_MODULE", "proj.settings")
application = Handler(importlib.import_module(os.environ["PROJ_SETTINGS_MODULE"]))
`,
}

// TestFileInPackage: `wsgo run proj/wsgi.py`, with proj/__init__.py, imports
// it as proj.wsgi with the package root first on sys.path, so that
// "proj.settings" imports; its directory follows, for sibling imports.
func TestFileInPackage(t *testing.T) {
	dir := writeTree(t, packageProject)
	s := start(t, nil, filepath.Join(dir, "proj", "wsgi.py"))
	if _, body := s.get("/"); body != "proj.wsgi proj settings" {
		t.Errorf("proj/wsgi.py answers %q; want it imported as proj.wsgi with proj.settings", body)
	}
}

// TestCheckListsCallableInstances: `wsgo check` names a module's callable
// instances among its callables (Django's application is one).
// TestPackageInitFile: `wsgo run pkg/__init__.py` imports the package, once:
// as "pkg.__init__" besides, its module code (the app, its connections)
// ran twice.
func TestPackageInitFile(t *testing.T) {
	dir := writeTree(t, map[string]string{"pkg/__init__.py": `import builtins
builtins.imported = getattr(builtins, "imported", []) + [__name__]
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [" ".join(builtins.imported).encode()]
`})
	s := start(t, nil, filepath.Join(dir, "pkg", "__init__.py"))
	if _, body := s.get("/"); body != "pkg" {
		t.Errorf("the package's code ran as %q; want once, as \"pkg\"", body)
	}
}

func TestCheckListsCallableInstances(t *testing.T) {
	dir := writeTree(t, packageProject)
	// By module name, proj/wsgi.py's sibling import needs its directory named.
	code, out := cliExit(t, nil, "check", "--chdir", dir, "--pythonpath", "proj", "proj.wsgi:app")
	want := "wsgo: proj.wsgi has no 'app'; callables defined there: application. Name one as proj.wsgi:NAME"
	if code != 4 || !strings.Contains(out, want) {
		t.Errorf("wsgo check proj.wsgi:app: exit %d\n%s\nwant exit 4 and %q", code, out, want)
	}
}

// djangoProject is examples/django_project with what its settings need.
func djangoProject(t *testing.T) (dir string, env []string) {
	t.Helper()
	if code, out := cliExit(t, nil, "python", "-c", "import django"); code != 0 {
		t.Skipf("the embedded Python cannot import django: %s", out)
	}
	return filepath.Join(examplesDir(t), "django_project"),
		[]string{"DJANGO_SECRET_KEY=" + strings.Repeat("k", 50), "DJANGO_DATA_DIR=" + t.TempDir()}
}

// TestDjangoProjectByFile: a real Django project served by the path of
// its wsgi.py from another directory, as the README leads with `wsgo run
// app.py`: its admin's login page renders.
func TestDjangoProjectByFile(t *testing.T) {
	dir, env := djangoProject(t)
	wsgiFile := filepath.Join(dir, "mysite", "wsgi.py")
	s := start(t, env, wsgiFile)
	resp, body := s.get("/admin/login/")
	if resp.StatusCode != 200 || !strings.Contains(body, "<title>Log in | Django site admin</title>") {
		t.Errorf("GET /admin/login/ = %d; want 200 and the admin's login page:\n%.500s", resp.StatusCode, body)
	}
	if !s.waitLog("serving "+wsgiFile+":application on", 5*time.Second) {
		t.Errorf("the start line does not name %s:application", wsgiFile)
	}
	code, out := cliExit(t, env, "check", "--chdir", dir, "mysite.wsgi:app")
	want := "wsgo: mysite.wsgi has no 'app'; callables defined there: application. Name one as mysite.wsgi:NAME"
	if code != 4 || !strings.Contains(out, want) {
		t.Errorf("wsgo check mysite.wsgi:app: exit %d\n%s\nwant exit 4 and %q", code, out, want)
	}
}

// From a Django project's root, a TARGET that is the project's package,
// or a directory by its path, points at its WSGI module: the package
// (mysite) fails at import (exit 4), a directory path before any worker
// starts (exit 2), and a directory with no app file says what TARGET is.
func TestDjangoProjectDirectoryPointsAtItsWSGIModule(t *testing.T) {
	dir := writeTree(t, packageProject)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "proj"}, 4, "wsgo: found no WSGI app in proj: it is a package, and defines neither 'application' nor 'app'; " +
			"serve the module of it that makes the app: `wsgo run proj.wsgi`\n"},
		{[]string{"run", "."}, 2, "wsgo run: . is a directory; TARGET is the app's file, module or module:callable: `wsgo run proj.wsgi`\n"},
		{[]string{"run", "proj/"}, 2, "wsgo run: proj/ is a directory; TARGET is the app's file, module or module:callable: `wsgo run proj.wsgi`\n"},
		{[]string{"check", "--chdir", dir, "proj/"}, 2, "wsgo check: proj/ is a directory; TARGET is the app's file, module or module:callable: `wsgo check proj.wsgi`\n"},
		{[]string{"run", "proj/../.."}, 2, "wsgo run: proj/../.. is a directory; TARGET is the app's file, module or module:callable, e.g. `wsgo run ../app.py`\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			if code, out := exitIn(t, dir, tc.args...); code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d; want %d and %q in:\n%s", code, tc.code, tc.want, out)
			}
		})
	}
}
