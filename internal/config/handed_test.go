package config

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"testing"
)

// What the master hands a worker is what the master parsed: every
// setting survives Encode and FromMaster, the proxy allow list too.
func TestOptionsHandedToAWorkerAreTheMasters(t *testing.T) {
	t.Chdir(t.TempDir())
	os.Mkdir("public", 0o755)
	o, err := parse(t, "app:application", "--workers", "3", "--threads", "7", "--timeout", "9",
		"--forwarded-allow-ips", "10.0.0.0/8,192.168.1.7,unix", "--static", "/s=public", "--log-level", "debug",
		"--env", "HANDED_GREETING=hello", "--root-path", "/app", "--keep-alive", "0")
	if err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("HANDED_GREETING") // FromMaster sets it again
	handed, err := o.Encode()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(OptionsEnv, handed)
	got, err := FromMaster()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		a, _ := json.MarshalIndent(o, "", " ")
		b, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("the worker got\n%s\nthe master parsed\n%s", b, a)
	}
	if v, ok := os.LookupEnv(OptionsEnv); ok {
		t.Errorf("%s is still set (%d bytes): the app would see it", OptionsEnv, len(v))
	}
	if v := os.Getenv("HANDED_GREETING"); v != "hello" {
		t.Errorf("--env in the worker: HANDED_GREETING=%q", v)
	}
	if text, _ := got.Front.ForwardedAllow.MarshalText(); string(text) != "unix,10.0.0.0/8,192.168.1.7/32" {
		t.Errorf("the worker's --forwarded-allow-ips: %q", text)
	}
}

func TestAWorkerWithoutItsMastersOptionsSaysSo(t *testing.T) {
	os.Unsetenv(OptionsEnv)
	if _, err := FromMaster(); err == nil {
		t.Error("FromMaster without " + OptionsEnv + " gave no error")
	}
	t.Setenv(OptionsEnv, "{not json")
	if _, err := FromMaster(); err == nil {
		t.Error("FromMaster with broken JSON gave no error")
	}
}

// A SIGHUP's configuration keeps the master's own settings and names
// those that changed; the workers' settings are the new ones.
func TestKeepMastersOnSIGHUP(t *testing.T) {
	t.Chdir(t.TempDir())
	running, err := parse(t, "app.py", "--bind", "127.0.0.1:8001", "--workers", "2", "--threads", "4")
	if err != nil {
		t.Fatal(err)
	}
	next, err := parse(t, "app.py", "--bind", "127.0.0.1:9009", "--workers", "5", "--threads", "8", "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	kept := next.KeepMasters(running)
	if want := []string{"bind", "workers", "log-level/log-format/error-log"}; !slices.Equal(kept, want) {
		t.Errorf("kept %q; want %q", kept, want)
	}
	if !slices.Equal(next.Binds, running.Binds) || next.Workers != 2 || next.LogLevel != running.LogLevel {
		t.Errorf("the master's settings changed: binds %q, workers %d, log level %v", next.Binds, next.Workers, next.LogLevel)
	}
	if next.Threads != 8 {
		t.Errorf("threads %d; want the new 8", next.Threads)
	}
	same, _ := parse(t, "app.py", "--bind", "127.0.0.1:8001", "--workers", "2", "--threads", "9")
	if kept := same.KeepMasters(running); len(kept) != 0 {
		t.Errorf("nothing of the master's changed, yet kept names %q", kept)
	}
}
