package config

import (
	"slices"
	"strings"
	"testing"
)

// gunicornFlags are gunicorn's command-line flags: those of 26.1, the
// release its settings page describes, and --http2-cleartext of its
// development branch.
var gunicornFlags = strings.Fields(`-c --config -b --bind --backlog -w --workers -k --worker-class
	--threads --worker-connections --max-requests --max-requests-jitter -t --timeout --graceful-timeout
	--keep-alive --limit-request-line --limit-request-fields --limit-request-field_size --reload
	--reload-engine --reload-extra-file --spew --check-config --print-config --preload --no-sendfile
	--reuse-port --chdir -D --daemon -e --env -p --pid --worker-tmp-dir -u --user -g --group -m --umask
	--initgroups --forwarded-allow-ips --access-logfile --disable-redirect-access-to-syslog
	--access-logformat --error-logfile --log-file --log-level --capture-output --logger-class
	--log-config --log-config-json --log-syslog-to --log-syslog --log-syslog-prefix
	--log-syslog-facility -R --enable-stdio-inheritance --statsd-host --dogstatsd-tags --statsd-prefix
	--enable-backlog-metric -n --name --pythonpath --paste --paster --proxy-protocol --proxy-allow-from
	--protocol --uwsgi-allow-from --keyfile --certfile --ssl-version --cert-reqs --ca-certs
	--suppress-ragged-eofs --do-handshake-on-connect --ciphers --http-protocols --http2-cleartext
	--http2-max-concurrent-streams --http2-initial-window-size --http2-max-frame-size
	--http2-max-header-list-size --paste-global --permit-obsolete-folding --strip-header-spaces
	--permit-unconventional-http-method --permit-unconventional-http-version --casefold-http-method
	--forwarder-headers --header-map --asgi-loop --asgi-lifespan --asgi-disconnect-grace-period
	--http-parser --root-path --dirty-app --dirty-workers --dirty-timeout --dirty-threads
	--dirty-graceful-timeout --control-socket --control-socket-mode --no-control-socket`)

// gunicornSettingNames are the names a gunicorn configuration file sets,
// of the same releases, but for its server hooks (which wsgo names as
// hooks), config (the file itself) and default_proc_name (gunicorn's own).
var gunicornSettingNames = strings.Fields(`wsgi_app bind backlog workers worker_class threads
	worker_connections max_requests max_requests_jitter timeout graceful_timeout keepalive
	limit_request_line limit_request_fields limit_request_field_size reload reload_engine
	reload_extra_files spew check_config print_config preload_app sendfile reuse_port chdir daemon
	raw_env pidfile worker_tmp_dir user group umask initgroups tmp_upload_dir secure_scheme_headers
	forwarded_allow_ips accesslog disable_redirect_access_to_syslog access_log_format errorlog
	loglevel capture_output logger_class logconfig logconfig_dict logconfig_json syslog_addr syslog
	syslog_prefix syslog_facility enable_stdio_inheritance statsd_host dogstatsd_tags statsd_prefix
	enable_backlog_metric proc_name pythonpath paste proxy_protocol proxy_allow_ips protocol
	uwsgi_allow_ips keyfile certfile ssl_version cert_reqs ca_certs suppress_ragged_eofs
	do_handshake_on_connect ciphers http_protocols http2_cleartext http2_max_concurrent_streams
	http2_initial_window_size http2_max_frame_size http2_max_header_list_size raw_paste_global_conf
	permit_obsolete_folding strip_header_spaces permit_unconventional_http_method
	permit_unconventional_http_version casefold_http_method forwarder_headers header_map asgi_loop
	asgi_lifespan asgi_disconnect_grace_period http_parser root_path dirty_apps dirty_workers
	dirty_timeout dirty_threads dirty_graceful_timeout control_socket control_socket_mode
	control_socket_disable`)

// Every gunicorn flag is one of wsgo's, or an exit-2 error that says
// what to do instead: never a bare "unknown flag", nor a guess.
func TestEveryGunicornFlagIsTakenOrSaysWhatToDoInstead(t *testing.T) {
	expectTakenOrInstead(t, gunicornFlags)
}

