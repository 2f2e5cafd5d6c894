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
 * Takes the pending Python exception and returns its traceback as UTF-8
 * text (free with wsgo_free); the exception is cleared. GIL: held.
 */
char *wsgo_report(wsgo_interp *st)
{
    PyObject *type = NULL, *value = NULL, *tb = NULL;
    PyObject *lines = NULL, *empty = NULL, *text = NULL;
    char *report = NULL;

    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return wsgo_strdup("wsgo: unknown error (no Python exception set)\n", -1);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);

    if (st && st->format_exception) {
        lines = PyObject_CallFunctionObjArgs(st->format_exception, type,
                                             value ? value : Py_None,
                                             tb ? tb : Py_None, NULL);
        if (lines && (empty = PyUnicode_FromString("")) != NULL)
            text = PyUnicode_Join(empty, lines);
    }
    if (text == NULL) { /* formatting failed: fall back to str(value) */
        PyErr_Clear();
        text = value ? PyObject_Str(value) : NULL;
    }
    if (text) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(text, &n);
        if (s)
            report = wsgo_strdup(s, n);
    }
    if (report == NULL)
        report = wsgo_strdup("wsgo: an exception was raised and could not be formatted\n", -1);
    PyErr_Clear();
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    Py_XDECREF(lines);
    Py_XDECREF(empty);
    Py_XDECREF(text);
    return report;
}

/* Interns the names and builds the types; 0, or -1 with an exception. */
static int init_state(wsgo_interp *st)
{
    PyObject *tb_mod = NULL;
    int rc = -1;

    if (!(st->s_close = PyUnicode_InternFromString("close")) ||
        !(st->s_fileno = PyUnicode_InternFromString("fileno")) ||
        !(st->s_tell = PyUnicode_InternFromString("tell")) ||
        !(st->s_write = PyUnicode_InternFromString("write")))
        goto done;
    if (wsgo_add_type(&st->call_type, &wsgo_call_spec) < 0 ||
        wsgo_add_type(&st->input_type, &wsgo_input_spec) < 0 ||
        wsgo_add_type(&st->errors_type, &wsgo_errors_spec) < 0 ||
        wsgo_add_type(&st->file_wrapper_type, &wsgo_file_wrapper_spec) < 0)
        goto done;
    if (!(tb_mod = PyImport_ImportModule("traceback")) ||
        !(st->format_exception = PyObject_GetAttrString(tb_mod, "format_exception")))
        goto done;
    if (wsgo_environ_init(st) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(tb_mod);
    return rc;
}

wsgo_interp *wsgo_interp_new(char **error)
{
    PyConfig config;
    PyStatus status;
    wsgo_interp *st = NULL;

    *error = NULL;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0; /* Go owns SIGINT and SIGTERM */
    config.buffered_stdio = 0;          /* print() reaches the log at once */
    config.parse_argv = 0;
    status = PyConfig_SetBytesString(&config, &config.program_name, "wsgo");
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

/* Copies the str item i of tuple t into a new C string, or NULL for None. */
static char *tuple_str(PyObject *t, Py_ssize_t i)
{
    PyObject *o = PyTuple_GetItem(t, i);
    if (o == NULL || o == Py_None)
        return NULL;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(o, &n);
    return s ? wsgo_strdup(s, n) : NULL;
}

void wsgo_interp_load(wsgo_interp *st, const wsgo_load_opts *opts, wsgo_load_result *res)
{
    PyObject *globals = NULL, *code = NULL, *ret = NULL, *load = NULL, *out = NULL;

    memset(res, 0, sizeof *res);
    st->strict = opts->strict;
    if (!(globals = PyDict_New()) ||
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0 ||
        !(code = Py_CompileString(opts->loader_src, "<wsgo loader>", Py_file_input)) ||
        !(ret = PyEval_EvalCode(code, globals, globals)) ||
        !(load = PyDict_GetItemString(globals, "load"))) /* borrowed */
        goto fail;
    st->loader = Py_NewRef(globals);
    if (!(st->timeout_exc = PyDict_GetItemString(globals, "RequestTimeout")) ||
        !(st->thread_stacks = PyDict_GetItemString(globals, "thread_stacks")))
        goto fail;
    Py_INCREF(st->timeout_exc); /* borrowed from globals until now */
    Py_INCREF(st->thread_stacks);
    out = PyObject_CallFunction(load, "sssdi", opts->target, opts->chdir, opts->pythonpath,
                                opts->timeout, opts->reload);
    if (out == NULL)
        goto fail;
    /* ("error", report, sources) or ("ok", app, description, bind-or-None, about) */
    if (!PyTuple_Check(out) || PyTuple_GET_SIZE(out) < 3) {
        PyErr_SetString(PyExc_RuntimeError, "wsgo loader returned a malformed result");
        goto fail;
    }
    if (PyTuple_GET_SIZE(out) == 3) {
        res->error = tuple_str(out, 1);
        res->sources = tuple_str(out, 2);
        goto done;
    }
    st->app = Py_NewRef(PyTuple_GET_ITEM(out, 1));
    res->description = tuple_str(out, 2);
    res->bind = tuple_str(out, 3);
    res->about = tuple_str(out, 4);
    goto done;
fail:
    res->error = wsgo_report(st);
done:
    Py_XDECREF(globals);
    Py_XDECREF(code);
    Py_XDECREF(ret);
    Py_XDECREF(out);
}

void wsgo_interp_release(wsgo_interp *st) { st->main_ts = PyEval_SaveThread(); }

int wsgo_interp_source_files(wsgo_interp *st, char **text)
{
    PyThreadState *ts = PyThreadState_New(PyThreadState_GetInterpreter(st->main_ts));
    PyObject *fn, *files = NULL;
    const char *s = NULL;
    Py_ssize_t n = 0;

    *text = NULL;
    if (ts == NULL)
        return -1;
    PyEval_RestoreThread(ts);
    fn = PyDict_GetItemString(st->loader, "source_files"); /* borrowed */
    if (fn && (files = PyObject_CallNoArgs(fn)) != NULL)
        s = PyUnicode_AsUTF8AndSize(files, &n);
    *text = s ? wsgo_strdup(s, n) : wsgo_report(st);
    Py_XDECREF(files);
    PyThreadState_Clear(ts);
    PyThreadState_DeleteCurrent();
    return s ? 0 : -1;
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
    Py_CLEAR(st->format_exception);
    Py_CLEAR(st->timeout_exc);
    Py_CLEAR(st->thread_stacks);
    Py_CLEAR(st->s_close);
    Py_CLEAR(st->s_fileno);
    Py_CLEAR(st->s_tell);
    Py_CLEAR(st->s_write);
    wsgo_free(st);
    return Py_FinalizeEx();
}

wsgo_thread *wsgo_thread_new(wsgo_interp *st)
{
    wsgo_thread *t = wsgo_alloc(sizeof *t);
    if (t == NULL)
        return NULL;
    t->serving = 0;
    t->interrupted = 0;
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
