/*
 * call.c: one request's trip through the app. The start_response object
 * (wsgo_call) carries the request's state; Go holds one reference to it
 * from wsgo_call_start until the request is over, handed back and forth
 * through wsgo_call_next.
 *
 * Outputs are packed into one buffer each (see wsgo.h): a list or tuple
 * response becomes a single WSGO_DONE holding head and whole body; any
 * other iterable is walked one non-empty chunk per WSGO_MORE, so each chunk
 * reaches the client before the next is produced.
 */
#include "internal.h"
#include "_cgo_export.h"

#include <string.h>

/* The commonest tutorial mistakes: errors (PEP 3333), or warned about once under --strict=false. */
enum {
    MISTAKE_STR_BODY, MISTAKE_STR_WRITE, MISTAKE_BYTES_RESULT, MISTAKE_STR_RESULT, MISTAKE_STR_FILE, MISTAKE_STR_YIELD,
    MISTAKE_COUNT
};
static const char *const mistakes[] = {
    [MISTAKE_STR_BODY] = "the response body holds a str, but WSGI needs bytes: encode it, "
                         "e.g. `return [body.encode(\"utf-8\")]`",
    [MISTAKE_STR_WRITE] = "write() was given a str, but WSGI needs bytes: encode it, "
                          "e.g. `write(data.encode(\"utf-8\"))`",
    [MISTAKE_BYTES_RESULT] = "the app returned a bytes object, but WSGI needs an iterable of bytes "
                             "(iterating bytes gives ints): wrap it, e.g. `return [body]`",
    [MISTAKE_STR_RESULT] = "the app returned a str, but WSGI needs an iterable of bytes: "
                           "e.g. `return [body.encode(\"utf-8\")]`",
    [MISTAKE_STR_FILE] = "the file given to wsgi.file_wrapper read a str, but WSGI needs bytes: "
                         "open it in binary mode, e.g. `open(path, \"rb\")`",
    [MISTAKE_STR_YIELD] = "the response body holds a str, but WSGI needs bytes: encode it, "
                          "e.g. `yield body.encode(\"utf-8\")`",
};
_Static_assert(MISTAKE_COUNT <= sizeof ((wsgo_interp *)0)->warned, "a warned[] flag for each mistake");

/* A first chunk this large is not copied with the head (see respond_step). */
enum { BORROW_MIN = 64 << 10 };

static const char *const hop_by_hop[] = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailers", "transfer-encoding", "upgrade", NULL,
};

/* A str's latin-1 bytes, or NULL with ValueError if it has other code points. */
static const Py_UCS1 *latin1(PyObject *s, const char *what)
{
    if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND) {
        PyErr_Format(PyExc_ValueError,
                     "start_response: %s %R has characters outside latin-1; "
                     "HTTP headers are bytes (PEP 3333 native strings)", what, s);
        return NULL;
    }
    return PyUnicode_1BYTE_DATA(s);
}

