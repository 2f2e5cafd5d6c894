package worker

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"wsgo/internal/config"
	"wsgo/internal/exitcode"
	"wsgo/internal/logfmt"
	"wsgo/pyhost"
)

// Check is `wsgo check TARGET`: for CI and container builds, a quick
// answer to "would `wsgo run TARGET` start?". It imports the app in this
// process as a worker would, and prints what it found.
func Check(target string, py config.Python) error {
	host, err := pyhost.Start(pyhost.Config{
		Target:     target,
		Chdir:      py.Chdir,
		PythonPath: py.PythonPath,
		Virtualenv: py.Virtualenv,
		Threads:    1,
		QueueSize:  1,
		Logger:     logfmt.NewLogger(os.Stderr, 0),
	})
	if err != nil {
		fmt.Fprint(os.Stderr, strings.TrimRight(err.Error(), "\n")+"\n")
		return &exitcode.Error{Code: exitcode.AppImport}
	}
	about, err := host.About()
	if err != nil {
		return exitcode.Errorf(exitcode.Failure, "%s", err.Error())
	}
	fmt.Printf("wsgo check: %s loads\n", host.Description())
	fmt.Printf("callable: %s\n          %s\n", about.Name, about.Repr)
	if b := host.ScriptBind(); b != "" {
		fmt.Printf("address:  %s (given to make_server; `wsgo run` serves there unless --bind is given)\n", b)
	}
	fmt.Printf("Python:   %s\n", pyhost.PythonVersion())
	if about.Virtualenv != "" {
		fmt.Printf("virtualenv: %s\n", about.Virtualenv)
	}
	fmt.Printf("sys.path: %s\n", strings.Join(about.SysPath, "\n          "))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := host.Shutdown(ctx); err != nil {
		return exitcode.Errorf(exitcode.Failure, "wsgo check: the app loads, but %s", err.Error())
	}
	return nil
}
