package e2e

// Tests of --user, --group and --umask: run as root (as the tests are,
// here and in CI), wsgo listens on a port below 1024, then its master and
// workers run as nobody.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// opsWhoApp answers who the app runs as: uid gid groups umask.
const opsWhoApp = `
import os

def application(environ, start_response):
    mask = os.umask(0)
    os.umask(mask)
    groups = ",".join(str(g) for g in sorted(os.getgroups()))
    body = "%d %d %s %03o\n" % (os.getuid(), os.getgid(), groups, mask)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
`

func opsNeedRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs the tests as root): wsgo must start as root to become --user")
	}
}

// opsNobodysDir is opsUserDir for nobody, as root.
func opsNobodysDir(t *testing.T) (*user.User, string) {
	t.Helper()
	opsNeedRoot(t)
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	return nobody, opsUserDir(t, nobody)
}

// opsUserDir is a directory the user owns, readable by all, with the app
// in it (t.TempDir's parents are root's alone).
func opsUserDir(t *testing.T, u *user.User) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wsgo-ops-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "who.py"), []byte(opsWhoApp), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// opsClosedPython is what wsgo must say when the Python the binary under
// test links is out of the reach of others (a pyenv build under /root), or
// "" when it is not: the shared library it loads, else (linked statically)
// the standard library it reads.
func opsClosedPython(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("ldd", binary).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.HasPrefix(f[0], "libpython") {
			if opsClosedDir(f[2]) {
				return "wsgo run: nobody cannot load " + f[2]
			}
			return ""
		}
	}
	out, err = exec.Command(binary, "python", "-S", "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))").Output()
	if err != nil {
		t.Fatal(err)
	}
	if stdlib := strings.TrimSpace(string(out)); opsClosedDir(stdlib + "/x") {
		return "wsgo run: nobody cannot read " + stdlib
	}
	return ""
}

// opsClosedDir reports whether a directory above path is closed to others.
func opsClosedDir(path string) bool {
	for dir := filepath.Dir(path); dir != "/"; dir = filepath.Dir(dir) {
		if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o001 == 0 {
			return true
		}
	}
	return false
}

// opsFreeLowPort finds a port below 1024 nobody listens on.
func opsFreeLowPort(t *testing.T) int {
	t.Helper()
	for port := 1023; port > 900; port-- {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port between 901 and 1023")
	return 0
}

// opsProcIDs reads the Uid: and Gid: lines of a process's status.
func opsProcIDs(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") || strings.HasPrefix(line, "Groups:") {
			ids = append(ids, strings.Join(strings.Fields(line), " "))
		}
	}
	return strings.Join(ids, "; ")
}

// A static directory the master (root) could check but the workers
// (--user) cannot read gives 404, as a missing file does, and a warning
// that names the directory and the fix; it gave 404 and said nothing.
func TestOpsStaticFilesTheUserCannotReadAreLogged(t *testing.T) {
	nobody, dir := opsNobodysDir(t)
	if opsClosedPython(t) != "" {
		return // no worker starts as nobody: TestOpsUserDropsPrivilegesAfterListening checks the refusal
	}
	private := filepath.Join(dir, "private") // root's, which nobody may not enter
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(private, "a.txt"), []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, nil, filepath.Join(dir, "who.py"), "--user", "nobody", "--static", "/p="+private)
	for range 2 {
		if resp, body := s.get("/p/a.txt"); resp.StatusCode != 404 || body != "Not Found\n" {
			t.Errorf("got %d %q; want the 404 of a missing file", resp.StatusCode, body)
		}
	}
	if !s.waitLog(`\[WARNING\] wsgo: --static cannot read a file of `+regexp.QuoteMeta(private)+`, so it answered 404; make the file `+
		`and its directories readable by uid `+nobody.Uid+`, which the workers run as \(at most one such warning a minute\) `+
		`file=a\.txt err=".*permission denied"`, 5*time.Second) {
		t.Fatal("the unreadable file was not logged")
	}
	if n := strings.Count(s.logs.String(), "--static cannot read"); n != 1 {
		t.Errorf("%d warnings for two requests; want 1 (at most one a minute)", n)
	}
}

