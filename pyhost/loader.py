"""wsgo's app loader, run once inside the embedded interpreter.

load() resolves the TARGET of `wsgo run TARGET` to a WSGI callable, the way
gunicorn and wsgiref users expect, and returns ("ok", app, description,
bind, about) or ("error", report, source files, LoadError). Every report names the
problem and the fix. source_files() names the app's own Python files, for
--reload.
"""

import os
import sys

# ast is imported only for a factory target (module:create_app()): loaded
# up front it cost every worker about 0.3 MiB.


class _Serve(BaseException):
    """Raised by serve_forever() of a wsgiref script: stop running it, serve its app."""

    def __init__(self, server):
        super().__init__()
        self.server = server


class _Server:
    """What wsgiref.simple_server.make_server returns while wsgo loads a script."""

    made = None  # the last server the script made

    def __init__(self, host, port, app):
        self.server_address = (host, port)
        self.server_port = port
        self.application = app
        _Server.made = self

    def serve_forever(self, *args, **kwargs):
        raise _Serve(self)

    handle_request = serve_forever

    def get_app(self):
        return self.application

    def set_app(self, app):
        self.application = app

    def server_close(self):
        pass

    shutdown = server_close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _make_server(host, port, app, *args, **kwargs):
    return _Server(host, port, app)


def _patch_make_server(module):
    module.make_server = _make_server


def _patch_bottle_run(module):
    """Bottle's run(reloader=True) starts a second Python that serves the
    app by itself while the first waits for it: in a worker, that would
    be a server outside wsgo and an import that never ends. The argument
    is dropped, with a warning; --reload does the same job."""
    run = module.run

    def wsgo_run(*args, **kwargs):
        if kwargs.pop("reloader", False):
            import warnings

            warnings.warn(
                "wsgo ignores Bottle's run(reloader=True): Bottle's reloader starts a second "
                "Python that serves the app by itself, outside wsgo; use `wsgo run --reload` to "
                "restart on changes", RuntimeWarning, stacklevel=2)
        return run(*args, **kwargs)

    module.run = wsgo_run


def _patch_flask_run(module):
    """Flask's app.run() starts its development server and never returns:
    called where the app is imported rather than under `if __name__ ==
    "__main__":`, the worker's import would wait for good (gunicorn's too).
    wsgo ignores the call, with a warning, as Flask's own CLI does."""

    def wsgo_run(self, *args, **kwargs):
        import warnings

        warnings.warn(
            "wsgo ignores app.run(): it would start Flask's development server inside the worker "
            "and never return; wsgo serves the app itself. Move app.run() under "
            "`if __name__ == \"__main__\":` (wsgo's --debug and --reload do what its debug=True does)",
            RuntimeWarning, stacklevel=2)

    module.Flask.run = wsgo_run


# What wsgo changes in a module when something imports it: a script that
# serves itself then gives wsgo its app (wsgiref's make_server, also
# Bottle's default server), and Bottle's reloader and Flask's development
# server stay off.
_PATCHES = {"wsgiref.simple_server": _patch_make_server, "bottle": _patch_bottle_run,
            "flask.app": _patch_flask_run}


class _PatchOnImport:
    """A meta path finder that applies _PATCHES when a module is imported,
    not before: importing wsgiref.simple_server up front alone would load
    http.server, email and ssl (with libssl and libcrypto) into every
    worker, about 5 MiB that apps not written for wsgiref never use."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module  # this spec's own loader: PathFinder makes one per find

            def exec_module(module):
                run(module)
                patch(module)

            spec.loader.exec_module = exec_module
        return spec


def _patch_on_import():
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    sys.meta_path.insert(0, _PatchOnImport)


class LoadError(Exception):
    pass


_then = "start wsgo again"  # what to do once the error is fixed


def _report(exc, what):
    """A traceback without the loader's own frames, then what to do."""
    import importlib
    import traceback

    tb = exc.__traceback__
    while tb is not None and (
        tb.tb_frame.f_code.co_filename in ("<wsgo loader>", importlib.__file__)
        or tb.tb_frame.f_code.co_filename.startswith("<frozen importlib")
    ):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb)) + _not_installed(exc)
    return text + "wsgo: %s failed with the error above; fix it and %s.\n" % (what, _then)


