/*
 * input.c: wsgi.input. Bytes come from Go (wsgoBodyRead) with the GIL
 * released, straight into the bytes object that is returned. Only what the
 * app asks for is read; readline keeps the few bytes it read past the line.
 */
#include "internal.h"
#include "_cgo_export.h"

#include <string.h>

#define LINE_CHUNK 8192     /* readline reads this much at a time at most */
#define READALL_CHUNK 65536 /* read() grows its result by this much at first */

typedef struct {
    PyObject_HEAD
    uintptr_t handle; /* 0 once the request is over: reads give b'' */
    PyObject *pending; /* bytes read past the last line, or NULL */
    Py_ssize_t pos;    /* start of the unread part of pending */
    int eof;
} wsgo_input;

PyObject *wsgo_input_new(wsgo_interp *st, uintptr_t handle)
{
    wsgo_input *in = (wsgo_input *)st->input_type->tp_alloc(st->input_type, 0);
    if (in)
        in->handle = handle;
    return (PyObject *)in;
}

void wsgo_input_detach(PyObject *o)
{
    wsgo_input *in = (wsgo_input *)o;
    if (in == NULL)
        return;
    in->handle = 0;
    in->eof = 1;
    Py_CLEAR(in->pending);
}

static Py_ssize_t pending_len(wsgo_input *in)
{
    return in->pending ? PyBytes_GET_SIZE(in->pending) - in->pos : 0;
}

/* Reads up to n bytes from the body into a new bytes object (fewer only at EOF). */
static PyObject *read_body(wsgo_input *in, Py_ssize_t n)
{
    PyObject *b = PyBytes_FromStringAndSize(NULL, n);
    ssize_t got = 0;
    if (b == NULL)
        return NULL;
    if (n > 0 && !in->eof && in->handle) {
        char *p = PyBytes_AS_STRING(b); /* ours alone until returned */
        Py_BEGIN_ALLOW_THREADS
        got = wsgoBodyRead(in->handle, p, (size_t)n);
        Py_END_ALLOW_THREADS
        if (got < 0) {
            Py_DECREF(b);
            in->eof = 1;
            PyErr_SetString(PyExc_OSError,
                            "wsgo: the client disconnected or sent a malformed body while the app "
                            "was reading wsgi.input");
            return NULL;
        }
        if (got < n)
            in->eof = 1;
    }
    if (got < n && _PyBytes_Resize(&b, got) < 0)
        return NULL;
    return b;
}

/* Takes up to n bytes from pending. */
static PyObject *take_pending(wsgo_input *in, Py_ssize_t n)
{
    Py_ssize_t have = pending_len(in);
    if (n > have)
        n = have;
    if (n == 0) /* read(0), or nothing buffered: there may be no pending bytes object */
        return PyBytes_FromStringAndSize(NULL, 0);
    PyObject *b;
    if (in->pos == 0 && n == have)
        b = Py_NewRef(in->pending);
    else
        b = PyBytes_FromStringAndSize(PyBytes_AS_STRING(in->pending) + in->pos, n);
    if (b == NULL)
        return NULL;
    in->pos += n;
    if (pending_len(in) == 0) {
        Py_CLEAR(in->pending);
        in->pos = 0;
    }
    return b;
}

/* Parses a size argument: None or a negative int mean "all". */
static int size_arg(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *size, const char *fn)
{
    *size = -1;
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", fn, nargs);
        return -1;
    }
    if (nargs == 0 || args[0] == Py_None)
        return 0;
    *size = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
    if (*size == -1 && PyErr_Occurred())
        return -1;
    return 0;
}

static PyObject *concat(PyObject *a, PyObject *b)
{
    PyBytes_Concat(&a, b); /* steals a; a is NULL on error */
    Py_DECREF(b);
    return a;
}

static PyObject *read_all(wsgo_input *in)
{
    PyObject *parts = PyList_New(0), *sep = NULL, *out = NULL;
    Py_ssize_t chunk = READALL_CHUNK;
    if (parts == NULL)
        return NULL;
    if (pending_len(in)) {
        PyObject *p = take_pending(in, pending_len(in));
        if (p == NULL || PyList_Append(parts, p) < 0) {
            Py_XDECREF(p);
            goto done;
        }
        Py_DECREF(p);
    }
    while (!in->eof && in->handle) {
        PyObject *b = read_body(in, chunk);
        if (b == NULL || PyList_Append(parts, b) < 0) {
            Py_XDECREF(b);
            goto done;
        }
        Py_DECREF(b);
        if (chunk < 16 * READALL_CHUNK)
            chunk *= 2;
    }
    if ((sep = PyBytes_FromStringAndSize(NULL, 0)) != NULL)
        out = PyObject_CallMethod(sep, "join", "O", parts);
done:
    Py_DECREF(parts);
    Py_XDECREF(sep);
    return out;
}