static int is_tchar(Py_UCS1 c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 9110 field-value and reason-phrase: no control characters but HTAB. */
static int is_ctl(Py_UCS1 c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static int parse_status(PyObject *status, int *code)
{
    if (!PyUnicode_Check(status)) {
        PyErr_Format(PyExc_TypeError, "start_response: status must be a str like '200 OK', not %.100s",
                     Py_TYPE(status)->tp_name);
        return -1;
    }
    const Py_UCS1 *s = latin1(status, "status");
    if (s == NULL)
        return -1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(status);
    if (n < 4 || s[3] != ' ' || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' ||
        s[2] < '0' || s[2] > '9') {
        PyErr_Format(PyExc_ValueError,
                     "start_response: status must be a 3-digit code from 200 to 599, a space and "
                     "a reason phrase, like '200 OK'; got %R", status);
        return -1;
    }
    if (s[0] == '1') {
        PyErr_Format(PyExc_ValueError,
                     "start_response: status %R is informational (1xx), which the server sends "
                     "itself; a WSGI response needs a final status from 200 to 599", status);
        return -1;
    }
    for (Py_ssize_t i = 4; i < n; i++)
        if (is_ctl(s[i])) {
            PyErr_Format(PyExc_ValueError,
                         "start_response: status %R contains a control character", status);
            return -1;
        }
    *code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    return 0;
}

/* One validated (name, value) tuple (new reference), or NULL. */
static PyObject *check_header(PyObject *item, Py_ssize_t i)
{
    if (!(PyTuple_Check(item) || PyList_Check(item)) || PySequence_Fast_GET_SIZE(item) != 2) {
        PyErr_Format(PyExc_TypeError,
                     "start_response: header %zd must be a (name, value) tuple of two str, not %R",
                     i, item);
        return NULL;
    }
    PyObject *name = PySequence_Fast_GET_ITEM(item, 0), *value = PySequence_Fast_GET_ITEM(item, 1);
    if (!PyUnicode_Check(name) || !PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError,
                     "start_response: header %zd must be (str, str), not (%.100s, %.100s): %R", i,
                     Py_TYPE(name)->tp_name, Py_TYPE(value)->tp_name, item);
        return NULL;
    }
    const Py_UCS1 *n = latin1(name, "header name"), *v;
    if (n == NULL || (v = latin1(value, "header value")) == NULL)
        return NULL;
    Py_ssize_t nn = PyUnicode_GET_LENGTH(name), vn = PyUnicode_GET_LENGTH(value);
    if (nn == 0) {
        PyErr_Format(PyExc_ValueError, "start_response: header %zd has an empty name", i);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < nn; k++)
        if (!is_tchar(n[k])) {
            PyErr_Format(PyExc_ValueError,
                         "start_response: header name %R may hold only letters, digits and "
                         "!#$%%&'*+-.^_`|~ (RFC 9110 token)", name);
            return NULL;
        }
    for (Py_ssize_t k = 0; k < vn; k++)
        if (is_ctl(v[k])) {
            PyErr_Format(PyExc_ValueError,
                         "start_response: value of header %U contains a control character "
                         "(CR or LF would inject headers): %R", name, value);
            return NULL;
        }
    for (const char *const *h = hop_by_hop; *h; h++)
        if ((size_t)nn == strlen(*h) && PyOS_strnicmp((const char *)n, *h, (size_t)nn) == 0) {
            PyErr_Format(PyExc_ValueError,
                         "start_response: hop-by-hop header %U is not allowed from a WSGI app "
                         "(PEP 3333); the server manages the connection, so remove it", name);
            return NULL;
        }
    /* RFC 9110 5.5: a field value has no leading or trailing whitespace;
       Django's cookies come with a leading space (SimpleCookie's output). */
    Py_ssize_t a = 0, b = vn;
    while (a < b && (v[a] == ' ' || v[a] == '\t'))
        a++;
    while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
        b--;
    if (a > 0 || b < vn) {
        PyObject *trimmed = PyUnicode_Substring(value, a, b), *pair;
        if (trimmed == NULL)
            return NULL;
        pair = PyTuple_Pack(2, name, trimmed);
        Py_DECREF(trimmed);
        return pair;
    }
    if (PyTuple_CheckExact(item))
        return Py_NewRef(item);
    return PyTuple_Pack(2, name, value);
}

/* The Content-Length among checked headers into *len (-1 when there is
   none); -1 with ValueError when one is not a number of bytes, or two
   differ: checked in start_response, as PEP 3333 asks, so the traceback
   points at the app's line. */
static int declared_length(PyObject *checked, int64_t *len)
{
    *len = -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(checked); i++) {
        PyObject *h = PyList_GET_ITEM(checked, i);
        PyObject *name = PyTuple_GET_ITEM(h, 0), *value = PyTuple_GET_ITEM(h, 1);
        if (PyUnicode_GET_LENGTH(name) != 14 ||
            PyOS_strnicmp((const char *)PyUnicode_1BYTE_DATA(name), "content-length", 14) != 0)
            continue;
        const Py_UCS1 *v = PyUnicode_1BYTE_DATA(value);
        Py_ssize_t n = PyUnicode_GET_LENGTH(value), k = 0, digits;
        int64_t one = 0;
        while (k < n && (v[k] == ' ' || v[k] == '\t'))
            k++;
        for (digits = 0; k < n && v[k] >= '0' && v[k] <= '9' && digits < 19; k++, digits++)
            one = one * 10 + (v[k] - '0');
        while (k < n && (v[k] == ' ' || v[k] == '\t'))
            k++;
        if (digits == 0 || digits > 18 || k != n) {
            PyErr_Format(PyExc_ValueError,
                         "start_response: Content-Length must be a whole number of bytes, got %R; "
                         "give len(body) of the bytes you return, or leave the header out", value);
            return -1;
        }
        if (*len >= 0 && one != *len) {
            PyErr_Format(PyExc_ValueError,
                         "start_response: two Content-Length headers that differ (%lld and %lld); "
                         "give one", (long long)*len, (long long)one);
            return -1;
        }
        *len = one;
    }
    return 0;
}

