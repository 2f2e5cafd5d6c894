"""The PEP 3333 conformance app of e2e/conformance_test.go.

One route per behaviour, dispatched on PATH_INFO. Where a test is about what
the app sees, the route reports it as JSON and the Go test asserts exact
values. Module globals let a test observe what happened inside the app:
CLOSED counts close() calls per key (GET /closed?key=K), EVENTS are
threading.Events a blocked route waits on (GET /release?key=K sets one).

`wsgo run app.py:make_validated()` serves the same routes wrapped in
wsgiref.validate.validator, with its WSGIWarning turned into errors.
"""
import bz2
import gzip
import io
import hashlib
import json
import lzma
import os
import sys
import tempfile
import threading
from urllib.parse import parse_qs

_lock = threading.Lock()
CLOSED = {}
EVENTS = {}
# Responses and file-likes whose close() is counted are kept alive here, so
# that garbage collection (a generator's or a file's finalizer) cannot
# stand in for the close() call the server owes.
KEEP = []
JSON = [("Content-Type", "application/json")]
TEXT = [("Content-Type", "text/plain")]


def bump(key):
    with _lock:
        CLOSED[key] = CLOSED.get(key, 0) + 1


def event(key):
    with _lock:
        return EVENTS.setdefault(key, threading.Event())


def query(environ):
    return {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}


def as_json(start_response, obj, status="200 OK", exc_info=None):
    body = json.dumps(obj).encode("ascii")
    start_response(status, JSON + [("Content-Length", str(len(body)))], exc_info)
    return [body]


def latin1(v):
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, list):
        return [latin1(x) for x in v]
    return v


ROUTES = {}


def route(path):
    def register(fn):
        ROUTES[path] = fn
        return fn
    return register


def application(environ, start_response):
    path = environ["PATH_INFO"]
    handler = ROUTES.get(path)
    if handler is None and path.startswith("/environ"):
        handler = r_environ
    if handler is None:
        start_response("404 Not Found", TEXT)
        return [b"no route " + path.encode("latin-1")]
    return handler(environ, start_response)


# --- helpers other routes and tests use ---------------------------------

@route("/hello")
def r_hello(environ, start_response):
    start_response("200 OK", TEXT)
    return [b"hello"]


@route("/closed")
def r_closed(environ, start_response):
    with _lock:
        n = CLOSED.get(query(environ)["key"], 0)
    start_response("200 OK", TEXT)
    return [str(n).encode()]


@route("/release")
def r_release(environ, start_response):
    event(query(environ)["key"]).set()
    start_response("200 OK", TEXT)
    return [b"released"]


# --- 1. environ -----------------------------------------------------------

def r_environ(environ, start_response):
    report = {
        "exact_dict": type(environ) is dict,
        "key_types": sorted({type(k).__name__ for k in environ}),
        "str": {k: v for k, v in environ.items() if type(v) is str},
        "types": {k: type(v).__name__ for k, v in environ.items()},
        "wsgi.version": list(environ["wsgi.version"]) if isinstance(environ.get("wsgi.version"), tuple) else None,
        "flags": {k: environ[k] for k in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
                                          "wsgi.input_terminated") if k in environ},
        "input_api": [a for a in ("read", "readline", "readlines", "__iter__") if hasattr(environ.get("wsgi.input"), a)],
        "errors_api": [a for a in ("write", "writelines", "flush") if hasattr(environ.get("wsgi.errors"), a)],
        "file_wrapper_callable": callable(environ.get("wsgi.file_wrapper")),
    }
    return as_json(start_response, report)


# --- 2. start_response validation ----------------------------------------

