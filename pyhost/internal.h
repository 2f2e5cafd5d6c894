/*
 * internal.h: what the .c files of pyhost share. Python.h comes first, as
 * CPython requires. Go never includes this file.
 */
#ifndef WSGO_INTERNAL_H
#define WSGO_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <signal.h>
#include <sys/types.h>
#include "wsgo.h"

/* Header names and values seen lately, reused by environ.c. */
enum { HEADER_CACHE = 32, CACHED_VALUE_MAX = 256 };
typedef struct {
    PyObject *key;   /* "HTTP_..." str, or NULL */
    PyObject *value; /* its last value, or NULL */
} wsgo_header_cache;

/*
 * One interpreter's state. Every Python object wsgo keeps lives here (never
 * in a C global), so interpreters can later run side by side. All fields
 * are written once at start-up, under the GIL, except warned[].
 */
struct wsgo_interp {
    PyThreadState *main_ts;   /* the starting thread's state */
    PyObject *app;            /* the WSGI callable */
    PyObject *loader;         /* loader.py's namespace, for source_files() */
    PyObject *keys[WSGO_F_COUNT];  /* interned environ keys of the fixed fields */
    PyObject *values[WSGO_F_COUNT]; /* each fixed field's last value, reused when it repeats */
    wsgo_header_cache headers[HEADER_CACHE];
    unsigned header_next;     /* the headers entry to replace next */
    PyObject *k_input, *k_errors; /* interned "wsgi.input", "wsgi.errors" */
    PyObject *base_environ;   /* constant items every environ starts from */
    PyTypeObject *call_type;  /* start_response: one per request */
    PyTypeObject *input_type; /* wsgi.input */
    PyTypeObject *errors_type; /* wsgi.errors */
    PyTypeObject *file_wrapper_type; /* wsgi.file_wrapper */
    PyObject *format_exception; /* traceback.format_exception */
    PyObject *devtraceback;   /* devtraceback.py's namespace under --debug, else NULL */
    PyObject *timeout_exc;    /* wsgo.RequestTimeout, raised past --timeout */
    PyObject *graceful_exc;   /* wsgo.GracefulTimeout, raised past a stop's --graceful-timeout */
    PyObject *thread_stacks;  /* loader.py's thread_stacks() */
    PyTypeObject *file_io[3]; /* io.FileIO, io.BufferedReader, io.BufferedRandom: sendfile's files */
    PyObject *s_close, *s_fileno, *s_tell, *s_write, *s_read, *s_readinto, *s_raw; /* interned names */
    int strict;               /* str bodies are errors */
    char warned[8];           /* which of call.c's mistake warnings were shown; GIL held */
};

struct wsgo_thread {
    PyThreadState *ts;
    uintptr_t serving;  /* the request's handle while it runs here, else 0; GIL held */
    uintptr_t closing;  /* the request's handle while its response's close() runs, else 0; GIL held */
    int interrupted;    /* a RequestTimeout was raised into it; GIL held */
    int in_app;         /* 1 while a wsgo_call_* runs on it; atomic (Go reads it) */
};

/* The start_response callable, which also carries the request's state. */
struct wsgo_call {
    PyObject_HEAD
    wsgo_interp *st;
    wsgo_thread *thread; /* the thread running it; a request stays on one */
    uintptr_t handle;   /* Go's request handle; 0 once the request is over */
    PyObject *status;   /* the validated status str, NULL before start_response */
    PyObject *headers;  /* validated list of (str, str) tuples */
    int code;
    int called;         /* start_response was called, even if it raised */
    int head;           /* a HEAD request: its response has no body */
    int64_t declared;   /* the app's Content-Length, or -1 */
    int64_t produced;   /* body bytes the app has given so far */
    int headers_sent;   /* status and headers went out to Go */
    const char *warning; /* to report with the next output, or NULL */
    PyObject *result;   /* what the app returned */
    PyObject *iter;     /* iterator over result, once needed */
    PyObject *lent;     /* the chunk the last output borrows, until wsgo_call_next */
    PyObject *context;  /* the request's own contextvars.Context, entered while it runs */
    PyObject *input;    /* wsgi.input of this request */
    PyObject *errors;   /* wsgi.errors of this request */
};

/* Log levels of the wsgoLog callback. */
enum { WSGO_LOG_APP = 0, WSGO_LOG_ERROR = 1 };

/* interp.c */
/* The pending exception as a traceback text (free with wsgo_free), cleared;
   NULL only when out of memory. GIL: held. */
char *wsgo_report(wsgo_interp *st);
/* The pending exception (new reference, with its traceback), cleared; NULL
   when none. GIL: held. */
PyObject *wsgo_take_exception(void);

/* crash.c */
/* Has Python's faulthandler report crashes in C code on Python's threads
   (to fd 2), leaving every other fault to Go. 0, or -1 with an exception.
   GIL: held. Once per process. */
int wsgo_crash_reports(void);
/* The handler it installs, which a forked child drops (fork.c). */
void wsgo_fatal_signal(int sig, siginfo_t *info, void *ctx);

/* fork.c */
extern volatile sig_atomic_t wsgo_forked; /* this process is a child the app forked */
/* Registers the fork handler that sets wsgo_forked (once per process). */
void wsgo_fork_watch(void);
/* Ends a forked child that ran on into wsgo: prints its exception, exits
   with its SystemExit code or 1. GIL: held. Never returns. */
void wsgo_forked_child_exit(void);
/* Called before each call into Go: a forked child must not make one. */
static inline void wsgo_no_go_in_child(void)
{
    if (wsgo_forked)
        wsgo_forked_child_exit();
}
/* wsgo_report, and under --debug *detail the exception as JSON for the
   --debug page (free with wsgo_free), else NULL. GIL: held. */
char *wsgo_report_detail(wsgo_interp *st, char **detail);
char *wsgo_text(PyObject *s, size_t *len);
/*
 * Clears the pending exception if it is an ordinary failure (an Exception
 * other than MemoryError) and returns 1; returns 0 and leaves it set when
 * it must not be swallowed: MemoryError, wsgo.RequestTimeout and other
 * BaseExceptions. GIL: held.
 */
int wsgo_clear_ordinary(void);
char *wsgo_strdup(const char *s, Py_ssize_t n);
int wsgo_add_type(PyTypeObject **slot, PyType_Spec *spec);

/* environ.c */
PyObject *wsgo_environ_new(wsgo_interp *st, const char *req, size_t len,
                           PyObject *input, PyObject *errors);
int wsgo_environ_init(wsgo_interp *st);
void wsgo_environ_clear(wsgo_interp *st);

/* input.c */
extern PyType_Spec wsgo_input_spec;
/* length: the body's length, -1 when unknown */
PyObject *wsgo_input_new(wsgo_interp *st, uintptr_t handle, int64_t length);
void wsgo_input_detach(PyObject *input);

/* errors.c */
extern PyType_Spec wsgo_errors_spec;
PyObject *wsgo_errors_new(wsgo_interp *st, uintptr_t handle);
void wsgo_errors_detach(PyObject *errors);

/* filewrapper.c */
extern PyType_Spec wsgo_file_wrapper_spec;
int wsgo_file_wrapper_fd(wsgo_interp *st, PyObject *wrapper, int *fd, int64_t *off, int64_t *len);

/* interrupt.c: marks t as running request `handle` (0: none). GIL: held, by t. */
void wsgo_thread_serving(wsgo_thread *t, uintptr_t handle);

/* signals.c: puts _route_signal in loader.py's globals. */
int wsgo_signals_init(PyObject *globals);

/* call.c */
extern PyType_Spec wsgo_call_spec;

#endif
