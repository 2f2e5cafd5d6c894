"""A daemon thread started at import counts every 10 ms; / returns the count."""
import threading
import time

count = 0


def tick():
    global count
    while True:
        count += 1
        time.sleep(0.01)


threading.Thread(target=tick, name="ticker", daemon=True).start()


def application(environ, start_response):
    body = b"%d" % count
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