static PyObject *check_headers(PyObject *headers)
{
    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError,
                     "start_response: headers must be a list of (name, value) tuples, not %.100s",
                     Py_TYPE(headers)->tp_name);
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(headers);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *h = check_header(PyList_GET_ITEM(headers, i), i);
        if (h == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, h);
    }
    return out;
}

/*
 * Raises the exception of exc_info (start_response after the headers went
 * out, PEP 3333), with its traceback; a tuple that holds no exception, as
 * sys.exc_info() gives outside an except block, is a TypeError instead.
 * Always returns NULL.
 */
static PyObject *reraise(PyObject *exc_info)
{
    PyObject *value = PyTuple_Check(exc_info) && PyTuple_GET_SIZE(exc_info) == 3
                          ? PyTuple_GET_ITEM(exc_info, 1) : NULL;
    if (value == NULL || !PyExceptionInstance_Check(value)) {
        PyErr_Format(PyExc_TypeError,
                     "start_response: exc_info must be sys.exc_info() of an exception being "
                     "handled, (type, value, traceback); got %R", exc_info);
        return NULL;
    }
    PyObject *tb = PyTuple_GET_ITEM(exc_info, 2);
    if (PyTraceBack_Check(tb) && PyException_SetTraceback(value, tb) < 0)
        return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(value), value);
    return NULL;
}

/* start_response(status, headers, exc_info=None) -> write */
static PyObject *call_start_response(wsgo_call *c, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"status", "headers", "exc_info", NULL};
    PyObject *status, *headers, *exc_info = Py_None, *checked;
    int code;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|O:start_response", kwlist, &status,
                                     &headers, &exc_info))
        return NULL;
    if (exc_info != Py_None) {
        if (c->headers_sent) /* too late to change the response: re-raise */
            return reraise(exc_info);
    } else if (c->called) { /* PEP 3333: even when the first call raised */
        PyErr_SetString(PyExc_AssertionError,
                        "start_response() was already called for this request; to replace the "
                        "headers after an error, pass exc_info=sys.exc_info()");
        return NULL;
    }
    if (c->handle == 0) {
        PyErr_SetString(PyExc_RuntimeError, "start_response() called after the response ended");
        return NULL;
    }
    c->called = 1;
    int64_t declared;
    if (parse_status(status, &code) < 0 || (checked = check_headers(headers)) == NULL)
        return NULL;
    if (declared_length(checked, &declared) < 0) {
        Py_DECREF(checked);
        return NULL;
    }
    Py_XSETREF(c->status, Py_NewRef(status));
    Py_XSETREF(c->headers, checked);
    c->code = code;
    c->declared = declared;
    return PyObject_GetAttr((PyObject *)c, c->st->s_write);
}

