package pyhost

/*
#include <stdlib.h>
#include "wsgo.h"
*/
import "C"

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"wsgo/wsgi"
)

//go:embed loader.py
var loaderSource string

// venvSource is run before loader.py, which uses it, and by `wsgo python`.
//
//go:embed venv.py
var venvSource string

//go:embed devtraceback.py
var devtracebackSource string

// Config says what to load and how to run it.
type Config struct {
	Target     string   // `wsgo run TARGET`: file.py[:callable], module[:callable], module:factory()
	Chdir      string   // directory to change to before loading ("" = stay)
	PythonPath []string // extra sys.path entries
	// Virtualenv is the venv to use ("": a .venv next to the app or in
	// Chdir, if any; see venv.py).
	Virtualenv string
	Threads    int  // Python threads serving requests
	Processes  int  // worker processes serving the app: wsgi.multiprocess when more than 1
	QueueSize  int  // requests that may wait for a thread before 503
	Strict     bool // a str body is a 500 (PEP 3333), not a warning
	Reload     bool // --reload watches for a fix: load errors say to save it
	Replacing  bool // running workers serve on: load errors say to reload again
	Debug      bool // --debug: errors carry a wsgi.Exception for the page
	Logger     *slog.Logger
	// Timeout is the front's time limit per request, named in the
	// wsgo.RequestTimeout raised when a request runs past it (0: none).
	Timeout time.Duration
	// StuckAfter is how long a timed-out request's thread may take to
	// give up, or any thread may keep the GIL in C code, before OnStuck
	// is called with why (0: never).
	StuckAfter time.Duration
	OnStuck    func(why string)
	// LendingLoad, when set, carries what the host runs beyond the requests
	// the front counts (loadShare), so that a master lending by load
	// passes over a worker whose threads a timed-out request holds.
	LendingLoad LoadCounter
	// OnImport, if set, is called as the app's import begins, with what
	// looks into it while it runs (a worker's warning that it takes long,
	// --reload's watch for the save that fixes it).
	OnImport func(*ImportProbe)
}

// LoadError is a failure to start Python or import the app. Report is
// meant for the user as is: a traceback or a sentence naming the fix.
type LoadError struct {
	Report string
	// SourceFiles are the files to watch for a fix (--reload): the app's
	// own modules imported before the failure, the file a SyntaxError
	// points at, those in the traceback, and the TARGET's file. Empty
	// when Python itself could not start.
	SourceFiles []string
	// Exception is the failure described for the --debug page, or nil.
	Exception *wsgi.Exception
}

func (e *LoadError) Error() string { return strings.TrimRight(e.Report, "\n") }

// Host runs one CPython interpreter and a pool of Python threads, and
// serves WSGI requests with them. It implements wsgi.App.
type Host struct {
	st        *C.wsgo_interp
	cfg       Config
	sched     *scheduler
	load      loadShare
	desc      string
	bind      string
	about     string // JSON from loader.py's _about
	running   sync.WaitGroup
	pythreads []*pythread // by index, each set by its own goroutine before Start returns
	// pyMu orders calls into Python from outside its threads
	// (withPython: SourceFiles, Stacks, a timeout's interrupt) before
	// finalization: Shutdown takes it to set finalized.
	pyMu      sync.RWMutex
	finalized bool
	stop      chan struct{} // closed to make the interpreter's thread finalize
	lingering chan string   // then the app's threads finalization waits for
	exited    chan int      // and the finalize result
}

// PythonVersion is the linked CPython's version, e.g. "3.11.2".
func PythonVersion() string {
	v := C.GoString(C.wsgo_python_version())
	if i := strings.IndexByte(v, ' '); i > 0 {
		v = v[:i]
	}
	return v
}

