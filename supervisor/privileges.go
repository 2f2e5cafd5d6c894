package supervisor

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"wsgo/internal/config"
	"wsgo/internal/exitcode"
)

// --user and --group: the master listens as root (port 80), then it and
// the workers run as the user. Workers started while the master is still
// root (before a wsgiref script's address is known) get the user's
// credentials at exec; the master drops its own once every listener is
// open, before it writes the pid file. On Linux, Go changes the
// credentials of every thread of the process (glibc's setxid broadcast
// under cgo), so no thread stays root.

// checkPrivileges refuses, before anything starts, what would fail later
// as the user: not being root to become it, a pid file or unix socket it
// could not remove at exit, TLS files the workers could not read.
func checkPrivileges(o *config.Options) error {
	p := o.Privileges
	if p == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		if p.UID == os.Geteuid() && p.GID == os.Getegid() {
			return nil // already that user
		}
		return exitcode.Errorf(exitcode.Usage, "wsgo run: --user and --group need wsgo started as root (it runs as uid %d); start it as root, or drop the flags", os.Geteuid())
	}
	removable := map[string]string{} // path: what it is
	if o.PidFile != "" {
		removable[o.PidFile] = "--pid"
	}
	for _, b := range append(o.Binds, o.MetricsBind) {
		if path, ok := strings.CutPrefix(b, "unix:"); ok {
			removable[path] = "unix socket"
		}
	}
	for path, what := range removable {
		if dir := filepath.Dir(path); !p.Permits(dir, 2) {
			return exitcode.Errorf(exitcode.Usage, "wsgo run: %s %s: %s could not remove it at exit, as it cannot write the directory %s; use a directory it owns (systemd's RuntimeDirectory=, or mkdir %[5]s && chown %[3]s %[5]s) and give a path in it",
				what, path, p.Name, dir, filepath.Join(dir, "wsgo"))
		}
	}
	for _, f := range []string{o.CertFile, o.KeyFile} {
		if f != "" && !p.Permits(f, 4) {
			return exitcode.Errorf(exitcode.Usage, "wsgo run: %s cannot read %s (each worker reads it, as that user); chgrp the file to its group and chmod g+r", p.Name, f)
		}
	}
	if err := checkRunnable(p); err != nil {
		return err
	}
	if o.AccessLog != "" && o.AccessLog != "-" && !p.Permits(o.AccessLog, 2) {
		return exitcode.Errorf(exitcode.Usage, "wsgo run: %s cannot write --access-log %s (each worker opens it, as that user); chown the file to it", p.Name, o.AccessLog)
	}
	return nil
}

// asUser makes command start its workers as p while this process is root.
func asUser(p *config.Privileges, command func() *exec.Cmd) func() *exec.Cmd {
	if p == nil {
		return command
	}
	return func() *exec.Cmd {
		cmd := command()
		if os.Geteuid() == 0 {
			groups := make([]uint32, len(p.Groups))
			for i, g := range p.Groups {
				groups[i] = uint32(g)
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
				Uid: uint32(p.UID), Gid: uint32(p.GID), Groups: groups}}
		}
		return cmd
	}
}

// dropPrivileges makes the master the user: the unix socket files it
// made become the user's, then groups, group and user change, in that
// order (once the user is set, the rest is no longer allowed).
func (m *Master) dropPrivileges() error {
	p := m.cfg.Privileges
	if p == nil || os.Geteuid() != 0 {
		return nil
	}
	for _, path := range m.socketFiles {
		if err := os.Lchown(path, p.UID, p.GID); err != nil {
			return fmt.Errorf("wsgo: --user %s: %w", p.Name, err)
		}
	}
	if err := syscall.Setgroups(p.Groups); err != nil {
		return fmt.Errorf("wsgo: --user %s: setting its groups: %w", p.Name, err)
	}
	if err := syscall.Setgid(p.GID); err != nil {
		return fmt.Errorf("wsgo: --group: setgid %d: %w", p.GID, err)
	}
	if err := syscall.Setuid(p.UID); err != nil {
		return fmt.Errorf("wsgo: --user %s: setuid %d: %w", p.Name, p.UID, err)
	}
	m.log.Info(fmt.Sprintf("wsgo: running as %s (uid %d, gid %d)", p.Name, p.UID, p.GID))
	return nil
}

// checkRunnable refuses a user who could not start a worker: every worker
// is this binary, executed as the user through /proc/self/exe (no path to
// walk: the file's own x bit decides), loads the Python library it links,
// when shared, by its path, and reads that Python's standard library (a
// pyenv build under /root is out of reach of others either way).
func checkRunnable(p *config.Privileges) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if !p.Permits(exe, 1) {
		return exitcode.Errorf(exitcode.Usage, "wsgo run: %s cannot execute %s (each worker is this binary, run as that user); chmod o+x it, or drop --user", p.Name, exe)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(maps), "\n") {
		i := strings.Index(line, " /")
		if i < 0 || !strings.Contains(line[i:], "/libpython") {
			continue
		}
		lib := line[i+1:]
		if dir := unreachableFrom(p, lib); dir != "" {
			return exitcode.Errorf(exitcode.Usage, "wsgo run: %s cannot load %s, the Python library wsgo is linked with: the directory %s is closed to it; "+
				"build wsgo against a Python that %s can read (Debian's python3, or one installed under /opt), or drop --user",
				p.Name, lib, dir, p.Name)
		}
		if !p.Permits(lib, 4) {
			return exitcode.Errorf(exitcode.Usage, "wsgo run: %s cannot read %s, the Python library wsgo is linked with; chmod o+r it, or drop --user", p.Name, lib)
		}
		break // one mapping names it
	}
	return checkStdlib(p)
}

// checkStdlib refuses a user who cannot read the standard library of the
// Python wsgo links. Only that Python knows where it is: the master asks
// it once, as itself, with `wsgo python`. A Python that cannot start at
// all is left for the first worker to report.
func checkStdlib(p *config.Privileges) error {
	out, err := exec.Command("/proc/self/exe", "python", "-S", "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))").Output()
	stdlib := strings.TrimSpace(string(out))
	if err != nil || !filepath.IsAbs(stdlib) {
		return nil
	}
	dir := unreachableFrom(p, stdlib)
	if dir == "" && !p.Permits(stdlib, 5) {
		dir = stdlib
	}
	if dir != "" {
		return exitcode.Errorf(exitcode.Usage, "wsgo run: %s cannot read %s, the standard library of the Python wsgo is linked with: the directory %s is closed to it; "+
			"build wsgo against a Python that %s can read (Debian's python3, or one installed under /opt), or drop --user",
			p.Name, stdlib, dir, p.Name)
	}
	return nil
}

// unreachableFrom is the first directory above path that p cannot search
// (no x bit for it), or "".
func unreachableFrom(p *config.Privileges, path string) string {
	var dirs []string
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		dirs = append(dirs, dir)
		if dir == "/" {
			break
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if !p.Permits(dirs[i], 1) {
			return dirs[i]
		}
	}
	return ""
}