/* o as a body chunk: new reference to bytes, or NULL with TypeError. */
static PyObject *as_chunk(wsgo_call *c, PyObject *o, int mistake)
{
    if (PyBytes_Check(o))
        return Py_NewRef(o);
    if (!PyUnicode_Check(o)) {
        if (mistake == MISTAKE_STR_WRITE)
            PyErr_Format(PyExc_TypeError, "write() needs bytes, but was given %.100s; give bytes, e.g. "
                         "`write(bytes(data))`", Py_TYPE(o)->tp_name);
        else
            PyErr_Format(PyExc_TypeError, "the response body must be an iterable of bytes, but it holds %.100s",
                         Py_TYPE(o)->tp_name);
        return NULL;
    }
    if (c->st->strict) {
        PyErr_SetString(PyExc_TypeError, mistakes[mistake]);
        return NULL;
    }
    if (!c->st->warned[mistake]) {
        c->st->warned[mistake] = 1;
        c->warning = mistakes[mistake];
    }
    return PyUnicode_AsUTF8String(o);
}

static char *put_u32(char *p, size_t n)
{
    uint32_t v = (uint32_t)n;
    memcpy(p, &v, 4);
    return p + 4;
}

static char *put_str(char *p, PyObject *s, Py_ssize_t from)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s) - from;
    p = put_u32(p, (size_t)n);
    memcpy(p, PyUnicode_1BYTE_DATA(s) + from, (size_t)n);
    return p + n;
}

/*
 * Packs an output of the given kind: the head if it has not gone out yet,
 * then the chunks, concatenated after it. With borrow, the one chunk is
 * not copied: out->body points into it, and the caller keeps it alive
 * until the output is written. Returns 0, or -1 with MemoryError.
 */
static int pack(wsgo_call *c, wsgo_out *out, int kind, PyObject *const *chunks, Py_ssize_t n,
                int borrow)
{
    size_t size = 0, body = 0;
    int head = !c->headers_sent;
    Py_ssize_t nh = head ? PyList_GET_SIZE(c->headers) : 0;

    if (head) {
        size = 8 + (size_t)PyUnicode_GET_LENGTH(c->status) - 4;
        for (Py_ssize_t i = 0; i < nh; i++) {
            PyObject *h = PyList_GET_ITEM(c->headers, i);
            size += 8 + (size_t)PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(h, 0)) +
                    (size_t)PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(h, 1));
        }
    }
    for (Py_ssize_t i = 0; i < n; i++)
        body += (size_t)PyBytes_GET_SIZE(chunks[i]);
    char *buf = NULL, *p;
    if (size + (borrow ? 0 : body) > 0 && (buf = wsgo_alloc(size + (borrow ? 0 : body))) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    p = buf;
    if (head) {
        p = put_str(p, c->status, 4);
        p = put_u32(p, (size_t)nh);
        for (Py_ssize_t i = 0; i < nh; i++) {
            PyObject *h = PyList_GET_ITEM(c->headers, i);
            p = put_str(p, PyTuple_GET_ITEM(h, 0), 0);
            p = put_str(p, PyTuple_GET_ITEM(h, 1), 0);
        }
    }
    out->body = borrow ? PyBytes_AS_STRING(chunks[0]) : p;
    for (Py_ssize_t i = 0; i < n && !borrow; i++) {
        memcpy(p, PyBytes_AS_STRING(chunks[i]), (size_t)PyBytes_GET_SIZE(chunks[i]));
        p += PyBytes_GET_SIZE(chunks[i]);
    }
    out->kind = kind;
    out->head = head;
    out->status = c->code;
    out->buf = buf;
    out->head_len = size;
    out->body_len = body;
    out->borrowed = borrow;
    out->warning = c->warning;
    c->warning = NULL;
    c->headers_sent = 1;
    c->produced += (int64_t)body;
    return 0;
}

/* Fails the request unless start_response has been called. */
static int need_status(wsgo_call *c, const char *when)
{
    if (c->status)
        return 0;
    PyErr_Format(PyExc_RuntimeError,
                 "the app %s without calling start_response(status, headers) first", when);
    return -1;
}

