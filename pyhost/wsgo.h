/*
 * wsgo.h: the only C header Go includes. Go never sees Python.h: it holds
 * opaque handles and plain structs, and calls only the functions below.
 *
 * Each entry says what it needs of the GIL ("GIL: held" = the caller must
 * hold it; "GIL: none" = may be called without it) and who owns memory.
 * Every buffer in a wsgo_out is allocated with wsgo_alloc and freed by Go
 * with wsgo_free once written; nothing else crosses the boundary.
 */
#ifndef WSGO_H
#define WSGO_H

#include <stddef.h>
#include <stdint.h>

typedef struct wsgo_interp wsgo_interp; /* one interpreter's state: app, types, keys */
typedef struct wsgo_call wsgo_call;     /* one request in flight (a Python object) */
typedef struct wsgo_thread wsgo_thread; /* one Python thread state */

/*
 * The packed request, the one format in which a request crosses from Go
 * (pyhost/request.go packs it) to C (environ.c builds environ from it).
 * Every length and count is a native-endian u32.
 *
 *   WSGO_F_COUNT fixed fields, in the order of WSGO_F_* below, each
 *     u32 length, then that many bytes; or, for a field the request does
 *     not have (only CONTENT_TYPE and CONTENT_LENGTH), WSGO_ABSENT alone;
 *   u32 header count, then per header
 *     u32 length + its environ key ("HTTP_USER_AGENT", "HTTPS"),
 *     u32 length + its value (repeated headers already joined).
 *
 * Bytes become str as latin-1 (PEP 3333 native strings). SCRIPT_NAME and
 * PATH_INFO are the percent-decoded mount point and path below it. C fails closed on a buffer that ends early.
 */
#define WSGO_ABSENT 0xFFFFFFFFu
enum {
    WSGO_F_METHOD,         /* REQUEST_METHOD */
    WSGO_F_PATH,           /* PATH_INFO */
    WSGO_F_SCRIPT_NAME,    /* SCRIPT_NAME */
    WSGO_F_QUERY,          /* QUERY_STRING */
    WSGO_F_URI,            /* REQUEST_URI */
    WSGO_F_PROTO,          /* SERVER_PROTOCOL */
    WSGO_F_SCHEME,         /* wsgi.url_scheme */
    WSGO_F_SERVER_NAME,    /* SERVER_NAME */
    WSGO_F_SERVER_PORT,    /* SERVER_PORT */
    WSGO_F_REMOTE_ADDR,    /* REMOTE_ADDR */
    WSGO_F_REMOTE_PORT,    /* REMOTE_PORT */
    WSGO_F_CONTENT_TYPE,   /* CONTENT_TYPE, or WSGO_ABSENT */
    WSGO_F_CONTENT_LENGTH, /* CONTENT_LENGTH, or WSGO_ABSENT */
    WSGO_F_COUNT
};

/* Outcome kinds of wsgo_call_start / wsgo_call_next / the write() callable. */
enum {
    WSGO_DONE = 0,  /* the body is over; its close() is left to wsgo_call_close if a call comes with it */
    WSGO_MORE = 1,  /* one body chunk; call wsgo_call_next (once it is written, if borrowed) */
    WSGO_FILE = 2,  /* send fd from file_off, file_len bytes (-1: to EOF); then wsgo_call_next */
    WSGO_ERROR = 3, /* the app failed; buf holds the report; the call is finished */
};

/*
 * What the callbacks into Go (wsgoBodyRead, wsgoEmit) return when the
 * request has ended: a thread the app started outlived it. Its handle may
 * be stale by then; Go never reuses one, so that is safe.
 */
#define WSGO_ENDED (-2)

/*
 * One output of the application. buf holds, when head is set, the status
 * and headers packed as: u32 len + reason, u32 count, then per header
 * u32 len + name, u32 len + value (head_len bytes in all). body/body_len
 * is the body chunk: inside buf after the head, or, when borrowed is set,
 * the memory of a Python bytes object that the call keeps alive until
 * wsgo_call_next or wsgo_call_close (like fd). Readers may read it without
 * the GIL: bytes are immutable. For WSGO_ERROR, buf holds the UTF-8 report
 * and body_len its length (NULL and 0 when out of memory), and under
 * --debug detail holds the exception as JSON for the --debug page
 * (devtraceback.py), or NULL. buf is NULL when there is nothing to hold.
 */