def _not_installed(exc):
    """For a module that is not there: which Python looked for it, with which
    virtualenv, and where to install it (a virtualenv wsgo did not pick up,
    named venv as `python3 -m venv venv` makes, most of all)."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return ""
    name, python = exc.name.partition(".")[0], "Python %d.%d.%d" % sys.version_info[:3]
    if sys.prefix != sys.base_prefix:
        return ("wsgo: no module %r in %s with the virtualenv %s; if it is a package, install it there: "
                "`%s -m pip install %s` (a package may be named otherwise than its module)\n"
                % (name, python, sys.prefix, os.path.join(sys.prefix, "bin", "python"), name))
    dirs = [os.getcwd()] + ([os.path.dirname(_app_file)] if _app_file else [])
    for d in dict.fromkeys(dirs):
        for sub in ("venv", "env", ".virtualenv", "virtualenv"):
            venv = os.path.join(d, sub)
            if os.path.isfile(os.path.join(venv, "pyvenv.cfg")):
                return ("wsgo: no module %r in %s (%s), which runs with no virtualenv; %s looks like one: "
                        "give --virtualenv %s (wsgo finds only a .venv by itself)\n" % (name, python, sys.base_prefix, venv, venv))
    return ("wsgo: no module %r in %s (%s), which runs with no virtualenv; if it is a package, make one next to "
            "the app (`python%d.%d -m venv .venv`, which wsgo finds by itself) and install it there "
            "(`.venv/bin/python -m pip install %s`), or install the system's package of it\n"
            % ((name, python, sys.base_prefix) + sys.version_info[:2] + (name,)))


def _split(target):
    """'file.py:expr', 'pkg.mod:expr', 'file.py', 'pkg.mod' -> (where, expr or None).

    expr begins after the first ':' that leaves it no path before its
    arguments: a factory's arguments may hold colons of their own
    (module:create_app("sqlite:///db")), and a path may too (a:b/app.py)."""
    head = target.split("(", 1)[0]
    start = 0
    while True:
        colon = head.find(":", start)
        if colon < 0:
            return target, None
        name = head[colon + 1:]
        if "/" not in name and not name.endswith(".py"):
            break
        start = colon + 1
    where, expr = target[:colon], target[colon + 1:]
    if not where:
        raise LoadError("wsgo: the target %r names no file or module before ':'; "
                        "write it as module:callable or file.py:callable" % target)
    return where, expr


def _callables(ns):
    """The public callables of a module's namespace that could be its app:
    functions and classes defined there, and callable instances (Django's
    WSGIHandler, a Flask app), wherever their class comes from."""
    import inspect

    def candidate(v):
        if inspect.isclass(v) or inspect.isroutine(v):
            return getattr(v, "__module__", None) == ns.get("__name__")
        return callable(v) and not inspect.ismodule(v)

    names = sorted(k for k, v in ns.items() if not k.startswith("_") and candidate(v))
    return ", ".join(names) if names else "none"


def _literal(node, target):
    import ast

    try:
        return ast.literal_eval(node)
    except ValueError:
        raise LoadError("wsgo: in %r, factory arguments must be literals (numbers, strings, "
                        "lists...), as gunicorn requires" % target) from None


def _resolve(ns, expr, where, target):
    """Evaluates 'name', 'a.b', 'factory()' or 'factory(1, x="y")' against a namespace."""
    import keyword

    parts, call = expr.split("."), None
    if not all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        parts, call = _parse_call(expr)
    if parts[0] not in ns:
        raise LoadError("wsgo: %s has no %r; callables defined there: %s. Name one as %s:NAME"
                        % (where, parts[0], _callables(ns), where))
    obj = ns[parts[0]]
    for name in parts[1:]:
        if not hasattr(obj, name):
            raise LoadError("wsgo: %s has no attribute %r (in %r)" % (where, name, expr))
        obj = getattr(obj, name)
    if call is not None:
        args = [_literal(a, target) for a in call.args]
        kwargs = {k.arg: _literal(k.value, target) for k in call.keywords}
        try:
            obj = obj(*args, **kwargs)
        except Exception as exc:
            raise LoadError(_report(exc, "calling the app factory %s:%s" % (where, expr))) from None
    return obj


def _parse_call(expr):
    """(names, ast.Call or None) of 'a.b(...)'; the rare target that is more
    than a dotted name."""
    import ast

    not_a_name = LoadError("wsgo: %r is not a callable name; write module:name or "
                           "module:factory() after the ':'" % expr)
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        raise not_a_name from None
    call = None
    if isinstance(node, ast.Call):
        call, node = node, node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise not_a_name
    parts.insert(0, node.id)
    return parts, call


def _exec_file(path, as_main):
    """Runs a .py file as a module; as __main__ when it is a wsgiref script."""
    import importlib.util

    name = "__main__" if as_main else os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except _Serve as serve:
        return module, serve.server
    return module, _Server.made


def _package_of(path):
    """(sys.path entries, module name) for a .py file inside a package
    (mysite/wsgi.py next to mysite/__init__.py: the package root, the first
    directory up without an __init__.py, and "mysite.wsgi"), as Django's
    layout needs; the file's directory follows the root, so that its
    sibling imports work as under `python mysite/wsgi.py`. Else ([its
    directory], None)."""
    directory = os.path.dirname(path)
    parts = [os.path.splitext(os.path.basename(path))[0]]
    root = directory
    while os.path.isfile(os.path.join(root, "__init__.py")) and os.path.dirname(root) != root:
        parts.insert(0, os.path.basename(root))
        root = os.path.dirname(root)
    if root == directory or not all(p.isidentifier() for p in parts) or parts[0] in sys.modules:
        return [directory], None  # not a package, or one named as a module already imported
    if parts[-1] == "__init__":  # the package itself: "pkg.__init__" would run it a second time
        parts.pop()
    return [root, directory], ".".join(parts)


def _import_module(name):
    import importlib

    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name or name.startswith((exc.name or "\0") + "."):
            raise LoadError(
                "wsgo: no module named %r (sys.path[0] is %s). Check the name, or use --chdir or "
                "--pythonpath to point at its directory; a file needs its .py suffix"
                % (name, sys.path[0])) from None
        raise
    return module, _Server.made


def _uses_wsgiref(path):
    """Whether the file looks like a script that serves itself with wsgiref:
    it calls make_server, or is a Bottle app, whose run() calls it (its
    default server is wsgiref's); such a script is run as __main__, so that
    a call guarded by `if __name__ == "__main__":` gives its address too."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError:
        return False
    return b"make_server" in text or (b"bottle" in text and b"run(" in text)


# Signals wsgo uses, and what for: signal.signal() refuses them (see
# _guard_signals). Go's runtime owns the fatal ones, SIGURG (goroutine
# preemption) and SIGPIPE.
_WSGO_SIGNALS = {
    "SIGTERM": "to stop a worker gracefully", "SIGINT": "to stop the server",
    "SIGHUP": "to replace the workers", "SIGUSR1": "to reopen its log files",
    "SIGTTIN": "to add a worker", "SIGTTOU": "to remove a worker",
    "SIGQUIT": "to stop at once", "SIGCHLD": "for its own processes",
    "SIGPIPE": "for connections that close", "SIGURG": "to schedule its threads",
    "SIGSEGV": "to report crashes", "SIGBUS": "to report crashes", "SIGFPE": "to report crashes",
    "SIGILL": "to report crashes", "SIGABRT": "to report crashes", "SIGTRAP": "to report crashes",
    "SIGSYS": "to report crashes",
}


def _guard_signals():
    """Wraps signal.signal: handlers for signals wsgo does not use run on
    Python's main thread when the signal comes (Go relays it, see
    signals.c). A handler for a signal wsgo uses is not installed: a
    RuntimeWarning says why and what to do instead, and the call returns
    the handler in place, so that a library doing this at import still
    imports (under gunicorn or uWSGI such a handler silently replaces the
    server's own)."""
    import _thread
    import signal

    original = signal.signal
    owned = {getattr(signal, name): why for name, why in _WSGO_SIGNALS.items() if hasattr(signal, name)}
    worker, main = os.getpid(), _thread.get_ident()

    def wsgo_signal(signalnum, handler):
        if os.getpid() != worker:  # a child the app forked: no Go in it, every signal is Python's
            return original(signalnum, handler)
        if signalnum in owned:
            name = signal.Signals(signalnum).name
            import warnings

            warnings.warn(
                "wsgo uses %s %s, so the app's handler is not installed: for cleanup when a worker "
                "stops, use atexit.register(); handlers for other signals (SIGUSR2, SIGALRM, "
                "SIGWINCH, SIGRTMIN+n) run on Python's main thread" % (name, owned[signalnum]),
                RuntimeWarning, stacklevel=2)
            return signal.getsignal(signalnum)
        if _thread.get_ident() != main:  # Python's own error would not say where to put it
            raise ValueError(
                "signal.signal() works only in Python's main thread, and wsgo runs each request on "
                "a thread of its own: install the handler when the app is imported (at module level, "
                "not in a module that a request imports or reloads); it then runs on the main thread "
                "when the signal comes")
        kind = 0 if callable(handler) else 1 if handler == signal.SIG_IGN else 2
        return _route_signal(original, signalnum, handler, kind)  # noqa: F821 (from signals.c)

    def after_fork_in_child():
        # fork left the child the default actions (fork.c); the handlers
        # the app set, which Go relayed, are Python's own there.
        for signalnum in signal.valid_signals():
            handler = signal.getsignal(signalnum)
            if callable(handler) or handler == signal.SIG_IGN:
                original(signalnum, handler)

    wsgo_signal.__doc__ = original.__doc__
    signal.signal = wsgo_signal
    os.register_at_fork(after_in_child=after_fork_in_child)


def _main_thread_after_fork():
    """A child forked from a request (os.fork, multiprocessing's fork) runs
    on as threading's main thread. wsgo's threads are not threading's:
    seen by threading (logging asks for the thread's name), one is a
    _DummyThread, which Python before 3.13 leaves as the child's main
    thread without the lock threading._shutdown() asserts on, so every
    multiprocessing child exited with 1 whatever it did. This does what
    3.13's _DummyThread._after_fork does."""
    import threading  # its own fork hook, which sets main_thread(), runs first

    def after_fork_in_child():
        main = threading.main_thread()
        if isinstance(main, threading._DummyThread):
            main.__class__ = threading._MainThread
            main._name = "MainThread"
            main._daemonic = False
            main._set_tstate_lock()

    os.register_at_fork(after_in_child=after_fork_in_child)


def _threads_of_requests_not_daemons():
    """A thread inherits daemon from the thread that starts it. Requests
    run on wsgo's threads, which threading sees as _DummyThreads, daemons:
    a thread the app starts in a request (to send a mail, flush a buffer)
    was a daemon, killed at the stop with its work, where under python3 or
    gunicorn, whose requests run on the main thread or threads it started,
    the stop waits for it. wsgo's threads (and any other thread Python did
    not start, which threading sees the same way) pass daemon=False on, as
    theirs do."""
    import threading

    init = threading._DummyThread.__init__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._daemonic = False

    threading._DummyThread.__init__ = __init__


def _load(target, chdir, pythonpath, virtualenv):
    global _app_file
    _guard_signals()
    _main_thread_after_fork()
    _threads_of_requests_not_daemons()
    _patch_on_import()
    if chdir:
        try:
            os.chdir(chdir)
        except OSError as exc:
            raise LoadError("wsgo: cannot change to --chdir %r: %s" % (chdir, exc.strerror)) from None
    where, expr = _split(target)
    is_file = where.endswith(".py") or os.sep in where
    venv, how = find_virtualenv(virtualenv, ([os.path.dirname(os.path.abspath(where))] if is_file else [])
                                + [os.getcwd()], "next to the app")  # noqa: F821 (venv.py)
    if venv is not None:
        try:
            use_virtualenv(venv, how)  # noqa: F821 (venv.py)
        except VirtualenvError as exc:  # noqa: F821 (venv.py)
            raise LoadError(str(exc)) from None
        _about_extra["virtualenv"] = "%s (%s)" % (venv, how)
    if is_file:
        path = _app_file = os.path.abspath(where)
        if not os.path.isfile(path):
            raise LoadError("wsgo: cannot find the app file %r (looked for %s). Check the path, or "
                            "use --chdir DIR to run from the app's directory" % (where, path))
        base, package_module = _package_of(path)
        sys.argv = [path]
    else:
        base, package_module = [os.getcwd()], None
        sys.argv = [target]
    extra = [os.path.abspath(p) for p in pythonpath.split("\n") if p]
    # The interpreter ignores PYTHON* variables (interp.c), but PYTHONPATH
    # is honoured: its entries follow --pythonpath's, as Python puts them
    # after the script's directory.
    env_path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:0] = base + extra + env_path

    what = "importing %s" % where
    try:
        if is_file and package_module and not _uses_wsgiref(path):
            module, server = _import_module(package_module)
        elif is_file:
            module, server = _exec_file(path, _uses_wsgiref(path))
        else:
            module, server = _import_module(where)
    except LoadError:
        raise
    except SystemExit as exc:
        raise LoadError("wsgo: %s called sys.exit(%r) while being imported; move that call under "
                        "`if __name__ == \"__main__\":`" % (where, exc.code)) from None
    except Exception as exc:
        raise LoadError(_report(exc, what)) from None
    if not is_file and str(getattr(module, "__file__", None)).endswith(".py"):
        _app_file = os.path.abspath(module.__file__)

    ns = vars(module)
    bind = None
    if expr is not None:
        app = _resolve(ns, expr, where, target)
        name = expr
    elif server is not None:
        app, name = server.application, "the app given to make_server"
        host, port = server.server_address
        bind = "%s:%d" % (host or "0.0.0.0", port)
    elif "application" in ns:
        app, name = ns["application"], "application"
    elif "app" in ns:
        app, name = ns["app"], "app"
    elif is_file and _django_settings(path):
        raise LoadError(_not_an_app_but_manage_py(where, path, chdir))
    elif _package_apps(module):
        raise LoadError("wsgo: found no WSGI app in %s: it is a package, and defines neither 'application' "
                        "nor 'app'; serve the module of it that makes the app: %s"
                        % (where, " or ".join("`wsgo run %s`" % m for m in _package_apps(module))))
    else:
        raise LoadError("wsgo: found no WSGI app in %s: it defines neither 'application' nor 'app'. "
                        "Callables defined there: %s. Name the app as %s:NAME"
                        % (where, _callables(ns), where))
    if not callable(app):
        raise LoadError("wsgo: %s:%s is a %s, not a callable WSGI app; point at the function, class "
                        "or object that takes (environ, start_response)"
                        % (where, name, type(app).__name__))
    problem = _arity_problem(app)
    if problem:
        raise LoadError("wsgo: %s:%s cannot be a WSGI app: the server calls it as %s(environ, start_response), "
                        "and %s; give it the two parameters (def %s(environ, start_response):), or, if it "
                        "makes the app (a factory), call it: %s:%s()"
                        % (where, name, name, problem, name, where, name))
    factory = _factory_problem(app, "%s:%s" % (where, name))
    if factory and factory[1]:
        raise LoadError(factory[0])
    if factory:
        _about_extra["warning"] = factory[0]
    desc = "%s:%s" % (where, expr or name) if expr or server is None else "%s (%s)" % (where, name)
    return app, desc, bind


