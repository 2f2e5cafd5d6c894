package worker

import (
	"fmt"
	"os"
	"strings"

	"wsgo/internal/config"
	"wsgo/pyhost"
)

// Python is `wsgo python ARGS…` (and `wsgo -c …`, `wsgo -m …`: wsgo is
// sys.executable, which Python started again runs as `sys.executable
// -FLAGS …`): the linked interpreter as a command line,
// for what a runtime image without a python3 executable still needs
// (`wsgo python manage.py migrate`, `wsgo python -m pip --version`). ARGS
// go to Python untouched, so wsgo's own settings come from the
// environment as `wsgo run` reads them: WSGO_CHDIR, WSGO_PYTHONPATH,
// WSGO_ENV, and the virtualenv (WSGO_VIRTUALENV, VIRTUAL_ENV, or a .venv
// in the current directory: pyhost.PythonMain).
func Python(args []string) int {
	if err := config.CheckPythonVariables(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for _, kv := range config.SplitEnv(os.Getenv("WSGO_ENV")) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			os.Setenv(k, v)
		}
	}
	if dir := os.Getenv("WSGO_CHDIR"); dir != "" {
		if err := os.Chdir(dir); err != nil {
			fmt.Fprintf(os.Stderr, "wsgo python: WSGO_CHDIR=%q: %v\n", dir, err)
			return 2
		}
	}
	path := splitList(os.Getenv("WSGO_PYTHONPATH"))
	if old := os.Getenv("PYTHONPATH"); old != "" {
		path = append(path, old)
	}
	if len(path) > 0 {
		os.Setenv("PYTHONPATH", strings.Join(path, string(os.PathListSeparator)))
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsgo python: cannot find wsgo's own executable (is /proc mounted?): %v\n", err)
		return 1
	}
	return pyhost.PythonMain(exe, args)
}

// splitList splits a WSGO_* list variable as urfave/cli does: by commas.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
