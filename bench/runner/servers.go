package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// launch is what a server needs to start one run.
type launch struct {
	apps     string // absolute path of bench/apps
	app      string // module name of the app
	addr     string // 127.0.0.1:PORT
	procs    int
	threads  int
	wsgo     string // absolute path of the wsgo binary
	ceiling  string // absolute path of the built bench/ceiling
	dataFile string // the file /file serves
	dir      string // a directory of this run's own, for generated configuration
}

// serverKind is one server under test.
type serverKind struct {
	name string
	// single: one process only, so it appears in 1-process rows only.
	single bool
	// anyProcs: its one process stands for every process count (the Go
	// ceiling, which uses all cores through GOMAXPROCS).
	anyProcs bool
	threaded bool // honours the thread count; else it runs 1 thread per process
	python   bool // a WSGI server (all but the ceiling)
	argv     func(l launch) []string
	dir      func(l launch) string // working directory; "" for the runner's
	setup    func(l launch) error  // writes what argv names into l.dir; nil: nothing to write
	needs    string                // a file it needs besides its program (a plugin); "" for none
}

func (s *serverKind) threadsFor(threads int) int {
	if !s.threaded {
		return 1
	}
	return threads
}

const wsgoName, ceilingName = "wsgo", "ceiling"

var servers = []*serverKind{
	{name: wsgoName, threaded: true, python: true, argv: func(l launch) []string {
		a := []string{l.wsgo, "run", filepath.Join(l.apps, l.app+".py"), "--bind", l.addr, "--threads", strconv.Itoa(l.threads)}
		if l.procs > 1 {
			a = append(a, "--workers", strconv.Itoa(l.procs))
		}
		return a
	}},
	{name: "gunicorn-sync", python: true, argv: func(l launch) []string {
		return []string{"gunicorn", "--bind", l.addr, "--workers", strconv.Itoa(l.procs), "--worker-class", "sync",
			"--chdir", l.apps, l.app + ":application"}
	}},
	{name: "gunicorn-gthread", threaded: true, python: true, argv: func(l launch) []string {
		return []string{"gunicorn", "--bind", l.addr, "--workers", strconv.Itoa(l.procs), "--worker-class", "gthread",
			"--threads", strconv.Itoa(l.threads), "--chdir", l.apps, l.app + ":application"}
	}},
	{name: "uwsgi", threaded: true, python: true, argv: uwsgiArgv, needs: uwsgiPlugin},
	// uWSGI's best configuration on one core: no threads.
	{name: "uwsgi-1t", python: true, argv: uwsgiArgv, needs: uwsgiPlugin},
	{name: modWSGIName, threaded: true, python: true, argv: modWSGIArgv, setup: writeModWSGIConfig, needs: modWSGIModule},
	{name: "waitress", single: true, threaded: true, python: true, argv: func(l launch) []string {
		return []string{"waitress-serve", "--listen=" + l.addr, "--threads=" + strconv.Itoa(l.threads), l.app + ":application"}
	}, dir: func(l launch) string { return l.apps }},
	{name: ceilingName, single: true, anyProcs: true, argv: func(l launch) []string {
		return []string{l.ceiling, "-addr", l.addr, "-file", l.dataFile}
	}},
}

const uwsgiPlugin = "/usr/lib/uwsgi/plugins/python3_plugin.so"

// uwsgiArgv: --http-socket makes uWSGI itself speak HTTP (no router
// process). It closes every connection after its response without saying
// so, which wrk counts as a read error; the Connection: close header says
// it, as RFC 9112 section 9.6 asks.
func uwsgiArgv(l launch) []string {
	return []string{"uwsgi", "--plugin", "python3", "--http-socket", l.addr,
		"--processes", strconv.Itoa(l.procs), "--threads", strconv.Itoa(l.threads),
		"--master", "--disable-logging", "--die-on-term", "--need-app",
		"--chdir", l.apps, "--module", l.app + ":application", "--add-header", "Connection: close"}
}

func serverNamed(name string) *serverKind {
	if i := serverIndex(name); i >= 0 {
		return servers[i]
	}
	return nil
}

func serverIndex(name string) int {
	return slices.IndexFunc(servers, func(s *serverKind) bool { return s.name == name })
}

// process is a started server: the root of its own process group.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func startServer(argv []string, dir string, env []string, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own group, so stopping it reaches every worker; and it dies
	// with the runner.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %v", argv[0], err)
	}
	p := &process{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// waitReady sends the workload's request (a POST of postBytes, or a GET)
// until it gets a 200.
func (p *process) waitReady(url string, postBytes int, timeout time.Duration) error {
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if p.hasExited() {
			return fmt.Errorf("the server exited before answering (%v)\n%s", p.cmd.ProcessState, p.logExcerpt())
		}
		var resp *http.Response
		var err error
		if postBytes > 0 {
			resp, err = client.Post(url, "application/octet-stream", bytes.NewReader(make([]byte, postBytes)))
		} else {
			resp, err = client.Get(url)
		}
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from %s within %v (last: %v)\n%s", url, timeout, last, p.logExcerpt())
}

// stop asks the server to finish (SIGTERM), then kills what is left of
// its process group.
func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
	}
	syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.exited
}

// logExcerpt is the start and the end of the server's output, where
// tracebacks, crash reports and last words are, for error messages.
func (p *process) logExcerpt() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, l := range lines {
		if len(l) > 200 {
			lines[i] = l[:200] + "…"
		}
	}
	if len(lines) > 12 {
		lines = append(append(lines[:8:8], "…"), lines[len(lines)-4:]...)
	}
	return "server log: " + strings.Join(lines, "\n")
}

// startLine is the first line of the server's output that holds marker.
func (p *process) startLine(marker string) string {
	b, _ := os.ReadFile(p.log)
	for _, line := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(line, []byte(marker)) {
			return string(line)
		}
	}
	return ""
}

// freeAddr finds a loopback port nobody listens on and that no server of
// this run was given, and adds it to given. Linux may hand the same port
// to two binds in a row when the first was closed, so two servers started
// together could get one port: one then fails ("Connection in use", seen
// with uWSGI and gunicorn).
func freeAddr(given map[string]bool) (string, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := l.Addr().String()
		l.Close()
		if !given[addr] {
			given[addr] = true
			return addr, nil
		}
	}
	return "", errors.New("no loopback port that this run has not given a server yet, in 100 tries")
}
