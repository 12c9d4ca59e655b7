"""Importing Scopeflow changes nothing global: no environment variable, no exit handler,
no library setting (only making a window or a microscope does)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import atexit, os, sys
# the libraries first: what their own imports change is theirs (qtpy sets QT_API)
import dask.array, ndtiff, psygnal, pymmcore_plus, pyqtgraph as pg, qtpy, superqt, useq
import qtconsole.inprocess, qtconsole.rich_jupyter_widget
before_env = dict(os.environ)
registered = []
atexit.register = lambda fn, *a, **k: registered.append(fn)
before_pg = dict(pg.CONFIG_OPTIONS)
import app, app.ui.shell.main_window, app.ui.processors.console, app.scripting, app.storage
changed = {k for k in os.environ if before_env.get(k) != os.environ[k]}
assert not changed, changed
assert not registered, registered
assert dict(pg.CONFIG_OPTIONS) == before_pg
print("quiet")
"""


def test_importing_changes_nothing_global():
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0 and "quiet" in result.stdout, result.stderr
