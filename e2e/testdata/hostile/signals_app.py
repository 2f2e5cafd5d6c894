"""An app that installs signal handlers at import, as libraries do.

SIGUSR2 counts its arrivals; SIGALRM's handler raises. Installing a
handler for SIGTERM, which wsgo uses, is refused with a warning, and the
import goes on: / shows the count and the warning's message.
/in-request tries to install a handler while serving.
"""
import os
import signal
import warnings

usr2 = 0


def on_usr2(signum, frame):
    global usr2
    usr2 += 1


def on_alrm(signum, frame):
    raise RuntimeError("the SIGALRM handler failed")


signal.signal(signal.SIGUSR2, on_usr2)
signal.signal(signal.SIGALRM, on_alrm)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    previous = signal.signal(signal.SIGTERM, on_usr2)
refused = "; ".join("%s: %s" % (w.category.__name__, w.message) for w in caught)
if signal.getsignal(signal.SIGTERM) is on_usr2 or previous is on_usr2:
    refused = "installed"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    if environ["PATH_INFO"] == "/in-request":  # a handler installed while serving
        try:
            signal.signal(signal.SIGUSR2, on_usr2)
        except ValueError as e:
            return [str(e).encode()]
        return [b"installed"]
    return [("pid %d usr2=%d; SIGTERM: %s" % (os.getpid(), usr2, refused)).encode()]
