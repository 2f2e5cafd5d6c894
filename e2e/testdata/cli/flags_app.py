"""One app for the flag tests; each route shows one thing the flags change."""
import os


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path.startswith("/env/"):
        body = os.environ.get(path[len("/env/"):], "<unset>")
    elif path == "/cwd":
        body = os.getcwd()
    elif path == "/remote":
        addr = environ.get("REMOTE_ADDR")
        body = "%s %r" % (type(addr).__name__, addr)
    elif path == "/errors":
        environ["wsgi.errors"].write("flags_app: a line for wsgi.errors\n")
        environ["wsgi.errors"].flush()
        body = "logged"
    elif path == "/str":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ["a str, not bytes\n"]
    else:
        body = "flags app"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [(body + "\n").encode()]
