/*
 * signals.c: the app's signal handlers. Go owns every signal (its runtime
 * installed a handler for each), and Python's main thread never runs
 * Python again once the app is imported, so a handler installed the
 * usual way would take the signal from Go and never run. Instead
 * loader.py wraps signal.signal: the wrapper refuses the signals wsgo
 * uses, and for the others calls route_signal, which lets Python record
 * the handler, gives the signal back to Go, and asks Go to relay it
 * (wsgoSignal). Go then has Python's main thread run the handler
 * (wsgo_run_signal_handler).
 */
#include "internal.h"
#include "_cgo_export.h"

#include <signal.h>

/*
 * _route_signal(signal_signal, signalnum, handler, kind) -> the previous
 * handler: calls Python's own signal.signal, then puts back the OS-level
 * handler that was there (Go's), and tells Go what kind of handler the
 * app gave (WSGO_SIGNAL_*). GIL: held.
 */
static PyObject *route_signal(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "_route_signal takes 4 arguments");
        return NULL;
    }
    long sig = PyLong_AsLong(args[1]), kind = PyLong_AsLong(args[3]);
    if (PyErr_Occurred())
        return NULL;
    struct sigaction go;
    /* An invalid number fails here and in signal.signal, which says so. */
    int saved = sig > 0 && sig < NSIG && sigaction((int)sig, NULL, &go) == 0;
    PyObject *old = PyObject_CallFunctionObjArgs(args[0], args[1], args[2], NULL);
    if (old == NULL || !saved || wsgo_forked) /* a forked child keeps Python's handler: no Go there */
        return old;
    sigaction((int)sig, &go, NULL);
    wsgoSignal((int)sig, (int)kind);
    return old;
}

static PyMethodDef route_signal_def = {
    "_route_signal", (PyCFunction)(void (*)(void))route_signal, METH_FASTCALL,
    "Installs a signal handler that Go relays to Python's main thread.",
};

int wsgo_signals_init(PyObject *globals)
{
    PyObject *fn = PyCFunction_New(&route_signal_def, NULL);
    if (fn == NULL)
        return -1;
    int rc = PyDict_SetItemString(globals, "_route_signal", fn);
    Py_DECREF(fn);
    return rc;
}

char *wsgo_run_signal_handler(wsgo_interp *st, int sig)
{
    char *report = NULL;
    PyEval_RestoreThread(st->main_ts);
    PyErr_SetInterruptEx(sig); /* ignored if the app has no handler for it (any more) */
    if (PyErr_CheckSignals() < 0)
        report = wsgo_report(st);
    st->main_ts = PyEval_SaveThread();
    return report;
}
