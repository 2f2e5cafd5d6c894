"""pyhost's in-process test app: one route per behaviour, dispatched on PATH_INFO."""
import json
import os
import sys
import time

import hostile

closed = []  # names of responses whose close() ran


class Tracked:
    """An iterable whose close() is recorded."""

    def __init__(self, name, chunks, fail_at=None):
        self.name, self.chunks, self.fail_at = name, chunks, fail_at

    def __iter__(self):
        for i, c in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("failed mid-body")
            yield c

    def close(self):
        closed.append(self.name)


def chunks(sizes):
    """Fresh bytes objects, each referenced only by the server once yielded."""
    for i, n in enumerate(sizes):
        yield bytes([ord("a") + i]) * n


def slow_stream():
    """Streams until past --timeout, then swallows wsgo.RequestTimeout and
    yields three more chunks."""
    yield b"first"
    late = None
    while late is None or late < 3:
        try:
            time.sleep(0.01)
        except BaseException:
            late = 0
        if late is not None:
            late += 1
        yield b"more"


def environ_view(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    view = {k: v for k, v in environ.items() if isinstance(v, str)}
    view["wsgi.version"] = list(environ["wsgi.version"])
    for k in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once", "wsgi.input_terminated"):
        view[k] = environ[k]
    return [json.dumps(view, sort_keys=True).encode()]


def input_view(environ, start_response):
    i = environ["wsgi.input"]
    parts = [i.readline(), i.readline(3), i.read(4), i.readlines(), i.read(), i.read(10), i.readline()]
    start_response("200 OK", [])
    return [json.dumps([p.decode() if isinstance(p, bytes) else [x.decode() for x in p]
                        for p in parts]).encode()]


def routes(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/hostile/"):
        return hostile.route(environ, start_response)
    if path == "/hello":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"Hello, ", b"world!"]
    if path == "/reason":
        start_response("299 Custom Reason", [])
        return [b""]
    if path.startswith("/environ"):
        return environ_view(environ, start_response)
    if path == "/input":
        return input_view(environ, start_response)
    if path == "/iterate-input":
        lines = list(environ["wsgi.input"])
        start_response("200 OK", [])
        return [b"%d" % len(lines)]
    if path == "/gen":
        def gen():
            start_response("200 OK", [])  # lazily, on the first next()
            yield b""
            yield b"one"
            yield b"two"
        return gen()
    if path == "/tracked":
        start_response("200 OK", [])
        return Tracked("tracked", [b"a", b"b", b"c"])
    if path == "/tracked-fail":
        start_response("200 OK", [])
        return Tracked("tracked-fail", [b"a", b"b"], fail_at=1)
    if path.startswith("/stream/"):  # chunk sizes, comma-separated
        start_response("200 OK", [])
        return Tracked(path, chunks(int(n) for n in path[len("/stream/"):].split(",")))
    if path == "/slow-stream":
        start_response("200 OK", [])
        return Tracked("slow-stream", slow_stream())
    if path == "/closed":
        start_response("200 OK", [])
        return [json.dumps(closed).encode()]
    if path == "/raise":
        raise LookupError("raised before start_response")
    if path == "/bad-header":
        start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: x=1")])
        return [b"never"]
    if path == "/write":
        write = start_response("200 OK", [])
        write(b"written ")
        return [b"returned"]
    if path == "/errors":
        environ["wsgi.errors"].write("to the log\npartial")
        environ["wsgi.errors"].flush()
        start_response("200 OK", [])
        return [b"ok"]
    if path == "/exc-info-replaces":
        start_response("200 OK", [("X-First", "1")])
        try:
            raise ValueError("late")
        except ValueError:
            start_response("500 Oops", [("X-Second", "2")], exc_info=sys.exc_info())
        return [b"replaced"]
    if path == "/import-helper":  # a lazy import, as Django does for views
        import lazy_helper
        start_response("200 OK", [])
        return [lazy_helper.NAME.encode()]
    if path == "/wait-file":  # holds its thread, GIL released, until the file exists
        while not os.path.exists(environ["QUERY_STRING"]):
            time.sleep(0.005)
        start_response("200 OK", [])
        return [b"waited"]
    if path == "/hold-gil":  # C code that keeps the GIL for QUERY_STRING ms (PyDLL calls hold it)
        import ctypes
        ctypes.PyDLL(None).usleep(int(environ["QUERY_STRING"]) * 1000)
        start_response("200 OK", [])
        return [b"held"]
    if path == "/blocks":
        start_response("200 OK", [])
        return [b"%d" % sys.getallocatedblocks()]
    start_response("404 Not Found", [])
    return [b"no route"]


application = routes
