"""An app that does what real apps do by mistake, for e2e/hostile_test.go.

/regex spins in C code with the GIL held (a regular expression that
backtracks for ever); /flags shows what PYTHON* variables changed;
/close-channel closes the worker's channel to the master, as a careless
os.closerange would (which also breaks Go's own poller); /close-stdio
closes fds 0 to 2, after which /print writes the query to
stdout and /raise raises it; /fork forks a child that raises, exits with
the query's code, or returns, as the query says, and answers how it
ended; /fork-signal starts a multiprocessing child and sends it the
signal its query names (see fork_signal); / answers which worker process
it is.
"""
import multiprocessing
import os
import re
import signal
import sys
import time


def exit_42(signum, frame):
    """SIGUSR2's handler, set at import: Go relays it in the worker; a
    child the app forks runs it itself."""
    raise SystemExit(42)


signal.signal(signal.SIGUSR2, exit_42)


def signalled_child(how, ready):
    if how == "TERM-handled":  # the child's own handler, for a signal wsgo uses
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(7))
    if how == "write-to-closed-pipe":  # SIGPIPE is ignored, as in any Python process
        r, w = os.pipe()
        os.close(r)
        try:
            os.write(w, b"x")
        except BrokenPipeError as e:
            os._exit(e.errno)
    ready.set()
    time.sleep(30)


def fork_signal(how):
    """Starts a child with multiprocessing's fork, sends it SIG<how> (how
    may end in -handled) once it is ready, and answers its exit code, or
    None when it did not end within 5 s."""
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(target=signalled_child, args=(how, ready))
    child.start()
    if ready.wait(5) and how != "write-to-closed-pipe":
        os.kill(child.pid, getattr(signal, "SIG" + how.split("-")[0]))
    child.join(5)
    code = child.exitcode
    if code is None:
        child.kill()
        child.join()
    return b"exit code %r" % code


def seqpacket_fds():
    """This process's unix SOCK_SEQPACKET sockets: wsgo's channel."""
    with open("/proc/net/unix") as f:
        inodes = {line.split()[6] for line in list(f)[1:] if line.split()[4] == "0005"}
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + name)
        except OSError:
            continue
        if target.startswith("socket:[") and target[len("socket:["):-1] in inodes:
            fds.append(int(name))
    return fds


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/flags":  # what the PYTHON* variables of the environment did
        try:
            import from_pythonpath  # noqa: F401
            found = "found"
        except ImportError:
            found = "not found"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"optimize=%d verbose=%d module on PYTHONPATH %s" % (
            sys.flags.optimize, sys.flags.verbose, found.encode())]
    if path == "/regex":
        re.match(r"(a+)+$", "a" * 64 + "b")
    if path == "/close-stdio":
        for fd in (0, 1, 2):
            os.close(fd)
    if path == "/close-channel":
        for fd in seqpacket_fds():
            os.close(fd)
    if path == "/print":
        try:
            sys.stdout.write("printed %s\n" % environ["QUERY_STRING"])
            sys.stdout.flush()
        except OSError:
            pass  # fd 1 is closed: nothing to print to
    if path == "/raise":
        raise ValueError(environ["QUERY_STRING"])
    if path == "/fork-signal":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [fork_signal(environ["QUERY_STRING"])]
    if path == "/fork":
        how = environ["QUERY_STRING"]
        pid = os.fork()
        if pid == 0:  # the child, which should have called os._exit()
            if how == "raise":
                raise RuntimeError("raised in the forked child")
            if how.startswith("exit-"):
                sys.exit(int(how[len("exit-"):]))
        else:
            _, status = os.waitpid(pid, 0)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"child exited with %d" % os.waitstatus_to_exitcode(status)]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pid %d" % os.getpid()]