BAD_CALLS = {
    "status-bytes": (b"200 OK", []),
    "status-int": (200, []),
    "status-no-reason": ("200", []),
    "status-non-numeric": ("abc OK", []),
    "status-two-digits": ("20 OK", []),
    "status-crlf": ("200 OK\r\nX-Injected: yes", []),
    "status-1xx": ("103 Early Hints", []),
    "headers-tuple": ("200 OK", (("X-A", "b"),)),
    "headers-dict": ("200 OK", {"X-A": "b"}),
    "headers-none": ("200 OK", None),
    "header-str": ("200 OK", ["X-A: b"]),
    "header-3-tuple": ("200 OK", [("X-A", "b", "c")]),
    "header-1-tuple": ("200 OK", [("X-A",)]),
    "header-name-bytes": ("200 OK", [(b"X-A", "b")]),
    "header-value-bytes": ("200 OK", [("X-A", b"b")]),
    "header-value-int": ("200 OK", [("X-A", 1)]),
    "header-name-space": ("200 OK", [("X A", "b")]),
    "header-name-colon": ("200 OK", [("X:A", "b")]),
    "header-name-empty": ("200 OK", [("", "b")]),
    "header-value-cr": ("200 OK", [("X-A", "a\rb")]),
    "header-value-lf": ("200 OK", [("X-A", "a\nb")]),
    "header-value-crlf": ("200 OK", [("X-A", "a\r\nX-Injected: yes")]),
    "hop-connection": ("200 OK", [("Connection", "close")]),
    "hop-transfer-encoding": ("200 OK", [("Transfer-Encoding", "chunked")]),
    "hop-keep-alive": ("200 OK", [("Keep-Alive", "timeout=5")]),
    "hop-upgrade": ("200 OK", [("Upgrade", "websocket")]),
    "hop-te": ("200 OK", [("TE", "trailers")]),
    "length-words": ("200 OK", [("Content-Length", "ten")]),
    "length-negative": ("200 OK", [("Content-Length", "-5")]),
    "length-plus": ("200 OK", [("Content-Length", "+5")]),
    "length-two": ("200 OK", [("Content-Length", "5"), ("content-length", "6")]),
    "length-same-twice": ("200 OK", [("Content-Length", "5"), ("Content-Length", " 5 ")]),
    "hop-trailers": ("200 OK", [("Trailers", "X-A")]),
    "hop-proxy-authenticate": ("200 OK", [("Proxy-Authenticate", "Basic")]),
    "hop-lowercase": ("200 OK", [("connection", "keep-alive")]),
    "good": ("200 OK", [("X-A", "b")]),
}


@route("/sr/bad")
def r_sr_bad(environ, start_response):
    args = BAD_CALLS[query(environ)["case"]]
    try:
        start_response(*args)
    except Exception as e:
        # After a call that raised, another needs exc_info (PEP 3333).
        return as_json(start_response, {"type": type(e).__name__, "msg": str(e)}, exc_info=sys.exc_info())
    # It was accepted: replace it (allowed before anything was sent).
    body = json.dumps({"type": None, "msg": ""}).encode()
    start_response("200 OK", JSON, (None, None, None))
    return [body]


@route("/sr/inject")
def r_sr_inject(environ, start_response):
    start_response("200 OK", TEXT + [("X-A", "a\r\nX-Injected: yes")])
    return [b"should not be sent"]


@route("/sr/write")
def r_sr_write(environ, start_response):
    write = start_response("200 OK", TEXT)
    write(b"via write, ")
    return [b"then the iterable"]


@route("/sr/twice")
def r_sr_twice(environ, start_response):
    start_response("200 OK", TEXT + [("X-First", "1")])
    try:
        start_response("201 Created", TEXT + [("X-Second", "1")])
    except Exception as e:
        return [("%s: %s" % (type(e).__name__, e)).encode()]
    return [b"second call accepted"]


@route("/sr/after-raising")
def r_sr_after_raising(environ, start_response):
    try:
        start_response("20 OK", TEXT)
    except ValueError:
        pass
    try:
        start_response("200 OK", TEXT + [("X-Second", "1")])
    except Exception as e:
        return as_json(start_response, {"type": type(e).__name__, "msg": str(e)}, exc_info=sys.exc_info())
    return [b"second call accepted"]


@route("/sr/exc-before")
def r_sr_exc_before(environ, start_response):
    start_response("200 OK", TEXT + [("X-First", "1")])
    try:
        raise ValueError("changed my mind")
    except ValueError:
        start_response("500 Oops", TEXT + [("X-Second", "1")], sys.exc_info())
    return [b"replaced"]