static PyObject *input_read(wsgo_input *in, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t size;
    if (size_arg(args, nargs, &size, "read") < 0)
        return NULL;
    if (size < 0)
        return read_all(in);
    Py_ssize_t have = pending_len(in);
    if (have >= size || (have && in->eof))
        return take_pending(in, size);
    PyObject *head = have ? take_pending(in, have) : NULL;
    if (have && head == NULL)
        return NULL;
    PyObject *rest = read_body(in, size - have);
    if (rest == NULL) {
        Py_XDECREF(head);
        return NULL;
    }
    return head ? concat(head, rest) : rest;
}

static PyObject *readline(wsgo_input *in, Py_ssize_t size)
{
    for (;;) {
        Py_ssize_t have = pending_len(in);
        if (have) {
            const char *p = PyBytes_AS_STRING(in->pending) + in->pos;
            Py_ssize_t limit = size >= 0 && size < have ? size : have;
            const char *nl = memchr(p, '\n', (size_t)limit);
            if (nl)
                return take_pending(in, nl - p + 1);
            if (limit == size || in->eof || !in->handle)
                return take_pending(in, limit);
        } else if (in->eof || !in->handle || size == 0) {
            return PyBytes_FromStringAndSize(NULL, 0);
        }
        Py_ssize_t want = LINE_CHUNK;
        if (size >= 0 && size - have < want)
            want = size - have;
        PyObject *more = read_body(in, want);
        if (more == NULL)
            return NULL;
        if (have) {
            PyObject *rest = take_pending(in, have);
            if (rest == NULL) {
                Py_DECREF(more);
                return NULL;
            }
            more = concat(rest, more);
            if (more == NULL)
                return NULL;
        }
        Py_XSETREF(in->pending, more);
        in->pos = 0;
        if (PyBytes_GET_SIZE(more) == 0)
            Py_CLEAR(in->pending);
    }
}

static PyObject *input_readline(wsgo_input *in, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t size;
    if (size_arg(args, nargs, &size, "readline") < 0)
        return NULL;
    return readline(in, size);
}

static PyObject *input_readlines(wsgo_input *in, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t hint, total = 0;
    if (size_arg(args, nargs, &hint, "readlines") < 0)
        return NULL;
    PyObject *lines = PyList_New(0);
    while (lines) {
        PyObject *line = readline(in, -1);
        if (line == NULL || PyBytes_GET_SIZE(line) == 0) {
            if (line == NULL)
                Py_CLEAR(lines);
            Py_XDECREF(line);
            break;
        }
        total += PyBytes_GET_SIZE(line);
        if (PyList_Append(lines, line) < 0)
            Py_CLEAR(lines);
        Py_DECREF(line);
        if (hint > 0 && total >= hint)
            break;
    }
    return lines;
}

static PyObject *input_next(wsgo_input *in)
{
    PyObject *line = readline(in, -1);
    if (line && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL; /* StopIteration */
    }
    return line;
}

static int input_traverse(wsgo_input *in, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(in));
    return 0;
}

static void input_dealloc(wsgo_input *in)
{
    PyTypeObject *tp = Py_TYPE(in);
    PyObject_GC_UnTrack(in);
    Py_CLEAR(in->pending);
    tp->tp_free(in);
    Py_DECREF(tp);
}

static PyMethodDef input_methods[] = {
    {"read", (PyCFunction)(void (*)(void))input_read, METH_FASTCALL,
     "read(size=-1): up to size bytes of the request body; all of it by default."},
    {"readline", (PyCFunction)(void (*)(void))input_readline, METH_FASTCALL,
     "readline(size=-1): the next line, with its newline."},
    {"readlines", (PyCFunction)(void (*)(void))input_readlines, METH_FASTCALL,
     "readlines(hint=-1): the remaining lines."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot input_slots[] = {
    {Py_tp_methods, input_methods},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, input_next},
    {Py_tp_traverse, input_traverse},
    {Py_tp_dealloc, input_dealloc},
    {Py_tp_doc, "wsgi.input: the request body"},
    {0, NULL},
};

PyType_Spec wsgo_input_spec = {
    .name = "wsgo.Input",
    .basicsize = sizeof(wsgo_input),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = input_slots,
};
