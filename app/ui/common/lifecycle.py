"""How a window ends: its timers stopped, its threads joined, its pyqtgraph items taken
off their views before the views are deleted.

A closed window is deleted later (``deleteLater``, or when Python collects it), while
the process goes on: the next window of a test run, or the app's other windows. What a
window leaves behind then runs against widgets that are gone:

- a timer of a closed window keeps firing until the window is deleted (one polled the
  microscope's stages four times a second, under the next window's acquisition);
- a QThread destroyed while it runs makes Qt abort the process;
- pyqtgraph items whose ``boundingRect`` reads another item are asked for it while Qt
  deletes the scene: an ``InfiniteLine`` (the histogram's level lines) reads its view
  box, an ``AxisItem`` with a grid its linked view box. Deleted first, the view box is
  gone, the call raises inside Qt's destructor, and the process dies (seen in the window
  tests: "AttributeError: 'NoneType' object has no attribute 'size'" in
  ``InfiniteLine._computeBoundingRect``, then a segmentation fault).

``release_graphics`` takes every item off its view box and unlinks the axes while all of
them are whole, so that deleting the window later deletes nothing that asks for another.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import pyqtgraph as pg
from PyQt6.QtCore import QDeadlineTimer, QObject, QThread, QTimer

logger = logging.getLogger(__name__)


def stop_timers(root: QObject) -> int:
    """Stop every timer of ``root`` and of its children (panels, docks, dialogs); how
    many were running."""
    running = 0
    for timer in root.findChildren(QTimer):
        if timer.isActive():
            running += 1
            timer.stop()
    return running


def release_graphics(view: pg.GraphicsView) -> None:
    """Take every item of ``view``'s scene off its view box, and unlink every axis from
    its view box, while the scene, its view boxes and ``view`` are whole.

    The items taken off (images, curves, the histogram's level lines, ROIs) are then in
    no scene: Qt never asks them for their bounds again, and they are deleted with their
    Python owners. What stays in the scene (layouts, empty view boxes, unlinked axes)
    reads nothing of another item when the window is deleted. ``view`` still works
    afterwards (its view boxes are there), it only shows nothing."""
    scene = view.scene()
    if scene is None:
        return
    items = scene.items()
    for item in items:
        if isinstance(item, pg.AxisItem):
            item.unlinkFromView()
    for item in items:
        if isinstance(item, pg.ViewBox):
            for added in list(item.addedItems):
                item.removeItem(added)


class ThreadKeeper:
    """Keeps a QThread that did not end in time referenced until it ends: Qt aborts the
    process when a running QThread is destroyed (its Python owner collected)."""

    _kept: ClassVar[set[QThread]] = set()

    @classmethod
    def keep(cls, thread: QThread) -> None:
        cls._kept.add(thread)
        thread.finished.connect(lambda: cls._kept.discard(thread))
        if thread.isFinished():  # it ended between the wait and the connection
            cls._kept.discard(thread)

    @classmethod
    def kept(cls) -> int:
        """Threads still waited for (for tests)."""
        return sum(1 for thread in cls._kept if thread.isRunning())


def finish_thread(thread: QThread, timeout_s: float, what: str) -> bool:
    """Wait up to ``timeout_s`` for ``thread`` (asked to stop already) to end; one that
    does not is said in the log and kept referenced until it ends. Whether it ended."""
    if thread.wait(QDeadlineTimer(int(timeout_s * 1000))):
        return True
    logger.error("%s did not stop within %.0f s; it is left to end on its own", what, timeout_s)
    ThreadKeeper.keep(thread)
    return False
