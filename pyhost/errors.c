/*
 * errors.c: wsgi.errors, a text stream into the server's log. Whole lines
 * go to Go (wsgoLog), which marks them with the request.
 */
#include "internal.h"
#include "_cgo_export.h"

typedef struct {
    PyObject_HEAD
    uintptr_t handle; /* the request; 0 once it is over (lines still logged) */
    PyObject *partial; /* text written since the last newline, or NULL */
} wsgo_errors;

PyObject *wsgo_errors_new(wsgo_interp *st, uintptr_t handle)
{
    wsgo_errors *e = (wsgo_errors *)st->errors_type->tp_alloc(st->errors_type, 0);
    if (e)
        e->handle = handle;
    return (PyObject *)e;
}

static int log_text(wsgo_errors *e, PyObject *text)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (s == NULL)
        return -1;
    uintptr_t h = e->handle;
    Py_BEGIN_ALLOW_THREADS
    wsgoLog(h, WSGO_LOG_APP, (char *)s, (size_t)n);
    Py_END_ALLOW_THREADS
    return 0;
}

static PyObject *errors_flush(wsgo_errors *e, PyObject *unused)
{
    (void)unused;
    if (e->partial) {
        PyObject *p = e->partial;
        e->partial = NULL;
        int rc = log_text(e, p);
        Py_DECREF(p);
        if (rc < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

void wsgo_errors_detach(PyObject *o)
{
    if (o == NULL)
        return;
    PyObject *r = errors_flush((wsgo_errors *)o, NULL);
    if (r == NULL)
        PyErr_Clear();
    Py_XDECREF(r);
    ((wsgo_errors *)o)->handle = 0;
}

static PyObject *errors_write(wsgo_errors *e, PyObject *s)
{
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "wsgi.errors.write() takes a str, not %.100s",
                     Py_TYPE(s)->tp_name);
        return NULL;
    }
    PyObject *text = e->partial ? PyUnicode_Concat(e->partial, s) : Py_NewRef(s);
    if (text == NULL)
        return NULL;
    Py_CLEAR(e->partial);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_ssize_t nl = PyUnicode_FindChar(text, '\n', 0, n, -1);
    if (nl >= 0) {
        PyObject *lines = PyUnicode_Substring(text, 0, nl);
        if (lines == NULL || log_text(e, lines) < 0) {
            Py_XDECREF(lines);
            Py_DECREF(text);
            return NULL;
        }
        Py_DECREF(lines);
        if (nl + 1 < n && !(e->partial = PyUnicode_Substring(text, nl + 1, n))) {
            Py_DECREF(text);
            return NULL;
        }
        Py_DECREF(text);
    } else {
        e->partial = text;
    }
    return PyLong_FromSsize_t(PyUnicode_GET_LENGTH(s));
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
    return 0;
}

static void errors_dealloc(wsgo_errors *e)
{
    PyTypeObject *tp = Py_TYPE(e);
    PyObject_GC_UnTrack(e);
    Py_CLEAR(e->partial);
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