def _package_apps(module):
    """The modules of a package where its app usually is: wsgi.py, as
    Django's startproject makes it (mysite.wsgi), and app.py."""
    found = []
    for directory in getattr(module, "__path__", None) or []:
        for name in ("wsgi", "app"):
            if os.path.isfile(os.path.join(directory, name + ".py")):
                found.append("%s.%s" % (module.__name__, name))
    return found


def _django_settings(path):
    """The settings module that a Django manage.py at path sets, or None."""
    import re

    with open(path, "rb") as f:
        m = re.search(rb"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""", f.read())
    return m and m.group(1).decode()


def _django_wsgi_module(path):
    """The WSGI module of the Django project whose manage.py is at path:
    where startproject puts it, beside the settings module (mysite.settings:
    mysite.wsgi), if that file is there; else None. internal/config's
    djangoWSGIModule is the same for `wsgo run manage.py runserver`."""
    package = _django_settings(path).split(".")[:-1]
    if "settings" in package:  # a settings package: config.settings.local
        package = package[:package.index("settings")]
    if not os.path.isfile(os.path.join(os.path.dirname(path), *package, "wsgi.py")):
        return None
    return ".".join(package + ["wsgi"])


def _not_an_app_but_manage_py(where, path, chdir):
    """What to do when the TARGET is Django's manage.py."""
    command = "wsgo run "
    if chdir or os.path.dirname(where):
        command += "--chdir %s " % os.path.dirname(path)
    command += _django_wsgi_module(path) or "PROJECT.wsgi"
    return ("wsgo: %s is Django's command-line utility, not a WSGI app: serve the project's WSGI module, "
            "`%s` (--reload restarts it on a save, as runserver does); `wsgo python %s COMMAND` runs its commands"
            % (where, command, path if chdir else where))


