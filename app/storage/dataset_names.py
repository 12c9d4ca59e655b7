"""Dataset names become folder names: only plain names, the same on Windows and Linux.

A name is one folder inside the chosen directory, never a path: ``../escape`` or an
absolute path would write outside it, and ``sub/b`` names a folder that does not
exist. Windows also refuses reserved device names (``CON``, ``COM1``...), the
characters ``<>:"/\\|?*`` and control characters, and silently drops trailing dots and
spaces, so two different names could share a folder. Such names are refused before
anything is acquired, with the reason and a name that would work.
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 120  # leaves room for _N and the file names in Windows' 260-char paths
MAX_NAME_BYTES = 200  # file systems count bytes (255 for a name): room for _N and more
WINDOWS_MAX_PATH = 259  # characters, without long-path support turned on
_FORBIDDEN_CHARACTERS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WINDOWS_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?$", re.I)


class DatasetNameError(ValueError):
    """A dataset name that cannot be a folder name; the message says why."""


def dataset_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a dataset folder, or None if it can."""
    if not isinstance(name, str):
        return f"it must be a string, not {type(name).__name__}"
    if not name.strip():
        return "it is empty"
    if name in (".", "..") or "/" in name or "\\" in name:
        return "it is a path, not one folder's name (the folder it goes in is given apart)"
    bad = sorted(set(_FORBIDDEN_CHARACTERS.findall(name)))
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"it contains {shown}, which Windows does not allow in a folder name"
    if _WINDOWS_RESERVED.match(name):
        return f"{name.split('.')[0]!r} is a device name reserved by Windows"
    if name != name.rstrip(". "):
        return "it ends with a dot or a space, which Windows drops from folder names"
    if len(name.encode("utf-16-le")) // 2 > MAX_NAME_LENGTH:
        return f"it is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"it is {len(name.encode('utf-8'))} bytes long in UTF-8 (at most {MAX_NAME_BYTES})"
    return None


def check_path_length(path: str, limit: int = WINDOWS_MAX_PATH) -> None:
    """Windows refuses paths longer than 259 characters (unless long paths are turned
    on): say so before the first image, not at it."""
    if len(path) > limit:
        raise DatasetNameError(
            f"The dataset's files would have paths of {len(path)} characters ({path}); "
            f"Windows allows {limit}. Choose a shorter name or a folder nearer the drive's root."
        )


def safe_dataset_name(name: str) -> str:
    """``name`` with what cannot be in a folder name replaced by ``_``."""
    cleaned = _FORBIDDEN_CHARACTERS.sub("_", name.replace("..", "_")).rstrip(". ").strip()
    cleaned = cleaned[:MAX_NAME_LENGTH]
    while (
        len(cleaned.encode("utf-8")) > MAX_NAME_BYTES
        or len(cleaned.encode("utf-16-le")) // 2 > MAX_NAME_LENGTH
    ):
        cleaned = cleaned[:-1]
    cleaned = cleaned.rstrip(". ") or "acquisition"
    if _WINDOWS_RESERVED.match(cleaned):
        cleaned = f"_{cleaned}"
    return cleaned


def check_dataset_name(name: object) -> str:
    """``name`` if it can name a dataset folder; else ``DatasetNameError`` saying why."""
    problem = dataset_name_problem(name)
    if problem is None:
        assert isinstance(name, str)
        return name
    suggestion = safe_dataset_name(name) if isinstance(name, str) else "acquisition"
    raise DatasetNameError(
        f"The dataset name {name!r} cannot be used: {problem}. "
        f"A name such as {suggestion!r} would work."
    )
