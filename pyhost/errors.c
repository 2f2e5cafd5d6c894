/*
 * errors.c: wsgi.errors, a text stream into the server's log. What one
 * write() completes goes to Go (wsgoLog) as one entry, which Go marks
 * with the request once. A traceback is held whole until flush() or the
 * request's end, as traceback.print_exc(file=...) writes it in many
 * pieces. Each thread keeps its own pending text, so two threads that
 * write parts of lines (the request's and one it started) never mix them.
 */
#include "internal.h"
#include "_cgo_export.h"

typedef struct {
    PyObject_HEAD
    uintptr_t handle; /* the request; 0 once it is over (lines still logged) */
    PyObject *partials; /* {thread id: text written since its last newline}, or NULL */
} wsgo_errors;

PyObject *wsgo_errors_new(wsgo_interp *st, uintptr_t handle)
{
    wsgo_errors *e = (wsgo_errors *)st->errors_type->tp_alloc(st->errors_type, 0);
    if (e)
        e->handle = handle;
    return (PyObject *)e;
}

/* Logs text (lines without their last newline). GIL: held, released meanwhile. */
static int log_text(wsgo_errors *e, PyObject *text)
{
    size_t n;
    char *s = wsgo_text(text, &n);
    if (s == NULL)
        return -1;
    uintptr_t h = e->handle;
    wsgo_no_go_in_child();
    Py_BEGIN_ALLOW_THREADS
    wsgoLog(h, WSGO_LOG_APP, s, n);
    Py_END_ALLOW_THREADS
    wsgo_free(s);
    return 0;
}

/* flush(): logs every thread's partial line. */
static PyObject *errors_flush(wsgo_errors *e, PyObject *unused)
{
    (void)unused;
    PyObject *partials = e->partials, *key, *text;
    Py_ssize_t pos = 0;
    int rc = 0;
    e->partials = NULL; /* taken whole: writes meanwhile start afresh */
    while (partials && rc == 0 && PyDict_Next(partials, &pos, &key, &text))
        rc = log_text(e, text);
    Py_XDECREF(partials);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

void wsgo_errors_detach(PyObject *o)
{
    if (o == NULL)
        return;
    PyObject *r = errors_flush((wsgo_errors *)o, NULL);
    if (r == NULL) { /* out of memory: say so rather than lose it silently */
        char *report = wsgo_report(NULL);
        uintptr_t h = ((wsgo_errors *)o)->handle;
        wsgo_no_go_in_child();
        Py_BEGIN_ALLOW_THREADS
        if (report)
            wsgoLog(h, WSGO_LOG_ERROR, report, strlen(report));
        Py_END_ALLOW_THREADS
        wsgo_free(report);
    }
    Py_XDECREF(r);
    ((wsgo_errors *)o)->handle = 0;
}

/* Pending text past this is logged as it is: an app cannot grow it without bound. */
#define ERRORS_HOLD_MAX (64 * 1024)

/* Whether text begins a Python traceback: held for one entry. GIL: held. */
static int is_traceback(PyObject *text)
{
    static const char head[] = "Traceback (most recent call last):";
    if (PyUnicode_GET_LENGTH(text) < (Py_ssize_t)sizeof head - 1)
        return 0;
    for (Py_ssize_t i = 0; i < (Py_ssize_t)sizeof head - 1; i++)
        if (PyUnicode_READ_CHAR(text, i) != (Py_UCS4)head[i])
            return 0;
    return 1;
}

static PyObject *errors_write(wsgo_errors *e, PyObject *s)
{
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "wsgi.errors.write() takes a str, not %.100s",
                     Py_TYPE(s)->tp_name);
        return NULL;
    }
    PyObject *key = PyLong_FromUnsignedLong(PyThread_get_thread_ident()), *text = NULL,
             *lines = NULL, *rest = NULL, *result = NULL;
    if (key == NULL)
        return NULL;
    PyObject *partial = e->partials ? PyDict_GetItemWithError(e->partials, key) : NULL;
    if (partial == NULL && PyErr_Occurred())
        goto done;
    if (!(text = partial ? PyUnicode_Concat(partial, s) : Py_NewRef(s)))
        goto done;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    /* The last newline: every line this write completes is one entry. A
       traceback of a running request waits whole, within a bound. */
    Py_ssize_t nl = PyUnicode_FindChar(text, '\n', 0, n, -1);
    if (nl != -2 && n >= ERRORS_HOLD_MAX)
        nl = n;
    else if (nl != -2 && e->handle != 0 && is_traceback(text))
        nl = -1;
    if (nl == -2 || (nl >= 0 && !(lines = PyUnicode_Substring(text, 0, nl))) ||
        !(rest = nl >= 0 ? PyUnicode_Substring(text, nl + 1, n) : Py_NewRef(text)))
        goto done;
    /* This thread's partial line is stored before the GIL is let go to log. */
    if (PyUnicode_GET_LENGTH(rest) > 0) {
        if (e->partials == NULL && !(e->partials = PyDict_New()))
            goto done;
        if (PyDict_SetItem(e->partials, key, rest) < 0)
            goto done;
    } else if (partial != NULL && PyDict_DelItem(e->partials, key) < 0) {
        goto done;
    }
    if (lines == NULL || log_text(e, lines) == 0)
        result = PyLong_FromSsize_t(PyUnicode_GET_LENGTH(s));
done:
    Py_DECREF(key);
    Py_XDECREF(text);
    Py_XDECREF(lines);
    Py_XDECREF(rest);
    return result;
}

static PyObject *errors_writelines(wsgo_errors *e, PyObject *seq)
{
    PyObject *it = PyObject_GetIter(seq), *line;
    if (it == NULL)
        return NULL;
    while ((line = PyIter_Next(it)) != NULL) {
        PyObject *r = errors_write(e, line);
        Py_DECREF(line);
        if (r == NULL) {
            Py_DECREF(it);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static int errors_traverse(wsgo_errors *e, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(e));
    Py_VISIT(e->partials);
    return 0;
}

static void errors_dealloc(wsgo_errors *e)
{
    PyTypeObject *tp = Py_TYPE(e);
    PyObject_GC_UnTrack(e);
    Py_CLEAR(e->partials);
    tp->tp_free(e);
    Py_DECREF(tp);
}

static PyMethodDef errors_methods[] = {
    {"write", (PyCFunction)errors_write, METH_O, "write(s): log text; whole lines go out."},
    {"writelines", (PyCFunction)errors_writelines, METH_O, "writelines(seq): write each str."},
    {"flush", (PyCFunction)errors_flush, METH_NOARGS, "flush(): log a pending partial line."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot errors_slots[] = {
    {Py_tp_methods, errors_methods},
    {Py_tp_traverse, errors_traverse},
    {Py_tp_dealloc, errors_dealloc},
    {Py_tp_doc, "wsgi.errors: the server's error log, marked with the request"},
    {0, NULL},
};

PyType_Spec wsgo_errors_spec = {
    .name = "wsgo.Errors",
    .basicsize = sizeof(wsgo_errors),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = errors_slots,
};
