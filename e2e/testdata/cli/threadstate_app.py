"""For e2e/concurrency_test.go: each request checks that Python runs it on
the thread state of the OS thread it is on, as C extensions expect
(PyGILState_Ensure finds a thread's state by OS thread), then sleeps the
query's seconds so that requests overlap on many threads."""
import ctypes
import sys
import threading
import time

api = ctypes.pythonapi
api.PyGILState_Ensure.restype = ctypes.c_int
api.PyGILState_Release.argtypes = [ctypes.c_int]


def application(environ, start_response):
    problems = []
    if api.PyGILState_Check() != 1:
        problems.append("PyGILState_Check() is 0: the running thread state is not this OS thread's")
    elif sys._current_frames().get(threading.get_ident()) is not sys._getframe():
        problems.append("the running thread state's thread id is not this OS thread's")
    else:
        # What a C extension's callback does; with another state registered
        # for this OS thread it would wait for the GIL this thread holds.
        api.PyGILState_Release(api.PyGILState_Ensure())
    time.sleep(float(environ.get("QUERY_STRING") or 0))
    body = ("\n".join(problems) or "ok").encode() + b"\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
