/*
 * environ.c: the PEP 3333 environ, built in one pass from the packed
 * request (its format is in wsgo.h).
 *
 * Most values repeat from request to request (the method, the protocol,
 * the server's name and port, a client's Host and User-Agent), so the
 * last value of each fixed field and of recent headers is kept and reused
 * when the bytes are the same: a memcmp instead of a new str, its hash
 * and its deallocation. Header names are kept likewise.
 */
#include "internal.h"

#include <string.h>

static const char *const field_keys[WSGO_F_COUNT] = {
    [WSGO_F_METHOD] = "REQUEST_METHOD",
    [WSGO_F_PATH] = "PATH_INFO",
    [WSGO_F_SCRIPT_NAME] = "SCRIPT_NAME",
    [WSGO_F_QUERY] = "QUERY_STRING",
    [WSGO_F_URI] = "REQUEST_URI",
    [WSGO_F_PROTO] = "SERVER_PROTOCOL",
    [WSGO_F_SCHEME] = "wsgi.url_scheme",
    [WSGO_F_SERVER_NAME] = "SERVER_NAME",
    [WSGO_F_SERVER_PORT] = "SERVER_PORT",
    [WSGO_F_REMOTE_ADDR] = "REMOTE_ADDR",
    [WSGO_F_REMOTE_PORT] = "REMOTE_PORT",
    [WSGO_F_CONTENT_TYPE] = "CONTENT_TYPE",
    [WSGO_F_CONTENT_LENGTH] = "CONTENT_LENGTH",
};

/*
 * A dict with room for n items: PyDict_Copy keeps the size, so adding a
 * request's items to a copy never resizes. _PyDict_NewPresized is private
 * API, known to exist from 3.10 to 3.13; later versions get a plain dict.
 */
static PyObject *new_presized(Py_ssize_t n)
{
#if PY_VERSION_HEX < 0x030E0000
    return _PyDict_NewPresized(n);
#else
    (void)n;
    return PyDict_New();
#endif
}

/* The items that are the same in every environ. */
int wsgo_environ_init(wsgo_interp *st)
{
    PyObject *d = NULL, *version = NULL;
    int rc = -1;

    for (int i = 0; i < WSGO_F_COUNT; i++)
        if (!(st->keys[i] = PyUnicode_InternFromString(field_keys[i])))
            return -1;
    if (!(st->k_input = PyUnicode_InternFromString("wsgi.input")) ||
        !(st->k_errors = PyUnicode_InternFromString("wsgi.errors")))
        return -1;
    if (!(d = new_presized(40)) || !(version = Py_BuildValue("(ii)", 1, 0)))
        goto done;
    /* wsgi.multithread and wsgi.multiprocess follow the configuration:
       wsgo_interp_import adds them. */
    if (PyDict_SetItemString(d, "wsgi.version", version) < 0 ||
        PyDict_SetItemString(d, "wsgi.run_once", Py_False) < 0 ||
        PyDict_SetItemString(d, "wsgi.input_terminated", Py_True) < 0 ||
        PyDict_SetItemString(d, "wsgi.file_wrapper", (PyObject *)st->file_wrapper_type) < 0)
        goto done;
    st->base_environ = Py_NewRef(d);
    rc = 0;
done:
    Py_XDECREF(d);
    Py_XDECREF(version);
    return rc;
}

void wsgo_environ_clear(wsgo_interp *st)
{
    for (int i = 0; i < WSGO_F_COUNT; i++) {
        Py_CLEAR(st->keys[i]);
        Py_CLEAR(st->values[i]);
    }
    for (int i = 0; i < HEADER_CACHE; i++) {
        Py_CLEAR(st->headers[i].key);
        Py_CLEAR(st->headers[i].value);
    }
    Py_CLEAR(st->k_input);
    Py_CLEAR(st->k_errors);
    Py_CLEAR(st->base_environ);
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
    if (*n == WSGO_ABSENT) {
        *s = NULL;
        return 0;
    }
    if ((size_t)(r->end - r->p) < *n)
        return -1;
    *s = r->p;
    r->p += *n;
    return 0;
}

/* Whether str o (latin-1, as all of ours) holds exactly s[0:n]. */
static int same(PyObject *o, const char *s, uint32_t n)
{
    return o && PyUnicode_GET_LENGTH(o) == n && memcmp(PyUnicode_1BYTE_DATA(o), s, n) == 0;
}

/* d[key] = s[0:n] as latin-1, reusing *last when it holds the same bytes
   and keeping the new value there when short. */
static int set_latin1(PyObject *d, PyObject *key, PyObject **last, const char *s, uint32_t n)
{
    if (same(*last, s, n))
        return PyDict_SetItem(d, key, *last);
    PyObject *v = PyUnicode_DecodeLatin1(s, n, NULL);
    if (v == NULL)
        return -1;
    int rc = PyDict_SetItem(d, key, v);
    if (n <= CACHED_VALUE_MAX)
        Py_XSETREF(*last, Py_NewRef(v));
    Py_DECREF(v);
    return rc;
}

/* The cache entry of header key ks[0:kn], made (replacing the oldest) if
   needed; NULL with an exception. */
static wsgo_header_cache *header_entry(wsgo_interp *st, const char *ks, uint32_t kn)
{
    for (int i = 0; i < HEADER_CACHE; i++)
        if (same(st->headers[i].key, ks, kn))
            return &st->headers[i];
    /* Not interned: a client may send any names, and Python 3.12 never
       frees an interned str. Kept here, the str keeps its hash. */
    PyObject *key = PyUnicode_DecodeLatin1(ks, kn, NULL);
    if (key == NULL)
        return NULL;
    wsgo_header_cache *e = &st->headers[st->header_next++ % HEADER_CACHE];
    Py_XSETREF(e->key, key);
    Py_CLEAR(e->value);
    return e;
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
    if (PyDict_SetItem(d, st->k_input, input) < 0 || PyDict_SetItem(d, st->k_errors, errors) < 0)
        goto fail;
    for (int i = 0; i < WSGO_F_COUNT; i++) {
        if (next_field(&r, &s, &n) < 0)
            goto malformed;
        if (s && set_latin1(d, st->keys[i], &st->values[i], s, n) < 0)
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
        wsgo_header_cache *e = header_entry(st, ks, kn);
        if (e == NULL || set_latin1(d, e->key, &e->value, s, n) < 0)
            goto fail;
    }
    return d;
malformed:
    PyErr_SetString(PyExc_SystemError, "wsgo: malformed packed request (a bug in wsgo)");
fail:
    Py_DECREF(d);
    return NULL;
}
