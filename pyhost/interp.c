/*
 * interp.c: CPython's life cycle, the app's loading, thread states, and
 * the one way errors become text.
 */
#include "internal.h"

#include <string.h>

void *wsgo_alloc(size_t n) { return PyMem_RawMalloc(n ? n : 1); }

void wsgo_free(void *p) { PyMem_RawFree(p); }

/* A NUL-terminated copy of s[0:n] (n < 0: strlen), or NULL. GIL: none. */
char *wsgo_strdup(const char *s, Py_ssize_t n)
{
    if (n < 0)
        n = (Py_ssize_t)strlen(s);
    char *d = wsgo_alloc((size_t)n + 1);
    if (d) {
        memcpy(d, s, (size_t)n);
        d[n] = '\0';
    }
    return d;
}

const char *wsgo_python_version(void) { return Py_GetVersion(); }

/* Creates a heap type into *slot. Returns 0, or -1 with an exception set. */
int wsgo_add_type(PyTypeObject **slot, PyType_Spec *spec)
{
    *slot = (PyTypeObject *)PyType_FromSpec(spec);
    return *slot ? 0 : -1;
}

/*
 * The pending exception as an instance with its traceback (new
 * reference), or NULL when none is set; the exception is cleared.
 * GIL: held.
 */
PyObject *wsgo_take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type = NULL, *value = NULL, *tb = NULL;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && PyExceptionInstance_Check(value)) {
        if (tb != NULL)
            PyException_SetTraceback(value, tb);
    } else { /* not an exception: PyErr_Restore was given junk */
        Py_CLEAR(value);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/*
 * devtraceback.py's JSON of exc (loading: exc is the loader's LoadError),
 * or NULL when not under --debug or describing failed: the page then shows
 * the report's text. GIL: held; no exception is left set.
 */
static char *describe(wsgo_interp *st, PyObject *exc, int loading)
{
    PyObject *fn = st && st->devtraceback ? PyDict_GetItemString(st->devtraceback, "describe") : NULL; /* borrowed */
    if (fn == NULL)
        return NULL;
    PyObject *json = PyObject_CallFunction(fn, "Oi", exc, loading);
    char *detail = json && PyUnicode_Check(json) ? wsgo_text(json, NULL) : NULL;
    PyErr_Clear();
    Py_XDECREF(json);
    return detail;
}

char *wsgo_report(wsgo_interp *st) { return wsgo_report_detail(st, NULL); }

char *wsgo_report_detail(wsgo_interp *st, char **detail)
{
    PyObject *exc = wsgo_take_exception(), *lines = NULL, *empty = NULL, *text = NULL, *nul = NULL, *escaped = NULL;
    char *report = NULL;

    if (detail)
        *detail = NULL;
    if (exc == NULL)
        return wsgo_strdup("wsgo: unknown error (no Python exception set)\n", -1);
    if (detail)
        *detail = describe(st, exc, 0);
    if (st && st->format_exception) {
        lines = PyObject_CallOneArg(st->format_exception, exc);
        if (lines && (empty = PyUnicode_FromString("")) != NULL)
            text = PyUnicode_Join(empty, lines);
    }
    if (text == NULL) { /* formatting failed: fall back to str(exc) */
        PyErr_Clear();
        text = PyObject_Str(exc);
    }
    /* The report is a C string, which a NUL (a client's %00 in the
       message) would end, losing the rest, the chained error with it; a
       NUL also splits a line in journald. Shown as repr() shows it. */
    if (text && (nul = PyUnicode_FromOrdinal(0)) != NULL && (escaped = PyUnicode_FromString("\\x00")) != NULL)
        Py_SETREF(text, PyUnicode_Replace(text, nul, escaped, -1));
    if (text)
        report = wsgo_text(text, NULL);
    if (report == NULL)
        report = wsgo_strdup("wsgo: an exception was raised and could not be formatted\n", -1);
    PyErr_Clear();
    Py_DECREF(exc);
    Py_XDECREF(lines);
    Py_XDECREF(empty);
    Py_XDECREF(text);
    Py_XDECREF(nul);
    Py_XDECREF(escaped);
    return report;
}

/*
 * str s as a NUL-terminated UTF-8 copy (free with wsgo_free) and its
 * length in *len (when len is not NULL), or NULL with an exception. Surrogates that stand for undecodable bytes (file names
 * in another encoding) become those bytes again, as the OS gave them.
 * GIL: held.
 */
char *wsgo_text(PyObject *s, size_t *len)
{
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape");
    if (b == NULL && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear(); /* a lone surrogate of other origin: show it escaped */
        b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
    }
    if (b == NULL)
        return NULL;
    char *copy = wsgo_strdup(PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
    if (len)
        *len = (size_t)PyBytes_GET_SIZE(b);
    Py_DECREF(b);
    if (copy == NULL)
        PyErr_NoMemory();
    return copy;
}

int wsgo_clear_ordinary(void)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception) || PyErr_ExceptionMatches(PyExc_MemoryError))
        return 0;
    PyErr_Clear();
    return 1;
}

