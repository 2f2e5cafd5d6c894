package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startprojectManagePy is the manage.py of Django's startproject, with
// the settings module it sets left to fill in.
const startprojectManagePy = `#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    """Run administrative tasks."""
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', '%s')
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError("Couldn't import Django.") from exc
    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()
`

// The WSGI module is named after the settings module, a settings package
// (cookiecutter-django's config.settings.local) or one beside manage.py,
// when its file is there.
func TestDjangoWSGIModule(t *testing.T) {
	for settings, want := range map[string]string{
		"mysite.settings":       "mysite.wsgi",
		"config.settings.local": "config.wsgi",
		"settings":              "wsgi",
		"nowsgi.settings":       "",
	} {
		dir := t.TempDir()
		managePy := filepath.Join(dir, "manage.py")
		writeTestFile(t, managePy, fmt.Sprintf(startprojectManagePy, settings))
		if want != "" {
			writeTestFile(t, filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(want, ".", "/"))+".py"), "")
		}
		if got := djangoWSGIModule(managePy); got != want {
			t.Errorf("%s: %q; want %q", settings, got, want)
		}
	}
	if got := djangoWSGIModule(filepath.Join(t.TempDir(), "manage.py")); got != "" {
		t.Errorf("no manage.py: %q; want none", got)
	}
}

func TestRunserverAddress(t *testing.T) {
	for arg, want := range map[string]string{
		"8000": "127.0.0.1:8000", "0:8000": "0.0.0.0:8000", "0.0.0.0:80": "0.0.0.0:80", "[::1]:8000": "[::1]:8000",
		"pkg.web:app": "", "app.py": "", "runserver": "",
	} {
		got, ok := runserverAddress(arg)
		if ok != (want != "") || (ok && got != want) {
			t.Errorf("%s: %q, %v; want %q", arg, got, ok, want)
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
