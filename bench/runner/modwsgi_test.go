package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestModWSGIConfig(t *testing.T) {
	l := launch{apps: "/srv/apps", app: "django_template", addr: "127.0.0.1:18001", procs: 2, threads: 16, dir: t.TempDir()}
	if err := writeModWSGIConfig(l); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(l.dir, modWSGIConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nListen 127.0.0.1:18001\n",
		"\nLoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n",
		"\nServerLimit 2\n",
		"\nMaxRequestWorkers 128\n",
		"\nWSGIDaemonProcess bench processes=2 threads=16 python-path=/srv/apps home=/srv/apps\n",
		"\nWSGIScriptAlias / \"" + l.dir + "/app.wsgi\"\n",
		"\nPidFile \"" + l.dir + "/apache2.pid\"\n",
	} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("httpd.conf lacks %q:\n%s", want, conf)
		}
	}
	if asRoot, hasUser := os.Geteuid() == 0, strings.Contains(string(conf), "\nUser www-data\n"); asRoot != hasUser {
		t.Errorf("run as root: %v, but User www-data in httpd.conf: %v", asRoot, hasUser)
	}
	wrapper, err := os.ReadFile(filepath.Join(l.dir, modWSGIWrapper))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(wrapper), "from django_template import application") {
		t.Errorf("app.wsgi = %q, want it to import the app's module", wrapper)
	}
	if _, err := os.Stat(apacheBinary); err != nil {
		t.Skipf("the syntax check needs Apache (make bench-setup): %v", err)
	}
	if out, err := exec.Command(apacheBinary, "-t", "-f", filepath.Join(l.dir, modWSGIConfig)).CombinedOutput(); err != nil {
		t.Errorf("apache2 -t: %v\n%s", err, out)
	}
}