/* Logs the pending exception as the response's close() failing. */
static void log_close_error(wsgo_call *c)
{
    wsgo_no_go_in_child();
    char *report = wsgo_report(c->st);
    uintptr_t h = c->handle;
    if (report == NULL)
        return;
    Py_BEGIN_ALLOW_THREADS
    wsgoLog(h, WSGO_LOG_ERROR, report, strlen(report));
    Py_END_ALLOW_THREADS
    wsgo_free(report);
}

/*
 * The request is over: close() the response (PEP 3333: always), drop
 * state. A RequestTimeout not yet raised is withdrawn first: close()
 * releases what the app holds, and must not be cut short.
 */
static void finish(wsgo_call *c)
{
    wsgo_thread_serving(c->thread, 0);
    c->thread->closing = c->handle; /* a timeout shows its stack, without a raise */
    if (c->result && !PyList_CheckExact(c->result) && !PyTuple_CheckExact(c->result)) {
        PyObject *close = PyObject_GetAttr(c->result, c->st->s_close), *r = NULL;
        if (close == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError))
                PyErr_Clear(); /* an iterable without close() */
            else
                log_close_error(c);
        } else if ((r = PyObject_CallNoArgs(close)) == NULL) {
            log_close_error(c);
        }
        Py_XDECREF(close);
        Py_XDECREF(r);
    }
    c->thread->closing = 0;
    Py_CLEAR(c->lent);
    Py_CLEAR(c->iter);
    Py_CLEAR(c->result);
    if (c->context && PyContext_Exit(c->context) < 0)
        PyErr_Clear(); /* only if a C extension left another context entered */
    Py_CLEAR(c->context);
    wsgo_errors_detach(c->errors);
    wsgo_input_detach(c->input);
    c->handle = 0;
}

/* Ends the request with the pending exception as a WSGO_ERROR. */
static wsgo_call *fail(wsgo_call *c, wsgo_out *out)
{
    wsgo_no_go_in_child(); /* while the exception is pending: a child prints it, or exits with its code */
    char *detail, *report = wsgo_report_detail(c->st, &detail);
    memset(out, 0, sizeof *out);
    out->kind = WSGO_ERROR;
    out->detail = detail;
    out->headers_sent = c->headers_sent;
    out->buf = report;
    out->body_len = report ? strlen(report) : 0;
    finish(c);
    Py_DECREF(c);
    return NULL;
}

static wsgo_call *done(wsgo_call *c)
{
    finish(c);
    Py_DECREF(c);
    return NULL;
}

/* A list or tuple: the whole response in one output. */
static wsgo_call *respond_whole(wsgo_call *c, wsgo_out *out, PyObject *seq, int mistake)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq), *converted = NULL;

    Py_ssize_t first = 0;
    while (first < n && PyBytes_Check(items[first]))
        first++;
    if (first < n) { /* rare: some chunk is not bytes */
        if ((converted = PyList_New(0)) == NULL)
            return fail(c, out);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *b = as_chunk(c, items[i], mistake);
            if (b == NULL || PyList_Append(converted, b) < 0) {
                Py_XDECREF(b);
                Py_DECREF(converted);
                return fail(c, out);
            }
            Py_DECREF(b);
        }
        items = PySequence_Fast_ITEMS(converted);
    }
    int head = !c->headers_sent;
    int rc = need_status(c, "returned") < 0 ? -1 : pack(c, out, WSGO_DONE, items, n, 0);
    Py_XDECREF(converted);
    if (rc < 0)
        return fail(c, out);
    out->complete = head;
    return done(c);
}

/* The body is over: the last output. The call lives on for close(),
   which runs once the end is on its way (wsgo_call_close). */
static wsgo_call *end_body(wsgo_call *c, wsgo_out *out)
{
    int head = !c->headers_sent;
    if (pack(c, out, WSGO_DONE, NULL, 0, 0) < 0)
        return fail(c, out);
    out->complete = head;
    return c;
}

/*
 * PEP 3333 sends a file_wrapper's file "until the end is reached, or until
 * Content-Length bytes have been written": n of its bytes, cut to what the
 * declared length has left. Reaching the length ends such a response
 * normally (a 206 of part of a file), where any other iterable overruns.
 */
