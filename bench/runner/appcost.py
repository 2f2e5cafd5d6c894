# The app's own cost per call, with no server: bench/runner subtracts it from
# each server's CPU time per request to give the server's "host overhead".
# The app is imported as the servers import it, then called in a loop on an
# environ prepared once (wsgiref.util.setup_testing_defaults, plus the
# workload's method, path and body), its iterable consumed and closed.
# Usage: python3 - APPS_DIR MODULE PATH POST_BYTES SECONDS < appcost.py
# Prints: appcost calls=N cpu_ns=N wall_ns=N
import importlib
import io
import sys
import time
from wsgiref.util import FileWrapper, setup_testing_defaults

apps, module, path = sys.argv[1], sys.argv[2], sys.argv[3]
post_bytes, seconds = int(sys.argv[4]), float(sys.argv[5])
sys.path.insert(0, apps)
application = importlib.import_module(module).application

body = b"x" * post_bytes
environ = {"REQUEST_METHOD": "POST" if post_bytes else "GET", "PATH_INFO": path, "wsgi.file_wrapper": FileWrapper}
if post_bytes:
    environ["CONTENT_LENGTH"] = str(post_bytes)
    environ["CONTENT_TYPE"] = "application/octet-stream"
setup_testing_defaults(environ)


def start_response(status, headers, exc_info=None):
    if not status.startswith("200 "):
        sys.exit("%s answered %s in-process; the benchmark expects 200" % (module, status))
    return lambda data: None


def call():
    if post_bytes:
        environ["wsgi.input"] = io.BytesIO(body)
    result = application(environ, start_response)
    try:
        for chunk in result:  # as a server takes them; joining would copy a stream's 16 MiB no server copies
            len(chunk)
    finally:
        if hasattr(result, "close"):
            result.close()


def loop(wall_seconds, at_least):
    calls, start = 0, time.perf_counter()
    while calls < at_least or time.perf_counter() - start < wall_seconds:
        call()
        calls += 1
    return calls


loop(seconds / 5, 3)  # warm caches and lazy imports, as the servers' warmup does
cpu0, wall0 = time.process_time_ns(), time.perf_counter_ns()
calls = loop(seconds, 3)
print("appcost calls=%d cpu_ns=%d wall_ns=%d" % (calls, time.process_time_ns() - cpu0, time.perf_counter_ns() - wall0))
