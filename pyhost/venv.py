"""wsgo's virtualenv support, run inside the embedded interpreter.

wsgo's interpreter is not started from a virtualenv's bin/python, so
Python's own site.venv() never sees one. use_virtualenv() does what it
would have done: the venv's site-packages (and its .pth files) before the
system's, the system's kept only when pyvenv.cfg says
include-system-site-packages = true (Python's default when the key is
absent), sys.prefix pointing at the venv. A venv made for another Python
version is refused: its compiled packages would not import, or worse.
"""

import os
import re
import sys


class VirtualenvError(Exception):
    pass


def _pyvenv_cfg(venv):
    """pyvenv.cfg's keys, lowercased, read as site.venv() reads them."""
    cfg = {}
    try:
        with open(os.path.join(venv, "pyvenv.cfg"), encoding="utf-8") as f:
            for line in f:
                key, eq, value = line.partition("=")
                if eq:
                    cfg[key.strip().lower()] = value.strip()
    except OSError:
        pass
    return cfg


def _venv_python(venv, cfg):
    """The venv's Python version as 'X.Y': pyvenv.cfg's version_info (uv,
    virtualenv) or version (python -m venv), else its one lib/pythonX.Y."""
    for key in ("version_info", "version"):
        m = re.match(r"(\d+)\.(\d+)", cfg.get(key, ""))
        if m:
            return "%s.%s" % m.groups()
    try:
        libs = sorted(d[len("python"):] for d in os.listdir(os.path.join(venv, "lib"))
                      if re.fullmatch(r"python\d+\.\d+", d))
    except OSError:
        libs = []
    ours = "%d.%d" % sys.version_info[:2]
    return ours if ours in libs else (libs[0] if libs else None)


def find_virtualenv(explicit, dirs, where):
    """(venv directory, how it was chosen) or (None, None): explicit
    (--virtualenv, VIRTUAL_ENV) first, else a .venv with a pyvenv.cfg in
    one of dirs (where says which they are), as uv and Poetry make next to
    a project."""
    if explicit:
        return os.path.abspath(explicit), "given by --virtualenv or VIRTUAL_ENV"
    for d in dirs:
        venv = os.path.join(d, ".venv")
        if os.path.isfile(os.path.join(venv, "pyvenv.cfg")):
            return venv, "found %s; --virtualenv DIR or VIRTUAL_ENV picks another" % where
    return None, None


def use_virtualenv(venv, how):
    """Puts the virtualenv venv on sys.path as Python would. Raises
    VirtualenvError naming the problem and the fix."""
    import site

    ours = "%d.%d" % sys.version_info[:2]
    cfg = _pyvenv_cfg(venv)
    theirs = _venv_python(venv, cfg)
    if theirs is None:
        raise VirtualenvError(
            "wsgo: %s (%s) is not a virtualenv: it has no pyvenv.cfg and no lib/python%s. "
            "Create one with `python%s -m venv %s`, or point --virtualenv at another"
            % (venv, how, ours, ours, venv))
    if theirs != ours:
        raise VirtualenvError(
            "wsgo: the virtualenv %s (%s) is for Python %s, but this wsgo is linked against "
            "Python %s and cannot use its packages. Recreate it with `python%s -m venv %s`, "
            "or build wsgo against its Python: `make build PYTHON=/path/to/python%s`"
            % (venv, how, theirs, sys.version.split()[0], ours, venv, theirs))
    packages = os.path.join(venv, "lib", "python" + ours, "site-packages")
    if not os.path.isdir(packages):
        raise VirtualenvError(
            "wsgo: the virtualenv %s (%s) has no %s; recreate it with `python%s -m venv %s`"
            % (venv, how, packages, ours, venv))
    os.environ["VIRTUAL_ENV"] = venv  # as `activate` does: what the app starts sees it too
    sys.prefix = sys.exec_prefix = venv
    if sys.flags.no_site:  # python -S: no site-packages at all
        return
    system = set(site.getsitepackages()) | {site.getusersitepackages()}
    cut = next((i for i, p in enumerate(sys.path) if p in system), len(sys.path))
    rest = sys.path[cut:]  # the system's site-packages and what their .pth files added
    del sys.path[cut:]
    site.addsitedir(packages)
    if cfg.get("include-system-site-packages", "true").lower() == "true":
        sys.path.extend(p for p in rest if p not in sys.path)


def python_command():
    """`wsgo python`: the virtualenv of WSGO_VIRTUALENV or VIRTUAL_ENV, else
    a .venv in the current directory; its error ends the command (exit 4)."""
    explicit = os.environ.get("WSGO_VIRTUALENV") or os.environ.get("VIRTUAL_ENV")
    venv, how = find_virtualenv(explicit, [os.getcwd()], "in the current directory")
    if venv is None:
        return
    try:
        use_virtualenv(venv, how)
    except VirtualenvError as exc:
        sys.stderr.write("%s\n" % exc)
        raise SystemExit(4) from None