static int64_t file_part(wsgo_call *c, int64_t n)
{
    int64_t left = c->declared - c->produced; /* never negative: write() and the parts before stop at it */
    return c->declared < 0 || n <= left ? n : left;
}

/* Whether the response takes no body, whatever the app yields (a HEAD, or
   RFC 9110's bodiless statuses): the front drops its bytes, so it never
   writes to the socket and would not see the client leave. */
static int sends_no_body(wsgo_call *c)
{
    return c->status != NULL && (c->head || c->code < 200 || c->code == 204 || c->code == 205 ||
                                 c->code == 304);
}

/* The mistake a str among the body's chunks is: its hint fits where it came from. */
static int str_chunk_mistake(wsgo_call *c)
{
    if (Py_IS_TYPE(c->result, c->st->file_wrapper_type))
        return MISTAKE_STR_FILE;
    return PyGen_Check(c->result) ? MISTAKE_STR_YIELD : MISTAKE_STR_BODY;
}

/* Walks the iterator to the next non-empty chunk, or to its end. */
static wsgo_call *respond_step(wsgo_call *c, wsgo_out *out)
{
    for (;;) {
        PyObject *item = PyIter_Next(c->iter);
        if (item == NULL) {
            if (PyErr_Occurred() || need_status(c, "returned an empty body") < 0)
                return fail(c, out);
            return end_body(c, out);
        }
        PyObject *chunk = as_chunk(c, item, str_chunk_mistake(c));
        Py_DECREF(item);
        if (chunk == NULL)
            return fail(c, out);
        if (PyBytes_GET_SIZE(chunk) == 0) { /* PEP 3333: the head waits, also where no body follows */
            Py_DECREF(chunk);
            continue;
        }
        if (Py_IS_TYPE(c->result, c->st->file_wrapper_type)) { /* a file-like read block by block */
            Py_ssize_t part = (Py_ssize_t)file_part(c, PyBytes_GET_SIZE(chunk));
            if (part < PyBytes_GET_SIZE(chunk)) {
                Py_SETREF(chunk, PyBytes_FromStringAndSize(PyBytes_AS_STRING(chunk), part));
                if (chunk == NULL)
                    return fail(c, out);
            }
        }
        /* Copied with the head, the first chunk can be written while the
           app goes on; later ones are written before wsgo_call_next, so
           they need no copy. */
        int borrow = c->headers_sent || PyBytes_GET_SIZE(chunk) >= BORROW_MIN;
        int rc = need_status(c, "yielded body bytes") < 0 ? -1 : pack(c, out, WSGO_MORE, &chunk, 1, borrow);
        if (rc == 0 && borrow)
            c->lent = chunk;
        else
            Py_DECREF(chunk);
        return rc < 0 ? fail(c, out) : c;
    }
}

