/*
 * interrupt.c: what wsgo does to Python threads from outside them: raise
 * RequestTimeout into a request that ran too long, and read stacks for
 * diagnosis. Both run on a temporary thread state of the caller's own, so
 * they only need the GIL, not the cooperation of the thread they look at.
 */
#include "internal.h"

#include <string.h>

void wsgo_thread_serving(wsgo_thread *t, uintptr_t handle)
{
    if (handle == 0 && t->interrupted) {
        /* The request ended before the exception fired: it must not hit
         * the next request on this thread. */
        PyThreadState_SetAsyncExc(t->ts->thread_id, NULL);
        t->interrupted = 0;
    }
    t->serving = handle;
}

uint64_t wsgo_thread_ident(wsgo_thread *t) { return (uint64_t)t->ts->thread_id; }

int *wsgo_thread_in_app(wsgo_thread *t) { return &t->in_app; }

/* A thread state of the calling OS thread's own, with the GIL; NULL if out of memory. */
static wsgo_thread *enter(wsgo_interp *st)
{
    wsgo_thread *self = wsgo_thread_new(st);
    if (self)
        wsgo_thread_attach(self);
    return self;
}

/* Drops what enter() made, and the GIL. */
static void leave(wsgo_thread *self)
{
    PyErr_Clear();
    PyThreadState_Clear(self->ts);
    PyThreadState_DeleteCurrent();
    wsgo_free(self);
}

/* thread_stacks(): {thread id: stack text}, or NULL (also before the
   loader has run: a caller while the app imports). GIL: held. */
static PyObject *all_stacks(wsgo_interp *st)
{
    PyObject *d = st->thread_stacks ? PyObject_CallNoArgs(st->thread_stacks) : NULL;
    if (d != NULL && !PyDict_Check(d))
        Py_CLEAR(d);
    return d;
}

/* The stack of the thread whose id is ident (wsgo_alloc'd), or NULL. GIL: held. */
static char *thread_stack(wsgo_interp *st, unsigned long ident)
{
    char *stack = NULL;
    PyObject *d = all_stacks(st), *key = PyLong_FromUnsignedLong(ident);
    PyObject *text = (d && key) ? PyDict_GetItemWithError(d, key) : NULL; /* borrowed */
    Py_ssize_t n;
    const char *s = text ? PyUnicode_AsUTF8AndSize(text, &n) : NULL;
    if (s)
        stack = wsgo_strdup(s, n);
    Py_XDECREF(d);
    Py_XDECREF(key);
    return stack;
}

char *wsgo_main_stack(wsgo_interp *st)
{
    wsgo_thread *self = enter(st);
    if (self == NULL)
        return NULL;
    char *stack = thread_stack(st, st->main_ts->thread_id);
    leave(self);
    return stack;
}

char *wsgo_interrupt(wsgo_interp *st, wsgo_thread *t, uintptr_t handle, int graceful, int *closing)
{
    char *stack = NULL;
    wsgo_thread *self = enter(st);
    if (self == NULL)
        return NULL;
    if (t->serving == handle || t->closing == handle)
        stack = thread_stack(st, t->ts->thread_id);
    /* Reading the stacks ran Python, which may have let the GIL go and t
       finish the request and start another: look again, with no Python
       code between the look and the raise. close() is not interrupted: it
       releases what the app holds (finish). */
    int serving = t->serving == handle;
    *closing = !serving && t->closing == handle;
    if (!serving && !*closing) {
        wsgo_free(stack);
        stack = NULL;
    } else if (serving && PyThreadState_SetAsyncExc(t->ts->thread_id, graceful ? st->graceful_exc : st->timeout_exc) == 1) {
        t->interrupted = 1;
    }
    leave(self);
    return stack;
}

char *wsgo_stacks(wsgo_interp *st, size_t *len)
{
    wsgo_thread *self = enter(st);
    if (self == NULL)
        return NULL;
    PyObject *d = all_stacks(st), *key, *value;
    Py_ssize_t pos = 0, n;
    char *buf = NULL, *p;
    size_t size = 4;
    while (d && PyDict_Next(d, &pos, &key, &value)) {
        if (!PyUnicode_AsUTF8AndSize(value, &n))
            goto done;
        size += 12 + (size_t)n;
    }
    if (d == NULL || (buf = p = wsgo_alloc(size)) == NULL)
        goto done;
    uint32_t count = (uint32_t)PyDict_Size(d);
    memcpy(p, &count, 4), p += 4;
    for (pos = 0; PyDict_Next(d, &pos, &key, &value);) {
        uint64_t ident = PyLong_AsUnsignedLongLong(key);
        const char *s = PyUnicode_AsUTF8AndSize(value, &n); /* cached by the first pass */
        uint32_t n32 = (uint32_t)n;
        memcpy(p, &ident, 8), p += 8;
        memcpy(p, &n32, 4), p += 4;
        memcpy(p, s, (size_t)n), p += n;
    }
    *len = size;
done:
    Py_XDECREF(d);
    leave(self);
    return buf;
}

void wsgo_take_gil_once(wsgo_interp *st)
{
    wsgo_thread *self = enter(st);
    if (self)
        leave(self);
}
