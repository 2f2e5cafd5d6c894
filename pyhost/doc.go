// Package pyhost embeds CPython and runs a WSGI (PEP 3333) application. It
// is wsgo's only cgo package: Go code here never calls the Python C API
// directly, only the functions in wsgo.h, so every reference count and GIL
// move is in the .c files, where each entry point states its rules.
//
// # Threads
//
// One interpreter. CPython starts and finalizes on one goroutine locked to
// its OS thread (runInterpreter). Requests run on --threads pythreads
// (Python threads that serve requests; a "worker" is a worker process),
// each a goroutine locked for life to an OS thread that owns one Python
// thread state (PyThreadState_New: no PyGILState, so sub-interpreters can
// come later). Between requests a pythread holds no GIL, so the app's own
// threading.Thread threads run. Host.SourceFiles (--reload), Host.Stacks
// and a timeout's interrupt run Python from outside on a temporary thread
// state made for the call (withPython), never after finalization.
//
// Words: "import" is loading the app (importApp, wsgo_interp_import);
// the scheduler's "gauges" measure how busy the running pythreads are
// (sched_gauges.go) from each one's "threadcpu" meter (threadcpu_*.go);
// Host.Load is the snapshot of busy pythreads and queued requests that
// metrics read (busy.go).
//
// # The life of a request
//
//  1. httpfront parses the request and calls Host.ServeWSGI on the
//     connection's goroutine, which packs the request into one buffer
//     (request.go) and hands a job to the scheduler (sched.go).
//  2. The scheduler gives the job to an idle pythread only if no pythread is
//     running Python; otherwise it queues it and the running pythread takes
//     it next without dropping the GIL. Handing the GIL between threads on
//     every request would cost more than the request (see stallAfter).
//     Another pythread is woken only when the running ones take nothing from
//     the queue and use little CPU: they are blocked, not busy.
//  3. The pythread, holding the GIL, makes one cgo call, wsgo_call_start:
//     C builds environ from the packed buffer, calls the app, and if it
//     returned a list or tuple, packs status, headers and the whole body
//     into one buffer and calls close(). That is the common case: one
//     crossing each way, no callback into Go.
//  4. The pythread sends that output to the connection's goroutine as an
//     event (never blocking) and takes the next queued job, or releases
//     the GIL and parks.
//  5. The connection's goroutine writes status, headers and body through
//     the wsgi.Responder and frees the buffer. No GIL is held while any
//     byte goes to the network.
//
// Any other iterable is walked one non-empty chunk per wsgo_call_next. The
// first chunk is copied with the head and sent as an event like a whole
// response, and the pythread goes on with the app at once: PEP 3333 allows
// producing the next block while another thread transmits this one. So the
// iterables frameworks return (Flask's and Django's: one chunk, then the
// end) cost two more crossings and no wait. The end comes back with the
// call alive: the pythread sends it as an event and then calls close()
// (wsgo_call_close), while the connection's goroutine writes the end
// (wsgi.Ender: a chunked body's last chunk) and waits for a last event
// that says close() has returned. So the client has the whole response
// while close() runs, and the request counts as running until it
// returns. Every later chunk, and a first
// one of 64 KiB or more, is borrowed:
// the pythread releases the GIL, waits for the first chunk's ack if it has
// not come, and writes the chunk itself from the bytes object, which C
// keeps alive until wsgo_call_next; no copy, no hand-off per chunk. A
// client that keeps up paces the generator; a slow one is left to the
// front once the pythread is wanted elsewhere or waited too long
// (wsgi.Releaser: the front queues the rest in memory, then a temporary
// file), so a slow reader costs memory, not a pythread. A client that is
// gone makes the pythread call close() (wsgo_call_close). wsgi.file_wrapper over a real
// file is sent the same way, with sendfile. The Responder is the front's
// again once ServeWSGI returns (a --timeout): job.resMu makes the pythread's
// writes and that take-back exclude each other.
//
// Three things call back from C into Go, each with the GIL released and
// none on the common path: wsgi.input reads (wsgoBodyRead), the legacy
// write() callable (wsgoEmit), and wsgi.errors entries (wsgoLog). A thread
// the app started may make them after its request ended (Flask's
// copy_current_request_context does): they find the request by a handle
// Go never reuses, so a stale one finds nothing, and once the request has
// ended wsgi.errors text is still logged while wsgi.input and write()
// raise an error naming the mistake.
//
// # Signals
//
// Go owns every signal. Python runs signal handlers only on its main
// thread, the one that started CPython (runInterpreter), which never runs
// Python again once the app is imported; and a handler installed the
// usual way (sigaction) would take the signal from Go's runtime. So
// loader.py wraps signal.signal: for a signal wsgo uses, no handler is
// installed and a RuntimeWarning says why (use atexit for cleanup), so a
// library that does it at import still imports; for any other, Python
// records the handler, Go's OS-level handler is put back, and Go relays
// the signal to runInterpreter, which takes the GIL and runs the handler
// (signals.c, signals.go).
//
// # Errors
//
// An exception before the headers went out becomes an *AppError and a 500
// from the front; after, the front cuts the connection so the client
// cannot take a partial body for a whole one. The traceback is logged here
// with the request's ID. start_response validates status and headers
// (call.c) and raises in the app's frame; the front only frames them.
//
// # Timeouts
//
// Past --timeout, ServeWSGI takes the request's body and Responder back
// (job.end) and abandon raises wsgo.RequestTimeout into its pythread
// (PyThreadState_SetAsyncExc, which needs the GIL). A pythread that holds
// the GIL in C code for over gilWait is logged without a stack, and the
// scheduler refuses requests (503) until the GIL comes back; either way
// Config.OnStuck is called StuckAfter after the timeout if the pythread
// is still busy. Without --timeout, a pythread that keeps the GIL in C
// code for StuckAfter has its worker replaced too (watchGIL). A pending RequestTimeout is withdrawn before the
// response's close() runs, and never reaches the next request. Until its
// pythread lets go, an abandoned request counts on Config.LendingLoad
// (loadShare), and a GIL kept in C counts the worker out of reach, so
// that the master lends new connections to the other workers.
//
// A fatal signal on a thread that runs Python goes through Python's
// faulthandler, which writes the thread's stack, before Go's handler
// (crash.c); on any other thread, straight to Go's.
//
// With or without --timeout, watchGIL takes the GIL once when a request
// has run through a whole gilWait, and logs when that takes over gilWait:
// a thread keeps it in C code, and the worker's other requests wait.
package pyhost