/* Interns the names and builds the types; 0, or -1 with an exception. */
static int init_state(wsgo_interp *st)
{
    PyObject *tb_mod = NULL, *io_mod = NULL;
    int rc = -1;

    if (!(st->s_close = PyUnicode_InternFromString("close")) ||
        !(st->s_fileno = PyUnicode_InternFromString("fileno")) ||
        !(st->s_tell = PyUnicode_InternFromString("tell")) ||
        !(st->s_write = PyUnicode_InternFromString("write")) ||
        !(st->s_read = PyUnicode_InternFromString("read")) ||
        !(st->s_readinto = PyUnicode_InternFromString("readinto")) ||
        !(st->s_raw = PyUnicode_InternFromString("raw")))
        goto done;
    if (wsgo_add_type(&st->call_type, &wsgo_call_spec) < 0 ||
        wsgo_add_type(&st->input_type, &wsgo_input_spec) < 0 ||
        wsgo_add_type(&st->errors_type, &wsgo_errors_spec) < 0 ||
        wsgo_add_type(&st->file_wrapper_type, &wsgo_file_wrapper_spec) < 0)
        goto done;
    if (!(io_mod = PyImport_ImportModule("io")))
        goto done;
    static const char *const file_io[] = {"FileIO", "BufferedReader", "BufferedRandom"};
    for (int i = 0; i < 3; i++) {
        PyObject *t = PyObject_GetAttrString(io_mod, file_io[i]);
        if (t == NULL)
            goto done;
        if (!PyType_Check(t)) {
            Py_DECREF(t);
            PyErr_Format(PyExc_TypeError, "io.%s is not a type", file_io[i]);
            goto done;
        }
        st->file_io[i] = (PyTypeObject *)t;
    }
    if (!(tb_mod = PyImport_ImportModule("traceback")) ||
        !(st->format_exception = PyObject_GetAttrString(tb_mod, "format_exception")))
        goto done;
    if (wsgo_environ_init(st) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(io_mod);
    Py_XDECREF(tb_mod);
    return rc;
}

wsgo_interp *wsgo_interp_new(const char *executable, char **error)
{
    PyConfig config;
    PyStatus status;
    wsgo_interp *st = NULL;

    *error = NULL;
    wsgo_fork_watch();
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0; /* Go owns the signals (see signals.c) */
    config.buffered_stdio = 0;          /* print() reaches the log at once */
    config.parse_argv = 0;
    /* A server does not take its interpreter's settings from whatever
       PYTHON* variables its environment holds (PYTHONHOME, PYTHONOPTIMIZE,
       PYTHONINSPECT...), save the two deployments set on purpose:
       PYTHONDONTWRITEBYTECODE here, PYTHONPATH in loader.py. */
    config.use_environment = 0;
    const char *nobytecode = getenv("PYTHONDONTWRITEBYTECODE");
    if (nobytecode && *nobytecode)
        config.write_bytecode = 0;
    status = PyConfig_SetBytesString(&config, &config.program_name, "wsgo");
    if (PyStatus_Exception(status))
        goto fail;
    /* wsgo runs `wsgo -c ...` as Python (main.go), so multiprocessing's
     * spawn and other re-runs of sys.executable come back to it. */
    status = PyConfig_SetBytesString(&config, &config.executable, executable);
    if (PyStatus_Exception(status))
        goto fail;
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status))
        goto fail;
    PyConfig_Clear(&config);

    st = wsgo_alloc(sizeof *st);
    if (st == NULL) {
        *error = wsgo_strdup("wsgo: out of memory starting Python\n", -1);
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->main_ts = PyThreadState_Get();
    if (init_state(st) < 0) {
        *error = wsgo_report(st);
        return NULL;
    }
    if (wsgo_crash_reports() < 0)
        PyErr_Clear(); /* no faulthandler: Go's report alone, as before */
    return st;

fail:
    PyConfig_Clear(&config);
    if (status.err_msg) {
        char buf[512];
        snprintf(buf, sizeof buf, "wsgo: cannot start Python: %s%s%s\n",
                 status.func ? status.func : "", status.func ? ": " : "", status.err_msg);
        *error = wsgo_strdup(buf, -1);
    } else {
        *error = wsgo_strdup("wsgo: cannot start Python\n", -1);
    }
    return NULL;
}

/*
 * Copies the str item i of tuple t into *out (NULL for None). Returns 0,
 * or -1 with an exception: the item is no str, or out of memory.
 */
