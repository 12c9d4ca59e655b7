"""AcquisitionFuture: wait for one submitted event's milestones, or its saved image."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from app.acquisition.notifications import AcqNotification

if TYPE_CHECKING:
    from app.acquisition.acquisition import Acquisition


def axes_key(axes: dict[str, Any]) -> frozenset[tuple[str, Any]]:
    return frozenset(axes.items())


class AcquisitionEndedError(RuntimeError):
    """The acquisition ended before the milestone awaited was reached."""


class AcquisitionFuture:
    """Returned by ``Acquisition.acquire``; as pycro-manager's, but it never hangs.

    Every wait ends: when the milestone is reached, when the acquisition ends without
    reaching it (``AcquisitionEndedError``), or after ``timeout`` seconds
    (``TimeoutError``).
    """

    def __init__(self, acq: Acquisition, events: Iterable[dict[str, Any]]) -> None:
        self._acq = acq
        self._cond = threading.Condition()
        self._expected = {axes_key(e["axes"]) for e in events}
        self._reached: dict[frozenset[tuple[str, Any]], set[str]] = {}
        self._saved_count = 0
        self._last_saved: dict[str, Any] | None = None
        self._ended = False

    def _on_notification(self, note: AcqNotification) -> None:
        with self._cond:
            if note.milestone in (
                AcqNotification.Global.ACQ_FINISHED,
                AcqNotification.Image.DATA_SINK_FINISHED,
            ):
                self._ended = note.milestone == AcqNotification.Global.ACQ_FINISHED or self._ended
            elif isinstance(note.payload, dict):
                key = axes_key(note.payload)
                if key in self._expected:  # a long acquisition must not grow every future
                    self._reached.setdefault(key, set()).add(note.milestone)
                if note.milestone == AcqNotification.Image.IMAGE_SAVED:
                    self._saved_count += 1
                    self._last_saved = note.payload
            self._cond.notify_all()

    def _wait(self, predicate: Any, what: str, timeout: float | None) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate() or self._ended, timeout):
                raise TimeoutError(f"Timed out after {timeout} s waiting for {what}")
            if not predicate():
                raise AcquisitionEndedError(f"The acquisition ended before {what}")

    def await_execution(
        self, milestone: str, axes: dict[str, Any] | None = None, timeout: float | None = None
    ) -> None:
        """Block until ``milestone`` (e.g. ``AcqNotification.Hardware.POST_HARDWARE``)
        was reached for the event with ``axes`` (the only event, if it had one)."""
        key = self._key_for(axes)
        self._wait(
            lambda: milestone in self._reached.get(key, ()), f"{milestone} of {axes}", timeout
        )

    def await_image_saved(
        self,
        axes: dict[str, Any] | list[dict[str, Any]] | None = None,
        return_image: bool = True,
        return_metadata: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """Block until the image(s) with ``axes`` are saved, then read them back.

        ``axes=None`` waits for the next image saved. Returns the image, the metadata,
        or both as a tuple, per image (a list when ``axes`` is a list).
        """
        if axes is None:
            with self._cond:
                seen = self._saved_count
            self._wait(lambda: self._saved_count > seen, "the next image was saved", timeout)
            axes_list, single = [self._last_saved], True
        else:
            single = isinstance(axes, dict)
            axes_list = [axes] if isinstance(axes, dict) else list(axes)
            for ax in axes_list:
                key = axes_key(ax)
                self._wait(
                    lambda key=key: AcqNotification.Image.IMAGE_SAVED in self._reached.get(key, ()),
                    f"the image {ax} was saved",
                    timeout,
                )
        results = [self._read(ax, return_image, return_metadata) for ax in axes_list]
        return results[0] if single else results

    def _read(self, axes: dict[str, Any], image: bool, metadata: bool) -> Any:
        dataset = self._acq.get_dataset()
        if dataset is None:
            raise RuntimeError("This acquisition saves nothing (no directory and name)")
        if image and metadata:
            return dataset.read_image(**axes), dataset.read_metadata(**axes)
        if metadata:
            return dataset.read_metadata(**axes)
        return dataset.read_image(**axes) if image else None

    def _key_for(self, axes: dict[str, Any] | None) -> frozenset[tuple[str, Any]]:
        if axes is not None:
            return axes_key(axes)
        if len(self._expected) != 1:
            raise ValueError("This future has several events: pass the axes to wait for")
        return next(iter(self._expected))
