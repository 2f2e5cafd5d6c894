package config

import (
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"wsgo/httpfront"
	"wsgo/internal/exitcode"
	"wsgo/internal/logfmt"
)

// Parse reads `wsgo run`'s flags into Options and checks every one of
// them; commandLine is what urfave/cli parsed c from (Interspersed's
// arguments). Precedence: flags, then WSGO_* variables, then the
// configuration file (conffile.go), then PORT and WEB_CONCURRENCY, then
// defaults. Its errors are usage errors (exit 2) that name the value as
// the user gave it (given.go) and the fix. It also applies --env to this
// process, so that what Python starts with is what the user asked for.
func Parse(cc *cli.Context, commandLine []string) (*Options, error) {
	c, o, err := readTarget(cc, commandLine)
	if err != nil {
		return nil, err
	}
	if o.LogLevel, err = logfmt.ParseLevel(c.String("log-level")); err != nil {
		return nil, c.bad("log-level", c.String("log-level"), err.Error())
	}
	switch f := c.String("log-format"); f {
	case "text", "json":
		o.LogJSON = f == "json"
	default:
		return nil, c.bad("log-format", f, "use text or json")
	}
	switch p := c.String("worker-sched"); p {
	case "batch", "normal":
		o.BatchWorkers = p == "batch"
	default:
		return nil, c.bad("worker-sched", p, "use batch or normal")
	}
	if o.Python, err = parsePython(c); err != nil {
		return nil, err
	}
	if o.Privileges, err = parsePrivileges(c); err != nil {
		return nil, err
	}
	if o.Umask, err = parseUmask(c.String("umask")); err != nil {
		return nil, c.bad("umask", c.String("umask"), err.Error())
	}
	if o.Umask >= 0 { // now: the files wsgo makes from here on, the access log's included
		syscall.Umask(o.Umask)
	}
	if o.Workers, err = parseWorkers(c.String("workers")); err != nil {
		return nil, c.bad("workers", c.String("workers"), err.Error())
	}
	for _, m := range leastNumbers {
		for _, name := range m.flags {
			if n := c.Int64(name); n < m.least {
				return nil, c.bad(name, strconv.FormatInt(n, 10), numberHint(name))
			}
		}
	}
	for _, name := range secondsFlags {
		if n := c.Int64(name); n > maxSeconds {
			return nil, c.bad(name, strconv.FormatInt(n, 10), fmt.Sprintf("%s, at most %d (seconds: 292 years)",
				numberHint(name), maxSeconds))
		}
	}
	if n := c.Int("threads"); n > MaxThreads {
		return nil, c.bad("threads", strconv.Itoa(n), numberHint("threads")+": each is an OS thread "+
			"of the worker; for more requests at once, add --workers")
	}
	if err := o.parseBinds(c); err != nil {
		return nil, err
	}
	o.Threads, o.QueueSize = c.Int("threads"), c.Int("queue-size")
	o.Timeout = seconds(c, "timeout")
	o.GracefulTimeout = seconds(c, "graceful-timeout")
	o.ShutdownDelay = seconds(c, "shutdown-delay")
	o.MaxRequests, o.MaxRequestsJitter, o.MaxRSSMiB = c.Int("max-requests"), c.Int("max-requests-jitter"), c.Int("max-rss")
	o.Strict, o.Reload = c.Bool("strict"), c.Bool("reload")
	if o.PidFile, err = pidFile(c); err != nil {
		return nil, err
	}
	for _, f := range c.StringSlice("reload-extra-file") {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, c.bad("reload-extra-file", f, err.Error())
		}
		// --reload watches the file's directory, which must be there.
		if fi, err := os.Stat(filepath.Dir(abs)); o.Reload && (err != nil || !fi.IsDir()) {
			return nil, c.bad("reload-extra-file", f, "its directory "+filepath.Dir(abs)+" does not exist; create it, or correct the path")
		}
		o.ReloadExtraFiles = append(o.ReloadExtraFiles, abs)
	}
	if len(o.ReloadExtraFiles) > 0 && !o.Reload {
		o.Warnings = append(o.Warnings, "wsgo: --reload-extra-file is watched only with --reload, which is off: add --reload, or leave --reload-extra-file out")
	}
	if o.ErrorLog, err = o.openable(c, "error-log"); err != nil {
		return nil, err
	}
	if err := o.parseGunicorn(c); err != nil {
		return nil, err
	}
	if err := o.parseTLS(c); err != nil {
		return nil, err
	}
	if err := o.parseFront(c); err != nil {
		return nil, err
	}
	return o, nil
}

