/*
 * crash.c: a crash in C code on a thread that runs Python (the app's C
 * code through ctypes, a C extension, CPython itself) first writes the
 * thread's Python stack to standard error through Python's faulthandler,
 * above the report of Go's runtime, which then ends the worker as before.
 * A fault on any other thread goes to Go's handler at once, with its
 * context, as if nothing stood between: in Go's own code a nil pointer
 * must stay a panic.
 */
#include "internal.h"

#include <signal.h>
#include <time.h>

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])

/* Set once, before wsgo_fatal_signal is installed; handlers, not Python objects. */
static struct sigaction go_actions[NFATAL], python_actions[NFATAL];

static void forward(const struct sigaction *to, int sig, siginfo_t *info, void *ctx)
{
    if (to->sa_flags & SA_SIGINFO)
        to->sa_sigaction(sig, info, ctx);
    else if (to->sa_handler != SIG_DFL && to->sa_handler != SIG_IGN)
        to->sa_handler(sig);
}

/*
 * faulthandler's handler writes the stack, puts Go's handler back and
 * raises the signal again, blocked while this runs. That copy is taken
 * back, so that Go's handler reports the fault itself (its address, the
 * faulting instruction), not a signal sent by raise().
 */
void wsgo_fatal_signal(int sig, siginfo_t *info, void *ctx)
{
    for (size_t i = 0; i < NFATAL; i++) {
        if (fatal_signals[i] != sig)
            continue;
        /* A thread-local read: safe in a signal handler. */
        if (PyGILState_GetThisThreadState() != NULL) {
            forward(&python_actions[i], sig, info, ctx);
            sigset_t raised;
            struct timespec none = {0, 0};
            sigemptyset(&raised);
            sigaddset(&raised, sig);
            (void)sigtimedwait(&raised, NULL, &none);
        }
        forward(&go_actions[i], sig, info, ctx);
        return;
    }
}

int wsgo_crash_reports(void)
{
    struct sigaction abort_action;
    for (size_t i = 0; i < NFATAL; i++)
        if (sigaction(fatal_signals[i], NULL, &go_actions[i]) != 0)
            return 0;
    if (sigaction(SIGABRT, NULL, &abort_action) != 0)
        return 0;
    PyObject *faulthandler = PyImport_ImportModule("faulthandler");
    PyObject *r = faulthandler ? PyObject_CallMethod(faulthandler, "enable", "iO", 2, Py_False) : NULL;
    Py_XDECREF(faulthandler);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    /* Py_FatalError prints the stack itself before it aborts. */
    (void)sigaction(SIGABRT, &abort_action, NULL);
    for (size_t i = 0; i < NFATAL; i++) {
        if (sigaction(fatal_signals[i], NULL, &python_actions[i]) != 0)
            return 0;
        struct sigaction ours = go_actions[i]; /* Go's flags and mask: every signal blocked */
        ours.sa_flags |= SA_SIGINFO | SA_ONSTACK;
        ours.sa_sigaction = wsgo_fatal_signal;
        (void)sigaction(fatal_signals[i], &ours, NULL);
    }
    return 0;
}