// Start starts CPython, imports the app and starts the Python threads.
// Only one Host may exist per process (CPython's main interpreter).
func Start(cfg Config) (*Host, error) {
	if cfg.Threads < 1 {
		cfg.Threads = 1
	}
	if cfg.QueueSize < 1 {
		cfg.QueueSize = 1
	}
	// What a Python process does at start: a write to a closed socket or
	// pipe fails with EPIPE (BrokenPipeError), one past the file size
	// limit with EFBIG. Go's runtime gives its own threads that, but
	// threads the app starts are not Go's: there the signal's default
	// action would end the worker.
	signal.Ignore(syscall.SIGPIPE, syscall.SIGXFSZ)
	h := &Host{
		cfg:       cfg,
		sched:     newScheduler(cfg.QueueSize),
		stop:      make(chan struct{}),
		lingering: make(chan string, 1),
		exited:    make(chan int, 1),
		load:      loadShare{counter: cfg.LendingLoad, threads: cfg.Threads},
	}
	ready := make(chan error, 1)
	go h.runInterpreter(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	h.sched.active = cfg.Threads // each pythread parks itself once ready
	started := make(chan error, cfg.Threads)
	h.pythreads = make([]*pythread, cfg.Threads)
	for i := 0; i < cfg.Threads; i++ {
		p := &pythread{host: h, index: i, wake: make(chan *job, 1)}
		h.running.Add(1)
		go p.run(started)
	}
	for i := 0; i < cfg.Threads; i++ {
		if err := <-started; err != nil {
			return nil, err
		}
	}
	// The scheduler reads the meters with its lock held; a thread exits
	// only once the scheduler has stopped, and measures no more.
	if !slices.ContainsFunc(h.pythreads, func(p *pythread) bool { return p.meter == nil }) {
		h.sched.mu.Lock()
		h.sched.pythreads = h.pythreads
		h.sched.mu.Unlock()
	}
	go h.watchGIL()
	return h, nil
}

// runInterpreter owns the OS thread CPython starts and ends on: init and
// finalize must happen on the same thread, and Go would otherwise move the
// goroutine between threads. In between it runs the app's signal
// handlers, which Python runs on this thread only.
func (h *Host) runInterpreter(ready chan<- error) {
	runtime.LockOSThread()
	exe, err := os.Executable()
	if err != nil {
		ready <- &LoadError{Report: fmt.Sprintf("wsgo: cannot find wsgo's own executable (is /proc mounted?): %v\n", err)}
		return
	}
	os.Setenv(ExecutableEnv, "1") // before Python copies the environment
	cexe := C.CString(exe)
	defer C.free(unsafe.Pointer(cexe))
	var cerr *C.char
	st := C.wsgo_interp_new(cexe, &cerr)
	if st == nil {
		ready <- &LoadError{Report: takeString(cerr)}
		return
	}
	h.st = st
	if h.cfg.OnImport != nil {
		h.cfg.OnImport(&ImportProbe{st: st})
	}
	if err := h.importApp(); err != nil {
		// CPython is not finalized with a broken app: the process exits,
		// or serves BrokenApp (--reload), which needs no Python.
		ready <- err
		return
	}
	C.wsgo_interp_release(st)
	ready <- nil
	for {
		select {
		case sig := <-appSignals:
			h.runSignalHandler(sig)
		case <-h.stop:
			h.lingering <- takeString(C.wsgo_interp_lingering(st))
			h.exited <- int(C.wsgo_interp_finalize(st))
			return
		}
	}
}

func (h *Host) importApp() error {
	opts := C.wsgo_import_opts{
		loader_src:       C.CString(venvSource + loaderSource),
		devtraceback_src: C.CString(devtracebackSource),
		target:           C.CString(h.cfg.Target),
		chdir:            C.CString(h.cfg.Chdir),
		pythonpath:       C.CString(strings.Join(h.cfg.PythonPath, "\n")),
		virtualenv:       C.CString(h.cfg.Virtualenv),
	}
	defer func() {
		C.free(unsafe.Pointer(opts.loader_src))
		C.free(unsafe.Pointer(opts.devtraceback_src))
		C.free(unsafe.Pointer(opts.target))
		C.free(unsafe.Pointer(opts.chdir))
		C.free(unsafe.Pointer(opts.pythonpath))
		C.free(unsafe.Pointer(opts.virtualenv))
	}()
	if h.cfg.Strict {
		opts.strict = 1
	}
	if h.cfg.Threads > 1 {
		opts.multithread = 1
	}
	if h.cfg.Processes > 1 {
		opts.multiprocess = 1
	}
	opts.timeout = C.double(h.cfg.Timeout.Seconds())
	if h.cfg.Reload {
		opts.reload = 1
	}
	if h.cfg.Replacing {
		opts.replacing = 1
	}
	if h.cfg.Debug {
		opts.debug = 1
	}
	var res C.wsgo_import_result
	C.wsgo_interp_import(h.st, &opts, &res)
	h.desc = takeString(res.description)
	h.bind = takeString(res.bind)
	h.about = takeString(res.about)
	if notice := takeString(res.notice); notice != "" {
		h.cfg.Logger.Info(notice)
	}
	if res.error != nil {
		return &LoadError{Report: takeString(res.error), SourceFiles: lines(takeString(res.sources)),
			Exception: describedException(takeString(res.detail))}
	}
	return nil
}

// describedException decodes devtraceback.py's JSON; nil for "" (not
// under --debug, or describing failed: the page shows the text instead).
func describedException(detail string) *wsgi.Exception {
	var e wsgi.Exception
	if detail == "" || json.Unmarshal([]byte(detail), &e) != nil {
		return nil
	}
	return &e
}

// takeString copies a wsgo_alloc'd C string and frees it; nil gives "".
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.wsgo_free(unsafe.Pointer(p))
	return s
}

