"""Routes of pyhost's test app that misuse the WSGI API the way real apps do
by mistake: bad exc_info, threads that outlive their request, and so on.
Each answers what the app saw, so a test can check it."""
import contextvars
import json
import sys
import threading

BAD_EXC_INFO = {
    "none": (None, None, None),  # sys.exc_info() outside an except block
    "int": (int, 1, None),
    "short": (ValueError,),
}


def late_exc_info(kind, start_response):
    """start_response with exc_info after the headers went out."""
    start_response("200 OK", [])
    yield b"head;"
    if kind == "real":
        try:
            raise ValueError("the real error")
        except ValueError:
            start_response("500 Oops", [], sys.exc_info())  # re-raises it
        yield b"not reached"
        return
    try:
        start_response("500 Oops", [], BAD_EXC_INFO[kind])
    except Exception as exc:
        yield ("%s: %s" % (type(exc).__name__, exc)).encode()
        return
    yield b"no exception"


late = {}  # token -> what a thread saw of its request's objects after the request ended


class Closing:
    """A response whose close() calls a function."""

    def __init__(self, chunks, on_close):
        self.chunks, self.on_close = chunks, on_close

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.on_close()


def late_thread(token, environ, start_response):
    """Starts a thread that uses the request's wsgi.errors and wsgi.input
    without pause while the request ends, then records what each of the
    request's objects does once it has ended."""
    errors, inp = environ["wsgi.errors"], environ["wsgi.input"]
    write = start_response("200 OK", [])
    ended = threading.Event()

    def work():
        after = 0
        while after < 200:
            errors.write("late %s\n" % token)
            try:
                inp.read(1)
            except ValueError:
                pass
            if ended.is_set():
                after += 1
        seen = {}
        for name, use in (("read", inp.read), ("readline", inp.readline),
                          ("write", lambda: write(b"x")),
                          ("errors", lambda: errors.write("after the end %s\n" % token))):
            try:
                seen[name] = "returned %r" % (use(),)
            except Exception as exc:
                seen[name] = "%s: %s" % (type(exc).__name__, exc)
        late[token] = seen

    threading.Thread(target=work, daemon=True).start()
    return Closing([b"response"], ended.set)


def partial_lines(token, environ, start_response):
    """This thread and another write parts of a line each, in turns."""
    errors = environ["wsgi.errors"]
    turn = [threading.Event() for _ in range(3)]

    def other():
        turn[0].wait()
        errors.write("B1 %s, " % token)
        turn[1].set()
        turn[2].wait()
        errors.write("B2\n")

    t = threading.Thread(target=other)
    t.start()
    errors.write("A1 %s, " % token)
    turn[0].set()
    turn[1].wait()
    errors.write("A2\n")
    turn[2].set()
    t.join()
    start_response("200 OK", [])
    return [b"ok"]


def read_until_ended(inp):
    """Reads inp a byte at a time until its end, or until it says the
    request has ended."""
    try:
        while inp.read(1):
            pass
    except ValueError:  # the request has ended
        pass


def read_on(token, environ, start_response):
    """Reads the body, ignoring wsgo.RequestTimeout, until its end or until
    wsgi.input says the request has ended; then sets late[token] to "done"."""
    inp = environ["wsgi.input"]
    while late.get(token) != "done":
        # RequestTimeout comes once, at whatever bytecode checks for it
        # next, before or after the body is taken back. Caught in the same
        # frame it may escape: on 3.10 when it lands in an except clause,
        # on 3.12 and 3.13 at a loop's jump back into code outside the try.
        # Out of a call, it always reaches this try.
        try:
            read_until_ended(inp)
            late[token] = "done"
        except BaseException:  # wsgo.RequestTimeout
            pass
    start_response("200 OK", [])
    return [b"read on"]


def read_big(environ, start_response):
    """read(10**9) of a small body: answers its length and the most memory
    Python held meanwhile."""
    import tracemalloc

    tracemalloc.start()
    try:
        data = environ["wsgi.input"].read(10**9)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    start_response("200 OK", [])
    return [b"%d bytes, peak %s" % (len(data), b"under 1 MiB" if peak < 1 << 20 else b"%d" % peak)]


def long_line(environ, start_response):
    """readline() of a body that is one long line: answers its length."""
    line = environ["wsgi.input"].readline()
    start_response("200 OK", [])
    return [b"%d" % len(line)]


def slow_close(start_response):
    """A response whose close() runs past the request's timeout; records
    whether it completed or what interrupted it."""
    import time

    def close():
        try:
            for _ in range(50):
                time.sleep(0.01)
        except BaseException as exc:
            late["slow-close"] = type(exc).__name__
            raise
        late["slow-close"] = "completed"

    start_response("200 OK", [])
    return Closing([b"x"], close)


request_var = contextvars.ContextVar("request_var", default="unset")


def close_raises(start_response):
    """A response whose close() raises."""
    def close():
        raise OSError("close() failed")

    start_response("200 OK", [])
    return Closing([b"closing"], close)


def out_of_memory(arg, start_response):
    """Makes the allocation at position N from now fail (CPython's test
    hook, every allocator domain: wsgo's own C allocations too), then
    raises (ARG "raise-N") or streams two chunks ("stream-N"). A large N
    lands the failure in a later request."""
    import _testcapi

    then, n = arg.rsplit("-", 1)
    _testcapi.set_nomemory(int(n), int(n) + 1)
    if then == "raise":
        raise ValueError("boom")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return iter([b"one", b"two"])


def route(environ, start_response):
    """Dispatches /hostile/NAME/ARG."""
    _, _, name, arg = (environ["PATH_INFO"] + "/").split("/", 4)[:4]
    if name == "late-exc-info":
        return late_exc_info(arg, start_response)
    if name == "partial-lines":
        return partial_lines(arg, environ, start_response)
    if name == "read-big":
        return read_big(environ, start_response)
    if name == "long-line":
        return long_line(environ, start_response)
    if name == "slow-close":
        return slow_close(start_response)
    if name == "close-raises":
        return close_raises(start_response)
    if name == "read-on":
        return read_on("read-on:" + arg, environ, start_response)
    if name == "contextvar":  # set it, or answer its value
        if arg == "set":
            request_var.set("set by an earlier request")
        start_response("200 OK", [])
        return [request_var.get().encode()]
    if name == "late-thread":
        return late_thread(arg, environ, start_response)
    if name == "out-of-memory":
        return out_of_memory(arg, start_response)
    if name == "late-seen":
        start_response("200 OK", [])
        return [json.dumps(late.get(arg)).encode()]
    start_response("404 Not Found", [])
    return [b"no hostile route"]
