package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"

	"wsgo/internal/config"
	"wsgo/internal/exitcode"
)

// The warnings for development features on a listener other machines
// can reach.
const (
	warnDebugPublic  = "wsgo: --debug shows tracebacks and request headers to every client of %s, which is not a loopback address; use --debug only on 127.0.0.1 or ::1"
	warnReloadPublic = "wsgo: --reload is a development feature and %s is not a loopback address; do not use --reload in production"
)

// Serve is the master process of `wsgo run`: it listens, starts the
// workers (this binary, run again with the same arguments) and supervises
// them until SIGTERM or SIGINT. Its error carries the exit code.
func Serve(o *config.Options, logger *slog.Logger) error {
	if Activated() && len(o.Binds) > 0 {
		return exitcode.Errorf(exitcode.Usage, "wsgo run: systemd passed listening sockets (LISTEN_FDS), which take the place of --bind; drop --bind (or WSGO_BIND), or the .socket unit")
	}
	if err := checkPrivileges(o); err != nil {
		return err
	}
	url := URL
	if o.Certs != nil {
		logger.Info("wsgo: TLS certificate: " + o.Certs.Describe())
		url = TLSURL
	}
	err := Run(Config{
		Workers:     o.Workers,
		Binds:       o.Binds,
		DefaultBind: config.DefaultBind,
		Listen:      Listen,
		URL:         url,
		Command: asUser(o.Privileges, func() *exec.Cmd {
			// /proc/self/exe: the very binary running, even if a deploy
			// has replaced the file since.
			return exec.Command("/proc/self/exe", os.Args[1:]...)
		}),
		Privileges:      o.Privileges,
		GracefulTimeout: o.GracefulTimeout,
		ShutdownDelay:   o.ShutdownDelay,
		MetricsBind:     o.MetricsBind,
		Listening: func(l net.Listener) {
			if IsLoopback(l.Addr()) {
				return
			}
			if o.Front.Debug {
				logger.Warn(fmt.Sprintf(warnDebugPublic, url(l)))
			}
			if o.Reload {
				logger.Warn(fmt.Sprintf(warnReloadPublic, url(l)))
			}
		},
		PidFile:      o.PidFile,
		Threads:      o.Threads,
		BatchWorkers: o.BatchWorkers,
		Logger:       logger,
	})
	var startErr *StartError
	var listenErr *ListenError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &startErr):
		return &exitcode.Error{Code: startErr.Code} // the worker said why
	case errors.As(err, &listenErr):
		return exitcode.Errorf(exitcode.Listen, "%s", err.Error())
	}
	return exitcode.Errorf(exitcode.Failure, "%s", err.Error())
}
