package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"wsgo/handoff"
	"wsgo/httpfront"
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
// workers (this binary, run again with the same arguments and handed o)
// and supervises them until SIGTERM or SIGINT. On SIGHUP it calls reread
// for the new workers' settings (see reconfigure). Its error carries the
// exit code.
func Serve(o *config.Options, reread func() (*config.Options, error), logger *slog.Logger) error {
	if Activated() && len(o.Binds) > 0 {
		return exitcode.Errorf(exitcode.Usage, "wsgo run: systemd passed listening sockets (LISTEN_FDS), which take the place of --bind; drop --bind (or WSGO_BIND), or the .socket unit")
	}
	if err := checkPrivileges(o); err != nil {
		return err
	}
	handed, err := o.Encode()
	if err != nil {
		return exitcode.Errorf(exitcode.Failure, "%s", err.Error())
	}
	var workerOptions atomic.Pointer[string] // what the next worker gets
	workerOptions.Store(&handed)
	var workerTLS atomic.Pointer[[]byte] // the certificate the next worker serves, as checked here
	if o.Certs != nil {
		pem := o.Certs.PEM()
		workerTLS.Store(&pem)
	}
	// The master's own answers (502, 503) go in the access log too.
	accessLog, err := httpfront.OpenConfiguredAccessLog(o.AccessLogSet, o.AccessLog, o.AccessLogJSON, logger)
	if err != nil {
		return exitcode.Errorf(exitcode.Usage, "%s", err.Error())
	}
	if accessLog != nil {
		defer accessLog.Close()
	}
	url := URL
	if o.Certs != nil {
		logCertificate(logger, "", o.Certs)
		url = TLSURL
	}
	err = Run(Config{
		Workers:     o.Workers,
		Binds:       o.Binds,
		DefaultBind: config.DefaultBind,
		Listen:      Listen,
		URL:         url,
		Command: asUser(o.Privileges, func() *exec.Cmd {
			// /proc/self/exe: the very binary running, even if a deploy
			// has replaced the file since.
			cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
			cmd.Env = append(os.Environ(), config.OptionsEnv+"="+*workerOptions.Load())
			if pem := workerTLS.Load(); pem != nil {
				// Not the files: a worker that replaces one that died
				// serves what the master checked, not what they hold now.
				if f, err := memFile("wsgo-tls", *pem); err == nil { // else the worker reads the files
					cmd.ExtraFiles = []*os.File{f} // config.WorkerTLSFD
					cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", config.WorkerTLSEnv, config.WorkerTLSFD))
				}
			}
			return cmd
		}),
		Reconfigure: func() bool {
			certs, ok := certsReload(o, logger)
			if !ok {
				return false
			}
			if certs != nil {
				pem := certs.PEM()
				workerTLS.Store(&pem)
			}
			if next, ok := reconfigure(o, reread, logger); ok {
				workerOptions.Store(&next)
			}
			return true
		},
		Privileges:      o.Privileges,
		GracefulTimeout: o.GracefulTimeout,
		ShutdownDelay:   o.ShutdownDelay,
		MetricsBind:     o.MetricsBind,
		AnswerLog: func(remote string, status int, bytes int64, req handoff.Request) {
			accessLog.AnsweredUnread(remote, status, bytes, req.ID, req.Method, req.Target, req.Proto)
		},
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
		Reload:       o.Reload,
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

// expiryWarning is how long before its end a certificate is warned of.
const expiryWarning = 14 * 24 * time.Hour

// logCertificate names the certificate served, with a warning when it
// has expired, which clients refuse, or is about to.
func logCertificate(logger *slog.Logger, when string, certs *httpfront.Certs) {
	logger.Info("wsgo: " + when + "TLS certificate: " + certs.Describe())
	switch left := time.Until(certs.Expires()); {
	case left <= 0:
		logger.Warn(fmt.Sprintf("wsgo: the TLS certificate expired on %s: clients refuse it; renew --certfile, then send SIGHUP",
			certs.Expires().UTC().Format(time.DateOnly)))
	case left < expiryWarning:
		in := fmt.Sprintf("%d hours", int(left.Hours()))
		if left >= 4*24*time.Hour {
			in = fmt.Sprintf("%d days", int(left.Hours()/24))
		}
		logger.Warn(fmt.Sprintf("wsgo: the TLS certificate expires in %s, on %s; renew --certfile, then send SIGHUP",
			in, certs.Expires().UTC().Format(time.DateOnly)))
	}
}

// certsReload reads the TLS files again for a SIGHUP's new workers: if
// they no longer load, there is no reload, and the workers serve on with
// the certificate they have, as do those that replace them later. nil
// without TLS.
func certsReload(o *config.Options, logger *slog.Logger) (*httpfront.Certs, bool) {
	if o.Certs == nil {
		return nil, true
	}
	certs, err := httpfront.LoadCerts(o.CertFile, o.KeyFile)
	if err != nil {
		logger.Error("wsgo: SIGHUP: no reload, as new workers could not read the TLS files: " +
			strings.TrimPrefix(err.Error(), "wsgo: ") + "; the workers serve on with the certificate in use")
		return nil, false
	}
	logCertificate(logger, "SIGHUP: ", certs)
	return certs, true
}

// memFile is a memory file (memfd) holding data, read from its start.
func memFile(name string, data []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// reconfigure reads the configuration again for a SIGHUP's new workers,
// as gunicorn does: the command line and WSGO_* variables are as they
// were, the configuration file may have changed. The master's own
// settings stay (Options.KeepMasters). A configuration that no longer
// reads keeps the last one: the reload goes on with it.
func reconfigure(running *config.Options, reread func() (*config.Options, error), logger *slog.Logger) (string, bool) {
	var kept []string
	var handed string
	next, err := reread()
	if err == nil {
		kept = next.KeepMasters(running)
		handed, err = next.Encode()
	}
	if err != nil {
		logger.Error("wsgo: SIGHUP: the new workers keep the settings they had: " + err.Error())
		return "", false
	}
	if len(kept) > 0 {
		logger.Warn(fmt.Sprintf("wsgo: SIGHUP: %s changed, which only a restart of wsgo applies; the new workers get the other settings",
			strings.Join(kept, ", ")))
	}
	return handed, true
}
