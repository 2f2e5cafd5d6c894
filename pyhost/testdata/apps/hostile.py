"""Routes of pyhost's test app that misuse the WSGI API the way real apps do
by mistake: bad exc_info, threads that outlive their request, and so on.
Each answers what the app saw, so a test can check it."""
import sys

BAD_EXC_INFO = {
    "none": (None, None, None),  # sys.exc_info() outside an except block
    "int": (int, 1, None),
    "short": (ValueError,),
}


def late_exc_info(kind, start_response):
    """start_response with exc_info after the headers went out."""
    start_response("200 OK", [])
    yield b"head;"
    if kind == "real":
        try:
            raise ValueError("the real error")
        except ValueError:
            start_response("500 Oops", [], sys.exc_info())  # re-raises it
        yield b"not reached"
        return
    try:
        start_response("500 Oops", [], BAD_EXC_INFO[kind])
    except Exception as exc:
        yield ("%s: %s" % (type(exc).__name__, exc)).encode()
        return
    yield b"no exception"


def route(environ, start_response):
    """Dispatches /hostile/NAME/ARG."""
    _, _, name, arg = (environ["PATH_INFO"] + "/").split("/", 4)[:4]
    if name == "late-exc-info":
        return late_exc_info(arg, start_response)
    start_response("404 Not Found", [])
    return [b"no hostile route"]