@route("/sr/exc-keyword")
def r_sr_exc_keyword(environ, start_response):
    start_response(status="200 OK", headers=TEXT + [("X-First", "1")])
    try:
        raise ValueError("changed my mind")
    except ValueError:
        start_response(status="503 Keyword", headers=TEXT + [("X-Second", "1")], exc_info=sys.exc_info())
    return [b"replaced by keyword"]


@route("/sr/exc-after")
def r_sr_exc_after(environ, start_response):
    key = query(environ)["key"]
    errors = environ["wsgi.errors"]

    def body():
        start_response("200 OK", TEXT)
        yield b"partial"
        event(key).wait(20)
        try:
            raise KeyError("late")
        except KeyError:
            try:
                start_response("500 Too Late", TEXT, sys.exc_info())
            except KeyError as e:
                errors.write("start_response re-raised %r\n" % (e,))
                raise
            errors.write("start_response did not re-raise\n")
        yield b"after the error"

    return body()


# --- 3. lazy start_response ----------------------------------------------

@route("/lazy")
def r_lazy(environ, start_response):
    def body():
        start_response("200 OK", TEXT + [("X-Lazy", "1")])
        yield b""
        yield b""
        yield b"hello"
        yield b""
        yield b" world"
    return body()


@route("/lazy-empty")
def r_lazy_empty(environ, start_response):
    def body():
        start_response("200 OK", TEXT + [("X-Lazy", "empty")])
        yield b""
        yield b""
    return body()


@route("/lazy-replace")
def r_lazy_replace(environ, start_response):
    # Nothing is sent with an empty chunk, so the headers can still change
    # (also those of a response without a body: HEAD, ?status=304).
    first = query(environ).get("status", "200") + " First"
    def body():
        start_response(first, TEXT + [("X-First", "1")])
        yield b""
        try:
            raise RuntimeError("replace")
        except RuntimeError:
            start_response("202 Replaced", TEXT + [("X-Second", "1")], sys.exc_info())
        yield b"after replace"
    return body()


@route("/reason")
def r_reason(environ, start_response):
    start_response("200 Everything Fine", TEXT)
    return [b"fine"]


# --- 4. response iterables -----------------------------------------------

@route("/padded-headers")
def r_padded_headers(environ, start_response):
    """Values with whitespace around them, as Django's cookies come."""
    start_response("200 OK", [("Set-Cookie", " a=1; Path=/"), ("X-Tabbed", "\tv w\t "), ("X-Blank", "  ")])
    return [b"ok"]


@route("/list")
def r_list(environ, start_response):
    start_response("200 OK", TEXT)
    return [b"ab", b"", b"cd", b"ef"]


@route("/head-bodiless")
def r_head_bodiless(environ, start_response):
    """A stream with no length, and no body at all for HEAD, as Werkzeug
    and Bottle answer it."""
    start_response("200 OK", TEXT)
    if environ["REQUEST_METHOD"] == "HEAD":
        return []
    return iter([b"part1-", b"part2"])


@route("/gen")
def r_gen(environ, start_response):
    start_response("200 OK", TEXT)

    def body():
        yield b"one,"
        yield b"two,"
        yield b"three"
    return body()


def big_chunk(n, seed):
    """n bytes that differ from any other chunk's at every offset."""
    return bytes((i * 7 + seed) % 251 for i in range(n))


BIG_CHUNKS = [3, 20000, 65536, 100000, 1]


@route("/gen-big")
def r_gen_big(environ, start_response):
    start_response("200 OK", TEXT)
    return (big_chunk(n, i) for i, n in enumerate(BIG_CHUNKS))


@route("/stream-block")
def r_stream_block(environ, start_response):
    key = query(environ)["key"]
    start_response("200 OK", TEXT)

    def body():
        yield b"chunk1\n"
        if event(key).wait(20):
            yield b"chunk2\n"
        else:
            yield b"timed out waiting for /release\n"
    return body()