def _arity_problem(app):
    """Why app, a function or a method written in Python, cannot be called
    with two positional arguments (it would fail every request), or None:
    also when its parameters cannot be read from its code (a class, a
    builtin, functools.partial)."""
    import types

    func, bound = app, 0
    if isinstance(app, types.MethodType):
        func, bound = app.__func__, 1
    if not isinstance(func, types.FunctionType):
        return None
    code = func.__code__
    most = code.co_argcount - bound
    least = most - len(func.__defaults__ or ())
    kwonly = set(code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount])
    required_kwonly = sorted(kwonly - set(func.__kwdefaults__ or ()))
    at = "%s line %d" % (code.co_filename, code.co_firstlineno)
    if least > 2:
        return "it requires %d positional arguments (%s)" % (least, at)
    if most < 2 and not code.co_flags & _CO_VARARGS:
        return "it takes %d positional argument%s (%s)" % (most, "" if most == 1 else "s", at)
    if required_kwonly:
        return "it requires the keyword argument%s %s (%s)" % (
            "" if len(required_kwonly) == 1 else "s", ", ".join(required_kwonly), at)
    return None


_CO_VARARGS = 0x04  # the code takes *args

# What app factories are called (Flask's, Pyramid's, Django's, aiohttp's
# and the tutorials'), for a TARGET that names one without calling it.
_FACTORY_NAMES = {"create_app", "make_app", "app_factory", "create_application", "make_application",
                  "get_app", "get_application", "get_wsgi_application", "make_wsgi_app"}


