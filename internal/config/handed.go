package config

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"

	"wsgo/httpfront"
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
// with --env applied to this process and the TLS files read now.
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
		if o.Certs, err = httpfront.LoadCerts(o.CertFile, o.KeyFile); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// KeepMasters copies into o, read again for a SIGHUP's new workers, the
// settings only a restart changes, from running, the master's: where it
// listens, how many workers, its timeouts, files and user, its logs, TLS
// (the files are read again by each new worker; turning TLS on or off
// is the listeners'). It names those that differed, for the log.
func (o *Options) KeepMasters(running *Options) []string {
	var kept []string
	keep := func(differs bool, names string) {
		if differs {
			kept = append(kept, names)
		}
	}
	r := running
	keep(!slices.Equal(o.Binds, r.Binds), "bind")
	keep(o.Workers != r.Workers, "workers")
	keep(o.GracefulTimeout != r.GracefulTimeout || o.ShutdownDelay != r.ShutdownDelay, "graceful-timeout/shutdown-delay")
	keep(o.PidFile != r.PidFile, "pid")
	keep(!reflect.DeepEqual(o.Privileges, r.Privileges) || o.Umask != r.Umask, "user/group/umask")
	keep(o.MetricsBind != r.MetricsBind, "metrics-bind")
	keep(o.BatchWorkers != r.BatchWorkers, "worker-sched")
	keep(o.LogLevel != r.LogLevel || o.LogJSON != r.LogJSON || o.ErrorLog != r.ErrorLog, "log-level/log-format/error-log")
	keep(o.CertFile != r.CertFile || o.KeyFile != r.KeyFile, "certfile/keyfile")
	o.Binds, o.Workers, o.GracefulTimeout, o.ShutdownDelay = r.Binds, r.Workers, r.GracefulTimeout, r.ShutdownDelay
	o.PidFile, o.Privileges, o.Umask, o.MetricsBind, o.BatchWorkers = r.PidFile, r.Privileges, r.Umask, r.MetricsBind, r.BatchWorkers
	o.LogLevel, o.LogJSON, o.ErrorLog = r.LogLevel, r.LogJSON, r.ErrorLog
	o.CertFile, o.KeyFile, o.Certs = r.CertFile, r.KeyFile, r.Certs
	return kept
}
