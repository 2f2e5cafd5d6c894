"""wsgo's --debug page data, run under --debug in a namespace of its own
that holds loader.py's _is_library (interp.c).

describe(exc, loading) returns, as JSON, what the page shows of an
exception (wsgi.Exception in Go): its type and message, each frame with
the source lines around its line and whether it is the app's own code or a
library's, a SyntaxError's file, line and caret, and the exception it was
raised from or while handling.
"""

_LINES_BEFORE, _LINES_AFTER = 5, 2  # source lines shown around a frame's line
_MAX_CHAIN = 8  # exceptions followed through __cause__/__context__
_MAX_LOCALS = 40  # local variables shown per frame
_MAX_REPEATS = 3  # times the same frame is shown in a row


def _type_name(exc):
    t = type(exc)
    module = getattr(t, "__module__", None)
    if module in (None, "builtins", "__main__"):
        return t.__qualname__
    return "%s.%s" % (module, t.__qualname__)


def _safe_str(obj, what):
    try:
        return str(obj)
    except Exception as exc:  # an app's __str__ may raise anything
        return "<%s failed: %s>" % (what, type(exc).__name__)


def _internal(path):
    """Frames of wsgo's loader and of importlib's frozen machinery: noise."""
    return path == "<wsgo loader>" or path.startswith("<frozen importlib")


def _own(path):
    return not path.startswith("<") and not _is_library(path)  # noqa: F821 (loader.py)


def _source(path, line, module_globals=None):
    """The lines around line (1-based) and the number of the first one."""
    import linecache

    lines = linecache.getlines(path, module_globals)
    if not lines or line is None or line < 1:
        return 0, []
    first = max(1, line - _LINES_BEFORE)
    return first, [s.rstrip("\r\n") for s in lines[first - 1:line + _LINES_AFTER]]


def _columns(tb):
    """The failing expression's columns on its line (Python 3.11+), or (None, None)."""
    positions = getattr(tb.tb_frame.f_code, "co_positions", None)
    if positions is None or tb.tb_lasti < 0:
        return None, None
    try:
        start, end, col, end_col = list(positions())[tb.tb_lasti // 2]
    except (IndexError, ValueError):
        return None, None
    if start != tb.tb_lineno or end != start or col is None or end_col is None:
        return None, None
    return col, end_col


def _locals(frame):
    import reprlib

    short = reprlib.Repr()
    short.maxstring = short.maxother = 160
    shown = []
    for name, value in list(frame.f_locals.items())[:_MAX_LOCALS]:
        try:
            text = short.repr(value)
        except Exception as exc:  # an app's __repr__ may raise anything
            text = "<repr failed: %s>" % type(exc).__name__
        shown.append([str(name), text])
    return shown


def _frames(tb):
    """The frames of tb; a frame that repeats (recursion) is shown
    _MAX_REPEATS times, the last one counting the rest, as Python does."""
    frames, last, repeats = [], None, 0
    for tb in _walk(tb):
        frame, path = tb.tb_frame, tb.tb_frame.f_code.co_filename
        key = (path, tb.tb_lineno, frame.f_code.co_name)
        repeats = repeats + 1 if key == last else 0
        last = key
        if repeats >= _MAX_REPEATS:
            frames[-1]["repeated"] = repeats - _MAX_REPEATS + 1
            continue
        first, lines = _source(path, tb.tb_lineno, frame.f_globals)
        col, end_col = _columns(tb)
        frames.append({
            "file": path, "line": tb.tb_lineno or 0, "function": frame.f_code.co_name,
            "first_line": first, "source": lines, "col": col, "end_col": end_col,
            "own": _own(path), "locals": _locals(frame),
        })
    return frames


def _walk(tb):
    """tb's entries, without wsgo's loader's and importlib's."""
    while tb is not None:
        if not _internal(tb.tb_frame.f_code.co_filename):
            yield tb
        tb = tb.tb_next


def _syntax(exc):
    if not isinstance(exc, SyntaxError) or not exc.filename:
        return None
    first, lines = _source(exc.filename, exc.lineno)
    return {
        "file": exc.filename, "line": exc.lineno or 0, "offset": exc.offset or 0,
        "end_offset": getattr(exc, "end_offset", None) or 0, "text": (exc.text or "").rstrip("\r\n"),
        "first_line": first, "source": lines,
    }


def _one(exc):
    message = exc.msg if isinstance(exc, SyntaxError) else _safe_str(exc, "str()")
    return {"type": _type_name(exc), "message": _safe_str(message, "str()"),
            "frames": _frames(exc.__traceback__), "syntax": _syntax(exc)}


def _described(exc):
    """exc, then what it was raised from or while handling, as a chain."""
    first = described = _one(exc)
    seen = {id(exc)}
    for _ in range(_MAX_CHAIN):
        cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if cause is None or id(cause) in seen:
            break
        described["cause"] = _one(cause)
        described["cause_explicit"] = exc.__cause__ is not None
        described, exc = described["cause"], cause
        seen.add(id(exc))
    return first


def _app_failure(load_error):
    """The app's exception behind a LoadError, if the app's code raised it:
    a SyntaxError in a file, or an exception with a frame of the app's."""
    failure = load_error.__context__
    if isinstance(failure, SyntaxError) and failure.filename and not failure.filename.startswith("<"):
        return failure
    if failure is not None and any(_own(tb.tb_frame.f_code.co_filename) for tb in _walk(failure.__traceback__)):
        return failure
    return None


def describe(exc, loading):
    """exc as JSON for the --debug page. loading: exc is the loader's
    LoadError, whose own text is wsgo's advice; the page leads with the
    app's exception behind it when there is one."""
    import json

    if loading:
        advice = _safe_str(exc, "str()").rstrip("\n")
        failure = _app_failure(exc)
        if failure is None:
            return json.dumps({"type": "", "message": advice, "frames": []})
        described = _described(failure)
        described["note"] = advice.rsplit("\n", 1)[-1]
        return json.dumps(described)
    return json.dumps(_described(exc))


def _is_a(obj, module, name):
    """Whether obj is an instance of module.name, without importing it."""
    return any(c.__module__ == module and c.__name__ == name for c in type(obj).__mro__)


def propagate(app):
    """Makes Flask and Django let an exception reach wsgo, which shows
    this page, rather than answer their own bare 500: what each reads for
    it, set only under --debug. Returns the log line that says so, or None."""
    import os
    import sys

    said = []
    if _is_a(app, "flask.app", "Flask"):
        app.config["PROPAGATE_EXCEPTIONS"] = True
        said.append("Flask's (PROPAGATE_EXCEPTIONS = True)")
    if _is_a(app, "django.core.handlers.wsgi", "WSGIHandler") or (
            os.environ.get("DJANGO_SETTINGS_MODULE") and "django.conf" in sys.modules):
        try:
            from django.conf import settings

            settings.DEBUG_PROPAGATE_EXCEPTIONS = True
            said.append("Django's (DEBUG_PROPAGATE_EXCEPTIONS = True)")
        except Exception as exc:  # settings that fail to import: Django says so at the first request
            said.append("not Django's: its settings failed (%s: %s)" % (type(exc).__name__, exc))
    if not said:
        return None
    return "wsgo: --debug: %s exceptions reach wsgo's debug page" % " and ".join(said)
