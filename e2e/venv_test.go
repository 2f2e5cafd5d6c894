package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// venvApp answers which flask it imports (a venv's fake one says so), and
// whether a module that only a .pth file of the venv makes importable is.
const venvApp = `def application(environ, start_response):
    try:
        import flask
        which = getattr(flask, "FAKE", "system flask")
    except ImportError:
        which = "no flask"
    try:
        import from_pth
        pth = from_pth.NAME
    except ImportError:
        pth = "no .pth"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s|%s" % (which, pth)).encode()]
`

// linkedPython is the binary's Python as X.Y, asked of `wsgo python`.
func linkedPython(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(binary, "python", "-c", `import sys; print("%d.%d" % sys.version_info[:2])`).Output()
	if err != nil {
		t.Fatalf("wsgo python: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// makeVenv creates a virtualenv at dir with the linked Python (`wsgo python
// -m venv`, as `python3.X -m venv` would), holding a fake flask package and
// a .pth file that adds a directory with the module from_pth.
// includeSystem is written into its pyvenv.cfg.
func makeVenv(t *testing.T, dir string, includeSystem bool) {
	t.Helper()
	if out, err := exec.Command(binary, "python", "-m", "venv", "--without-pip", dir).CombinedOutput(); err != nil {
		t.Fatalf("wsgo python -m venv: %v\n%s", err, out)
	}
	site := filepath.Join(dir, "lib", "python"+linkedPython(t), "site-packages")
	extra := filepath.Join(dir, "extra")
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(site, "flask", "__init__.py"), `FAKE = "venv flask"`+"\n")
	write(filepath.Join(site, "extra.pth"), extra+"\n")
	write(filepath.Join(extra, "from_pth.py"), `NAME = "from .pth"`+"\n")
	cfg := filepath.Join(dir, "pyvenv.cfg")
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	setting := regexp.MustCompile(`(?m)^include-system-site-packages = \w+$`)
	if !setting.Match(text) {
		t.Fatalf("pyvenv.cfg has no include-system-site-packages line:\n%s", text)
	}
	write(cfg, setting.ReplaceAllString(string(text), fmt.Sprintf("include-system-site-packages = %v", includeSystem)))
}

// requireSystemFlask skips the test when the linked Python has no Flask
// of its own: the venv's could not be shown to win over it.
func requireSystemFlask(t *testing.T) {
	t.Helper()
	requireSystemModule(t, "flask", "python3-flask")
}

// requireSystemModule skips the test when the linked Python cannot import
// module outside a virtualenv, as pyenv's builds cannot Debian's package.
func requireSystemModule(t *testing.T, module, debian string) {
	t.Helper()
	if err := exec.Command(binary, "python", "-c", "import "+module).Run(); err != nil {
		t.Skipf("the embedded Python has no %s outside a virtualenv (Debian: apt-get install %s)", module, debian)
	}
}

// TestVirtualenvBeforeSystem: with VIRTUAL_ENV set, the venv's packages win
// over the system's (a fake flask shadows Debian's), its .pth files are
// processed, and with include-system-site-packages = true the system's
// packages stay importable after it.
func TestVirtualenvBeforeSystem(t *testing.T) {
	requireSystemFlask(t)
	venv := filepath.Join(t.TempDir(), "env")
	makeVenv(t, venv, true)
	app := writeApp(t, "app.py", venvApp)
	s := start(t, []string{"VIRTUAL_ENV=" + venv}, app)
	if _, body := s.get("/"); body != "venv flask|from .pth" {
		t.Errorf("with VIRTUAL_ENV the app sees %q; want the venv's flask and its .pth module", body)
	}
	if !s.waitLog(regexp.QuoteMeta("wsgo: using the virtualenv "+venv+" (given by --virtualenv or VIRTUAL_ENV)"), 5*time.Second) {
		t.Errorf("no log line names the virtualenv")
	}
	// The system's site-packages are still there, after the venv's.
	code, out := cliExit(t, []string{"VIRTUAL_ENV=" + venv}, "python", "-c",
		"import sys, json; print([p for p in sys.path if p.endswith(('site-packages', 'dist-packages'))][:2])")
	want := fmt.Sprintf("['%s/lib/python%s/site-packages', ", venv, linkedPython(t))
	if code != 0 || !strings.HasPrefix(out, want) {
		t.Errorf("wsgo python in the venv: exit %d, site dirs %s; want the venv's first, then the system's (%s...)", code, out, want)
	}
}

// TestVirtualenvWithoutSystemPackages: include-system-site-packages =
// false hides the system's packages (Debian's Flask), with --virtualenv
// and its uWSGI spelling -H, in `wsgo run` and `wsgo python`.
func TestVirtualenvWithoutSystemPackages(t *testing.T) {
	requireSystemFlask(t)
	venv := filepath.Join(t.TempDir(), "env")
	makeVenv(t, venv, false)
	if err := os.RemoveAll(filepath.Join(venv, "lib", "python"+linkedPython(t), "site-packages", "flask")); err != nil {
		t.Fatal(err)
	}
	app := writeApp(t, "app.py", venvApp)
	for _, flag := range []string{"--virtualenv", "-H", "--home"} {
		s := start(t, nil, flag, venv, app)
		if _, body := s.get("/"); body != "no flask|from .pth" {
			t.Errorf("%s with include-system-site-packages = false: the app sees %q; want no flask", flag, body)
		}
		s.stop(15)
	}
	code, out := cliExit(t, []string{"VIRTUAL_ENV=" + venv}, "python", "-c", "import flask")
	if code != 1 || !strings.Contains(out, "No module named 'flask'") {
		t.Errorf("wsgo python in a venv without system packages: exit %d\n%s\nwant flask not found", code, out)
	}
}

// TestDotVenvFound: a .venv next to the app is used, and said so; `wsgo
// python` run in that directory uses it too.
func TestDotVenvFound(t *testing.T) {
	dir := t.TempDir()
	makeVenv(t, filepath.Join(dir, ".venv"), false)
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte(venvApp), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, []string{"VIRTUAL_ENV="}, app)
	if _, body := s.get("/"); body != "venv flask|from .pth" {
		t.Errorf("with a .venv next to the app, the app sees %q; want the .venv's flask", body)
	}
	line := "wsgo: using the virtualenv " + filepath.Join(dir, ".venv") +
		" (found next to the app; --virtualenv DIR or VIRTUAL_ENV picks another)"
	if !s.waitLog(regexp.QuoteMeta(line), 5*time.Second) {
		t.Errorf("no log line %q", line)
	}
	py := exec.Command(binary, "python", "-c", "import flask, os; print(flask.FAKE, os.environ['VIRTUAL_ENV'])")
	py.Dir, py.Env = dir, append(os.Environ(), "VIRTUAL_ENV=")
	out, err := py.CombinedOutput()
	if want := "venv flask " + filepath.Join(dir, ".venv") + "\n"; err != nil || string(out) != want {
		t.Errorf("wsgo python in the app's directory: %v %q; want %q", err, out, want)
	}
}

// TestVirtualenvOfAnotherPython: a venv made for another Python version
// (pyvenv.cfg and lib/pythonX.Y say so) stops wsgo at start with exit 4,
// naming both versions and the build that fixes it.
func TestVirtualenvOfAnotherPython(t *testing.T) {
	ours := linkedPython(t)
	var major, minor int
	fmt.Sscanf(ours, "%d.%d", &major, &minor)
	theirs := fmt.Sprintf("%d.%d", major, minor+1)
	venv := filepath.Join(t.TempDir(), "env")
	makeVenv(t, venv, false)
	if err := os.Rename(filepath.Join(venv, "lib", "python"+ours), filepath.Join(venv, "lib", "python"+theirs)); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(venv, "pyvenv.cfg")
	text, _ := os.ReadFile(cfg)
	text = regexp.MustCompile(`(?m)^version = .*$`).ReplaceAll(text, []byte("version = "+theirs+".1"))
	if err := os.WriteFile(cfg, text, 0o644); err != nil {
		t.Fatal(err)
	}
	app := writeApp(t, "app.py", venvApp)
	want := regexp.MustCompile(`wsgo: the virtualenv ` + regexp.QuoteMeta(venv) + ` \(given by --virtualenv or VIRTUAL_ENV\) ` +
		`is for Python ` + regexp.QuoteMeta(theirs) + `, but this wsgo is linked against Python ` + regexp.QuoteMeta(ours) +
		`\.\d+ and cannot use its packages\. .*` + regexp.QuoteMeta("make build PYTHON=/path/to/python"+theirs))
	for _, args := range [][]string{
		{"run", "--bind", "127.0.0.1:0", app},
		{"check", app},
		{"python", "-c", "print('ran')"},
	} {
		code, out := cliExit(t, []string{"VIRTUAL_ENV=" + venv}, args...)
		if code != 4 || !want.MatchString(out) || strings.Contains(out, "ran") {
			t.Errorf("wsgo %s with a %s venv: exit %d\n%s\nwant exit 4 and the error naming both versions", args[0], theirs, code, out)
		}
	}
}

// A module that is not installed is answered with the Python that looked
// for it, its virtualenv, and where to install it: a virtualenv named
// venv (`python3 -m venv venv`), which wsgo does not pick up by itself, is
// named with the flag that uses it. The traceback alone said none of it.
func TestAModuleNotInstalledSaysWhereToInstallIt(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.py")
	if err := os.WriteFile(app, []byte("import nosuchmodule\n"+venvApp), 0o644); err != nil {
		t.Fatal(err)
	}
	ours := regexp.QuoteMeta(linkedPython(t))
	check := func(what, want string, env ...string) {
		t.Helper()
		code, out := cliExit(t, append([]string{"VIRTUAL_ENV="}, env...), "check", app)
		want = "ModuleNotFoundError: No module named 'nosuchmodule'\nwsgo: no module 'nosuchmodule' in Python " + ours + `\.\d+ ` + want + "\n"
		if code != 4 || !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("%s: exit %d\n%s\nwant exit 4 and a line matching\n%s", what, code, out, want)
		}
	}
	check("no virtualenv", `\(/\S*\), which runs with no virtualenv; if it is a package, make one next to the app `+
		"\\(`python"+ours+" -m venv \\.venv`, which wsgo finds by itself\\) and install it there "+
		"\\(`\\.venv/bin/python -m pip install nosuchmodule`\\), or install the system's package of it")
	venv := filepath.Join(dir, "venv")
	makeVenv(t, venv, false)
	check("a venv wsgo does not pick up", `\(/\S*\), which runs with no virtualenv; `+regexp.QuoteMeta(venv)+
		" looks like one: give --virtualenv "+regexp.QuoteMeta(venv)+` \(wsgo finds only a \.venv by itself\)`)
	check("in a virtualenv", "with the virtualenv "+regexp.QuoteMeta(venv)+"; if it is a package, install it there: `"+
		regexp.QuoteMeta(filepath.Join(venv, "bin", "python"))+" -m pip install nosuchmodule` \\(a package may be named otherwise than its module\\)",
		"VIRTUAL_ENV="+venv)
}
