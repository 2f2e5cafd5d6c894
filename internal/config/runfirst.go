package config

import (
	"fmt"
	"os"
	"strings"
)

// pythonSwitches are the options of python3's own command line that a
// letter of `wsgo run`'s flags also spells (-b, -c, -m, -u): a line that
// starts with one is Python's unless what follows is plainly wsgo's
// (RunLineFirst).
var pythonSwitches = map[string]bool{"b": true, "c": true, "m": true, "u": true}

// RunLineFirst reports whether args (the command line after `wsgo`),
// which begins with a flag, is `wsgo run`'s line with the command left
// out, as gunicorn is typed (`wsgo -w 4 -b :8000 app:app`, `wsgo -c
// gunicorn.conf.py`), rather than Python's (`wsgo -m pip`, `wsgo -c
// CODE`, which Python's own children use: wsgo is sys.executable). It is
// when the first flag is one of run's that python3 does not have, or -b
// before an address, -c before a file that exists, -m before an octal
// umask.
func RunLineFirst(args []string) bool {
	if len(args) == 0 || !strings.HasPrefix(args[0], "-") || args[0] == "-" {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
	long := strings.HasPrefix(args[0], "--")
	if !long && len(name) > 1 { // -w4: attached
		name = name[:1]
	}
	known := false
	for _, f := range RunFlags() {
		for _, n := range f.Names() {
			known = known || n == name && (long == (len(n) > 1))
		}
	}
	if !known {
		return false
	}
	if long || !pythonSwitches[name] {
		return true
	}
	value := next(args, 0)
	if len(args[0]) > 2 { // -c'print(1)', -mpip: Python's
		return false
	}
	switch name {
	case "b":
		return strings.Contains(value, ":")
	case "c":
		info, err := os.Stat(value)
		return err == nil && info.Mode().IsRegular()
	case "m":
		return consistsOf(value, "01234567")
	}
	return false
}

// runFirstError is the usage error for a RunLineFirst line.
func runFirstError(args []string) error {
	return usage(fmt.Sprintf("wsgo: %s is a flag of `wsgo run`, and the command comes first: `wsgo run %s`",
		args[0], strings.Join(args, " ")))
}