// MaxThreads is the most --threads: each pythread is an OS thread of its
// worker, and Go ends a process past 10,000 threads, which it shares with
// Go's own (network poller, garbage collector, calls blocked in C). A
// worker far below that ceiling keeps room for them.
const MaxThreads = 1024

// leastNumbers are the smallest values of the number flags.
var leastNumbers = []struct {
	least int64
	flags []string
}{
	{0, []string{"timeout", "max-requests", "max-requests-jitter", "max-rss", "graceful-timeout", "shutdown-delay",
		"keep-alive", "static-max-age", "max-body-size", "limit-request-line", "limit-request-field_size"}},
	{1, []string{"threads", "queue-size", "limit-request-fields", "header-timeout", "stall-timeout", "max-response-spool"}},
}

// MaxHeadLimit is the most --limit-request-line and
// --limit-request-field_size take, and what their 0 means: gunicorn's 0
// is unlimited, but wsgo holds a request's head in memory while it
// arrives, so a client may not make it as long as it likes. 64 KiB is
// eight times gunicorn's own largest line, and more than CDNs pass.
const MaxHeadLimit = 64 << 10

// headLimits applies MaxHeadLimit to --limit-request-line and
// --limit-request-field_size.
func (o *Options) headLimits(c *given) error {
	for _, l := range []struct {
		name  string
		limit *int
	}{{"limit-request-line", &o.Front.LimitRequestLine}, {"limit-request-field_size", &o.Front.LimitRequestFieldSize}} {
		name, limit := l.name, l.limit
		switch n := *limit; {
		case n == 0:
			*limit = MaxHeadLimit
			o.Notes = append(o.Notes, fmt.Sprintf("wsgo: %s 0 is wsgo's largest, %d bytes: wsgo holds a request's head "+
				"in memory, so it has no unlimited as gunicorn has", c.name(name), MaxHeadLimit))
		case n > MaxHeadLimit:
			return c.bad(name, strconv.Itoa(n), fmt.Sprintf("give a whole number of bytes from 1 to %d (0 means %[1]d, "+
				"as near to gunicorn's unlimited as wsgo goes)", MaxHeadLimit))
		}
	}
	return nil
}

// ParseCheck reads `wsgo check`'s command line, WSGO_* variables and
// configuration file as Parse reads `wsgo run`'s, but only into what
// decides where the app is and what it sees: Target, Python, and the
// notes and warnings of the file. The flags that only concern serving
// are taken, so that a `wsgo run` line checks as it is, and not read.
func ParseCheck(cc *cli.Context, commandLine []string) (*Options, error) {
	c, o, err := readTarget(cc, commandLine)
	if err != nil {
		return nil, err
	}
	o.Python, err = parsePython(c)
	return o, err
}

// readTarget applies the configuration file to c's flags, and starts the
// Options of run and check: the TARGET, and the file's notes and warnings.
func readTarget(cc *cli.Context, commandLine []string) (*given, *Options, error) {
	c := newGiven(cc, commandLine)
	fileTarget, notes, warnings, err := c.applyConfigFile()
	if err != nil {
		return nil, nil, err
	}
	o := &Options{Notes: notes, Warnings: warnings}
	o.Target, err = c.target(fileTarget)
	return c, o, err
}

// target is the TARGET of the command line, else the configuration
// file's wsgi_app (fileTarget), else the usage error saying what to give.
func (c *given) target(fileTarget string) (string, error) {
	if w := c.String("workers"); c.NArg() == 0 && fileTarget == "" && uwsgiModule(w) {
		return "", c.bad("workers", w, workersInstead(w))
	}
	if c.NArg() == 0 && fileTarget != "" {
		return fileTarget, nil
	}
	return c.Args().First(), checkTarget(c.Command.Name, c.String("chdir"), c.Args().Slice())
}

func parsePython(c *given) (Python, error) {
	env, _ := c.Value("env").([]string)
	py := Python{PythonPath: c.StringSlice("pythonpath"), Env: env}
	for _, kv := range py.Env {
		if !envPair(kv) {
			return py, c.bad("env", kv, envInstead)
		}
	}
	py.setEnv()
	var err error
	if py.Chdir, err = absPath(c, "chdir"); err != nil {
		return py, err
	}
	if fi, err := os.Stat(py.Chdir); py.Chdir != "" && (err != nil || !fi.IsDir()) {
		return py, c.bad("chdir", c.String("chdir"), chdirInstead)
	}
	if py.Virtualenv, err = absPath(c, "virtualenv"); err != nil || py.Virtualenv == "" {
		return py, err
	}
	if fi, err := os.Stat(py.Virtualenv); err != nil || !fi.IsDir() {
		return py, c.bad("virtualenv", c.String("virtualenv"), "not a directory; give the virtualenv's directory")
	}
	if !isVirtualenv(py.Virtualenv) {
		return py, c.bad("virtualenv", c.String("virtualenv"), "not a virtualenv: it has no pyvenv.cfg and no lib/python3.*; "+
			"create one with `python3 -m venv DIR`, or give the directory that has them")
	}
	return py, nil
}

