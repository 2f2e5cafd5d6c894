/*
 * environ.c: the PEP 3333 environ, built in one pass from the packed
 * request that request.go writes:
 *
 *   F_COUNT fields, each u32 length + bytes (length 0xFFFFFFFF: absent),
 *   then u32 header count, then per header u32 length + key ("HTTP_...")
 *   and u32 length + value.
 *
 * Values are decoded as latin-1, as PEP 3333 asks of native strings.
 */
#include "internal.h"

#include <string.h>

#define ABSENT 0xFFFFFFFFu

static const char *const field_keys[F_COUNT] = {
    [F_METHOD] = "REQUEST_METHOD",
    [F_PATH] = "PATH_INFO",
    [F_QUERY] = "QUERY_STRING",
    [F_URI] = "REQUEST_URI",
    [F_PROTO] = "SERVER_PROTOCOL",
    [F_SCHEME] = "wsgi.url_scheme",
    [F_SERVER_NAME] = "SERVER_NAME",
    [F_SERVER_PORT] = "SERVER_PORT",
    [F_REMOTE_ADDR] = "REMOTE_ADDR",
    [F_REMOTE_PORT] = "REMOTE_PORT",
    [F_CONTENT_TYPE] = "CONTENT_TYPE",
    [F_CONTENT_LENGTH] = "CONTENT_LENGTH",
};

/* The items that are the same in every environ. */
int wsgo_environ_init(wsgo_interp *st)
{
    PyObject *d = NULL, *version = NULL, *empty = NULL;
    int rc = -1;

    for (int i = 0; i < F_COUNT; i++)
        if (!(st->keys[i] = PyUnicode_InternFromString(field_keys[i])))
            return -1;
    if (!(d = PyDict_New()) || !(version = Py_BuildValue("(ii)", 1, 0)) ||
        !(empty = PyUnicode_FromString("")))
        goto done;
    if (PyDict_SetItemString(d, "wsgi.version", version) < 0 ||
        PyDict_SetItemString(d, "wsgi.multithread", Py_True) < 0 ||
        PyDict_SetItemString(d, "wsgi.multiprocess", Py_False) < 0 ||
        PyDict_SetItemString(d, "wsgi.run_once", Py_False) < 0 ||
        PyDict_SetItemString(d, "wsgi.input_terminated", Py_True) < 0 ||
        PyDict_SetItemString(d, "wsgi.file_wrapper", (PyObject *)st->file_wrapper_type) < 0 ||
        PyDict_SetItemString(d, "SCRIPT_NAME", empty) < 0)
        goto done;
    st->base_environ = Py_NewRef(d);
    rc = 0;
done:
    Py_XDECREF(d);
    Py_XDECREF(version);
    Py_XDECREF(empty);
    return rc;
}

/* A reader over the packed request; fails closed on a short buffer. */
typedef struct {
    const char *p, *end;
} packed;

static int next_field(packed *r, const char **s, uint32_t *n)
{
    if (r->end - r->p < 4)
        return -1;
    memcpy(n, r->p, 4);
    r->p += 4;
    if (*n == ABSENT) {
        *s = NULL;
        return 0;
    }
    if ((size_t)(r->end - r->p) < *n)
        return -1;
    *s = r->p;
    r->p += *n;
    return 0;
}

static int set_latin1(PyObject *d, PyObject *key, const char *s, uint32_t n)
{
    PyObject *v = PyUnicode_DecodeLatin1(s, n, NULL);
    if (v == NULL)
        return -1;
    int rc = PyDict_SetItem(d, key, v);
    Py_DECREF(v);
    return rc;
}

/* A new environ dict, or NULL with an exception. GIL: held. */
PyObject *wsgo_environ_new(wsgo_interp *st, const char *req, size_t len,
                           PyObject *input, PyObject *errors)
{
    packed r = {req, req + len};
    PyObject *d = PyDict_Copy(st->base_environ);
    const char *s;
    uint32_t n, count;

    if (d == NULL)
        return NULL;
    if (PyDict_SetItemString(d, "wsgi.input", input) < 0 ||
        PyDict_SetItemString(d, "wsgi.errors", errors) < 0)
        goto fail;
    for (int i = 0; i < F_COUNT; i++) {
        if (next_field(&r, &s, &n) < 0)
            goto malformed;
        if (s && set_latin1(d, st->keys[i], s, n) < 0)
            goto fail;
    }
    if (r.end - r.p < 4)
        goto malformed;
    memcpy(&count, r.p, 4);
    r.p += 4;
    for (uint32_t i = 0; i < count; i++) {
        const char *ks;
        uint32_t kn;
        if (next_field(&r, &ks, &kn) < 0 || ks == NULL || next_field(&r, &s, &n) < 0 || s == NULL)
            goto malformed;
        PyObject *key = PyUnicode_FromStringAndSize(ks, kn);
        if (key == NULL)
            goto fail;
        int rc = set_latin1(d, key, s, n);
        Py_DECREF(key);
        if (rc < 0)
            goto fail;
    }
    return d;
malformed:
    PyErr_SetString(PyExc_SystemError, "wsgo: malformed packed request (a bug in wsgo)");
fail:
    Py_DECREF(d);
    return NULL;
}
