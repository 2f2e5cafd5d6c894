/*
 * input.c: wsgi.input. Bytes come from Go (wsgoBodyRead) with the GIL
 * released, straight into the bytes object that is returned. Only what the
 * app asks for is read, and no more memory is taken than the body can
 * fill: read(n) of a large n reads in chunks unless the body's length says
 * it has that much. readline keeps what it read past the line in a buffer
 * and never scans a byte of it twice, so a long line costs linear time.
 */
#include "internal.h"
#include "_cgo_export.h"

#include <string.h>

#define LINE_CHUNK 8192       /* readline reads this much at a time at most */
#define READ_CHUNK 65536      /* read() of an unknown length starts with this */
#define READ_MAX (1 << 20)    /* and reads at most this much per call into Go */

typedef struct {
    PyObject_HEAD
    uintptr_t handle; /* 0 once the request is over: reads raise ValueError */
    int64_t left;     /* body bytes not read from Go yet; -1: unknown */
    int eof;
    char *buf;        /* read past the last line returned (PyMem), or NULL */
    Py_ssize_t start, end, cap; /* the unread part is buf[start:end] */
    Py_ssize_t scanned; /* buf[start:scanned] holds no newline */
} wsgo_input;

PyObject *wsgo_input_new(wsgo_interp *st, uintptr_t handle, int64_t length)
{
    wsgo_input *in = (wsgo_input *)st->input_type->tp_alloc(st->input_type, 0);
    if (in) {
        in->handle = handle;
        in->left = length;
    }
    return (PyObject *)in;
}

static void drop_buffer(wsgo_input *in)
{
    PyMem_Free(in->buf);
    in->buf = NULL;
    in->start = in->end = in->cap = in->scanned = 0;
}

void wsgo_input_detach(PyObject *o)
{
    wsgo_input *in = (wsgo_input *)o;
    if (in == NULL)
        return;
    in->handle = 0;
    in->eof = 1;
    drop_buffer(in);
}

static PyObject *ended(void)
{
    PyErr_SetString(PyExc_ValueError,
                    "wsgi.input: the request has ended; read its body before the response "
                    "ends (a thread the app started outlived its request)");
    return NULL;
}

/* Reads up to n bytes from Go into a new bytes object (fewer only at EOF). */
static PyObject *read_body(wsgo_input *in, Py_ssize_t n)
{
    if (in->left >= 0 && n > in->left)
        n = (Py_ssize_t)in->left;
    if (n == 0 || in->eof) {
        in->eof = in->eof || in->left == 0;
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    PyObject *b = PyBytes_FromStringAndSize(NULL, n);
    if (b == NULL)
        return NULL;
    char *p = PyBytes_AS_STRING(b); /* ours alone until returned */
    uintptr_t h = in->handle;
    ssize_t got;
    wsgo_no_go_in_child();
    Py_BEGIN_ALLOW_THREADS
    got = wsgoBodyRead(h, p, (size_t)n);
    Py_END_ALLOW_THREADS
    if (got < 0) {
        Py_DECREF(b);
        if (got == WSGO_ENDED)
            return ended();
        in->eof = 1;
        PyErr_SetString(PyExc_OSError,
                        "wsgo: the client disconnected or sent a malformed body while the app "
                        "was reading wsgi.input");
        return NULL;
    }
    if (in->left >= 0)
        in->left -= got;
    if (got < n) { /* the end of the body: a shorter copy */
        in->eof = 1;
        PyObject *shorter = PyBytes_FromStringAndSize(p, got);
        Py_DECREF(b);
        return shorter;
    }
    return b;
}

static Py_ssize_t buffered(wsgo_input *in) { return in->end - in->start; }

/* Takes the first n buffered bytes (n <= buffered). */
static PyObject *take(wsgo_input *in, Py_ssize_t n)
{
    PyObject *b = PyBytes_FromStringAndSize(in->buf ? in->buf + in->start : NULL, n);
    if (b == NULL)
        return NULL;
    in->start += n;
    if (in->start == in->end)
        in->start = in->end = in->scanned = 0;
    return b;
}

/* Appends b's bytes to the buffer: 0, or -1 with MemoryError. */
static int append(wsgo_input *in, PyObject *b)
{
    Py_ssize_t n = PyBytes_GET_SIZE(b);
    if (in->end + n > in->cap && in->start > 0) { /* move the unread part to the front */
        memmove(in->buf, in->buf + in->start, (size_t)buffered(in));
        in->end -= in->start;
        in->scanned -= in->start;
        in->start = 0;
    }
    if (in->end + n > in->cap) { /* grow geometrically: appends stay linear */
        Py_ssize_t cap = in->cap ? in->cap : LINE_CHUNK;
        while (cap < in->end + n)
            cap *= 2;
        char *p = PyMem_Realloc(in->buf, (size_t)cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        in->buf = p;
        in->cap = cap;
    }
    memcpy(in->buf + in->end, PyBytes_AS_STRING(b), (size_t)n);
    in->end += n;
    return 0;
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

/*
 * read(size): up to size bytes (size < 0: all), the buffered ones first.
 * One call into Go when the body's length is known and small enough;
 * otherwise chunks that grow, so a large size on a small body costs little.
 */
static PyObject *read_upto(wsgo_input *in, Py_ssize_t size)
{
    Py_ssize_t have = buffered(in);
    if (in->handle == 0)
        return ended();
    if (size >= 0 && (size <= have || (have && in->eof)))
        return take(in, size < have ? size : have);
    PyObject *parts = PyList_New(0), *out = NULL, *sep = NULL;
    if (parts == NULL)
        return NULL;
    if (have) {
        PyObject *head = take(in, have);
        if (head == NULL || PyList_Append(parts, head) < 0) {
            Py_XDECREF(head);
            goto done;
        }
        Py_DECREF(head);
    }
    Py_ssize_t want = size < 0 ? PY_SSIZE_T_MAX : size - have, chunk = READ_CHUNK;
    do {
        Py_ssize_t n = in->left >= 0 ? READ_MAX : chunk;
        PyObject *b = read_body(in, want < n ? want : n);
        if (b == NULL || PyList_Append(parts, b) < 0) {
            Py_XDECREF(b);
            goto done;
        }
        want -= PyBytes_GET_SIZE(b);
        Py_DECREF(b);
        if (chunk < READ_MAX)
            chunk *= 2;
    } while (want > 0 && !in->eof);
    if (PyList_GET_SIZE(parts) == 1)
        out = Py_NewRef(PyList_GET_ITEM(parts, 0));
    else if ((sep = PyBytes_FromStringAndSize(NULL, 0)) != NULL)
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
    return read_upto(in, size);
}

static PyObject *readline(wsgo_input *in, Py_ssize_t size)
{
    if (in->handle == 0)
        return ended();
    for (;;) {
        Py_ssize_t have = buffered(in);
        Py_ssize_t limit = size >= 0 && size < have ? size : have;
        Py_ssize_t from = in->scanned > in->start ? in->scanned : in->start;
        if (from < in->start + limit) {
            const char *nl = memchr(in->buf + from, '\n', (size_t)(in->start + limit - from));
            if (nl)
                return take(in, nl - (in->buf + in->start) + 1);
            in->scanned = in->start + limit;
        }
        if (limit == size || in->eof)
            return take(in, limit);
        Py_ssize_t want = LINE_CHUNK;
        if (size >= 0 && size - have < want)
            want = size - have;
        PyObject *more = read_body(in, want);
        if (more == NULL)
            return NULL;
        int rc = append(in, more);
        Py_DECREF(more);
        if (rc < 0)
            return NULL;
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
    drop_buffer(in);
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