// isVirtualenv says whether dir looks like a virtualenv as pyhost/venv.py
// reads one (a pyvenv.cfg, or a lib/pythonX.Y of virtualenv's old
// layout); whether it is for the linked Python, a worker checks.
func isVirtualenv(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "pyvenv.cfg")); err == nil {
		return true
	}
	libs, _ := filepath.Glob(filepath.Join(dir, "lib", "python[0-9]*.[0-9]*"))
	return len(libs) > 0
}

// pidFile is --pid made absolute, once its directory is known to exist,
// so that a path the master could not write stops wsgo before any worker
// starts, as openable does for the logs (the file itself is written once
// the master listens, and removed at exit).
func pidFile(c *given) (string, error) {
	if v := c.String("pid"); consistsOf(v, "0123456789") {
		return "", c.bad("pid", v, "a number where the pid file's path goes: -p is gunicorn's --pid, "+
			"while uWSGI's -p is its number of processes, which is --workers (-w) here; for a pid file of that name, give ./"+v)
	}
	path, err := absPath(c, "pid")
	if err != nil || path == "" {
		return path, err
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "", c.bad("pid", c.String("pid"), "a directory; give a file in it, e.g. "+filepath.Join(path, "wsgo.pid"))
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return "", c.bad("pid", c.String("pid"), fmt.Sprintf("its directory %s does not exist; create it "+
			"(systemd's RuntimeDirectory=), or give a file in one that does", filepath.Dir(path)))
	}
	return path, nil
}

// setEnv sets --env's KEY=VALUE pairs in this process, so that Python
// starts with them.
func (py Python) setEnv() {
	for _, kv := range py.Env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
}

// parseFront reads the HTTP front's flags into o.Front and the access
// log's into o.AccessLog*.
func (o *Options) parseFront(c *given) error {
	o.Front = httpfront.Config{
		KeepAlive:             seconds(c, "keep-alive"),
		HeaderTimeout:         seconds(c, "header-timeout"),
		StallTimeout:          seconds(c, "stall-timeout"),
		LimitRequestLine:      c.Int("limit-request-line"),
		LimitRequestFields:    c.Int("limit-request-fields"),
		LimitRequestFieldSize: c.Int("limit-request-field_size"),
		MaxBodySize:           c.Int64("max-body-size"),
		MaxResponseSpool:      c.Int64("max-response-spool"),
		StreamRequestBody:     c.Bool("stream-request-body"),
		StaticMaxAge:          seconds(c, "static-max-age"),
		Debug:                 c.Bool("debug"),
	}
	var ok bool
	if o.Front.ProxyProtocol, ok = proxyProtocolOn(c.String("proxy-protocol")); !ok {
		return c.bad("proxy-protocol", c.String("proxy-protocol"), proxyProtocolModes)
	}
	if o.Front.KeepAlive == 0 {
		o.Front.KeepAlive = -1 // Config's zero is the default
	}
	if err := o.headLimits(c); err != nil {
		return err
	}
	for _, spec := range c.StringSlice("static") {
		dir, err := httpfront.ParseStatic(spec)
		if err != nil {
			return c.bad("static", spec, err.Error())
		}
		o.Front.Static = append(o.Front.Static, dir)
	}
	root := c.String("root-path")
	if !c.IsSet("root-path") {
		root = os.Getenv("SCRIPT_NAME") // as gunicorn reads it
	}
	var err error
	if o.Front.RootPath, err = httpfront.ParseRootPath(root); err != nil {
		if !c.IsSet("root-path") {
			return usage(fmt.Sprintf("wsgo run: SCRIPT_NAME=%q, read as --root-path: %v", root, err))
		}
		return c.bad("root-path", root, err.Error())
	}
	if o.Front.HealthPath, err = httpfront.ParseHealthPath(c.String("health-path")); err != nil {
		return c.bad("health-path", c.String("health-path"), err.Error())
	}
	if o.Front.ForwardedAllow, err = httpfront.ParseAllowList(c.String("forwarded-allow-ips")); err != nil {
		return c.bad("forwarded-allow-ips", c.String("forwarded-allow-ips"), err.Error())
	}
	if o.Front.ProxyProtocol && o.Front.ForwardedAllow.Empty() {
		return usage("wsgo run: " + c.name("proxy-protocol") + " needs the load balancers that send the PROXY header in --forwarded-allow-ips (addresses or CIDRs); it is empty")
	}
	if o.AccessLogJSON, err = httpfront.ParseAccessLogFormat(c.String("access-log-format")); err != nil {
		return c.bad("access-log-format", c.String("access-log-format"), err.Error())
	}
	o.AccessLogSet = c.IsSet("access-log")
	o.AccessLog = c.String("access-log")
	if o.AccessLog != "-" {
		o.AccessLog, err = o.openable(c, "access-log")
	}
	return err
}

