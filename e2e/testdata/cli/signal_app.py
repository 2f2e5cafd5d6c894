"""An app whose requests stay in flight until the test says so.

/block waits until the file named by $RELEASE_FILE exists, then sends a
large body; /sleep sleeps 30 s.
"""
import os
import time

BODY = b"x" * (256 * 1024) + b"end\n"


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/block":
        environ["wsgi.errors"].write("signal_app: /block started\n")
        environ["wsgi.errors"].flush()
        release = os.environ["RELEASE_FILE"]
        deadline = time.monotonic() + 20
        while not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.01)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
        return [BODY]
    if path == "/sleep":
        environ["wsgi.errors"].write("signal_app: /sleep started\n")
        environ["wsgi.errors"].flush()
        time.sleep(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"slept\n"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
