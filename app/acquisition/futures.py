"""AcquisitionFuture: wait for submitted events' milestones, or their saved images."""

from __future__ import annotations

import threading
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

from app.acquisition.cameras import images_of
from app.acquisition.notifications import (
    AcqNotification,
    AcquisitionMilestone,
    CameraMilestone,
    HardwareMilestone,
    ImageMilestone,
)
from app.storage.sink import ReadableDataset

AxesKey = frozenset[tuple[str, Any]]

#: the milestones a future tracks for each of its events (as pycro-manager's)
EVENT_MILESTONES = frozenset(
    {
        *HardwareMilestone,
        CameraMilestone.PRE_SNAP,
        CameraMilestone.POST_SNAP,
        CameraMilestone.PRE_SEQUENCE_STARTED,
        CameraMilestone.POST_SEQUENCE_STOPPED,
        CameraMilestone.POST_EXPOSURE,
        ImageMilestone.IMAGE_SAVED,
    }
)
_SNAP = {CameraMilestone.PRE_SNAP, CameraMilestone.POST_SNAP}
_SEQUENCE = {CameraMilestone.PRE_SEQUENCE_STARTED, CameraMilestone.POST_SEQUENCE_STOPPED}


def axes_key(axes: dict[str, Any]) -> AxesKey:
    return frozenset(axes.items())


class MilestoneUnreachableError(RuntimeError):
    """What a future waits for will never happen; the message says why."""


class AcquisitionEndedError(MilestoneUnreachableError):
    """The acquisition ended before the milestone awaited was reached."""


class ImageNotSavedError(MilestoneUnreachableError):
    """The image awaited will never be saved: a hook skipped its event, a processor
    returned no image with its axes, the camera did not deliver it, or the
    acquisition was aborted or failed first."""