def _factory_problem(app, target):
    """Why app, a Python function that two positional arguments can call,
    looks like an app factory named without its call (every request would
    then call it and fail), and whether that is sure: (why, sure), or None.
    Sure is a factory's name with every parameter optional (Flask's
    create_app(config=None)): no WSGI app's environ is. Parameters named
    as WSGI's, or *args (a decorator's wrapper), are an app; a class, an
    instance or functools.partial are not looked at."""
    import types

    func, bound = app, 0
    if isinstance(app, types.MethodType):
        func, bound = app.__func__, 1
    if not isinstance(func, types.FunctionType) or func.__code__.co_flags & _CO_VARARGS:
        return None
    code = func.__code__
    params = code.co_varnames[bound:code.co_argcount]
    if "environ" in params[0] or "start" in params[1] or "respon" in params[1]:
        return None
    optional = len(func.__defaults__ or ()) >= len(params)
    named = func.__name__ in _FACTORY_NAMES or target.rpartition(".")[2].rpartition(":")[2] in _FACTORY_NAMES
    if not (optional or named):
        return None
    why = ["its name is a factory's"] if named else []
    if optional:
        why.append("its parameters (%s) are all optional, which a WSGI app's never are" % ", ".join(params))
    call = target + ("()" if optional else "(...), with its arguments as literals")
    sure = optional and named
    return ("wsgo: %s looks like an app factory, not the app (%s): every request would call it as "
            "%s(environ, start_response). If it makes the app, call it: %s%s"
            % (target, "; ".join(why), func.__name__, call,
               "; if it is the app, name its first parameters environ and start_response" if sure else ""), sure)