func TestOpsUserDropsPrivilegesAfterListening(t *testing.T) {
	nobody, dir := opsNobodysDir(t)
	if want := opsClosedPython(t); want != "" {
		// The Python under test (a pyenv build under /root) is out of
		// nobody's reach: wsgo must say so at once rather than start
		// workers that cannot load it.
		code, out := cliExit(t, nil, "run", filepath.Join(dir, "who.py"), "--user", "nobody", "--bind", "127.0.0.1:0")
		if code != 2 || !strings.Contains(out, want) {
			t.Errorf("exit %d; want 2 and %q in:\n%s", code, want, out)
		}
		return
	}
	port := opsFreeLowPort(t)
	sock, pid := filepath.Join(dir, "app.sock"), filepath.Join(dir, "wsgo.pid")
	s := start(t, nil, filepath.Join(dir, "who.py"), "--user", "nobody", "--umask", "027", "--workers", "2",
		"--bind", fmt.Sprintf("127.0.0.1:%d", port), "--bind", "unix:"+sock, "--pid", pid)
	want := fmt.Sprintf("Uid: %[1]s %[1]s %[1]s %[1]s; Gid: %[2]s %[2]s %[2]s %[2]s; Groups: %[2]s", nobody.Uid, nobody.Gid)
	if got := opsProcIDs(t, s.cmd.Process.Pid); got != want {
		t.Errorf("the master runs as %q; want %q", got, want)
	}
	workers := regexp.MustCompile(`worker \d \(pid (\d+)\) ready`).FindAllStringSubmatch(s.logs.String(), -1)
	if len(workers) != 2 {
		t.Fatalf("%d workers ready; want 2", len(workers))
	}
	for _, w := range workers {
		wpid, _ := strconv.Atoi(w[1])
		if got := opsProcIDs(t, wpid); got != want {
			t.Errorf("worker pid %d runs as %q; want %q", wpid, got, want)
		}
	}
	appWants := fmt.Sprintf("%s %s %s 027\n", nobody.Uid, nobody.Gid, nobody.Gid)
	if resp, body := s.get("/"); resp.StatusCode != 200 || body != appWants {
		t.Errorf("the app on port %d says %d %q; want uid gid groups umask %q", port, resp.StatusCode, body, appWants)
	}
	resp, err := cliUnixClient(sock).Get("http://x/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var st syscall.Stat_t
	if err := syscall.Stat(sock, &st); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st.Uid) != nobody.Uid || st.Mode&0o777 != 0o750 {
		t.Errorf("the socket is owned by uid %d, mode %o; want uid %s, mode 750 (umask 027)", st.Uid, st.Mode&0o777, nobody.Uid)
	}
	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; want 0", code)
	}
	for _, f := range []string{sock, pid} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is still there after the exit (%v); want it removed", f, err)
		}
	}
}

func TestOpsUserErrorsExit2(t *testing.T) {
	opsNeedRoot(t)
	app := writeApp(t, "who.py", opsWhoApp)
	rootOnly := t.TempDir() // 0700 root: nobody cannot remove files in it
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--user", "no-such-user-wsgo"}, `--user "no-such-user-wsgo": no such user; give an existing name or uid`},
		{[]string{"--user", "nobody", "--group", "no-such-group-wsgo"}, `--group "no-such-group-wsgo": no such group`},
		{[]string{"--umask", "089"}, `--umask "089": give an octal mode from 0 to 777`},
		{[]string{"--user", "nobody", "--pid", filepath.Join(rootOnly, "wsgo.pid")},
			"--pid " + filepath.Join(rootOnly, "wsgo.pid") + ": nobody could not remove it at exit, as it cannot write the directory " + rootOnly +
				"; use a directory it owns (systemd's RuntimeDirectory=, or mkdir " + filepath.Join(rootOnly, "wsgo") + " && chown nobody " + filepath.Join(rootOnly, "wsgo") + ") and give a path in it"},
		{[]string{"--user", "nobody", "--bind", "unix:" + filepath.Join(rootOnly, "app.sock")},
			"unix socket " + filepath.Join(rootOnly, "app.sock") + ": nobody could not remove it at exit"},
	} {
		s := launch(t, nil, append([]string{app}, tc.args...)...)
		code, ok := s.wait(20 * time.Second)
		if !ok || code != 2 || !strings.Contains(s.logs.String(), tc.want) {
			t.Errorf("%v: exited %v with code %d, output:\n%s\nwant exit 2 saying %q", tc.args, ok, code, s.logs.String(), tc.want)
		}
		if strings.Contains(s.logs.String(), "worker 1") {
			t.Errorf("%v: a worker started before the error", tc.args)
		}
	}
}
