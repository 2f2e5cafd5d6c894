// Package exitcode names the exit codes of wsgo's processes, shared by the
// command line, the supervisor and the worker. A supervisor above wsgo
// (systemd, Kubernetes, a shell loop) should not restart it in a loop on
// Usage, Listen or AppImport: the same start would fail the same way.
package exitcode

import "fmt"

const (
	OK        = 0
	Failure   = 1 // anything not named below
	Usage     = 2 // bad flags or arguments
	Listen    = 3 // a --bind address cannot be listened on
	AppImport = 4 // Python could not start or the app could not be imported

	// GoCrash is the code the Go runtime exits with after a panic, a fatal
	// error or a signal in C code; its report goes to standard error.
	GoCrash = 2
)

// Error is an error that ends the process with Code. Its ExitCode method
// makes it a urfave/cli ExitCoder. An empty message means the reason was
// printed already.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) ExitCode() int { return e.Code }

// Errorf is an *Error with a formatted message.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}
