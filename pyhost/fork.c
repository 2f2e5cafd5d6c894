/*
 * fork.c: a process the app forks (os.fork) is a copy of one thread of a
 * Go program: the Go runtime's other threads did not come along, so the
 * child must never call into Go, where it would wait for them for ever.
 * The app's child should end with os._exit() (multiprocessing's do); one
 * that runs on into wsgo (returns from the request, raises, or calls
 * sys.exit) is ended at the first point where it would enter Go.
 *
 * The child also inherits Go's signal handlers (and crash.c's, which
 * lead to them), which only queue a signal for a goroutine that is not
 * there: SIGTERM (multiprocessing's terminate()) or SIGINT would be lost,
 * and the child live on. So fork gives the child what a Python process
 * has instead: the default action, SIGPIPE and SIGXFSZ ignored. loader.py
 * then installs the handlers the app set from Python. Signals are blocked
 * across the fork, until the child has its handlers: a parent may signal
 * a child before the child has run at all (a Pool's terminate() right
 * after it forked a worker), which Go's handler would lose.
 */
#include "internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

/* Set in the child by fork() itself: a flag, no Python object. */
volatile sig_atomic_t wsgo_forked;

/* Go's runtime installs one function for every signal it handles. */
static void (*go_handler)(int, siginfo_t *, void *);

static void (*handler_of(int sig))(int, siginfo_t *, void *)
{
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0 || !(sa.sa_flags & SA_SIGINFO))
        return NULL;
    return sa.sa_sigaction;
}

/* A fault: a signal the faulting thread itself gets. */
static int is_fault(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP || sig == SIGSYS;
}

/*
 * Gives every signal whose handler is Go's (or crash.c's) what a Python
 * process starts with: the default action, SIGPIPE and SIGXFSZ ignored.
 * keep_faults leaves the faults to Go, which reports one in its own
 * code. Async-signal-safe.
 */
static void signals_as_python(int keep_faults)
{
    for (int sig = 1; go_handler != NULL && sig < NSIG; sig++) {
        void (*h)(int, siginfo_t *, void *) = handler_of(sig);
        if ((h != go_handler && h != wsgo_fatal_signal) || (keep_faults && is_fault(sig)))
            continue;
        struct sigaction sa = {0};
        sa.sa_handler = (sig == SIGPIPE || sig == SIGXFSZ) ? SIG_IGN : SIG_DFL;
        sigemptyset(&sa.sa_mask);
        (void)sigaction(sig, &sa, NULL);
    }
}

/* The forking thread's signal mask before the fork (blocked_for_fork). */
static __thread sigset_t mask_before_fork;

/* Runs in the parent inside fork(), before it. Faults stay unblocked: a
 * blocked one would kill the process without Go's report. */
static void blocked_for_fork(void)
{
    sigset_t all;
    sigfillset(&all);
    for (int sig = 1; sig < NSIG; sig++)
        if (is_fault(sig))
            sigdelset(&all, sig);
    (void)pthread_sigmask(SIG_BLOCK, &all, &mask_before_fork);
}

static void after_fork_in_parent(void)
{
    (void)pthread_sigmask(SIG_SETMASK, &mask_before_fork, NULL);
}

/*
 * Runs in the child inside fork(): async-signal-safe calls only. A signal
 * sent meanwhile waits, blocked, for the handlers it is meant for.
 */
static void after_fork_in_child(void)
{
    wsgo_forked = 1;
    signals_as_python(0);
    (void)pthread_sigmask(SIG_SETMASK, &mask_before_fork, NULL);
}

/*
 * `wsgo python`: Python starts in this process as `python3` would, its
 * handlers then as python3's (Python installs SIGINT's KeyboardInterrupt
 * only over the default action, and signal.getsignal() reports None for
 * a handler it did not set, which multiprocessing's forkserver cannot
 * restore in its children). Go's own goroutines need none of them.
 */
void wsgo_python_signals(void)
{
    go_handler = handler_of(SIGURG);
    signals_as_python(1);
}

static void watch_once(void)
{
    go_handler = handler_of(SIGURG); /* Go preempts goroutines with it: always its own */
    (void)pthread_atfork(blocked_for_fork, after_fork_in_parent, after_fork_in_child);
}

void wsgo_fork_watch(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    (void)pthread_once(&once, watch_once);
}

/* sys.stdout and sys.stderr's buffers, out before _exit. */
static void flush_std(void)
{
    static const char *const names[] = {"stdout", "stderr"};
    for (int i = 0; i < 2; i++) {
        PyObject *f = PySys_GetObject(names[i]), *r; /* borrowed */
        if (f && f != Py_None && (r = PyObject_CallMethod(f, "flush", NULL)) != NULL)
            Py_DECREF(r);
        PyErr_Clear();
    }
}

void wsgo_forked_child_exit(void)
{
    int code = 1;
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *exc = wsgo_take_exception(), *c = exc ? PyObject_GetAttrString(exc, "code") : NULL;
        if (c == Py_None)
            code = 0;
        else if (c && PyLong_Check(c))
            code = (int)PyLong_AsLong(c);
        PyErr_Clear();
        Py_XDECREF(c);
        Py_XDECREF(exc);
    } else if (PyErr_Occurred()) {
        PyErr_Print();
    }
    flush_std();
    fprintf(stderr,
            "wsgo: a process the app forked (pid %ld) ran on into wsgo, which a forked child "
            "cannot do; it exits with %d. End a forked child with os._exit(), or use "
            "subprocess or multiprocessing.\n",
            (long)getpid(), code);
    fflush(stderr);
    _exit(code);
}
