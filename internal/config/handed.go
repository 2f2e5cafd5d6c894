package config

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"

	"wsgo/httpfront"
)

// WorkerTLSEnv is set (to WorkerTLSFD) for a worker that finds at
// WorkerTLSFD the TLS certificate and key its master read and checked
// (supervisor), whatever the files hold by then.
const (
	WorkerTLSEnv = "WSGO_INTERNAL_TLS_FD"
	WorkerTLSFD  = 7
)

// OptionsEnv carries the master's Options, as JSON, into the environment of
// each worker it starts; FromMaster removes it, so the app does not see it.
const OptionsEnv = "WSGO_INTERNAL_OPTIONS"

// Encode is o as the master hands it to a worker (OptionsEnv).
func (o *Options) Encode() (string, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("wsgo: encoding the configuration for the workers: %w", err)
	}
	return string(b), nil
}

// FromMaster is a worker's Options: the master's, as Encode gave them,
// with --env applied to this process and the TLS certificate read (see
// workerCerts). With an error, the Options read so far, if any: they say
// how to log it.
func FromMaster() (*Options, error) {
	v, ok := os.LookupEnv(OptionsEnv)
	if !ok {
		return nil, fmt.Errorf("wsgo: this worker got no configuration from its master (%s is unset)", OptionsEnv)
	}
	os.Unsetenv(OptionsEnv)
	o := &Options{}
	if err := json.Unmarshal([]byte(v), o); err != nil {
		return nil, fmt.Errorf("wsgo: this worker cannot read its master's configuration: %w", err)
	}
	o.Python.setEnv()
	if o.CertFile != "" {
		var err error
		if o.Certs, err = workerCerts(o); err != nil {
			return o, err // how to log it
		}
	}
	return o, nil
}

// workerCerts reads the certificate the master handed over at
// WorkerTLSFD, else (it could not make that file) the files.
func workerCerts(o *Options) (*httpfront.Certs, error) {
	if _, handed := os.LookupEnv(WorkerTLSEnv); !handed {
		return httpfront.LoadCerts(o.CertFile, o.KeyFile)
	}
	os.Unsetenv(WorkerTLSEnv)
	f := os.NewFile(WorkerTLSFD, "wsgo-tls")
	defer f.Close()
	pem, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("wsgo: this worker cannot read the TLS certificate its master handed over: %w", err)
	}
	return httpfront.CertsFromPEM(o.CertFile, o.KeyFile, pem)
}

// KeepMasters copies into o, read again for a SIGHUP's new workers, the
// settings only a restart changes, from running, the master's: where it
// listens, how many workers, its timeouts, files and user, its logs, TLS
// (the files are read again by each new worker; turning TLS on or off
// is the listeners'). It names those that differed, for the log.
func (o *Options) KeepMasters(running *Options) []string {
	var kept []string
	keep := func(names string, differed ...bool) {
		if slices.Contains(differed, true) {
			kept = append(kept, names)
		}
	}
	r := running
	keep("bind", take(&o.Binds, r.Binds))
	keep("workers", take(&o.Workers, r.Workers))
	keep("graceful-timeout/shutdown-delay", take(&o.GracefulTimeout, r.GracefulTimeout), take(&o.ShutdownDelay, r.ShutdownDelay))
	keep("pid", take(&o.PidFile, r.PidFile))
	keep("user/group/umask", take(&o.Privileges, r.Privileges), take(&o.Umask, r.Umask))
	keep("metrics-bind", take(&o.MetricsBind, r.MetricsBind))
	keep("worker-sched", take(&o.BatchWorkers, r.BatchWorkers))
	keep("log-level/log-format/error-log", take(&o.LogLevel, r.LogLevel), take(&o.LogJSON, r.LogJSON), take(&o.ErrorLog, r.ErrorLog))
	keep("certfile/keyfile", take(&o.CertFile, r.CertFile), take(&o.KeyFile, r.KeyFile))
	o.Certs = r.Certs
	return kept
}

// take sets *setting to the running value and reports whether it differed.
func take[T any](setting *T, running T) bool {
	differed := !reflect.DeepEqual(*setting, running)
	*setting = running
	return differed
}