static int tuple_str(PyObject *t, Py_ssize_t i, char **out)
{
    PyObject *o = PyTuple_GetItem(t, i);
    *out = NULL;
    if (o == NULL)
        return -1;
    if (o == Py_None)
        return 0;
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "wsgo loader: item %zd of its result is no str", i);
        return -1;
    }
    *out = wsgo_text(o, NULL);
    return *out ? 0 : -1;
}

/*
 * Runs devtraceback.py in a namespace of its own, given the loader's
 * _is_library, and keeps the namespace. 0, or -1 with an exception.
 * GIL: held.
 */
static int load_devtraceback(wsgo_interp *st, const char *src)
{
    PyObject *ns = PyDict_New(), *code = NULL, *ret = NULL;
    PyObject *is_library = PyDict_GetItemString(st->loader, "_is_library"); /* borrowed */
    int rc = -1;

    if (ns && is_library && PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) == 0 &&
        PyDict_SetItemString(ns, "_is_library", is_library) == 0 &&
        (code = Py_CompileString(src, "<wsgo devtraceback>", Py_file_input)) &&
        (ret = PyEval_EvalCode(code, ns, ns))) {
        st->devtraceback = Py_NewRef(ns);
        rc = 0;
    } else if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_RuntimeError, "wsgo: the loader's _is_library is missing");
    }
    Py_XDECREF(ns);
    Py_XDECREF(code);
    Py_XDECREF(ret);
    return rc;
}

/*
 * Under --debug, devtraceback.py's propagate(app): Flask and Django let
 * exceptions reach the page. Its log line in *notice, or NULL. 0, or -1
 * with an exception. GIL: held.
 */
static int propagate(wsgo_interp *st, char **notice)
{
    PyObject *fn = st->devtraceback ? PyDict_GetItemString(st->devtraceback, "propagate") : NULL; /* borrowed */
    if (fn == NULL)
        return 0;
    PyObject *line = PyObject_CallOneArg(fn, st->app);
    if (line == NULL)
        return -1;
    if (PyUnicode_Check(line))
        *notice = wsgo_text(line, NULL);
    Py_DECREF(line);
    return 0;
}

void wsgo_interp_import(wsgo_interp *st, const wsgo_import_opts *opts, wsgo_import_result *res)
{
    PyObject *globals = NULL, *builtins = NULL, *code = NULL, *ret = NULL, *load = NULL,
             *out = NULL;

    memset(res, 0, sizeof *res);
    st->strict = opts->strict;
    if (PyDict_SetItemString(st->base_environ, "wsgi.multithread", opts->multithread ? Py_True : Py_False) < 0 ||
        PyDict_SetItemString(st->base_environ, "wsgi.multiprocess", opts->multiprocess ? Py_True : Py_False) < 0 ||
        !(globals = PyDict_New()) || !(builtins = PyImport_ImportModule("builtins")) ||
        PyDict_SetItemString(globals, "__builtins__", builtins) < 0 || wsgo_signals_init(globals) < 0 ||
        !(code = Py_CompileString(opts->loader_src, "<wsgo loader>", Py_file_input)) ||
        !(ret = PyEval_EvalCode(code, globals, globals)) ||
        !(load = PyDict_GetItemString(globals, "load"))) /* borrowed */
        goto fail;
    st->loader = Py_NewRef(globals);
    if (!(st->timeout_exc = PyDict_GetItemString(globals, "RequestTimeout")) ||
        !(st->graceful_exc = PyDict_GetItemString(globals, "GracefulTimeout")) ||
        !(st->thread_stacks = PyDict_GetItemString(globals, "thread_stacks")))
        goto fail;
    Py_INCREF(st->timeout_exc); /* borrowed from globals until now */
    Py_INCREF(st->graceful_exc);
    Py_INCREF(st->thread_stacks);
    if (opts->debug && load_devtraceback(st, opts->devtraceback_src) < 0)
        goto fail;
    /* Paths as the OS gives them: undecodable bytes become surrogates. */
    out = PyObject_CallFunction(load, "O&O&O&O&dii", PyUnicode_DecodeFSDefault, opts->target,
                                PyUnicode_DecodeFSDefault, opts->chdir,
                                PyUnicode_DecodeFSDefault, opts->pythonpath,
                                PyUnicode_DecodeFSDefault, opts->virtualenv, opts->timeout,
                                opts->reload, opts->replacing);
    if (out == NULL)
        goto fail;
    /* ("error", report, sources, LoadError) or ("ok", app, description, bind-or-None, about) */
    if (!PyTuple_Check(out) || PyTuple_GET_SIZE(out) < 4) {
        PyErr_SetString(PyExc_RuntimeError, "wsgo loader returned a malformed result");
        goto fail;
    }
    if (PyTuple_GET_SIZE(out) == 4) {
        if (tuple_str(out, 1, &res->error) < 0 || tuple_str(out, 2, &res->sources) < 0 ||
            res->error == NULL)
            goto fail;
        res->detail = describe(st, PyTuple_GET_ITEM(out, 3), 1);
        goto done;
    }
    if (tuple_str(out, 2, &res->description) < 0 || tuple_str(out, 3, &res->bind) < 0 ||
        tuple_str(out, 4, &res->about) < 0)
        goto fail;
    st->app = Py_NewRef(PyTuple_GET_ITEM(out, 1));
    if (propagate(st, &res->notice) < 0)
        goto fail;
    goto done;
fail:
    wsgo_free(res->error); /* a partial result: the failure is the report */
    res->error = wsgo_report_detail(st, &res->detail);
    if (res->error == NULL)
        res->error = wsgo_strdup("wsgo: out of memory loading the app\n", -1);
done:
    Py_XDECREF(globals);
    Py_XDECREF(builtins);
    Py_XDECREF(code);
    Py_XDECREF(ret);
    Py_XDECREF(out);
}

