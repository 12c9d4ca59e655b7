"""One sentence on how an acquisition ended, from its status: what the window shows.

Finished, aborted and failed are told apart (a failed acquisition is never said to
have finished), with the cause of a failure and the counts that matter.
"""

from __future__ import annotations

from app.acquisition.state import AcquisitionStatus, RunState


def describe_end(status: AcquisitionStatus, where: str, kept: str = "saved") -> str:
    """``where``: " in <folder>", " in memory" or "" (nothing kept); ``kept``: the verb
    for what was stored ("saved", "kept")."""
    counts = status.counts
    saved = counts.get("saved", 0)
    images = f"{saved} image{'' if saved == 1 else 's'} {kept}{where}"
    if status.state is RunState.FAILED:
        cause = status.error if status.error is not None else status.reason
        head = f"Failed: {_cause(cause)}. {images} before it stopped"
    elif status.state is RunState.ABORTED:
        head = f"Aborted: {images}"
    elif status.state is RunState.FINISHED:
        head = f"Finished: {images}"
    else:
        head = f"{status.state.value.capitalize()}: {images}"
    details = []
    for key, words in (
        ("lost", "lost"),
        ("missing", "never delivered by the camera"),
        ("unprocessed", "saved without processing (stopped first)"),
        ("duplicates", "with repeated axes kept under 'duplicate'"),
        ("dropped_by_processors", "dropped by processors"),
    ):
        if counts.get(key):
            details.append(f"{counts[key]} {words}")
    return head + ("; " + ", ".join(details) if details else "")


def _cause(error: object) -> str:
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return text if len(text) <= 300 else text[:297] + "..."