class Tracked:
    """An iterable with close(), counted in CLOSED[key]; raises after `fail_after` chunks."""

    def __init__(self, key, chunks, fail_after=None):
        self.key, self.chunks, self.fail_after, self.n = key, list(chunks), fail_after, 0
        KEEP.append(self)

    def __iter__(self):
        return self

    def __next__(self):
        if self.fail_after is not None and self.n == self.fail_after:
            raise RuntimeError("iterable failed after %d chunks" % self.n)
        if self.n == len(self.chunks):
            raise StopIteration
        self.n += 1
        return self.chunks[self.n - 1]

    def close(self):
        bump(self.key)


@route("/close/normal")
def r_close_normal(environ, start_response):
    start_response("200 OK", TEXT)
    return Tracked(query(environ)["key"], [b"a", b"b", b"c"])


@route("/close/raise-first")
def r_close_raise_first(environ, start_response):
    start_response("200 OK", TEXT)
    return Tracked(query(environ)["key"], [b"a"], fail_after=0)


@route("/close/raise-later")
def r_close_raise_later(environ, start_response):
    start_response("200 OK", TEXT)
    return Tracked(query(environ)["key"], [b"a", b"b"], fail_after=1)


class ClosesOnRelease(Tracked):
    """A Tracked whose close() waits for /release first (at most 60 s)."""

    def close(self):
        event(self.key).wait(60)
        super().close()


@route("/close/after-release")
def r_close_after_release(environ, start_response):
    start_response("200 OK", TEXT)  # no Content-Length: chunked
    return ClosesOnRelease(query(environ)["key"], [b"a", b"b", b"c"])


PULLED = {}  # chunks taken from an endless body, per key


def endless(key, chunk):
    """Yields chunk forever, counted in PULLED[key]; its close() in CLOSED[key]."""
    def body():
        try:
            while True:
                with _lock:
                    PULLED[key] = PULLED.get(key, 0) + 1
                yield chunk
        except GeneratorExit:
            bump(key)
            raise
    gen = body()
    KEEP.append(gen)
    return gen


@route("/close/forever")
def r_close_forever(environ, start_response):
    start_response("200 OK", TEXT)
    return endless(query(environ)["key"], b"x" * 4096)


@route("/bodiless-forever")
def r_bodiless_forever(environ, start_response):
    """An endless body for a response that takes none: ?status=, and HEAD."""
    q = query(environ)
    start_response(q.get("status", "200") + " Whatever", TEXT)
    return endless(q["key"], b"x" * 4096)


@route("/cl-over")
def r_cl_over(environ, start_response):
    start_response("200 OK", TEXT + [("Content-Length", "5")])
    if query(environ).get("kind") == "gen":
        return (c for c in [b"01234567", b"89"])
    return [b"0123456789"]


WRITE_ERRORS = {}  # what write() past /cl-write-past's length raised, per key


@route("/cl-endless")
def r_cl_endless(environ, start_response):
    start_response("200 OK", TEXT + [("Content-Length", "6")])
    return endless(query(environ)["key"], b"abc")


@route("/cl-write-past")
def r_cl_write_past(environ, start_response):
    write = start_response("200 OK", TEXT + [("Content-Length", "5")])
    write(b"abc")
    try:
        write(b"def")
    except Exception as e:
        WRITE_ERRORS[query(environ)["key"]] = "%s: %s" % (type(e).__name__, e)
    return [b"de"]


@route("/cl-seen")
def r_cl_seen(environ, start_response):
    key = query(environ)["key"]
    with _lock:
        seen = {"pulled": PULLED.get(key, 0), "write_error": WRITE_ERRORS.get(key)}
    return as_json(start_response, seen)


@route("/cl-short")
def r_cl_short(environ, start_response):
    start_response("200 OK", TEXT + [("Content-Length", "10")])
    if query(environ).get("kind") == "gen":
        return (c for c in [b"012", b"34"])
    return [b"01234"]


@route("/status")
def r_status(environ, start_response):
    code = query(environ)["code"]
    reason = {"204": "No Content", "205": "Reset Content", "304": "Not Modified"}[code]
    start_response(code + " " + reason, [("X-Status", code)])
    if query(environ).get("kind") == "gen":
        return (c for c in [b"body that ", b"must not be sent"])
    return [b"body that must not be sent"]