void wsgo_interp_release(wsgo_interp *st) { st->main_ts = PyEval_SaveThread(); }

int wsgo_interp_source_files(wsgo_interp *st, char **text)
{
    PyThreadState *ts = PyThreadState_New(PyThreadState_GetInterpreter(st->main_ts));
    PyObject *fn, *files = NULL;
    int rc = -1;

    *text = NULL;
    if (ts == NULL)
        return -1;
    PyEval_RestoreThread(ts);
    /* NULL before the loader runs: a caller while the app imports (ImportProbe) */
    fn = st->loader ? PyDict_GetItemString(st->loader, "source_files") : NULL; /* borrowed */
    if (fn && (files = PyObject_CallNoArgs(fn)) != NULL && (*text = wsgo_text(files, NULL)) != NULL)
        rc = 0;
    else
        *text = wsgo_report(st);
    Py_XDECREF(files);
    PyThreadState_Clear(ts);
    PyThreadState_DeleteCurrent();
    return rc;
}

char *wsgo_interp_lingering(wsgo_interp *st)
{
    PyEval_RestoreThread(st->main_ts);
    PyObject *fn = PyDict_GetItemString(st->loader, "lingering_threads"); /* borrowed */
    PyObject *text = fn ? PyObject_CallNoArgs(fn) : NULL;
    char *out = text && PyUnicode_Check(text) && PyUnicode_GET_LENGTH(text) > 0 ? wsgo_text(text, NULL) : NULL;
    Py_XDECREF(text);
    PyErr_Clear(); /* the message goes without the names */
    st->main_ts = PyEval_SaveThread();
    return out;
}

int wsgo_interp_finalize(wsgo_interp *st)
{
    PyEval_RestoreThread(st->main_ts);
    Py_CLEAR(st->app);
    Py_CLEAR(st->loader);
    wsgo_environ_clear(st);
    Py_CLEAR(st->call_type);
    Py_CLEAR(st->input_type);
    Py_CLEAR(st->errors_type);
    Py_CLEAR(st->file_wrapper_type);
    for (int i = 0; i < 3; i++)
        Py_CLEAR(st->file_io[i]);
    Py_CLEAR(st->format_exception);
    Py_CLEAR(st->devtraceback);
    Py_CLEAR(st->timeout_exc);
    Py_CLEAR(st->graceful_exc);
    Py_CLEAR(st->thread_stacks);
    /* Threads of the app still run during finalization (atexit handlers,
       non-daemon threads), and a request's objects they hold use st: st
       outlives them, and so do the interned names (start_response looks
       up "write"), which the interpreter frees with itself. */
    int rc = Py_FinalizeEx();
    wsgo_free(st);
    return rc;
}

wsgo_thread *wsgo_thread_new(wsgo_interp *st)
{
    wsgo_thread *t = wsgo_alloc(sizeof *t);
    if (t == NULL)
        return NULL;
    t->serving = 0;
    t->interrupted = 0;
    t->in_app = 0;
    /* Binds to the calling OS thread (3.12+ records it here). */
    t->ts = PyThreadState_New(PyThreadState_GetInterpreter(st->main_ts));
    if (t->ts == NULL) {
        wsgo_free(t);
        return NULL;
    }
    return t;
}

void wsgo_thread_attach(wsgo_thread *t) { PyEval_RestoreThread(t->ts); }

void wsgo_thread_detach(wsgo_thread *t) { (void)t; PyEval_SaveThread(); }

void wsgo_thread_delete(wsgo_thread *t)
{
    PyEval_RestoreThread(t->ts);
    PyThreadState_Clear(t->ts);
    PyThreadState_DeleteCurrent();
    wsgo_free(t);
}
