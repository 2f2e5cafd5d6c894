# Sends the file named by $WSGOBENCH_FILE (8 MiB, made by the benchmark runner)
# through wsgi.file_wrapper.
import os

PATH = os.environ["WSGOBENCH_FILE"]
SIZE = os.path.getsize(PATH)


def application(environ, start_response):
    f = open(PATH, "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(SIZE))])
    return environ["wsgi.file_wrapper"](f, 65536)
