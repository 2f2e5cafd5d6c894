"""An app that installs signal handlers at import, as libraries do.

SIGUSR2 counts its arrivals; SIGALRM's handler raises. Installing a
handler for SIGTERM, which wsgo uses, is refused: /signals shows the
count and the refusal's message.
"""
import os
import signal

usr2 = 0


def on_usr2(signum, frame):
    global usr2
    usr2 += 1


def on_alrm(signum, frame):
    raise RuntimeError("the SIGALRM handler failed")


signal.signal(signal.SIGUSR2, on_usr2)
signal.signal(signal.SIGALRM, on_alrm)
try:
    signal.signal(signal.SIGTERM, on_usr2)
    refused = "not refused"
except ValueError as exc:
    refused = str(exc)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("pid %d usr2=%d; SIGTERM: %s" % (os.getpid(), usr2, refused)).encode()]