static wsgo_call *respond(wsgo_call *c, wsgo_out *out)
{
    PyObject *r = c->result;
    wsgo_interp *st = c->st;

    if (PyList_CheckExact(r) || PyTuple_CheckExact(r))
        return respond_whole(c, out, r, MISTAKE_STR_BODY);
    if (PyBytes_Check(r) || PyUnicode_Check(r)) {
        int mistake = PyBytes_Check(r) ? MISTAKE_BYTES_RESULT : MISTAKE_STR_RESULT;
        if (st->strict) {
            PyErr_SetString(PyExc_TypeError, mistakes[mistake]);
            return fail(c, out);
        }
        if (!st->warned[mistake]) {
            st->warned[mistake] = 1;
            c->warning = mistakes[mistake];
        }
        PyObject *one = PyTuple_Pack(1, r);
        if (one == NULL)
            return fail(c, out);
        wsgo_call *next = respond_whole(c, out, one, mistake);
        Py_DECREF(one);
        return next;
    }
    if (r == Py_None) {
        PyErr_SetString(PyExc_TypeError,
                        "the app returned None; a WSGI app must return an iterable of bytes, "
                        "e.g. `return [b\"Hello\"]`");
        return fail(c, out);
    }
    if (Py_IS_TYPE(r, st->file_wrapper_type)) {
        int fd;
        int64_t off, len;
        int rc = wsgo_file_wrapper_fd(st, r, &fd, &off, &len);
        if (rc < 0)
            return fail(c, out);
        if (rc == 1) {
            if (need_status(c, "returned a file_wrapper") < 0 || pack(c, out, WSGO_FILE, NULL, 0, 0) < 0)
                return fail(c, out);
            out->fd = fd;
            out->file_off = off;
            out->file_len = file_part(c, len);
            return c;
        }
    }
    if (Py_TYPE(r)->tp_iter == NULL && !PySequence_Check(r)) { /* Python's own message names no culprit */
        PyErr_Format(PyExc_TypeError,
                     "the app returned %.100s, which is not iterable; a WSGI app must return an iterable "
                     "of bytes, e.g. `return [b\"Hello\"]`", Py_TYPE(r)->tp_name);
        return fail(c, out);
    }
    if ((c->iter = PyObject_GetIter(r)) == NULL)
        return fail(c, out);
    return respond_step(c, out);
}

/* Brackets a call into the app on t. Cleared in C, before the return:
   back in Go, the thread may sleep until Go's scheduler gives it a P,
   which must not look like the app blocked (pyhost/sched_gauges.go). */
static void in_app(wsgo_thread *t, int on) { __atomic_store_n(&t->in_app, on, __ATOMIC_RELAXED); }

static wsgo_call *call_start(wsgo_interp *st, wsgo_thread *t, const char *req, size_t len,
                             int64_t body_len, int head, uintptr_t handle, wsgo_out *out)
{
    PyObject *environ;
    wsgo_call *c;

    memset(out, 0, sizeof *out);
    c = (wsgo_call *)st->call_type->tp_alloc(st->call_type, 0);
    if (c == NULL) {
        out->kind = WSGO_ERROR;
        out->buf = wsgo_report(st);
        out->body_len = out->buf ? strlen(out->buf) : 0;
        return NULL;
    }
    c->st = st;
    c->thread = t;
    c->handle = handle;
    c->declared = -1;
    c->head = head;
    wsgo_thread_serving(t, handle);
    if (!(c->input = wsgo_input_new(st, handle, body_len)) || !(c->errors = wsgo_errors_new(st, handle)) ||
        !(environ = wsgo_environ_new(st, req, len, c->input, c->errors)))
        return fail(c, out);
    /* Each request starts with contextvars at their defaults, as on a
       server that starts a thread per request: what one request set must
       not show in the next on this thread. */
    if (!(c->context = PyContext_New()) || PyContext_Enter(c->context) < 0) {
        Py_CLEAR(c->context);
        Py_DECREF(environ);
        return fail(c, out);
    }
    c->result = PyObject_CallFunctionObjArgs(st->app, environ, (PyObject *)c, NULL);
    Py_DECREF(environ);
    if (c->result == NULL)
        return fail(c, out);
    return respond(c, out);
}

wsgo_call *wsgo_call_start(wsgo_interp *st, wsgo_thread *t, const char *req, size_t len,
                           int64_t body_len, int head, uintptr_t handle, wsgo_out *out)
{
    wsgo_call *c;

    in_app(t, 1);
    c = call_start(st, t, req, len, body_len, head, handle, out);
    wsgo_no_go_in_child();
    in_app(t, 0);
    return c;
}

static wsgo_call *call_next(wsgo_call *c, wsgo_out *out)
{
    memset(out, 0, sizeof *out);
    Py_CLEAR(c->lent); /* the last output is written */
    if (c->iter == NULL) /* after WSGO_FILE: the file went out whole */
        return end_body(c, out);
    /* PEP 3333: once the declared length is sent, stop iterating (an
       endless generator would hold the thread); so too once the head of a
       response without a body is. */
    if ((c->declared >= 0 && c->produced >= c->declared) || sends_no_body(c))
        return end_body(c, out);
    return respond_step(c, out);
}