// expectTakenOrInstead checks that each flag is taken by `wsgo run`, or
// refused with what to do instead.
func expectTakenOrInstead(t *testing.T, flags []string) {
	t.Helper()
	for _, flag := range flags {
		_, err := Interspersed([]string{"wsgo", "run", flag})
		if err == nil {
			continue // wsgo takes it
		}
		msg, _, _ := strings.Cut(err.Error(), "\n")
		if strings.HasPrefix(msg, "wsgo run: "+flag+" needs a value: ") {
			continue // wsgo takes it, with a value
		}
		if hint, ok := strings.CutPrefix(msg, "wsgo run: unknown flag "+flag+": "); !ok || hint == "" || strings.Contains(msg, "did you mean") {
			t.Errorf("%s: %q; want what to do instead in wsgo", flag, msg)
		}
	}
}

func TestGunicornFlagsSayWhatWsgoDoesInstead(t *testing.T) {
	expectInstead(t, map[string]string{
		"--statsd-host":                "--metrics-bind",
		"--backlog":                    "net.core.somaxconn",
		"--capture-output":             "print() and sys.stderr already go to wsgo's standard output and standard error",
		"--reuse-port":                 "not needed: only wsgo's master listens",
		"--tolerate-dangerous-framing": "Transfer-Encoding and Content-Length 400",
		"--name":                       "ps shows",
		"-n":                           "ps shows",
	})
}

// expectInstead checks that `wsgo run FLAG` says the flag's want.
func expectInstead(t *testing.T, wants map[string]string) {
	t.Helper()
	for flag, want := range wants {
		if _, err := Interspersed([]string{"wsgo", "run", flag, "x"}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", flag, err, want)
		}
	}
}

// A did-you-mean is for a misspelling of wsgo's own flag, not for any
// word a few letters away from one (--name is not --home).
func TestDidYouMeanOnlyForNearMisses(t *testing.T) {
	for given, want := range map[string]string{
		"--bnd": "--bind", "--thread": "--threads", "--wokrers": "--workers", "--max-request": "--max-requests",
		"--acess-logfile": "--access-logfile", "--host": "", "--port": "", "--nosuch": "",
	} {
		_, err := Interspersed([]string{"wsgo", "run", given})
		switch got := err.Error(); {
		case want == "" && strings.Contains(got, "did you mean"):
			t.Errorf("%s: %q; want no guess", given, got)
		case want != "" && !strings.Contains(got, "did you mean "+want+"?"):
			t.Errorf("%s: %q; want did you mean %s?", given, got, want)
		}
	}
}

// Every gunicorn setting a configuration file may set is applied, or the
// start says what to do instead.
func TestEveryGunicornSettingIsTakenOrSaysWhatToDoInstead(t *testing.T) {
	for _, name := range gunicornSettingNames {
		if _, ok := gunicornSettings[name]; ok || name == "wsgi_app" {
			continue
		}
		warnings, notes := notApplied("gunicorn.conf.py", []string{name})
		if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "wsgo: gunicorn.conf.py: "+name+" is not applied: ") || len(notes) != 0 {
			t.Errorf("%s: %q, %q; want one warning saying what to do instead", name, warnings, notes)
		}
	}
	warnings, notes := notApplied("gunicorn.conf.py", []string{"my_helper", "backlog", "CONSTANT"})
	if len(warnings) != 1 || !slices.Equal(notes, []string{"wsgo: gunicorn.conf.py: ignored, not wsgo settings: CONSTANT, my_helper"}) {
		t.Errorf("%q, %q; want backlog's warning, and the names that are not gunicorn's in one note", warnings, notes)
	}
}

// umask = 0o027 in a file reaches wsgo as the number 23: --umask reads it
// in octal.
func TestConfigFileUmaskIsOctal(t *testing.T) {
	if got, err := settingValues("umask", "umask", float64(0o27)); err != nil || !slices.Equal(got, []string{"27"}) {
		t.Errorf("umask = 0o027 gives %q, %v; want --umask 27", got, err)
	}
}

// GUNICORN_CMD_ARGS is not read, and the start says so and what to do.
func TestGunicornCmdArgsIsWarnedOf(t *testing.T) {
	t.Setenv("GUNICORN_CMD_ARGS", "--workers 2 --timeout 60")
	o, err := ParseArgs("app.py")
	if err != nil {
		t.Fatal(err)
	}
	want := "wsgo: GUNICORN_CMD_ARGS=\"--workers 2 --timeout 60\" is not read: give its flags on wsgo's command line " +
		"(`wsgo run --workers 2 --timeout 60 TARGET`) or as WSGO_* variables (--workers 2 is WSGO_WORKERS=2), and unset it"
	if !slices.Contains(o.Warnings, want) || o.Workers != 1 {
		t.Errorf("warnings %q, %d workers; want %q and 1", o.Warnings, o.Workers, want)
	}
}
