"""Each request logs that it started, then blocks until the file named by
$RELEASE_FILE exists (an Event the test can set while every thread is busy)."""
import os
import time


def application(environ, start_response):
    name = environ["PATH_INFO"].strip("/")
    environ["wsgi.errors"].write("queue_app: %s started\n" % name)
    environ["wsgi.errors"].flush()
    release = os.environ["RELEASE_FILE"]
    deadline = time.monotonic() + 20
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.01)
    body = ("%s done\n" % name).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