typedef struct {
    int kind;
    int head;          /* buf starts with status and headers */
    int status;        /* status code, when head is set */
    int complete;      /* head and the whole body are in this one output */
    int headers_sent;  /* WSGO_ERROR: headers had already gone out */
    int borrowed;      /* body is a Python object's memory, not buf's */
    const char *warning; /* static text to log once (a str body sent as UTF-8), or NULL */
    char *buf;         /* owned by the receiver: free with wsgo_free */
    char *detail;      /* WSGO_ERROR: NUL-terminated JSON or NULL; owned by the receiver: free with wsgo_free */
    size_t head_len;
    const char *body;
    size_t body_len;
    int fd;            /* WSGO_FILE: borrowed; valid until wsgo_call_next */
    int64_t file_off;
    int64_t file_len;
} wsgo_out;

/* Options for wsgo_interp_new; strings borrowed for the call. */
typedef struct {
    const char *loader_src;  /* pyhost/venv.py and pyhost/loader.py */
    const char *devtraceback_src; /* pyhost/devtraceback.py, run when debug is set */
    const char *target;      /* TARGET as given on the command line */
    const char *chdir;       /* "" when none */
    const char *pythonpath;  /* extra sys.path entries, '\n'-separated */
    const char *virtualenv;  /* --virtualenv, "" when none (a .venv may be found) */
    int strict;              /* str bodies are errors, not warnings */
    int multithread;         /* wsgi.multithread: more than one Python thread serves */
    int multiprocess;        /* wsgi.multiprocess: more than one worker process serves */
    double timeout;          /* --timeout in seconds, 0 = none; named in RequestTimeout */
    int reload;              /* --reload: a report says a save is enough */
    int replacing;           /* workers serve on: a report says to reload again */
    int debug;               /* --debug: errors also come as JSON for the --debug page */
} wsgo_import_opts;

/* What the loader found; strings owned by the caller: free with wsgo_free. */
typedef struct {
    char *description;  /* e.g. "web_application.py:application" */
    char *bind;         /* address a wsgiref script asked for, or NULL */
    char *about;        /* JSON: the app's name and repr, sys.path (wsgo check) */
    char *error;        /* NULL on success, else the report to print */
    char *sources;      /* on error: '\n'-separated files to watch for a fix (--reload) */
    char *detail;       /* on error under debug: the error as JSON (devtraceback.py), or NULL */
    char *notice;       /* on success under debug: a line to log (frameworks told to propagate), or NULL */
} wsgo_import_result;

void *wsgo_alloc(size_t n); /* GIL: none. NULL when out of memory */
void wsgo_free(void *p);    /* GIL: none. p may be NULL */

/*
 * Starts CPython on the calling OS thread, which must stay the same for
 * wsgo_interp_finalize. executable (borrowed for the call) becomes
 * sys.executable. Returns NULL and sets *error (free with wsgo_free)
 * if CPython cannot start. GIL: held on return, by this thread.
 */
wsgo_interp *wsgo_interp_new(const char *executable, char **error);
/* Imports the app. GIL: held. */
void wsgo_interp_import(wsgo_interp *st, const wsgo_import_opts *opts, wsgo_import_result *res);
/*
 * Sets *text to the app's own Python files, '\n'-separated (loader.py's
 * source_files), and returns 0; or returns -1 with *text the error's report
 * (or NULL when no thread state could be made). Free *text with wsgo_free.
 * Runs on a temporary thread state of st's interpreter, so any OS thread
 * may call it. GIL: none (taken and released inside).
 */
int wsgo_interp_source_files(wsgo_interp *st, char **text);
/* Python's version, e.g. "3.11.2". Static storage. GIL: none. */
const char *wsgo_python_version(void);
/* Kinds of handler the app gives a signal, in the wsgoSignal callback. */
enum {
    WSGO_SIGNAL_HANDLER = 0, /* a Python function: relay the signal to it */
    WSGO_SIGNAL_IGNORE = 1,  /* signal.SIG_IGN */
    WSGO_SIGNAL_DEFAULT = 2, /* signal.SIG_DFL */
};
/*
 * Runs the app's Python handler for signal sig, which Go has relayed, on
 * the thread that called wsgo_interp_new (the only one where Python runs
 * signal handlers). Returns NULL, or the report of an exception the
 * handler raised (free with wsgo_free). GIL: none; taken and released.
 */
char *wsgo_run_signal_handler(wsgo_interp *st, int sig);
/* Releases the GIL held since wsgo_interp_new. GIL: held, released on return. */
void wsgo_interp_release(wsgo_interp *st);
/*
 * The app's threads that finalization will wait for (loader.py's
 * lingering_threads), one per line, or NULL when none or on an error.
 * Free with wsgo_free. On the starting thread. GIL: none; taken and
 * released.
 */
