"""An app that does what real apps do by mistake, for e2e/hostile_test.go.

/regex spins in C code with the GIL held (a regular expression that
backtracks for ever); / answers which worker process it is.
"""
import os
import re


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/regex":
        re.match(r"(a+)+$", "a" * 64 + "b")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pid %d" % os.getpid()]