# --- 5. wsgi.input --------------------------------------------------------

@route("/input")
def r_input(environ, start_response):
    inp = environ["wsgi.input"]
    results = []
    for op in query(environ).get("ops", "").split(","):
        if not op:
            continue
        name, _, arg = op.partition(":")
        if name == "iter":
            results.append(latin1(list(inp)))
        else:
            args = (int(arg),) if arg else ()
            results.append(latin1(getattr(inp, name)(*args)))
    return as_json(start_response, {
        "results": results,
        "CONTENT_LENGTH": environ.get("CONTENT_LENGTH"),
        "CONTENT_TYPE": environ.get("CONTENT_TYPE"),
    })


@route("/noread")
def r_noread(environ, start_response):
    start_response("200 OK", TEXT)
    return [b"did not read"]


@route("/hash")
def r_hash(environ, start_response):
    inp = environ["wsgi.input"]
    mode = query(environ).get("mode", "read")
    if mode == "read":
        data = inp.read()
    elif mode == "chunks":
        parts = []
        while True:
            b = inp.read(65536)
            if not b:
                break
            parts.append(b)
        data = b"".join(parts)
    else:  # lines
        data = b"".join(inp)
    return as_json(start_response, {"len": len(data), "sha256": hashlib.sha256(data).hexdigest()})


# --- 6. wsgi.errors -------------------------------------------------------

@route("/errors")
def r_errors(environ, start_response):
    err = environ["wsgi.errors"]
    err.write("hello errors\n")
    err.writelines(["writelines one\n", "writelines two\n"])
    err.flush()
    start_response("200 OK", TEXT)
    return [b"logged"]


@route("/errors-flush")
def r_errors_flush(environ, start_response):
    err = environ["wsgi.errors"]
    err.write("partial line before flush")
    err.flush()
    # The test releases us only once it has seen the line in the log.
    ok = event(query(environ)["key"]).wait(20)
    start_response("200 OK", TEXT)
    return [b"flushed" if ok else b"timed out: flush() did not reach the log"]


# --- 7. wsgi.file_wrapper -------------------------------------------------

class TrackedFile(io.FileIO):
    def __init__(self, path, key):
        super().__init__(path, "rb")
        self.key = key
        KEEP.append(self)

    def close(self):
        if not self.closed:
            bump(self.key)
        super().close()


READ_TO = {}  # key -> a TrackedBytesIO's position when it was closed


class TrackedBytesIO(io.BytesIO):
    def __init__(self, data, key):
        super().__init__(data)
        self.key = key
        KEEP.append(self)

    def close(self):
        if not self.closed:
            with _lock:
                READ_TO[self.key] = self.tell()
            bump(self.key)
        super().close()


@route("/read-to")
def r_read_to(environ, start_response):
    with _lock:
        n = READ_TO.get(query(environ)["key"], -1)
    start_response("200 OK", TEXT)
    return [str(n).encode()]


@route("/file")
def r_file(environ, start_response):
    q = query(environ)
    f = TrackedFile(q["path"], q["key"])
    seek = int(q.get("seek", "0"))
    f.seek(seek)
    if q.get("cl"):
        q["len"] = str(os.path.getsize(q["path"]) - seek)
    start_response("200 OK", file_headers(q))
    return environ["wsgi.file_wrapper"](f, 65536)


@route("/file-shrinks")
def r_file_shrinks(environ, start_response):
    """Sends ?path=, which a timer cuts to 1 MiB a second after."""
    q = query(environ)
    f = open(q["path"], "rb")
    threading.Timer(1, os.truncate, (q["path"], 1 << 20)).start()
    start_response("200 OK", file_headers(q))
    return environ["wsgi.file_wrapper"](f)


def file_headers(q):
    """len=N declares a Content-Length of N: all the file holds from its
    position, or a part of it, as a 206 response sends."""
    headers = [("Content-Type", "application/octet-stream")]
    if "len" in q:
        headers.append(("Content-Length", q["len"]))
    return headers


def bytesio_payload():
    return bytes(range(256)) * 1200 + b"tail"