char *wsgo_interp_lingering(wsgo_interp *st);
/*
 * Takes the GIL back on the starting thread, runs atexit handlers and
 * finalizes CPython; then frees st. Every wsgo_thread must be gone.
 * GIL: none on entry, gone on return. Returns 0, or -1 if finalizing failed.
 */
int wsgo_interp_finalize(wsgo_interp *st);

/* A Python thread state for the calling OS thread. GIL: none. */
wsgo_thread *wsgo_thread_new(wsgo_interp *st);
void wsgo_thread_attach(wsgo_thread *t); /* GIL: none, held on return */
void wsgo_thread_detach(wsgo_thread *t); /* GIL: held, released on return */
/* Clears and deletes the thread state. GIL: none. */
void wsgo_thread_delete(wsgo_thread *t);

/*
 * Raises wsgo.RequestTimeout (wsgo.GracefulTimeout if graceful: a stop
 * cut the request) in thread t if it still runs request `handle`, and returns t's Python stack as text (free with wsgo_free), or NULL.
 * In the response's close(), which must not be cut short, the stack comes
 * without the raise, and *closing is set. Runs on a thread state of its
 * own. GIL: none; waits for it.
 */
char *wsgo_interrupt(wsgo_interp *st, wsgo_thread *t, uintptr_t handle, int graceful, int *closing);
/*
 * The Python stack of every thread, packed as u32 count, then per thread
 * u64 thread id, u32 len + text (free with wsgo_free; *len is its size).
 * NULL if Python failed. GIL: none; waits for it.
 */
char *wsgo_stacks(wsgo_interp *st, size_t *len);
/*
 * The Python stack of the thread that started Python (the app's import
 * runs there), most recent call last (free with wsgo_free); NULL if Python
 * failed, or the loader has not run yet. GIL: none; waits for it. Any OS
 * thread may call it, also while the app imports.
 */
char *wsgo_main_stack(wsgo_interp *st);
/* Takes the GIL on a thread state of its own and lets it go: returns
   once no thread keeps it. GIL: none; waits for it. */
void wsgo_take_gil_once(wsgo_interp *st);
/* The OS-level thread id Python knows t by (threading.get_ident()). GIL: none. */
uint64_t wsgo_thread_ident(wsgo_thread *t);
/*
 * A flag that is 1 while a wsgo_call_* runs on t (the app may block
 * there) and 0 once it is about to return: the scheduler reads it, with
 * an atomic load, from any thread. Owned by t: valid until
 * wsgo_thread_delete. GIL: none.
 */
int *wsgo_thread_in_app(wsgo_thread *t);

/*
 * Calls the app for one request, on thread t (the caller's). req/len is the packed request built by
 * pyhost/request.go (borrowed for the call); body_len the body's length, or
 * -1 when unknown; head is nonzero for a HEAD request. handle is Go's handle for the request (never 0, never
 * reused), given back in the wsgoBodyRead/wsgoEmit/wsgoLog callbacks.
 * Fills *out. For WSGO_MORE and WSGO_FILE, returns a new reference that
 * the caller passes on to wsgo_call_next or wsgo_call_close. For WSGO_DONE
 * it returns one when the response's close() is still to run (any iterable
 * but a list or tuple), which the caller passes to wsgo_call_close once
 * the end is on its way to the client. Otherwise it returns NULL and the
 * request is over. GIL: held.
 */
wsgo_call *wsgo_call_start(wsgo_interp *st, wsgo_thread *t, const char *req, size_t len,
                           int64_t body_len, int head, uintptr_t handle, wsgo_out *out);
/*
 * The output after a WSGO_MORE/WSGO_FILE was written. Consumes call; returns
 * it again (same rule as wsgo_call_start) when more is to come. GIL: held.
 */
wsgo_call *wsgo_call_next(wsgo_call *call, wsgo_out *out);
/* Calls the response's close() and releases call: after WSGO_DONE, or
   when the client is gone. GIL: held. */
void wsgo_call_close(wsgo_call *call);

/*
 * `wsgo python ARGS`: runs Python's own command line (argv[0] is the
 * program name, the rest as `python3` takes them), then finalizes it.
 * executable becomes sys.executable. setup_src is Python run first, in a
 * namespace of its own (the virtualenv); a SystemExit it raises ends the
 * command with its code. Returns the exit code. Call once,
 * with no interpreter running and no other use of Python in the process.
 * The strings are the caller's, read during the call. GIL: none (it
 * takes and ends it).
 */
int wsgo_python_main(int argc, char **argv, const char *executable, const char *setup_src);

/* Gives the signals Go's runtime holds the dispositions python3 starts
   with, before wsgo_python_main's Python installs its own (fork.c). */
void wsgo_python_signals(void);

#endif