class RequestTimeout(BaseException):
    """Raised into a request's thread when the request runs past --timeout.

    A BaseException, like KeyboardInterrupt, so that an app's `except
    Exception` does not swallow it and go on working for nobody.
    """

    message = "the request ran past wsgo's --timeout"

    def __init__(self, *args):
        super().__init__(*(args or (self.message,)))


RequestTimeout.__module__ = "wsgo"


class GracefulTimeout(RequestTimeout):
    """Raised into a request's thread when wsgo stops and the request runs
    past --graceful-timeout: the worker is ending."""

    message = "its wsgo worker is stopping, and the request ran past --graceful-timeout"


GracefulTimeout.__module__ = "wsgo"


def thread_stacks():
    """The Python stack of every thread, by thread id, most recent call last;
    bytes of file names that are not UTF-8 are shown escaped (\\xe9)."""
    import traceback

    return {ident: "".join(traceback.format_stack(frame))
            .encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            for ident, frame in sys._current_frames().items()}


_about_extra = {}  # what the loading found that `wsgo check` and the start line tell: the virtualenv


def _about(app):
    """What `wsgo check` prints of the app: its qualified name, repr and sys.path, as JSON."""
    import json

    named = app if hasattr(app, "__qualname__") else type(app)
    name = "%s.%s" % (getattr(named, "__module__", None) or "?", named.__qualname__)
    if named is not app:
        name = "an instance of " + name
    try:
        text = repr(app)
    except Exception:
        text = object.__repr__(app)
    return json.dumps(dict(_about_extra, name=name, repr=text, sys_path=sys.path))


