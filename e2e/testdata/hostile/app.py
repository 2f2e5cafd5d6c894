"""An app that does what real apps do by mistake, for e2e/hostile_test.go.

/os-exit?N ends the worker with os._exit(N); /slow-close?S answers a
body whose close() sleeps S seconds; /regex spins in C code with
the GIL held (a regular expression that backtracks for ever), /hold-gil?N sleeps N s in C code with it; /flags
shows what PYTHON* variables changed; /close-channel closes the worker's
channel to the master, as a careless os.closerange would (which also
breaks Go's own poller); /close-stdio closes fds 0 to 2, after which
/print writes the query to stdout and /raise raises it; /fork forks a
child that raises, exits with the query's code, or returns, as the query
says, and answers how it ended; /fork-child starts a multiprocessing
child that does what its query says (see fork_child);
/fork-killed-at-once forks children and signals each at once (see
fork_killed_at_once); / answers which worker process it is.
"""
import multiprocessing
import os
import re
import signal
import sys
import threading
import time


def exit_42(signum, frame):
    """SIGUSR2's handler, set at import: Go relays it in the worker; a
    child the app forks runs it itself."""
    raise SystemExit(42)


signal.signal(signal.SIGUSR2, exit_42)


def fork_killed_at_once(n):
    """Forks n children that would sleep 10 s, each sent SIGTERM as soon
    as fork returns (as Pool.terminate() may, right after forking a
    worker), and counts those still alive 5 s later (then kills them)."""
    pids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            time.sleep(10)
            os._exit(0)
        os.kill(pid, signal.SIGTERM)
        pids.append(pid)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if os.waitpid(p, os.WNOHANG) == (0, 0)]
        time.sleep(0.01)
    for p in pids:
        os.kill(p, signal.SIGKILL)
        os.waitpid(p, 0)
    return len(pids)


def child_process(how, ready):
    """What a multiprocessing child does: see fork_child."""
    if how == "return":
        return
    if how.startswith("exit-"):
        sys.exit(int(how[len("exit-"):]))
    if how == "write-to-closed-pipe":  # SIGPIPE is ignored, as in any Python process
        r, w = os.pipe()
        os.close(r)
        try:
            os.write(w, b"x")
        except BrokenPipeError as e:
            os._exit(e.errno)
    if how == "TERM-handled":  # the child's own handler, for a signal wsgo uses
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(7))
    ready.set()
    time.sleep(30)


def fork_child(how):
    """Starts a child with multiprocessing's fork, from a thread threading
    has seen (as logging's records do), and answers its exit code, or None
    when it did not end within 5 s. The child returns, exits with the code
    of exit-N, writes to a closed pipe, or waits for the signal SIG<how>
    (how may end in -handled), sent once it is ready."""
    threading.current_thread()
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(target=child_process, args=(how, ready))
    child.start()
    sig = getattr(signal, "SIG" + how.split("-")[0], None)
    if sig is not None and ready.wait(5):
        # Once it sleeps: a handler runs when the signal interrupts a call
        # (between bytecodes too, but not on 3.13 in a child forked from a
        # thread that threading did not start).
        time.sleep(0.2)
        os.kill(child.pid, sig)
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


class SlowClose:
    """A body whose close() sleeps the given seconds."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __iter__(self):
        yield b"body"

    def close(self):
        time.sleep(self.seconds)


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/slow-close":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return SlowClose(float(environ["QUERY_STRING"]))
    if path == "/flags":  # what the PYTHON* variables of the environment did
        try:
            import from_pythonpath  # noqa: F401
            found = "found"
        except ImportError:
            found = "not found"
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"optimize=%d verbose=%d module on PYTHONPATH %s" % (
            sys.flags.optimize, sys.flags.verbose, found.encode())]
    if path == "/os-exit":  # ends the worker as the query's exit code
        os._exit(int(environ["QUERY_STRING"]))
    if path == "/regex":
        re.match(r"(a+)+$", "a" * 64 + "b")
    if path == "/hold-gil":  # C code that keeps the GIL for the query's seconds
        import ctypes
        ctypes.PyDLL(None).sleep(int(environ["QUERY_STRING"]))
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
    if path == "/fork-child":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [fork_child(environ["QUERY_STRING"])]
    if path == "/fork-killed-at-once":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"%d of 20 lived on" % fork_killed_at_once(20)]
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