// openable is a log file flag's path made absolute, after opening it
// once, so that a path that cannot be written stops wsgo before any
// worker starts (each process opens it for itself, as --user if given:
// a file created here is handed to that user). "" and "-" (standard
// output or error) are returned as "".
func (o *Options) openable(c *given, name string) (string, error) {
	v := c.String(name)
	if v == "" || v == "-" {
		return "", nil
	}
	path, err := absPath(c, name)
	if err != nil {
		return "", err
	}
	_, err = os.Lstat(path)
	created := os.IsNotExist(err)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		stream := map[string]string{"error-log": "standard error", "access-log": "standard output"}[name]
		return "", c.bad(name, v, fmt.Sprintf("%v; %s, or give - for %s", err, logfmt.FileAdvice(err), stream))
	}
	defer f.Close()
	if p := o.Privileges; created && p != nil && os.Geteuid() == 0 {
		return path, f.Chown(p.UID, p.GID)
	}
	return path, nil
}

// parseTLS reads --certfile and --keyfile. A file that cannot be read, or
// a key that does not match, is a bad flag.
func (o *Options) parseTLS(c *given) error {
	cert, key := c.String("certfile"), c.String("keyfile")
	switch {
	case cert == "" && key == "":
		return nil
	case cert == "":
		return usage("wsgo run: TLS needs both --certfile and --keyfile (PEM files)")
	}
	var err error
	if o.CertFile, err = absPath(c, "certfile"); err != nil {
		return err
	}
	if key == "" { // as gunicorn's: one file with the key after the chain
		if !holdsPrivateKey(o.CertFile) {
			return usage(fmt.Sprintf("wsgo run: TLS needs --keyfile too: %s %s holds no private key (a --certfile alone "+
				"must hold the key as well as the certificates)", c.name("certfile"), cert))
		}
		o.KeyFile = o.CertFile
	} else if o.KeyFile, err = absPath(c, "keyfile"); err != nil {
		return err
	}
	if o.Certs, err = httpfront.LoadCerts(o.CertFile, o.KeyFile); err != nil {
		// httpfront names the files by their flags; say them as given
		named := strings.NewReplacer("--certfile", c.name("certfile"), "--keyfile", c.name("keyfile"))
		return usage(named.Replace(err.Error()))
	}
	return nil
}

// holdsPrivateKey reports whether the PEM file at path has a private
// key block; an unreadable file is left for LoadCerts to report.
func holdsPrivateKey(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			return false
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return true
		}
	}
}

// parseWorkers reads --workers: a count, or auto for one per CPU this
// process may use: Go's GOMAXPROCS, which is the CPUs of the affinity
// mask lowered to a container's CPU limit (its cgroup's quota), or the
// GOMAXPROCS variable when set. runtime.NumCPU would count every CPU of
// a Kubernetes node, however small the pod's limit.
func parseWorkers(s string) (int, error) {
	if strings.EqualFold(s, "auto") {
		return runtime.GOMAXPROCS(0), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errors.New(workersInstead(s))
	}
	return n, nil
}

// absPath is the flag's path made absolute against the directory wsgo
// was started in, or "" when the flag is empty.
func absPath(c *given, name string) (string, error) {
	p := c.String(name)
	if p == "" {
		return "", nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", c.bad(name, p, err.Error())
	}
	return abs, nil
}

// secondsFlags are the flags that count seconds (seconds); past
// maxSeconds a time.Duration would wrap round (--static-max-age
// 10000000000 became no-cache).
var secondsFlags = []string{"timeout", "graceful-timeout", "shutdown-delay", "keep-alive", "header-timeout",
	"stall-timeout", "static-max-age"}

const maxSeconds = math.MaxInt64 / int64(time.Second)

func seconds(c *given, name string) time.Duration {
	return time.Duration(c.Int(name)) * time.Second
}

func usage(msg string) error { return exitcode.Errorf(exitcode.Usage, "%s", msg) }
