"""Frames through a pipeline's stages, several at once where a stage allows it, leaving
in the order they came.

A stage is one processor. A serial stage (the default: a processor may keep state from
frame to frame, or queue events whose order matters) sees the frames one at a time, in
acquisition order, on the calling thread. A parallel stage (a processor declared with
``workers=N``) runs on up to N frames at once in a pool of its own; its outputs wait for
the frames before them. So ``[heavy_filter (workers=4), running_statistics]`` filters
four frames at a time while the statistics still see frame 1 before frame 2. A frame
whose processors are all serial goes straight through, as with no pool at all.

This is the ordered pipeline of stream-processing libraries (serial-in-order and
parallel filters), kept small: the caller's thread schedules, pools only compute.
"""

from __future__ import annotations

import concurrent.futures
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

Item = Any  # what a stage takes and returns a list of: an (image, metadata) pair
P = TypeVar("P")  # what travels with a frame (the caller's frame record)


class Stage(Protocol):
    """What the scheduler needs of a processor."""

    @property
    def workers(self) -> int:
        """How many frames it may run on at once (1: serial, in order)."""

    @property
    def active(self) -> bool:
        """False skips it (a processor switched off while frames are in flight)."""

    def run(self, item: Item) -> list[Item]:
        """Its outputs for one input (it applies the error policy itself)."""


class Skipped(Exception):
    """Raised by a stage's ``run`` for an item its error policy drops (the error is
    recorded already): the frame goes on without it, marked ``skipped``."""


@dataclass
class Finished(Generic[P]):
    """A frame that went through every stage: its outputs, or the error that stopped it;
    ``skipped`` when a stage's error policy dropped one of its items."""

    payload: P
    items: list[Item]
    error: BaseException | None = None
    skipped: bool = False


@dataclass
class _InFlight(Generic[P]):
    payload: P
    items: list[Item]
    stage: int = 0
    pending: list[concurrent.futures.Future[list[Item]]] = field(default_factory=list)
    error: BaseException | None = None
    skipped: bool = False


class OrderedStages(Generic[P]):
    """Not thread-safe: one thread calls ``put``, ``advance`` and ``drain``. ``wake`` is
    called from pool threads when a result is ready (the caller makes its thread look
    again: ``advance``)."""

    def __init__(
        self,
        stages: Sequence[Stage],
        wake: Callable[[], None] = lambda: None,
        thread_name: str = "scopeflow-processor",
    ) -> None:
        self.stages = list(stages)
        self._wake = wake
        self._pools: dict[int, concurrent.futures.ThreadPoolExecutor] = {}
        for index, stage in enumerate(self.stages):
            if stage.workers > 1:
                self._pools[index] = concurrent.futures.ThreadPoolExecutor(
                    stage.workers, thread_name_prefix=f"{thread_name}-{index}"
                )
        #: frames in flight at most: enough to keep the widest pool busy, and a frame
        #: ahead for each of its workers (more only holds memory)
        self.window = max((stage.workers for stage in self.stages), default=1) * 2
        self._frames: deque[_InFlight[P]] = deque()

    @property
    def parallel(self) -> bool:
        return bool(self._pools)

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, payload: P, items: list[Item]) -> list[Finished[P]]:
        """Take a frame; the frames finished since (in order). Blocks while the window
        is full, until the oldest frames leave."""
        finished = []
        while len(self._frames) >= self.window:
            self._wait_for_any()
            finished.extend(self.advance())
        self._frames.append(_InFlight(payload, items))
        finished.extend(self.advance())
        return finished

    def drain(self) -> list[Finished[P]]:
        """Every frame in flight, finished (waits for the pools)."""
        finished = self.advance()
        while self._frames:
            self._wait_for_any()
            finished.extend(self.advance())
        return finished

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=False)

    def advance(self) -> list[Finished[P]]:
        """Move every frame as far as it may go now; the finished ones, in order."""
        moved = True
        while moved:
            moved = False
            for position, frame in enumerate(self._frames):
                moved |= self._move(frame, position)
        finished = []
        while self._frames and self._done(self._frames[0]):
            frame = self._frames.popleft()
            finished.append(Finished(frame.payload, frame.items, frame.error, frame.skipped))
        return finished

    # ------------------------------------------------------------ inside
    def _done(self, frame: _InFlight[P]) -> bool:
        return frame.stage >= len(self.stages) and not frame.pending

    def _move(self, frame: _InFlight[P], position: int) -> bool:
        moved = False
        if frame.pending:
            if not all(future.done() for future in frame.pending):
                return False
            self._collect(frame)
            moved = True
        while frame.stage < len(self.stages):
            stage = self.stages[frame.stage]
            if not frame.items or frame.error is not None:
                frame.stage = len(self.stages)  # nothing left to process
                return True
            if not stage.active:
                frame.stage += 1
                moved = True
                continue
            pool = self._pools.get(frame.stage)
            if pool is not None:
                frame.pending = [pool.submit(stage.run, item) for item in frame.items]
                for future in frame.pending:
                    future.add_done_callback(self._on_result)
                return True
            if not self._older_frames_passed(frame.stage, position):
                return moved  # a serial stage keeps acquisition order
            outputs: list[Item] = []
            try:
                for item in frame.items:
                    try:
                        outputs.extend(stage.run(item))
                    except Skipped:
                        frame.skipped = True
                frame.items = outputs
            except BaseException as exc:  # the error policy re-raised: the caller reports it
                frame.error = exc
                frame.items = []
            frame.stage += 1
            moved = True
        return moved

    def _older_frames_passed(self, stage: int, position: int) -> bool:
        return all(self._frames[index].stage > stage for index in range(position))

    def _collect(self, frame: _InFlight[P]) -> None:
        outputs: list[Item] = []
        for future in frame.pending:
            exc = future.exception()
            if isinstance(exc, Skipped):
                frame.skipped = True
            elif exc is not None:
                frame.error = frame.error or exc
            else:
                outputs.extend(future.result())
        frame.pending = []
        frame.items = [] if frame.error is not None else outputs
        frame.stage += 1

    def _wait_for_any(self) -> None:
        pending = [future for frame in self._frames for future in frame.pending]
        if pending:
            concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)

    def _on_result(self, _future: concurrent.futures.Future[list[Item]]) -> None:
        self._wake()
