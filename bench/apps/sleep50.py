import time


def application(environ, start_response):
    time.sleep(0.05)  # an I/O-bound request: the GIL is released while it waits
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"slept"]
