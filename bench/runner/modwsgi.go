package main

import (
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// mod_wsgi runs as Debian packages it (apache2, libapache2-mod-wsgi-py3),
// in the configuration its documentation recommends: Apache's event MPM in
// front of a WSGIDaemonProcess with the case's processes and threads. The
// runner writes the whole configuration into the case's directory and runs
// Apache in the foreground from it: no system service, nothing in /etc.
const (
	modWSGIName    = "mod_wsgi"
	apacheBinary   = "/usr/sbin/apache2"
	apacheModules  = "/usr/lib/apache2/modules"
	modWSGIModule  = apacheModules + "/mod_wsgi.so"
	apacheThreads  = 64 // Apache threads per front process: more than wrk's 50 connections
	modWSGIConfig  = "httpd.conf"
	modWSGIWrapper = "app.wsgi"
)

func modWSGIArgv(l launch) []string {
	return []string{apacheBinary, "-f", filepath.Join(l.dir, modWSGIConfig), "-DFOREGROUND"}
}

// apacheConfig is the whole server. The front has as many processes as the
// daemon, each with enough threads for every connection, and keeps them
// (MaxSpareThreads covers them all); keep-alive connections live on, as
// wsgo's do; no access log, as the peers run. Apache started as root
// serves as an unprivileged user, which must read the case's directory.
var apacheConfig = template.Must(template.New("httpd.conf").Parse(`ServerRoot "{{.Dir}}"
ServerName 127.0.0.1
Listen {{.Addr}}
PidFile "{{.Dir}}/apache2.pid"
DefaultRuntimeDir "{{.Dir}}"
Mutex file:{{.Dir}} default
ErrorLog /proc/self/fd/2
LogLevel warn
{{if .AsRoot}}User www-data
Group www-data
{{end}}LoadModule mpm_event_module {{.Modules}}/mod_mpm_event.so
LoadModule authz_core_module {{.Modules}}/mod_authz_core.so
LoadModule wsgi_module {{.Modules}}/mod_wsgi.so
StartServers {{.Procs}}
ServerLimit {{.Procs}}
ThreadsPerChild {{.Threads}}
MaxRequestWorkers {{.MaxWorkers}}
MinSpareThreads 1
MaxSpareThreads {{.MaxSpare}}
KeepAlive On
MaxKeepAliveRequests 0
WSGISocketPrefix "{{.Dir}}/wsgi"
WSGIRestrictEmbedded On
WSGIDaemonProcess bench processes={{.Procs}} threads={{.AppThreads}} python-path={{.Apps}} home={{.Apps}}
WSGIProcessGroup bench
WSGIApplicationGroup %{GLOBAL}
WSGIScriptAlias / "{{.Dir}}/{{.Wrapper}}"
<Directory "{{.Dir}}">
  Require all granted
</Directory>
`))

// writeModWSGIConfig writes the configuration and the script mod_wsgi
// loads, which imports the app as a module, as the other servers do
// (WSGIScriptAlias would otherwise load the app file under a made-up
// module name, which Django's ROOT_URLCONF = __name__ cannot import).
func writeModWSGIConfig(l launch) error {
	var conf strings.Builder
	err := apacheConfig.Execute(&conf, map[string]any{
		"Dir": l.dir, "Addr": l.addr, "AsRoot": os.Geteuid() == 0, "Modules": apacheModules,
		"Procs": l.procs, "Threads": apacheThreads, "MaxWorkers": l.procs * apacheThreads,
		"MaxSpare": (l.procs + 1) * apacheThreads, "AppThreads": l.threads, "Apps": l.apps,
		"Wrapper": modWSGIWrapper,
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(l.dir, modWSGIConfig), []byte(conf.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(l.dir, modWSGIWrapper), []byte("from "+l.app+" import application  # noqa: F401\n"), 0o644)
}