def load(target, chdir, pythonpath, virtualenv, timeout, reload, replacing):
    global _then
    if timeout:
        RequestTimeout.message = "the request ran past wsgo's --timeout of %g s" % timeout
    if reload:
        _then = "save: --reload is watching"
    elif replacing:
        _then = "send wsgo SIGHUP again (the running workers serve on meanwhile)"
    try:
        app, desc, bind = _load(target, chdir, pythonpath, virtualenv)
    except LoadError as exc:
        return ("error", str(exc).rstrip("\n") + "\n", _failed_sources(exc), exc)
    return ("ok", app, desc, bind, _about(app))


# --reload watches the app's own files: those of every imported module that
# is neither the standard library nor an installed package.

_app_file = None  # the TARGET's file, once known
_library = None  # directories holding the standard library and installed packages


def _library_dirs():
    """The standard library (sysconfig's stdlib and platstdlib, under
    sys.base_prefix in a virtualenv too, and os.py's directory whatever
    sys.prefix says) and the installed-package
    directories (purelib, platlib, site.getsitepackages() and the user's
    site-packages), each as given and as a real path, ending in a separator."""
    global _library
    if _library is None:
        import site
        import sysconfig

        paths = sysconfig.get_paths()
        dirs = [paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")]
        dirs += site.getsitepackages() + [site.getusersitepackages(), os.path.dirname(os.__file__)]
        dirs = [d for d in dirs if d]
        _library = tuple({os.path.join(f(d), "") for d in dirs for f in (os.path.abspath, os.path.realpath)})
    return _library


def _is_library(path):
    """Whether path, or the file a symlink at path leads to, is a library's
    (Debian's stdlib sitecustomize.py links to /etc)."""
    for p in (os.path.abspath(path), os.path.realpath(path)):
        parts = p.split(os.sep)
        # A virtualenv's packages (VIRTUAL_ENV, or one set up by hand on
        # sys.path) are in no sysconfig path but always in such a directory.
        if "site-packages" in parts or "dist-packages" in parts or p.startswith(_library_dirs()):
            return True
    return False


def _module_files():
    files = []
    for module in list(sys.modules.values()):
        try:
            path = getattr(module, "__file__", None)
        except Exception:  # a module's __getattr__ may raise anything
            continue
        if isinstance(path, str):
            files.append(path)
    return files


def _own(paths):
    """The .py files among paths that are not library files: absolute, and
    also by their real path when a symlink leads elsewhere (an edit through
    the link changes the real file, in the real file's directory)."""
    own = set()
    for path in paths:
        if not path.endswith(".py") or _is_library(path):
            continue
        path = os.path.abspath(path)
        own.add(path)
        own.add(os.path.realpath(path))
    return own


def _watch_list(paths):
    own = _own(paths)
    if _app_file:
        own.add(_app_file)
    return "\n".join(sorted(own))


def lingering_threads():
    """The app's threads that Python's finalization waits for (running, as
    threading.enumerate() lists them, and not daemons), one per line: the
    name, then the line it runs now."""
    threading = sys.modules.get("threading")
    if threading is None:
        return ""
    frames = sys._current_frames()
    out = []
    for t in threading.enumerate():
        if t.daemon or type(t).__name__ in ("_MainThread", "_DummyThread"):
            continue
        line = repr(t.name)
        f = frames.get(t.ident)
        if f is not None:
            line += f" at {f.f_code.co_filename} line {f.f_lineno}, in {f.f_code.co_name}"
        out.append(line)
    return "\n".join(out)


def source_files():
    """The files whose change should reload the app, '\n'-separated."""
    return _watch_list(_module_files())


def _failed_sources(exc):
    """source_files() after a failed load, plus the files the failure
    points at: modules that failed half-imported are gone from sys.modules
    but their frames are in the traceback, and a SyntaxError names its file."""
    files = _module_files()
    cause = exc.__context__  # the real error: LoadError is raised in its except block
    while cause is not None:
        if isinstance(cause, SyntaxError) and cause.filename:
            files.append(cause.filename)
        tb = cause.__traceback__
        while tb is not None:
            files.append(tb.tb_frame.f_code.co_filename)
            tb = tb.tb_next
        cause = cause.__context__
    return _watch_list(files)
