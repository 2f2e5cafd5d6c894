package config

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// Commands are wsgo's commands, for "did you mean" on a misspelt one.
var Commands = []string{"run", "check", "python", "version"}

// Interspersed checks the command line before urfave/cli sees it, and
// rewrites it so that urfave/cli v2 takes what gunicorn users type:
//   - the TARGET of `run` and `check` may come before flags
//     (`wsgo run app.py --threads 4`): urfave/cli v2 stops at the first
//     argument, so the target is moved after the flags;
//   - every alias is spelt by its flag's name (urfave/cli v2 refuses
//     `--bind A -b B`), and a flag and its value are one argument
//     (`--bind=A`), also from gunicorn's -w2 (attached);
//   - a boolean flag followed by true or false (--strict false) is a
//     usage error that says --strict=false: the value would be an argument;
//   - a flag that takes a value and has none (last on the line, or
//     followed by another --flag) is a usage error, not given the next
//     flag or the -- below as its value;
//   - --proxy-protocol takes a MODE only if one follows (gunicorn 24.1's
//     off, v1, v2, auto, or a boolean; proxyProtocolOn): bare, it is on;
//     a word after it that is no MODE, beside a TARGET, is a wrong MODE;
//   - an unknown flag or command is a usage error that says what to type
//     instead, not urfave/cli's whole help; every unknown flag of the line
//     at once, and the line in wsgo's words if it can be (foreign.go); so
//     is a number or boolean WSGO_* variable that does not parse
//     (checkVariables);
//   - `wsgo --version` is `wsgo version`; `wsgo help [COMMAND]` and a
//     --help anywhere among a command's arguments show the help.
func Interspersed(args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	var cmdFlags []cli.Flag
	switch cmd := args[1]; {
	case cmd == "run" || cmd == "check": // check takes run's command line
		cmdFlags = RunFlags()
	case cmd == "--version" || cmd == "-v" || cmd == "-V":
		return []string{args[0], "version"}, nil
	case cmd == "help":
		return helpArgs(args)
	case RunLineFirst(args[1:]):
		return nil, runFirstError(args[1:])
	case cmd == "version" || strings.HasPrefix(cmd, "-"):
		return args, nil
	default:
		msg := fmt.Sprintf("wsgo: unknown command %q", cmd)
		if s := suggest(cmd, Commands); s != "" {
			msg += fmt.Sprintf("; did you mean `wsgo %s`?", s)
		} else if hint := commandInstead(args[1:]); hint != "" {
			msg += "; " + hint
		}
		return nil, usage(msg + "\nCommands: " + strings.Join(Commands, ", ") + ". Run `wsgo --help` for more.")
	}
	if err := checkVariables(args[1], cmdFlags); err != nil {
		return nil, err
	}
	takesValue, canonical := map[string]bool{}, map[string]string{}
	for _, f := range append(cmdFlags, cli.HelpFlag) {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool && n != "proxy-protocol" // its MODE is optional
			canonical[n] = f.Names()[0]
		}
	}
	var flags, positional []string
	var words []commandWord // for unknownFlags, when there are foreign ones
	foreign := false
	afterProxyProtocol := "" // the word after a bare --proxy-protocol that is no MODE
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a, start := rest[i], i
		switch {
		case a == "--":
			positional = append(positional, rest[i+1:]...)
			i = len(rest)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			c, ok := canonical[name]
			if !ok {
				var short string
				if c, short, ok = attached(a, canonical, takesValue); !ok {
					// read on, to report every foreign flag at once
					f := &foreignFlag{given: a, name: name, value: value, hasValue: hasValue}
					if _, isForeign := foreignInstead(name, ""); isForeign && !hasValue && !foreignSwitches[name] &&
						!strings.HasPrefix(next(rest, i), "-") && i+1 < len(rest) {
						i++
						f.value, f.hasValue = rest[i], true
					}
					words, foreign = append(words, commandWord{foreign: f}), true
					continue
				}
				value, hasValue = short, true
			}
			name = c
			if name == "help" { // urfave/cli would read an argument after it as a help topic
				return []string{args[0], args[1], "--help"}, nil
			}
			if v := next(rest, i); !hasValue && !takesValue[name] && name != "proxy-protocol" &&
				(strings.EqualFold(v, "true") || strings.EqualFold(v, "false")) {
				return nil, usage(fmt.Sprintf("wsgo %s: %s %s: write --%s=%s; a flag that is true or false takes its value "+
					"after =, and alone means true", args[1], a, v, name, strings.ToLower(v)))
			}
			a = "--" + name
			if !hasValue && takesValue[name] {
				// else urfave/cli would take the -- below, or the next flag, for the value
				if i+1 == len(rest) || strings.HasPrefix(next(rest, i), "--") {
					return nil, usage(fmt.Sprintf("wsgo %s: %s needs a value: %s VALUE, or --%s=VALUE (`wsgo %s --help` says what it takes)",
						args[1], rest[start], rest[start], name, args[1]))
				}
				i++
				value, hasValue = rest[i], true
			}
			if name == "proxy-protocol" && !hasValue {
				value, hasValue = "on", true
				if _, ok := proxyProtocolOn(next(rest, i)); ok {
					i++
					value = rest[i]
				} else if v := next(rest, i); !strings.HasPrefix(v, "-") {
					afterProxyProtocol = v
				}
			}
			if hasValue {
				a += "=" + value // one argument a flag: newGiven reads them so
			}
			flags = append(flags, a)
			words = append(words, commandWord{typed: rest[start : i+1]})
		default:
			positional = append(positional, a)
		}
	}
	if foreign {
		return nil, unknownFlags(args[1], words, positional, canonical)
	}
	if len(positional) > 1 && afterProxyProtocol != "" && slices.Contains(positional, afterProxyProtocol) {
		return nil, usage(fmt.Sprintf("wsgo %s: --proxy-protocol %q: %s", args[1], afterProxyProtocol, proxyProtocolModes))
	}
	out := append([]string{args[0], args[1]}, flags...)
	if len(positional) > 0 {
		out = append(append(out, "--"), positional...)
	}
	return out, nil
}