// SourceFiles lists the app's own Python files, for --reload to watch:
// the .py file of every module in sys.modules that is neither in the
// standard library nor an installed package (see loader.py's
// _library_dirs), and the TARGET's file. Modules imported lazily (by a
// request) appear once imported, so call it again later for more. It
// takes the GIL for a moment; after Shutdown it returns nil.
func (h *Host) SourceFiles() []string {
	var text *C.char
	var rc C.int
	if !h.withPython(func() { rc = C.wsgo_interp_source_files(h.st, &text) }) {
		return nil
	}
	if rc != 0 {
		h.cfg.Logger.Error("wsgo: listing the app's source files failed", "traceback", takeString(text))
		return nil
	}
	return lines(takeString(text))
}

// lines splits '\n'-separated text; "" gives nil.
func lines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

// Description names what is served, e.g. "hello.py:application".
func (h *Host) Description() string { return h.desc }

// ScriptBind is the address a wsgiref script passed to make_server, or "".
func (h *Host) ScriptBind() string { return h.bind }

// About is what the loader found, as `wsgo check` shows it.
type About struct {
	Name    string   `json:"name"` // e.g. "hello.application", "an instance of flask.app.Flask"
	Repr    string   `json:"repr"`
	SysPath []string `json:"sys_path"` // as it was once the app was imported
	// Virtualenv is the venv in use and how it was chosen, or "".
	Virtualenv string `json:"virtualenv"`
	// Warning is what the loader doubts of the app (a factory named
	// without its call), or "".
	Warning string `json:"warning"`
}

// About describes the loaded app.
func (h *Host) About() (About, error) {
	var a About
	if err := json.Unmarshal([]byte(h.about), &a); err != nil {
		return a, fmt.Errorf("pyhost: the loader's description of the app is malformed: %v", err)
	}
	return a, nil
}

// Shutdown stops the Python threads, then finalizes CPython (atexit
// handlers run; non-daemon threads are waited for) until ctx is done.
// Call it once no request is in flight.
func (h *Host) Shutdown(ctx context.Context) error {
	h.sched.stop()
	done := make(chan struct{})
	go func() { h.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return errors.New("Python threads were still busy when the stop's time ran out: Python is not finalized " +
			"(atexit handlers do not run)")
	}
	// Once set, nothing enters Python from outside (withPython); a caller
	// already in waits for the GIL, which may never come.
	marked := make(chan struct{})
	go func() {
		h.pyMu.Lock()
		h.finalized = true
		h.pyMu.Unlock()
		close(marked)
	}()
	select {
	case <-marked:
	case <-ctx.Done():
		return fmt.Errorf("pyhost: a thread keeps the GIL at shutdown: %w", ctx.Err())
	}
	close(h.stop)
	select {
	case rc := <-h.exited:
		if rc != 0 {
			return fmt.Errorf("pyhost: Python finalization reported an error (an atexit handler or a thread)")
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", h.stuckFinalization(), ctx.Err())
	}
}

// stuckFinalization says why finalization may not have ended: the app's
// threads Python waits for, named with the line each ran when it began.
func (h *Host) stuckFinalization() string {
	var threads string
	select {
	case threads = <-h.lingering:
	default: // the interpreter's thread never had the GIL to look
		return "pyhost: Python finalization could not begin in time: a thread of the app keeps the GIL"
	}
	if threads == "" {
		return "pyhost: Python finalization did not end in time; no thread of the app that Python waits for " +
			"was running when it began, so an atexit handler or an object's __del__ of the app may not return"
	}
	return "pyhost: Python finalization did not end in time, so the app's atexit handlers have not run: " +
		"Python first waits for the app's threads that are not daemons, and these ran on: " +
		strings.ReplaceAll(threads, "\n", "; ") +
		". Start such a thread with daemon=True (threading.Thread(..., daemon=True)), or make it return when the app stops"
}
