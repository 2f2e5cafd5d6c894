package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// Number and boolean values that do not parse are refused as wsgo
// refuses any bad value (given.bad): where it was given, the value, and
// what to give. urfave/cli would say "parse error" or strconv's words.

// valueHint is what to give flag name, a number or boolean flag of
// flags, instead of a value that does not parse; "" for other flags.
func valueHint(flags []cli.Flag, name string) string {
	for _, f := range flags {
		if f.Names()[0] != name {
			continue
		}
		switch f.(type) {
		case *cli.BoolFlag:
			return "give true or false"
		case *cli.IntFlag, *cli.Int64Flag:
			return numberHint(name)
		}
	}
	return ""
}

// numberHint is what to give number flag name: its range.
func numberHint(name string) string {
	if name == "threads" {
		return fmt.Sprintf("give a whole number from 1 to %d", MaxThreads)
	}
	for _, m := range leastNumbers {
		if slices.Contains(m.flags, name) {
			return fmt.Sprintf("give a whole number of at least %d", m.least)
		}
	}
	return "give a whole number"
}

// variableBools are the words a boolean WSGO_* variable takes besides
// strconv's (true, false, 1, 0, ...), as environment files and other
// tools' variables spell them.
var variableBools = map[string]string{"yes": "true", "on": "true", "no": "false", "off": "false"}

// checkVariables refuses, before urfave/cli reads them, the number and
// boolean variables of cmd's flags that do not parse, and rewrites a
// boolean's yes, on, no or off as urfave/cli reads it. As urfave/cli, it
// reads a flag's first variable that is set, and skips it when empty.
func checkVariables(cmd string, flags []cli.Flag) error {
	for _, f := range flags {
		withVars, ok := f.(interface{ GetEnvVars() []string })
		if !ok {
			continue
		}
		for _, name := range withVars.GetEnvVars() {
			v, set := os.LookupEnv(name)
			if !set {
				continue
			}
			var err error
			switch f.(type) {
			case *cli.BoolFlag:
				if word, ok := variableBools[strings.ToLower(v)]; ok {
					err = os.Setenv(name, word)
				} else if v != "" {
					_, err = strconv.ParseBool(v)
				}
			case *cli.IntFlag, *cli.Int64Flag:
				if v != "" {
					_, err = strconv.ParseInt(v, 0, 64)
				}
			}
			if err != nil {
				hint := valueHint(flags, f.Names()[0])
				if _, isBool := f.(*cli.BoolFlag); isBool {
					hint += " (also 1 or 0, yes or no, on or off)"
				}
				return usage(fmt.Sprintf("wsgo %s: %s=%q: %s", cmd, name, v, hint))
			}
			break
		}
	}
	return nil
}

// flagValueError reads urfave/cli's error for a flag value that does not
// parse: `invalid value "x" for flag -threads: parse error`, or
// `invalid boolean value "x" for -strict: parse error`.
var flagValueError = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-([\w-]+): parse error$`)

// badFlagValue is err, urfave/cli's complaint about a value on cmd's
// command line, said as wsgo says it, or nil when err is another.
func badFlagValue(cmd string, flags []cli.Flag, err error) error {
	m := flagValueError.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	value, _ := strconv.Unquote(m[1])
	hint := valueHint(flags, m[2])
	if hint == "" {
		return nil
	}
	return usage(fmt.Sprintf("wsgo %s: --%s %q: %s", cmd, m[2], value, hint))
}