// helpArgs are `wsgo help [COMMAND]` as urfave/cli shows that help:
// `wsgo [COMMAND] --help` (its own help command, hidden, took COMMAND's
// arguments as topics and exited 3).
func helpArgs(args []string) ([]string, error) {
	if len(args) < 3 {
		return []string{args[0], "--help"}, nil
	}
	if topic := args[2]; !slices.Contains(Commands, topic) {
		msg := fmt.Sprintf("wsgo help: no command %q", topic)
		if s := suggest(topic, Commands); s != "" {
			msg += fmt.Sprintf("; did you mean `wsgo help %s`?", s)
		}
		return nil, usage(msg + "\nCommands: " + strings.Join(Commands, ", ") + ".")
	}
	return []string{args[0], args[2], "--help"}, nil
}

// proxyProtocolOn reads a value of --proxy-protocol, however given:
// gunicorn's PROXY protocol modes, where off is off and v1, v2 and auto
// are on (wsgo takes either version from the peers it trusts), or a
// boolean (WSGO_PROXY_PROTOCOL=1). ok is false for any other value.
func proxyProtocolOn(mode string) (on, ok bool) {
	switch strings.ToLower(mode) {
	case "on", "v1", "v2", "auto":
		return true, true
	case "off":
		return false, true
	}
	on, err := strconv.ParseBool(mode)
	return on, err == nil
}

// proxyProtocolModes is what proxyProtocolOn takes, for its errors.
const proxyProtocolModes = "use off, v1, v2 or auto (v1, v2 and auto are the same in wsgo: it reads either version), or true or false"

// next is the argument after rest[i], or "".
func next(rest []string, i int) string {
	if i+1 < len(rest) {
		return rest[i+1]
	}
	return ""
}

// longNames are the flag names of known longer than a letter, sorted.
func longNames(known map[string]string) []string {
	names := make([]string, 0, len(known))
	for n := range known {
		if len(n) > 1 {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// attached reads a short flag with its value attached, as gunicorn's
// argparse takes it (-w2, -b127.0.0.1:8000, -t30), as the flag's
// canonical name and the value. ok is false for anything else, and for a
// long flag of gunicorn's, or a near miss of wsgo's, typed with one dash
// (-paste is no --pid, -threds no --timeout), which unknownFlags explains.
func attached(a string, canonical map[string]string, takesValue map[string]bool) (name, value string, ok bool) {
	if len(a) < 3 || a[1] == '-' || !takesValue[a[1:2]] || gunicornFlagsInstead[a[1:]] != "" ||
		suggest(strings.SplitN(a[1:], "=", 2)[0], longNames(canonical)) != "" {
		return "", "", false
	}
	return canonical[a[1:2]], a[2:], true
}

// suggest is the candidate nearest to s, if it is near enough to be a
// misspelling of it (one letter wrong, and one more per six letters),
// else "": --name is not a misspelt --home.
func suggest(s string, candidates []string) string {
	best, bestDist := "", len(s)/6+2
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist || (d == bestDist && best == "" && strings.HasPrefix(c, s)) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// UsageError is urfave/cli's complaint about a flag's value, said as wsgo
// says usage errors: `--threads`, not `-threads`, and no page of help.
func UsageError(c *cli.Context, err error) error {
	if bad := badFlagValue(c.Command.Name, c.Command.Flags, err); bad != nil {
		return bad
	}
	msg := regexp.MustCompile(`flag -(\w)`).ReplaceAllString(err.Error(), "flag --$1")
	return usage(fmt.Sprintf("wsgo %s: %s\nRun `wsgo %s --help` for the flags.", c.Command.Name, msg, c.Command.Name))
}

// ParseArgs is Parse for `wsgo run ARGS...` given as a list, as the
// command line would give it: for checking a command line written down
// elsewhere (a Kubernetes manifest, a unit file) without running it.
func ParseArgs(args ...string) (*Options, error) {
	full, err := Interspersed(append([]string{"wsgo", "run"}, args...))
	if err != nil {
		return nil, err
	}
	var o *Options
	var perr error
	app := &cli.App{
		Commands: []*cli.Command{{Name: "run", Flags: RunFlags(), Action: func(c *cli.Context) error {
			o, perr = Parse(c, full)
			return nil
		}, OnUsageError: func(c *cli.Context, err error, _ bool) error { return UsageError(c, err) }}},
		ExitErrHandler: func(*cli.Context, error) {},
		Writer:         io.Discard, // no help pages: the error says it
		ErrWriter:      io.Discard,
	}
	if err := app.Run(full); err != nil {
		return nil, err
	}
	return o, perr
}
