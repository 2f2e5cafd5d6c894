package config

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Interspersed moves the TARGET of `run` and `check` after their flags, so
// `wsgo run app.py --threads 4` works as gunicorn users expect (urfave/cli
// v2 stops parsing flags at the first argument), and spells every alias by
// its flag's name (urfave/cli v2 refuses `--bind A -b B`).
func Interspersed(args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmdFlags []cli.Flag
	switch args[1] {
	case "run":
		cmdFlags = RunFlags()
	case "check":
		cmdFlags = CheckFlags()
	default:
		return args
	}
	takesValue, canonical := map[string]bool{}, map[string]string{}
	for _, f := range cmdFlags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
			canonical[n] = f.Names()[0]
		}
	}
	var flags, positional []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			positional = append(positional, rest[i+1:]...)
			i = len(rest)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if c, ok := canonical[name]; ok {
				name = c
				a = "--" + name
				if hasValue {
					a += "=" + value
				}
			}
			flags = append(flags, a)
			if !hasValue && takesValue[name] && i+1 < len(rest) {
				i++
				flags = append(flags, rest[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	out := append([]string{args[0], args[1]}, flags...)
	if len(positional) > 0 {
		out = append(append(out, "--"), positional...)
	}
	return out
}
