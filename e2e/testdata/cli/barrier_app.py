"""Each request waits on one shared barrier of 4: it passes only when four
requests are in the app at once."""
import os
import threading

barrier = threading.Barrier(4, timeout=float(os.environ["BARRIER_TIMEOUT"]))


def application(environ, start_response):
    try:
        barrier.wait()
        status, body = "200 OK", b"passed\n"
    except threading.BrokenBarrierError:
        status, body = "504 Gateway Timeout", b"the barrier broke\n"
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