@route("/bytesio")
def r_bytesio(environ, start_response):
    q = query(environ)
    f = TrackedBytesIO(bytesio_payload(), q["key"])
    f.seek(int(q.get("seek", "0")))
    start_response("200 OK", file_headers(q))
    return environ["wsgi.file_wrapper"](f, 8192)


FILE_LIKE_TEXT = b"DECOMPRESSED CONTENT\n" * 1000


class UpperFile(io.FileIO):
    def read(self, size=-1):
        return super().read(size).upper()


@route("/file-like")
def r_file_like(environ, start_response):
    """A file-like whose fileno() is a regular file, but whose read()
    gives other bytes: FILE_LIKE_TEXT, which the file holds compressed or
    in lower case."""
    q = query(environ)
    kind, path = q["kind"], q["path"]
    compressed = {"gzip": gzip, "bz2": bz2, "lzma": lzma}.get(kind)
    if compressed:
        with compressed.open(path, "wb") as f:
            f.write(FILE_LIKE_TEXT)
        f = compressed.open(path, "rb")
    else:
        with open(path, "wb") as f:
            f.write(FILE_LIKE_TEXT.lower())
        if kind == "read-subclass":
            f = UpperFile(path)
        else:  # read-assigned
            f = open(path, "rb")
            f.read = lambda size=-1, read=f.read: read(size).upper()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return environ["wsgi.file_wrapper"](f, 4096)


# --- 8. errors ------------------------------------------------------------

@route("/raise-before")
def r_raise_before(environ, start_response):
    raise RuntimeError("boom before start_response")


@route("/raise-after")
def r_raise_after(environ, start_response):
    key = query(environ)["key"]
    start_response("200 OK", TEXT)

    def body():
        yield b"partial"
        event(key).wait(20)
        raise RuntimeError("boom after the headers")
    return body()


@route("/raise-nul")
def r_raise_nul(environ, start_response):
    """The client's NUL in the first of two chained errors."""
    try:
        raise ValueError("bad name: " + query(environ)["name"])
    except ValueError as e:
        raise RuntimeError("THE REAL ERROR") from e


class CloseRaisesNul:
    def __iter__(self):
        return iter([b"ok"])

    def close(self):
        try:
            raise ValueError("bad name: a\0b")
        except ValueError:
            raise RuntimeError("THE REAL CLOSE ERROR")


@route("/close-raise-nul")
def r_close_raise_nul(environ, start_response):
    start_response("200 OK", TEXT)
    return CloseRaisesNul()


@route("/return-none")
def r_return_none(environ, start_response):
    start_response("200 OK", TEXT)
    return None


@route("/return-int")
def r_return_int(environ, start_response):
    start_response("200 OK", TEXT)
    return 42


@route("/return-list-int")
def r_return_list_int(environ, start_response):
    start_response("200 OK", TEXT)
    return [b"ok", 7]


@route("/no-start-response")
def r_no_start_response(environ, start_response):
    return [b"body without a status"]


# --- 9. str where bytes are needed ---------------------------------------

@route("/str-body")
def r_str_body(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return ["h\u00e9llo"]


@route("/str-write")
def r_str_write(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    write("h\u00e9llo from write")
    return []


@route("/bytearray-write")
def r_bytearray_write(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(bytearray(b"not bytes"))
    return []


@route("/str-yield")
def r_str_yield(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    yield "h\u00e9llo from a generator"


@route("/str-file")
def r_str_file(environ, start_response):
    """A file opened as text: its read() gives str, decoded from latin-1,
    its newlines translated."""
    fd, path = tempfile.mkstemp()
    os.write(fd, b"h\xe9llo\r\n")
    os.close(fd)
    f = open(path, encoding="latin-1")
    os.unlink(path)
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return environ["wsgi.file_wrapper"](f)


# --- 10. wsgiref.validate --------------------------------------------------

def make_validated():
    """The routes above behind wsgiref's validator; its warnings are errors."""
    import warnings
    from wsgiref.validate import WSGIWarning, validator

    warnings.simplefilter("error", WSGIWarning)
    return validator(application)
