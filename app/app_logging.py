"""Where the app's messages go: the terminal when there is one, and a log file always.

Started from the Start menu, the app runs under ``pythonw.exe``: ``sys.stdout`` and
``sys.stderr`` are None, so a print, a traceback or a library's warning would vanish
(or, in code that writes to them unguarded, raise). They are pointed at a file in the
log folder instead, and every log record is also written to ``scopeflow.log`` there, so
a microscopist can send it with a bug report.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

LOG_FILE = "scopeflow.log"
OUTPUT_FILE = "output.log"  # what would have gone to a console under pythonw.exe
LOG_FOLDER_VARIABLE = "SCOPEFLOW_LOG_DIR"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


#: ``logger.info(..., extra=FOR_THE_USER)``: good news the user waits to read (a fixed
#: script loaded again), shown in the window's Log panel beside the warnings and errors
FOR_THE_USER = {"for_the_user": True}


def log_folder() -> Path:
    """``SCOPEFLOW_LOG_DIR``, else %LOCALAPPDATA%\\Scopeflow\\logs on Windows, else
    $XDG_STATE_HOME/scopeflow/logs (~/.local/state/scopeflow/logs)."""
    chosen = os.environ.get(LOG_FOLDER_VARIABLE)
    if chosen:
        return Path(chosen)
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "Scopeflow" / "logs"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "scopeflow" / "logs"


def ensure_standard_streams() -> Path | None:
    """Give a process without a console (pythonw.exe) a stdout and stderr: a file.

    Returns the file's path when the streams were replaced, else None.
    """
    if sys.stdout is not None and sys.stderr is not None:
        return None
    path = log_folder() / OUTPUT_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115  # for the process's life
    except OSError:
        stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  # writes must not fail
    if sys.stdout is None:
        sys.stdout = stream
    if sys.stderr is None:
        sys.stderr = stream
    return path


def configure_logging(verbose: bool, *, to_file: bool) -> Path | None:
    """Log to stderr, and with ``to_file`` also to ``scopeflow.log`` (rotated at 5 MB,
    three old files kept). Returns the log file's path, or None if it cannot be written
    (then only stderr is used, and the reason is logged)."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format=FORMAT)
    root = logging.getLogger()
    for existing in root.handlers:  # the terminal shows `level`, whatever loggers let by
        if isinstance(existing, logging.StreamHandler) and existing.level == logging.NOTSET:
            existing.setLevel(level)
    if not to_file:
        return None
    path = log_folder() / LOG_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("No log file (%s): %s", path, exc)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)  # the file keeps more than the terminal shows
    root.addHandler(handler)
    root.setLevel(min(root.level, logging.INFO))
    return path
