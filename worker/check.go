package worker

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"wsgo/internal/config"
	"wsgo/internal/exitcode"
	"wsgo/internal/logfmt"
	"wsgo/pyhost"
)

// checkChild marks the process that imports the app for Check; its
// descriptor 3 is told "loaded" once all went well.
const checkChild = "WSGO_INTERNAL_CHECK"

// Check is `wsgo check TARGET`: for CI and container builds, a quick
// answer to "would `wsgo run TARGET` start?". A child process (this
// binary, run again) imports the app as a worker would, and prints what
// it found: an import that ends its process (os._exit(0), a crash in C
// code) then exits 4 like any other, not 0 or Go's 2 for a crash.
func Check(o *config.Options) error {
	target := o.Target
	if _, child := os.LookupEnv(checkChild); child {
		os.Unsetenv(checkChild)
		return checkHere(target, o.Python)
	}
	for _, line := range append(o.Notes, o.Warnings...) { // the configuration file's, said once
		fmt.Fprintln(os.Stderr, line)
	}
	loaded, told, err := os.Pipe()
	if err != nil {
		return exitcode.Errorf(exitcode.Failure, "wsgo check: %v", err)
	}
	defer loaded.Close()
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Env = append(os.Environ(), checkChild+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{told}
	// An import that hangs must not outlive a check that is stopped (a CI
	// timeout, Ctrl-C). No goroutine of this process locks its thread,
	// so the thread that starts the child lives as long as the process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	told.Close() // the child's alone: its exit ends the read below
	if err != nil {
		return exitcode.Errorf(exitcode.Failure, "wsgo check: %v", err)
	}
	word, _ := io.ReadAll(loaded)
	cmd.Wait()
	switch code := cmd.ProcessState.ExitCode(); {
	case string(word) == "loaded" || code == exitcode.AppImport || code == exitcode.Failure:
		return &exitcode.Error{Code: code} // the child said why
	default:
		return exitcode.Errorf(exitcode.AppImport, "wsgo check: importing %s ended the process (%s) before the app was loaded; "+
			"find what ends it (os._exit(), a crash in C code) in the app's import", target, cmd.ProcessState)
	}
}

// checkHere imports the app in this process and prints what it found.
func checkHere(target string, py config.Python) error {
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
	if about.Warning != "" {
		fmt.Fprintln(os.Stderr, about.Warning)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := host.Shutdown(ctx); err != nil {
		return exitcode.Errorf(exitcode.Failure, "wsgo check: the app loads, but %s", err.Error())
	}
	os.NewFile(3, "wsgo-check").WriteString("loaded") // Check's pipe
	return nil
}
