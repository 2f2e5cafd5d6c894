package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
	"wsgo/pyhost"
)

// checkCommand is `wsgo check TARGET`: for CI and container builds, a
// quick answer to "would `wsgo run TARGET` start?".
func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "import the app as `run` would, show what was found, and exit: 0 if it loads, 4 if not",
		ArgsUsage: "TARGET",
		Description: "TARGET and the flags below are those of `wsgo run`. Prints the callable found,\n" +
			"the Python version and sys.path, or the error `run` would stop with.",
		Flags:  runFlags("chdir", "pythonpath", "env"),
		Action: check,
	}
}

// runFlags picks flags of `wsgo run` by name, for commands that share them.
func runFlags(names ...string) []cli.Flag {
	var picked []cli.Flag
	for _, f := range runCommand().Flags {
		if slices.Contains(names, f.Names()[0]) {
			picked = append(picked, f)
		}
	}
	return picked
}

func check(c *cli.Context) error {
	if c.NArg() != 1 {
		return cli.Exit("wsgo check: give one TARGET, e.g. `wsgo check hello.py` or `wsgo check pkg.module:app`", exitUsage)
	}
	if err := setEnv(c); err != nil {
		return err
	}
	host, err := pyhost.Start(pyhost.Config{
		Target:     c.Args().First(),
		Chdir:      c.String("chdir"),
		PythonPath: c.StringSlice("pythonpath"),
		Threads:    1,
		QueueSize:  1,
		Logger:     httpfront.NewLogger(os.Stderr, 0),
	})
	if err != nil {
		fmt.Fprint(os.Stderr, strings.TrimRight(err.Error(), "\n")+"\n")
		return cli.Exit("", exitAppLoad)
	}
	about, err := host.About()
	if err != nil {
		return cli.Exit(err.Error(), exitFailure)
	}
	fmt.Printf("wsgo check: %s loads\n", host.Description())
	fmt.Printf("callable: %s\n          %s\n", about.Name, about.Repr)
	if b := host.ScriptBind(); b != "" {
		fmt.Printf("address:  %s (given to make_server; `wsgo run` serves there unless --bind is given)\n", b)
	}
	fmt.Printf("Python:   %s\n", pyhost.PythonVersion())
	fmt.Printf("sys.path: %s\n", strings.Join(about.SysPath, "\n          "))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := host.Shutdown(ctx); err != nil {
		return cli.Exit("wsgo check: the app loads, but "+err.Error(), exitFailure)
	}
	return nil
}