wsgo_call *wsgo_call_next(wsgo_call *c, wsgo_out *out)
{
    wsgo_thread *t = c->thread; /* c may be gone on return */

    in_app(t, 1);
    c = call_next(c, out);
    wsgo_no_go_in_child();
    in_app(t, 0);
    return c;
}

void wsgo_call_close(wsgo_call *c)
{
    wsgo_thread *t = c->thread;

    in_app(t, 1);
    done(c);
    wsgo_no_go_in_child();
    in_app(t, 0);
}

static PyObject *write_ended(void)
{
    PyErr_SetString(PyExc_RuntimeError, "write() called after the response ended (it timed "
                                         "out, or a thread the app started outlived it)");
    return NULL;
}

/* write(data): the legacy imperative body API; sends data before returning. */
static PyObject *call_write(wsgo_call *c, PyObject *data)
{
    wsgo_out out = {0};
    int rc;

    if (c->handle == 0)
        return write_ended();
    if (need_status(c, "called write()") < 0)
        return NULL;
    PyObject *chunk = as_chunk(c, data, MISTAKE_STR_WRITE);
    if (chunk == NULL)
        return NULL;
    if (c->declared >= 0 && c->produced + PyBytes_GET_SIZE(chunk) > c->declared) {
        PyErr_Format(PyExc_ValueError,
                     "write() past the response's Content-Length: %lld bytes declared, %lld "
                     "written before these %zd; fix the Content-Length header, or leave it out",
                     (long long)c->declared, (long long)c->produced, PyBytes_GET_SIZE(chunk));
        Py_DECREF(chunk);
        return NULL;
    }
    if (pack(c, &out, WSGO_MORE, &chunk, 1, 1) < 0) {
        Py_DECREF(chunk);
        return NULL;
    }
    wsgo_no_go_in_child();
    Py_BEGIN_ALLOW_THREADS
    rc = wsgoEmit(c->handle, &out); /* Go frees out.buf; chunk stays alive meanwhile */
    Py_END_ALLOW_THREADS
    Py_DECREF(chunk);
    if (rc == WSGO_ENDED)
        return write_ended();
    if (rc != 0) {
        PyErr_SetString(PyExc_OSError, "wsgo: the client disconnected");
        return NULL;
    }
    Py_RETURN_NONE;
}

static int call_traverse(wsgo_call *c, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(c));
    Py_VISIT(c->status);
    Py_VISIT(c->headers);
    Py_VISIT(c->result);
    Py_VISIT(c->iter);
    Py_VISIT(c->lent);
    Py_VISIT(c->context);
    Py_VISIT(c->input);
    Py_VISIT(c->errors);
    return 0;
}

static int call_clear(wsgo_call *c)
{
    Py_CLEAR(c->status);
    Py_CLEAR(c->headers);
    Py_CLEAR(c->result);
    Py_CLEAR(c->iter);
    Py_CLEAR(c->lent);
    Py_CLEAR(c->context);
    Py_CLEAR(c->input);
    Py_CLEAR(c->errors);
    return 0;
}

static void call_dealloc(wsgo_call *c)
{
    PyTypeObject *tp = Py_TYPE(c);
    PyObject_GC_UnTrack(c);
    call_clear(c);
    tp->tp_free(c);
    Py_DECREF(tp);
}

static PyMethodDef call_methods[] = {
    {"write", (PyCFunction)call_write, METH_O, "write(data): send body bytes now (legacy)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot call_slots[] = {
    {Py_tp_call, call_start_response},
    {Py_tp_methods, call_methods},
    {Py_tp_traverse, call_traverse},
    {Py_tp_clear, call_clear},
    {Py_tp_dealloc, call_dealloc},
    {Py_tp_doc, "start_response(status, headers, exc_info=None) -> write"},
    {0, NULL},
};

PyType_Spec wsgo_call_spec = {
    .name = "wsgo.StartResponse",
    .basicsize = sizeof(wsgo_call),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = call_slots,
};
