package config

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// envFlag is --env: each value the command line or the configuration
// file's raw_env gives is one KEY=VALUE, kept whole, commas included, as
// gunicorn keeps it (ALLOWED_HOSTS=a.com,b.com). urfave/cli's slice
// flags split every value at commas, so this flag keeps its own values;
// only its variable, WSGO_ENV, holds several pairs (SplitEnv).
type envFlag struct{ *cli.StringSliceFlag }

func (f envFlag) Apply(set *flag.FlagSet) error {
	v := &envPairs{}
	for _, name := range f.EnvVars {
		if s := os.Getenv(name); s != "" {
			v.pairs, v.fromEnv = SplitEnv(s), true
			f.HasBeenSet = true
			break
		}
	}
	for _, name := range f.Names() {
		set.Var(v, name, f.Usage)
	}
	return nil
}

// envPairs is the value of envFlag, read with Context.Value.
type envPairs struct {
	pairs   []string
	fromEnv bool // pairs came from WSGO_ENV, which a flag replaces
}

func (v *envPairs) Set(pair string) error {
	if copied, ok := strings.CutPrefix(pair, serialized); ok {
		return json.Unmarshal([]byte(copied), &v.pairs)
	}
	if v.fromEnv {
		v.pairs, v.fromEnv = nil, false
	}
	v.pairs = append(v.pairs, pair)
	return nil
}

func (v *envPairs) String() string { return strings.Join(v.pairs, " ") }

// serialized starts Serialize's value: a NUL, which no argument or
// variable holds, so no KEY=VALUE is taken for it.
const serialized = "\x00pairs:"

// Serialize is the value as urfave/cli copies it from --env to its alias
// -e, both names holding this one value: the copy must replace the pairs,
// not add them again.
func (v *envPairs) Serialize() string {
	b, _ := json.Marshal(v.pairs)
	return serialized + string(b)
}

func (v *envPairs) Get() any { return v.pairs }

// envKey is the start of a KEY=VALUE pair in WSGO_ENV.
var envKey = regexp.MustCompile(`^\s*[A-Za-z_][A-Za-z0-9_]*=`)

// SplitEnv reads WSGO_ENV: KEY=VALUE pairs separated by commas, where a
// comma starts a new pair only if a NAME= follows it, so that
// WSGO_ENV=A=1,ALLOWED_HOSTS=a.com,b.com is A and ALLOWED_HOSTS.
func SplitEnv(s string) []string {
	var pairs []string
	for _, part := range strings.Split(s, ",") {
		if n := len(pairs); n > 0 && !envKey.MatchString(part) {
			pairs[n-1] += "," + part
		} else {
			pairs = append(pairs, part)
		}
	}
	for i := range pairs {
		pairs[i] = strings.TrimSpace(pairs[i])
	}
	return pairs
}

// consistsOf reports whether s is not empty and has only the bytes of
// chars: a number (digits), an octal umask.
func consistsOf(s, chars string) bool { return s != "" && strings.Trim(s, chars) == "" }

// envPair reports whether kv is one of --env's KEY=VALUE pairs.
func envPair(kv string) bool {
	k, _, ok := strings.Cut(kv, "=")
	return ok && k != ""
}

// What to give instead of a bad --env or --chdir, for `wsgo run` and
// `wsgo python` alike.
const (
	envInstead   = "give KEY=VALUE"
	chdirInstead = "not a directory; give the app's directory (a relative one is taken from where wsgo starts)"
)

// CheckPythonVariables checks the WSGO_ENV and WSGO_CHDIR that `wsgo
// python` applies as `wsgo run` does, and refuses a bad one as run does.
func CheckPythonVariables() error {
	for _, kv := range SplitEnv(os.Getenv("WSGO_ENV")) {
		if kv != "" && !envPair(kv) {
			return usage(fmt.Sprintf("wsgo python: WSGO_ENV=%q: %s", kv, envInstead))
		}
	}
	if dir := os.Getenv("WSGO_CHDIR"); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return usage(fmt.Sprintf("wsgo python: WSGO_CHDIR=%q: %s", dir, chdirInstead))
		}
	}
	return nil
}