class AcquisitionFuture:
    """Returned by ``Acquisition.acquire``; as pycro-manager's, but it never hangs.

    Every wait ends: when the milestone is reached; at once when it cannot be reached
    any more (``ImageNotSavedError``, ``AcquisitionEndedError``, both
    ``MilestoneUnreachableError``); or after ``timeout`` seconds (``TimeoutError``).

    ``read_dataset`` gives the dataset saved images are read from (None when the
    acquisition keeps no images). ``notify`` is how the acquisition feeds it its
    notifications, on the thread that posts each (``LiveFutures``).
    """

    def __init__(
        self,
        events: Iterable[dict[str, Any]],
        read_dataset: Callable[[], ReadableDataset | None],
        *,
        from_generator: bool = False,
        cameras: tuple[str, ...] = (),
    ) -> None:
        self._read_dataset = read_dataset
        self._cond = threading.Condition()
        #: several cameras (``cameras.py``): each event gives one image per camera,
        #: under its own axes, followed as well as the event's
        self._cameras = cameras
        self._image_keys: set[AxesKey] = set()  # with several cameras, the images'
        self._expected: set[AxesKey] = set()
        # events and images with each axes whose outcome is still to come (axes may
        # repeat)
        self._outstanding: Counter[AxesKey] = Counter()
        self._follow_all([event["axes"] for event in events])
        # events from a generator become known as the engine reads them
        self._growing = from_generator
        self._cut_short: str | None = None
        self._reached: dict[AxesKey, set[str]] = {}
        self._not_saved: dict[AxesKey, str] = {}
        self._saved_count = 0
        self._last_saved: dict[str, Any] | None = None
        self._ended = False
        #: told each axes key this future starts to follow (``LiveFutures``' index)
        self._key_listener: Callable[[AxesKey], None] | None = None

    @property
    def axes(self) -> list[dict[str, Any]]:
        """The axes of the events this future follows."""
        with self._cond:
            return [dict(key) for key in self._expected]

    def _follow_all(self, axes: list[dict[str, Any]]) -> None:
        """Follow a list's events at once: their keys counted in one pass, as
        ``_follow`` one by one would (Start's click makes a future of 999 events: 0.77
        ms one by one, on the window's thread)."""
        if self._cameras:  # an image's axes that are its event's count once, as there
            keys: list[AxesKey] = []
            for each in axes:
                images = {axes_key(image) for image in images_of(each, self._cameras)}
                self._image_keys |= images
                keys += images | {axes_key(each)}
        else:
            keys = [axes_key(each) for each in axes]
        self._outstanding.update(keys)
        self._expected.update(keys)

    def _follow(self, axes: dict[str, Any]) -> set[AxesKey]:
        """Follow an event's axes (and its cameras' images); the keys new to it."""
        keys = {axes_key(axes)}
        if self._cameras:
            images = {axes_key(image) for image in images_of(axes, self._cameras)}
            self._image_keys |= images
            keys |= images
        new = keys - self._expected
        for key in keys:
            self._expected.add(key)
            self._outstanding[key] += 1
        return new

    def expect(self, axes: dict[str, Any]) -> None:
        """An event read from the generator this future was made for: follow it too."""
        with self._cond:
            new = self._follow(axes)
            listener = self._key_listener
            self._cond.notify_all()
        if listener is not None:
            for key in new:
                listener(key)

    def follow_keys(self, listener: Callable[[AxesKey], None]) -> set[AxesKey]:
        """The axes keys followed now; ``listener`` is told each one followed later."""
        with self._cond:
            self._key_listener = listener
            return set(self._expected)

    def generator_done(self, why: str | None = None) -> None:
        """The generator has no more events: axes it never produced will not come.
        ``why``: the reason it was cut short (None when it ended by itself)."""
        with self._cond:
            self._growing = False
            self._cut_short = why
            self._cond.notify_all()

    def notify(self, note: AcqNotification) -> None:
        with self._cond:
            if note.milestone == AcquisitionMilestone.ACQ_FINISHED:
                self._ended = True
            elif isinstance(note.payload, dict | list):
                payloads = note.payload if isinstance(note.payload, list) else [note.payload]
                for axes in payloads:
                    key = axes_key(axes)
                    if key not in self._expected:  # a long acquisition must not grow every future
                        continue
                    if note.milestone == ImageMilestone.IMAGE_NOT_SAVED:
                        self._outstanding[key] -= 1
                        self._not_saved.setdefault(key, note.detail or "it was not saved")
                    else:
                        self._reached.setdefault(key, set()).add(note.milestone)
                    if note.milestone == ImageMilestone.IMAGE_SAVED:
                        self._not_saved.pop(key, None)  # saved after all (a processor held it)
                        self._saved_count += 1
                        self._last_saved = dict(axes)
            self._cond.notify_all()

    # ------------------------------------------------------------ waiting
    def _unreachable(self, key: AxesKey, milestone: str) -> str | None:
        """Why ``milestone`` can no longer come for the event ``key`` (None: it may)."""
        reached = self._reached.get(key, set())
        if milestone in reached:
            return None
        if milestone in _SNAP and CameraMilestone.PRE_SEQUENCE_STARTED in reached:
            return (
                "the event ran in a hardware sequence (it has pre_sequence_started and "
                "post_sequence_stopped, not pre_snap and post_snap)"
            )
        if milestone in _SEQUENCE and CameraMilestone.PRE_SNAP in reached:
            return (
                "the event was snapped alone (it has pre_snap and post_snap, not the "
                "sequence milestones)"
            )
        why = self._not_saved.get(key)
        if why is None or self._outstanding[key] > 0:
            return None  # another event with these axes may still bring the image
        if milestone == CameraMilestone.POST_SEQUENCE_STOPPED and (
            CameraMilestone.PRE_SEQUENCE_STARTED in reached
        ):
            return None  # its burst is still running
        return why

    def _wait(self, key: AxesKey, milestone: str, what: str, timeout: float | None) -> None:
        def settled() -> bool:
            if key not in self._expected:
                return not self._growing or self._ended
            return (
                milestone in self._reached.get(key, ())
                or self._unreachable(key, milestone) is not None
                or self._ended
            )

        with self._cond:
            if not self._cond.wait_for(settled, timeout):
                raise TimeoutError(f"Timed out after {timeout} s waiting for {what}")
            if key not in self._expected:
                if self._cut_short is not None:
                    raise ImageNotSavedError(f"{what} will not happen: {self._cut_short}")
                raise MilestoneUnreachableError(
                    f"{what} will not happen: the generator given to acquire() produced no "
                    f"event with axes {dict(key)}"
                )
            if milestone in self._reached.get(key, ()):
                return
            why = self._unreachable(key, milestone)
            if why is not None:
                error = ImageNotSavedError if key in self._not_saved else MilestoneUnreachableError
                raise error(f"{what} will not happen: {why}")
            raise AcquisitionEndedError(f"The acquisition ended before {what}")

    def _key_for(self, axes: dict[str, Any] | None) -> AxesKey:
        if axes is None:
            if self._growing or self._cut_short is not None:
                raise ValueError("This future follows a generator: pass the axes to wait for")
            if len(self._expected) != 1:
                raise ValueError("This future has several events: pass the axes to wait for")
            return next(iter(self._expected))
        key = axes_key(axes)
        with self._cond:
            known = key in self._expected or self._growing
            cut_short = self._cut_short
        if not known and cut_short is not None:
            raise ImageNotSavedError(f"The event {axes} will not run: {cut_short}")
        if not known:
            raise ValueError(
                f"This future has no event with axes {axes}; its events have "
                f"{sorted(map(str, self.axes))[:10]}"
            )
        return key

    def await_execution(
        self, milestone: str, axes: dict[str, Any] | None = None, timeout: float | None = None
    ) -> None:
        """Block until ``milestone`` (e.g. ``AcqNotification.Hardware.POST_HARDWARE``)
        was reached for the event with ``axes`` (the only event, if it had one).

        pycro-manager's earlier order, ``await_execution(axes, milestone)``, works too.
        """
        if isinstance(milestone, dict) and (axes is None or isinstance(axes, str)):
            milestone, axes = axes, milestone
        if milestone not in EVENT_MILESTONES:
            raise ValueError(
                f"{milestone!r} is not a milestone of an event; use one of "
                f"{sorted(map(str, EVENT_MILESTONES))}"
            )
        key = self._key_for(axes)
        self._wait(key, milestone, f"{milestone} of the event {dict(key)}", timeout)

    def await_image_saved(
        self,
        axes: dict[str, Any] | list[dict[str, Any]] | None = None,
        return_image: bool = True,
        return_metadata: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """Block until the image(s) with ``axes`` are saved, then read them back.

        ``axes=None`` waits for the next image saved. Returns, per image, the image,
        its metadata, both as a tuple ``(image, metadata)``, or None, as asked; a list
        of those when ``axes`` is a list.
        """
        if self._read_dataset() is None:
            raise ImageNotSavedError(
                "This acquisition keeps no images (storage='none'): nothing is ever saved"
            )
        if axes is None:
            with self._cond:
                seen = self._saved_count
                if not self._cond.wait_for(
                    lambda: self._saved_count > seen or self._ended, timeout
                ):
                    raise TimeoutError(f"Timed out after {timeout} s waiting for the next image")
                if self._saved_count == seen:
                    raise AcquisitionEndedError("The acquisition ended before another image")
                assert self._last_saved is not None
                axes_list, single = [self._last_saved], True
        else:
            single = isinstance(axes, dict)
            axes_list = [axes] if isinstance(axes, dict) else list(axes)
            for ax in axes_list:
                self._refuse_event_of_several_cameras(ax)
            keys = [self._key_for(ax) for ax in axes_list]
            for ax, key in zip(axes_list, keys, strict=True):
                self._wait(key, ImageMilestone.IMAGE_SAVED, f"saving the image {ax}", timeout)
        results = [self._read(ax, return_image, return_metadata) for ax in axes_list]
        return results[0] if single else results

    def _refuse_event_of_several_cameras(self, axes: dict[str, Any]) -> None:
        """An event's axes, where each camera saved an image of its own: say which."""
        if not self._cameras:
            return
        key = axes_key(axes)
        with self._cond:
            an_event = key in self._expected and key not in self._image_keys
        if an_event:
            images = images_of(axes, self._cameras)
            raise ValueError(
                f"The event {axes} gives one image per camera ({', '.join(self._cameras)}): "
                f"wait for {images[0]}, or for all of {images}"
            )

    def _read(self, axes: dict[str, Any], image: bool, metadata: bool) -> Any:
        dataset = self._read_dataset()
        if dataset is None:  # checked on entry; a sink's dataset does not go away
            raise ImageNotSavedError("This acquisition keeps no images")
        if image and metadata:
            return dataset.read_image(**axes), dataset.read_metadata(**axes)
        if metadata:
            return dataset.read_metadata(**axes)
        return dataset.read_image(**axes) if image else None


class LiveFutures:
    """The futures someone still holds, told every notification.

    Notifications are posted on the threads of the frame path (the engine, processing
    and saving: ``NotificationDispatcher.connect_direct``), several per frame, so a
    notification about an image reaches only the futures that follow its axes (an
    index by axes key: a script keeping a future per ``acquire`` call holds thousands,
    and telling each of them every notification cost milliseconds per frame), and
    reading takes no lock: lists that only grow while they are read, swapped for
    pruned ones. Milestones of the whole acquisition reach every future. A future let
    go of is forgotten at the next ``add`` or pruning (its weak reference's callback
    only notes it: a callback may run on any thread, also inside this lock).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: list[weakref.ref[AcquisitionFuture]] = []
        self._by_key: dict[AxesKey, list[weakref.ref[AcquisitionFuture]]] = {}
        self._keys_of: dict[weakref.ref[AcquisitionFuture], set[AxesKey]] = {}
        self._gone: deque[weakref.ref[AcquisitionFuture]] = deque()

    def add(self, future: AcquisitionFuture) -> None:
        ref = weakref.ref(future, self._gone.append)  # deque.append: atomic, no lock
        keys = future.follow_keys(lambda key: self._index(ref, key))
        with self._lock:
            self._forget_gone()
            self._all = [*self._all, ref]
            self._keys_of[ref] = keys
            by_key = self._by_key
            for key in keys:
                by_key[key] = [*by_key.get(key, ()), ref]

    def __len__(self) -> int:
        """The futures followed (those let go of are forgotten at the next ``add``)."""
        return len(self._all)

    def notify(self, note: AcqNotification) -> None:
        payload = note.payload
        if isinstance(payload, dict):
            refs: Iterable[weakref.ref[AcquisitionFuture]] = self._by_key.get(axes_key(payload), ())
        elif isinstance(payload, list):
            found = (self._by_key.get(axes_key(axes), ()) for axes in payload)
            refs = list(dict.fromkeys(ref for refs_of in found for ref in refs_of))
        else:
            refs = self._all
        for ref in refs:
            future = ref()
            if future is not None:
                future.notify(note)

    def _index(self, ref: weakref.ref[AcquisitionFuture], key: AxesKey) -> None:
        with self._lock:
            if ref in self._keys_of:
                self._index_locked(ref, key)

    def _index_locked(self, ref: weakref.ref[AcquisitionFuture], key: AxesKey) -> None:
        self._by_key[key] = [*self._by_key.get(key, ()), ref]
        self._keys_of[ref].add(key)

    def _forget_gone(self) -> None:
        """The futures let go of leave the index (lock held)."""
        if not self._gone:
            return
        gone: set[weakref.ref[AcquisitionFuture]] = set()
        while self._gone:
            gone.add(self._gone.popleft())
        self._all = [ref for ref in self._all if ref not in gone]
        for ref in gone:
            for key in self._keys_of.pop(ref, ()):
                left = [other for other in self._by_key.get(key, ()) if other is not ref]
                if left:
                    self._by_key[key] = left
                else:
                    self._by_key.pop(key, None)
