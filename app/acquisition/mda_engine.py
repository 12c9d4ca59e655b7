"""pymmcore-plus's MDAEngine with a burst readout that does not lose the last frames,
and hardware failures that are raised, not only logged.

pymmcore-plus 0.18.1 stops reading a hardware sequence as soon as the camera reports
it is no longer running and the buffer looks empty. The camera can report that just
before its last frame lands in the buffer, so that frame is left behind and the burst
comes up short (seen with the demo camera about once in twenty short bursts). This
engine keeps reading until every frame of the burst has arrived, waiting a grace
period after the camera stopped; it also skips converting the camera's per-frame
metadata, which Scopeflow does not use, to keep the per-frame cost low.

pymmcore-plus also logs, and then ignores, a hardware setting the device refuses (a
property value, the exposure, the channel preset, a stage position) and a camera that
fails to snap: the event runs with the wrong settings, or its image is silently
missing. This engine overrides the two methods pymmcore-plus documents for
subclassing (``setup_single_event``, ``exec_single_event``), watches the warnings
pymmcore-plus logs on the acquisition thread while they run, and raises them
(``HardwareRefusedError``, ``CameraSnapError``), so the failure stops the acquisition
with its cause, like any hardware error, and what was acquired stays saved.

What this engine starts, it stops, whatever fails. pymmcore-plus stops the stage,
exposure and property sequences of a burst in ``teardown_event`` only, one after the
other (the first that raises leaves the rest running), and leaves a camera sequence
running when reading a burst is given up (a hook raising after the camera started, a
runner that stops reading). Here a burst's camera sequence is stopped when its reading
ends by an error or is abandoned; the sequences set up for it are recorded as they are
started and each is stopped in ``teardown_event``, even when another refuses; and
``abandon()`` (which ``teardown_sequence`` calls) stops whatever is still going, never
raising, for the runner's failure paths.

A device that fails while an event is set up (a stage that does not arrive within the
core's timeout) raises ``HardwareRefusedError`` too, naming the event and where the
stages were sent. And a burst pymmcore-plus merged longer than a device's sequence can
be (``event_iterator``) is cut to fit rather than refused by the device.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pymmcore_plus import CMMCorePlus
from pymmcore_plus.core import SequencedEvent
from pymmcore_plus.mda import MDAEngine

from app.acquisition.events import EVENT_METADATA_KEY
from app.microscope.simulated import update_simulated_sample

logger = logging.getLogger(__name__)

LATE_FRAME_GRACE_S = 0.5
PYMMCORE_PLUS_LOGGER = "pymmcore-plus"


class HardwareRefusedError(RuntimeError):
    """A device refused a setting an event asked for; the message names it."""


class CameraSnapError(RuntimeError):
    """The camera failed to take an event's image; the message has the camera's words."""


class _ThisThreadsWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def _warnings_logged_by_pymmcore_plus() -> Iterator[list[str]]:
    """The warnings pymmcore-plus logs on this thread inside the ``with``.

    A logger quieted below WARNING (``setLevel(logging.ERROR)``, a common way to hush
    pymmcore-plus) would not even make the records: it is let down to WARNING for the
    call, and its other handlers, which keep their own levels, are held to what the
    logger let through before."""
    handler = _ThisThreadsWarnings()
    library_logger = logging.getLogger(PYMMCORE_PLUS_LOGGER)
    quieted_at = library_logger.getEffectiveLevel()
    hush = _AtLeast(quieted_at) if quieted_at > logging.WARNING else None
    if hush is not None:
        for other in library_logger.handlers:
            other.addFilter(hush)
        library_logger.setLevel(logging.WARNING)
    library_logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        library_logger.removeHandler(handler)
        if hush is not None:
            library_logger.setLevel(quieted_at)
            for other in library_logger.handlers:
                other.removeFilter(hush)


class _AtLeast(logging.Filter):
    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


class ScopeflowMDAEngine(MDAEngine):
    #: called with the burst right after the camera sequence started (the runner's
    #: post-camera hook goes here: external triggers must come after the start)
    on_sequence_started: Callable[[SequencedEvent], None] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the stage, exposure and property sequences set up for the current burst
        #: and not stopped yet: (stop method's name, its arguments)
        self._sequences_started: list[tuple[str, tuple[str, ...]]] = []
        #: the camera's sequence of a burst this engine started is still to be stopped
        self._camera_started = False

    def frame_timeout_s(self, event: SequencedEvent) -> float:
        """How long to wait for each frame of a burst: pymmcore-plus's public settings
        (``timeout_base``, ``timeout_multiplier`` times the exposure)."""
        exposure_s = (event.exposure or 0.0) / 1000.0
        return max(self.timeout_base, exposure_s * self.timeout_multiplier)

    def sequence_timed_out(self, timeout: float) -> None:
        """Stop the camera; raise or warn as ``timeout_action`` says."""
        self.mmcore.stopSequenceAcquisition()
        message = (
            f"The camera delivered no frame for {timeout:.1f} s during a hardware sequence "
            "(waiting for an external trigger? give the events a longer 'timeout_ms')"
        )
        if self.timeout_action == "raise":
            raise TimeoutError(message)
        logger.warning(message)

    def setup_single_event(self, event: Any) -> None:
        self._set_up_or_raise(super().setup_single_event, event, _what(event))

    def setup_sequenced_event(self, event: SequencedEvent) -> None:
        # Recorded before they start: a setup that fails half-way is stopped as well.
        self._sequences_started.extend(_sequences_of(self.mmcore, event))
        self._set_up_or_raise(super().setup_sequenced_event, event, _what(event))

    def event_iterator(self, events: Iterable[Any]) -> Iterator[Any]:
        """pymmcore-plus's merging, with each burst cut to what its devices take.

        pymmcore-plus 0.18.1 checks a device's longest sequence only on events whose
        value differs from the burst's first: with values alternating (two channels'
        exposures, a filter wheel's two positions) it merges one event past the longest
        sequence the device takes, and loading it fails ("Sequence is too large for
        this device"). Such a burst is merged again in pieces the devices take."""
        for unit in super().event_iterator(events):
            if not isinstance(unit, SequencedEvent):
                yield unit
                continue
            longest = _longest_sequence(self.mmcore, unit)
            if longest is None or len(unit.events) <= longest:
                yield unit
                continue
            pieces = -(-len(unit.events) // longest)  # in even pieces: 11 for 10 is 6 + 5
            size = -(-len(unit.events) // pieces)
            for start in range(0, len(unit.events), size):
                yield from super().event_iterator(unit.events[start : start + size])

    def setup_event(self, event: Any) -> None:
        """Set the hardware up for an event or a burst. A device that fails (a stage
        that does not get there before the core's timeout, a setting refused) raises
        ``HardwareRefusedError`` naming the event and where it sent the stages."""
        try:
            super().setup_event(event)
        except HardwareRefusedError:
            raise
        except Exception as exc:
            raise HardwareRefusedError(
                f"The hardware failed to set up the {_what(event)} {_axes_of(event)}"
                f"{_targets(self.mmcore, event)}: {exc}"
            ) from exc

    def _set_up_or_raise(self, set_up: Callable[[Any], None], event: Any, what: str) -> None:
        """Run pymmcore-plus's setup; raise what it only logged as refused."""
        with _warnings_logged_by_pymmcore_plus() as refused:
            set_up(event)
        update_simulated_sample(self.mmcore)  # no-op on real hardware
        if refused:
            raise HardwareRefusedError(
                f"The hardware refused the settings of the {what} {_axes_of(event)}"
                f"{_targets(self.mmcore, event)}: " + "; ".join(refused)
            )

    def exec_single_event(self, event: Any) -> Iterator[Any]:
        with _warnings_logged_by_pymmcore_plus() as failures:
            payloads = list(super().exec_single_event(event))  # one per camera channel
        if not payloads and failures:
            raise CameraSnapError(
                f"The camera failed to take the image {_axes_of(event)}: " + "; ".join(failures)
            )
        for message in failures:  # images came, but something was off: keep it visible
            logger.warning("While taking the image %s: %s", _axes_of(event), message)
        # not ``yield from``: the runner may send "cancel", which a list cannot take
        for payload in payloads:  # noqa: UP028
            yield payload

    def post_sequence_started(self, event: SequencedEvent) -> None:
        if self.on_sequence_started is not None:
            self.on_sequence_started(event)

    def teardown_event(self, event: Any) -> None:
        """pymmcore-plus's teardown; if it raises, every sequence set up for the burst is
        still stopped (each tried) before its error goes on."""
        try:
            super().teardown_event(event)
        except Exception as error:
            for problem in self._stop_sequences():
                error.add_note(f"Also, while stopping the burst's sequences: {problem}")
            raise
        finally:
            self._sequences_started.clear()

    def teardown_sequence(self, sequence: Any) -> None:
        self.abandon()
        super().teardown_sequence(sequence)

    def abandon(self) -> list[str]:
        """Stop whatever this engine started that is still going: a burst's camera
        sequence, and its stage, exposure and property sequences. Never raises (a
        failure path calls it with an error of its own to report); returns what could
        not be stopped, logged."""
        problems = self._stop_camera()
        problems += self._stop_sequences()
        for problem in problems:
            logger.error("Could not stop the hardware after the acquisition: %s", problem)
        return problems

    def _stop_camera(self) -> list[str]:
        if not self._camera_started:
            return []
        self._camera_started = False
        core = self.mmcore
        try:
            if core.isSequenceRunning():
                core.stopSequenceAcquisition()
        except Exception as exc:
            return [f"the camera's sequence: {exc}"]
        return []

    def _stop_sequences(self) -> list[str]:
        problems = []
        core = self.mmcore
        while self._sequences_started:
            method, args = self._sequences_started.pop(0)
            try:
                getattr(core, method)(*args)
            except Exception as exc:
                problems.append(f"{method}{args}: {exc}")
        return problems

    def exec_sequenced_event(self, event: SequencedEvent) -> Iterator[Any]:  # type: ignore[override]
        """Read a burst; its camera sequence is stopped if the reading fails or is
        abandoned (the generator closed), so no error leaves the camera running."""
        self._camera_started = True  # from here on, a running sequence is this burst's
        try:
            if self.mmcore.getNumberOfCameraChannels() != 1 or event.slm_image is not None:
                yield from super().exec_sequenced_event(event)
            else:
                yield from self._read_burst(event)
        finally:
            problems = self._stop_camera()
            if problems:
                logger.error("Could not stop the camera after a burst: %s", problems[0])

    def _read_burst(self, event: SequencedEvent) -> Iterator[Any]:
        core = self.mmcore
        expected = len(event.events)
        t0 = event.metadata.get("runner_t0")
        t0_ms = (time.perf_counter() - t0) * 1000 if t0 else 0.0
        camera = core.getCameraDevice()
        # Read once, before the camera runs: asking a device (the camera's exposure)
        # while its own thread inserts frames races that thread inside the adapter
        # (the device lock does not cover it), and nothing read here changes in a burst.
        burst_meta = self.get_frame_metadata(
            event.events[0],
            prop_values=(),
            runner_time_ms=t0_ms,
            camera_device=camera,
            include_position=False,
        )
        core.startSequenceAcquisition(expected, 0, True)
        self.post_sequence_started(event)
        frame_timeout = _event_timeout_s(event) or self.frame_timeout_s(event)
        first_frame = self.timeout_first_frame or frame_timeout
        deadline = time.monotonic() + max(first_frame, frame_timeout)
        stopped_at: float | None = None
        received = 0
        while received < expected:
            if core.getRemainingImageCount():
                sub_event = event.events[received]
                meta = {**burst_meta, "mda_event": sub_event, "hardware_triggered": True}
                received += 1
                deadline = time.monotonic() + frame_timeout
                # not kept in a local: the engine lets each frame's array go once read
                # in, and the next pop reuses its memory, still in the caches (#21)
                if (yield (core.popNextImage(), sub_event, meta)) == "cancel":
                    core.stopSequenceAcquisition()
                    return
            elif core.isSequenceRunning():
                if time.monotonic() > deadline:
                    self.sequence_timed_out(frame_timeout)
                    break
                time.sleep(0.0005)
            else:
                # The camera stopped; its last frames may still be landing in the buffer.
                now = time.monotonic()
                stopped_at = stopped_at or now
                if now - stopped_at > LATE_FRAME_GRACE_S:
                    break
                time.sleep(0.001)
        if core.isBufferOverflowed():
            raise MemoryError("Buffer overflowed")
        for _ in range(expected - received):
            yield None


def _longest_sequence(core: CMMCorePlus, unit: SequencedEvent) -> int | None:
    """The most events a burst's sequenced devices take (None: nothing limits it)."""
    limits: list[int] = []
    try:
        if unit.exposure_sequence:
            limits.append(core.getExposureSequenceMaxLength(core.getCameraDevice()))
        if unit.x_sequence:
            limits.append(core.getXYStageSequenceMaxLength(core.getXYStageDevice()))
        if unit.z_sequence:
            limits.append(core.getStageSequenceMaxLength(core.getFocusDevice()))
        if unit.slm_sequence:
            limits.append(core.getSLMSequenceMaxLength(core.getSLMDevice()))
        for device, prop in unit.property_sequences:
            limits.append(core.getPropertySequenceMaxLength(device, prop))
    except Exception:  # a device that cannot say: leave the burst as pymmcore-plus made it
        return None
    positive = [limit for limit in limits if limit > 0]
    return min(positive) if positive else None


def _sequences_of(core: CMMCorePlus, event: SequencedEvent) -> list[tuple[str, tuple[str, ...]]]:
    """The sequences pymmcore-plus starts for a burst, as the calls that stop them."""
    stops: list[tuple[str, tuple[str, ...]]] = []
    if event.exposure_sequence:
        stops.append(("stopExposureSequence", (core.getCameraDevice(),)))
    if event.x_sequence:
        stops.append(("stopXYStageSequence", (core.getXYStageDevice(),)))
    if event.z_sequence:
        stops.append(("stopStageSequence", (core.getFocusDevice(),)))
    for device, prop in event.property_sequences:
        stops.append(("stopPropertySequence", (device, prop)))
    return stops


def _what(event: Any) -> str:
    return "burst" if isinstance(event, SequencedEvent) else "event"


def _targets(core: CMMCorePlus, event: Any) -> str:
    """Where an event sends the stages, for an error message: " (XY stage ... µm)"."""
    where = []
    x, y = event.x_pos, event.y_pos
    if x is not None or y is not None:
        stage = core.getXYStageDevice() or "XY stage"
        at = ", ".join(
            f"{name}={value:g}" for name, value in (("x", x), ("y", y)) if value is not None
        )
        where.append(f"XY stage {stage} to {at} µm")
    if event.z_pos is not None:
        where.append(f"focus {core.getFocusDevice() or 'stage'} to z={event.z_pos:g} µm")
    return f" ({'; '.join(where)})" if where else ""


def _axes_of(event: Any) -> Any:
    """The pycro-manager axes of a useq event made from one (its index otherwise); of a
    burst, its first and last events'."""
    members = getattr(event, "events", None)
    if members:
        first, last = _axes_of(members[0]), _axes_of(members[-1])
        return first if len(members) == 1 else f"{first} to {last}"
    ours = event.metadata.get(EVENT_METADATA_KEY)
    return ours["axes"] if isinstance(ours, dict) and "axes" in ours else dict(event.index)


def _event_timeout_s(event: SequencedEvent) -> float | None:
    """The longest ``timeout_ms`` the burst's events ask for, in seconds (or None)."""
    asked = [
        e.metadata[EVENT_METADATA_KEY].get("timeout_ms")
        or e.metadata[EVENT_METADATA_KEY].get("timeout")
        for e in event.events
        if EVENT_METADATA_KEY in e.metadata
    ]
    timeouts = [t for t in asked if t]
    return max(timeouts) / 1000 if timeouts else None
