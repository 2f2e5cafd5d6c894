"""A middleware stack: each layer wraps the app below it.

    wsgo run examples/middleware.py
    curl -i http://127.0.0.1:8000/          # X-Elapsed-Ms header, upper-cased body
    curl -i http://127.0.0.1:8000/boom      # the error page from CatchErrors
"""
import sys
import time
import traceback


def app(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("boom")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from the inner app\n"]


class Timing:
    """Adds an X-Elapsed-Ms header."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        began = time.monotonic()

        def timed_start(status, headers, exc_info=None):
            ms = (time.monotonic() - began) * 1000
            return start_response(status, headers + [("X-Elapsed-Ms", "%.2f" % ms)], exc_info)

        return self.app(environ, timed_start)


class Upper:
    """Upper-cases the body; closes the inner iterable as PEP 3333 asks."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        inner = self.app(environ, start_response)
        try:
            return [chunk.upper() for chunk in inner]
        finally:
            if hasattr(inner, "close"):
                inner.close()


class CatchErrors:
    """Turns an exception into a 500 page, passing exc_info as PEP 3333 shows,
    and writes its traceback to wsgi.errors: the server's log."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception:
            environ["wsgi.errors"].write(traceback.format_exc())
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            return [b"something went wrong; see the server log\n"]


application = CatchErrors(Timing(Upper(app)))
