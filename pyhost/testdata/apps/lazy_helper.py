"""Imported by app.py's /import-helper: the app's own module, which in turn
imports an installed package (one in a site-packages directory)."""
import os
import sys

sys.path.append(os.path.join(os.path.dirname(__file__), "site-packages"))

import installed_pkg  # noqa: E402

NAME = "lazy_helper with " + installed_pkg.NAME
