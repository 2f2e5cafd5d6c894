package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// given is a command's flag values, with where the user gave each, so
// that an error names what the user wrote: `--workers "0"`,
// `WSGO_WORKERS="0"` or `wsgo.conf.py: workers = 0`, never a flag the
// user did not type. urfave/cli tells neither a variable nor the
// configuration file (which sets flags through it) from a flag.
type given struct {
	*cli.Context
	typed map[string]bool   // flags on the command line
	file  map[string]string // flags the configuration file set: "FILE: setting"
}

// newGiven is c's values, commandLine being the arguments urfave/cli
// parsed them from (Interspersed's, which spells every flag --name or
// --name=value).
func newGiven(c *cli.Context, commandLine []string) *given {
	typed := map[string]bool{}
	for _, a := range commandLine {
		if a == "--" {
			break
		}
		if flag, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ := strings.Cut(flag, "=")
			typed[name] = true
		}
	}
	return &given{Context: c, typed: typed, file: map[string]string{}}
}

// name is how the user gave flag: `--workers`, `WSGO_WORKERS` or
// `wsgo.conf.py: workers`.
func (c *given) name(flag string) string {
	if setting, ok := c.file[flag]; ok {
		return setting
	}
	if v := c.variable(flag); v != "" {
		return v
	}
	return "--" + flag
}

// spell is flag's value as the user gave it.
func (c *given) spell(flag, value string) string {
	if setting, ok := c.file[flag]; ok {
		return setting + " = " + value
	}
	if v := c.variable(flag); v != "" {
		return v + "=" + strconv.Quote(value)
	}
	return "--" + flag + " " + strconv.Quote(value)
}

// bad is the usage error refusing flag's value: the value as the user
// gave it, then what to give instead.
func (c *given) bad(flag, value, instead string) error {
	return usage(fmt.Sprintf("wsgo %s: %s: %s", c.Command.Name, c.spell(flag, value), instead))
}

// variable is the environment variable flag's value came from, or "":
// the first of its variables that is set (as urfave/cli reads them),
// unless the command line gave the flag, which wins.
func (c *given) variable(flag string) string {
	if c.typed[flag] {
		return ""
	}
	for _, f := range c.Command.Flags {
		withVars, ok := f.(interface{ GetEnvVars() []string })
		if !ok || f.Names()[0] != flag {
			continue
		}
		for _, v := range withVars.GetEnvVars() {
			if _, set := os.LookupEnv(v); set {
				return v
			}
		}
	}
	return ""
}
