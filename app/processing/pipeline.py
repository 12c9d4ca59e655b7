"""The processor pipeline: each processor's outputs feed the next, in order."""

from __future__ import annotations

import inspect
import logging
import sysconfig
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from app.processing.errors import ErrorPolicy
from app.processing.ordered_stages import Skipped
from app.processing.ownership import inputs_before, take_ownership
from app.processing.parameters import ProcessorParameters, record_in
from app.processing.signature import callable_arity, describe_callable
from app.processing.stats import ProcessorStats

logger = logging.getLogger(__name__)

Image = np.ndarray
Metadata = dict[str, Any]
ImageAndMetadata = tuple[Image, Metadata]

PROCESSOR_SIGNATURES = "(image, metadata) or (image, metadata, event_queue)"


@dataclass(eq=False)
class Processor:
    """A user's image processor with its arity, switches, parameters and statistics.

    ``fn(image, metadata[, event_queue])`` returns ``(image, metadata)``, a list of
    such tuples, or ``None``. Its arity is checked here, when it is registered.
    Keyword parameters with a default beyond those (``sigma: float = 1.5``) are
    ``parameters``, tunable while it runs (app/processing/parameters.py); they are
    passed by keyword, with the values current when each frame arrives.
    """

    fn: Callable[..., Any]
    name: str = ""
    enabled: bool = True
    source: str = "script"
    live: bool = False
    error: str | None = None  # why its source failed to load, if it did
    #: frames it may run on at once (1: one at a time, in acquisition order)
    workers: int = 1
    arity: int = field(init=False)
    stats: ProcessorStats = field(default_factory=ProcessorStats)
    parameters: ProcessorParameters = field(init=False, repr=False)
    #: ``parameters`` when there are any, else None: the one check the frame path makes
    tunable: ProcessorParameters | None = field(init=False, repr=False)
    #: the event queue's parameter name when it must be passed by keyword (it comes
    #: after a tunable parameter in the signature)
    _queue_keyword: str | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(
                f"workers must be a whole number of 1 or more (how many frames the "
                f"processor may run on at once), not {self.workers!r}"
            )
        if self.workers > 1 and callable(getattr(self.fn, "finish", None)):
            raise ValueError(
                f"{describe_callable(self.fn)} holds frames back (it has finish(), as "
                "@z_stack): it keeps state, so it runs on one frame at a time (workers=1)"
            )
        self.parameters = ProcessorParameters.of(self.fn)
        self.tunable = self.parameters if self.parameters else None
        self.arity = callable_arity(
            self.fn, (2, 3), "An image processor", PROCESSOR_SIGNATURES, keywords=self.parameters
        )
        if self.tunable is not None and self.arity == 3:
            self._queue_keyword = _queue_after_parameters(self.fn, set(self.parameters))
        if not self.name:
            self.name = getattr(self.fn, "__name__", None) or type(self.fn).__name__

    def keep_parameters_of(self, old: Processor) -> None:
        """Take over the parameter values of ``old`` (this processor's previous
        version, before a reload): its very values object when the parameters are the
        same (an acquisition still running ``old`` then follows the form too), else
        the values the user set for parameters that kept their type."""
        if self.parameters.specs == old.parameters.specs:
            self.parameters, self.tunable = old.parameters, old.tunable
        else:
            self.parameters.carry_over(old.parameters)

    def __call__(self, image: Image, metadata: Metadata, event_queue: Any) -> Any:
        if self.arity == 3:
            return self.fn(image, metadata, event_queue)
        return self.fn(image, metadata)

    def call_with(
        self, image: Image, metadata: Metadata, event_queue: Any, values: Mapping[str, Any]
    ) -> Any:
        """The call with the tunable parameters' ``values`` (a snapshot's)."""
        if self._queue_keyword is not None:
            return self.fn(image, metadata, **{self._queue_keyword: event_queue}, **values)
        if self.arity == 3:
            return self.fn(image, metadata, event_queue, **values)
        return self.fn(image, metadata, **values)


def _queue_after_parameters(fn: Callable[..., Any], tunable: set[str]) -> str | None:
    """The name of ``fn``'s third positional (event queue) parameter when a tunable
    parameter comes before it: it must then be passed by keyword."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    seen_tunable = False
    plain = 0
    for param in positional:
        if param.name in tunable:
            seen_tunable = True
            continue
        plain += 1
        if plain == 3:
            return param.name if seen_tunable else None
    return None


class ProcessorOutputError(TypeError):
    """A processor returned something that is not an image, a list of images, or None."""


@dataclass(frozen=True)
class ProcessorFailure:
    """One error from user code, with enough to find the line that raised."""

    where: str
    axes: dict[str, Any] | None
    exception: BaseException
    traceback_text: str

    @property
    def raised_at(self) -> str | None:
        """The user's line that raised (file:line), not the ``def`` line of ``where``."""
        return raised_at(self.exception)

    def __str__(self) -> str:
        line = self.raised_at
        at = f" at {line}" if line else ""
        return f"{self.where} raised {self.exception!r}{at} on image {self.axes}"


_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
#: Scopeflow, the standard library and installed packages: frames that are not the user's
_NOT_USER_CODE = (
    _PACKAGE_DIR,
    *{sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")},
)


def raised_at(exc: BaseException) -> str | None:
    """``file:line`` of the deepest frame outside Scopeflow: the user's line that raised
    (or called the library that raised)."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if not frame.filename.startswith(_NOT_USER_CODE):
            found = f"{frame.filename}:{frame.lineno}"
    return found


def user_traceback(exc: BaseException) -> str:
    """The traceback from the user's own code down: Scopeflow's frames above it are noise."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        if tb.tb_next is None:
            break  # the error is in Scopeflow itself (e.g. a bad return value): keep it
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def normalize_outputs(result: Any, processor: Processor) -> list[ImageAndMetadata]:
    """The list of (image, metadata) a processor's return value stands for."""
    if result is None:
        return []
    items = [result] if isinstance(result, tuple) else result
    if not isinstance(items, list):
        raise ProcessorOutputError(
            f"image processor {describe_callable(processor.fn)} returned "
            f"{type(result).__name__}; it must return (image, metadata), a list of them, or None"
        )
    for item in items:
        if (
            not isinstance(item, tuple)
            or len(item) != 2
            or not isinstance(item[0], np.ndarray)
            or not isinstance(item[1], dict)
        ):
            raise ProcessorOutputError(
                f"image processor {describe_callable(processor.fn)} returned an item "
                f"{_short(item)}; each item must be a tuple (numpy image, metadata dict)"
            )
        if item[0].size == 0:
            raise ProcessorOutputError(
                f"image processor {describe_callable(processor.fn)} returned an empty image "
                f"(shape {item[0].shape}): nothing is saved for it; return None to drop a "
                "frame"
            )
    return items


def _short(item: Any) -> str:
    text = repr(item) if not isinstance(item, np.ndarray) else f"array{item.shape}"
    return text if len(text) < 80 else text[:77] + "..."


def _follow_channel_changes(
    input_channel: Any, input_axes: dict[str, Any], outputs: list[ImageAndMetadata]
) -> None:
    """Store an output under its new ``Channel`` where the processor changed only that.

    A processor names a new image either by its axes (``metadata["Axes"]["channel"]``,
    pycro-manager's "returning multiple images" example) or by a changed
    ``metadata["Channel"]``. The axes win: ``Channel`` sets the channel axis only of an
    output whose ``Channel`` changed and whose channel axis did not.
    """
    for _, md in outputs:
        axes = md.get("Axes")
        if not isinstance(axes, dict) or "Channel" not in md:
            continue
        if axes.get("channel") != input_axes.get("channel"):
            continue  # the processor set the axis itself
        if md["Channel"] != input_channel:
            md["Axes"] = {**axes, "channel": md["Channel"]}


class ProcessorPipeline:
    """Runs processors in order on the processing thread and applies the error policy.

    ``process`` is called from one thread at a time. An exception from a processor is
    recorded in its statistics and in ``failures``; under ``ErrorPolicy.ABORT`` it is
    then re-raised unchanged (with a note naming the processor and the image), so the
    acquisition can stop and hand it to the user.

    ``switch`` names the processor's switch that says whether it runs here: ``enabled``
    (the On box: acquisitions) or ``live`` (the Live box: Live), each on its own.
    """

    def __init__(
        self,
        processors: Iterable[Processor | Callable[..., Any]] = (),
        on_error: ErrorPolicy | str = ErrorPolicy.ABORT,
        switch: Literal["enabled", "live"] = "enabled",
    ) -> None:
        self.processors = [p if isinstance(p, Processor) else Processor(p) for p in processors]
        self.on_error = ErrorPolicy(on_error)
        self.switch = switch
        self.failures: list[ProcessorFailure] = []
        #: the processor called last (for a report when one hangs; a parallel stage's
        #: threads set it too, so it names one of those running)
        self.running: str | None = None
        #: the calls running now (a parallel stage runs several), by a token of each:
        #: (who, when it started, ``time.perf_counter``), so that a status can say which
        #: processor has been on one image for a while
        self._calls: dict[object, tuple[str, float]] = {}

    def __len__(self) -> int:
        return len(self.processors)

    @property
    def parallel(self) -> bool:
        """True when an enabled processor may run on several frames at once."""
        return any(self.runs(p) and p.workers > 1 for p in self.processors)

    def runs(self, processor: Processor) -> bool:
        """Whether ``processor``'s switch for this pipeline is on (read at each frame)."""
        return bool(getattr(processor, self.switch))

    def stages(self, event_queue: Any) -> list[ProcessorStage]:
        """The processors as the ordered scheduler's stages (processing/ordered_stages.py)."""
        return [ProcessorStage(self, p, event_queue) for p in self.processors]

    def holds(self, axes: dict[str, Any]) -> bool:
        """Whether a processor holds the image of ``axes`` back, to hand it on later
        (a processor object with a ``holds(axes)`` method, as ``@z_stack``)."""
        for processor in self.processors:
            holds = getattr(processor.fn, "holds", None)
            if callable(holds) and holds(axes):
                return True
        return False

    def finish(self, event_queue: Any) -> list[ImageAndMetadata]:
        """What processors held back, once every frame went through: a processor object
        with a ``finish()`` method (``@z_stack``'s incomplete stacks) returns it there,
        as a processor returns images; it goes on through the processors after it.
        An error is recorded in ``failures`` and logged; the others still finish."""
        outputs: list[ImageAndMetadata] = []
        for index, processor in enumerate(self.processors):
            finish = getattr(processor.fn, "finish", None)
            if not callable(finish):
                continue
            try:
                held = normalize_outputs(finish(), processor)
                for later in self.processors[index + 1 :]:
                    if self.runs(later) and held:
                        held = [
                            out for item in held for out in self.run_one(later, item, event_queue)
                        ]
            except Exception as exc:
                if not any(f.exception is exc for f in self.failures):
                    where = f"finish() of image processor {describe_callable(processor.fn)}"
                    text = user_traceback(exc)
                    self.failures.append(ProcessorFailure(where, None, exc, text))
                    logger.error("%s failed:\n%s", where, text)
                continue
            outputs.extend(held)
        return outputs

    def process(self, image: Image, metadata: Metadata, event_queue: Any) -> list[ImageAndMetadata]:
        items: list[ImageAndMetadata] = [(image, metadata)]
        for processor in self.processors:
            if not self.runs(processor) or not items:
                continue
            next_items: list[ImageAndMetadata] = []
            for item in items:
                next_items.extend(self.run_one(processor, item, event_queue))
            items = next_items
        return items

    def run_one(
        self,
        processor: Processor,
        item: ImageAndMetadata,
        event_queue: Any,
        skipped_raises: bool = False,
    ) -> list[ImageAndMetadata]:
        """``processor`` on one image, under the error policy (thread-safe: a parallel
        stage calls it from its pool)."""
        start = time.perf_counter()
        self.running = who = f"image processor {processor.name}"
        token = object()
        self._calls[token] = (who, start)
        try:
            return self._run_one(processor, item, event_queue, skipped_raises, start)
        finally:
            self._calls.pop(token, None)

    def oldest_call(self) -> tuple[str, float] | None:
        """The call running longest now: (who, its start, ``time.perf_counter``), None
        when none runs (read from any thread: a copy is taken in one step)."""
        calls = list(self._calls.copy().values())
        return min(calls, key=lambda call: call[1]) if calls else None

    def _run_one(
        self,
        processor: Processor,
        item: ImageAndMetadata,
        event_queue: Any,
        skipped_raises: bool,
        start: float,
    ) -> list[ImageAndMetadata]:
        image, metadata = item
        input_channel = metadata.get("Channel")
        axes = dict(metadata.get("Axes") or {})
        tunable = processor.tunable
        try:
            before = inputs_before(image, metadata)
            if tunable is None:
                result = processor(image, metadata, event_queue)
            else:  # one snapshot for the whole frame: a change applies from the next one
                snapshot = tunable.snapshot
                result = processor.call_with(image, metadata, event_queue, snapshot.values)
            result, copied = take_ownership(result, before)
            outputs = normalize_outputs(result, processor)
        except Exception as exc:
            elapsed = time.perf_counter() - start
            text = user_traceback(exc)
            where = f"image processor {describe_callable(processor.fn)}"
            processor.stats.record_error(elapsed, f"{type(exc).__name__}: {exc}", text)
            self.failures.append(ProcessorFailure(where, axes, exc, text))
            logger.error(
                "%s failed on %s:\n%s",
                where,
                f"image {axes}" if axes else "a frame of Live or Snap",
                text,
            )
            if self.on_error is ErrorPolicy.ABORT:
                exc.add_note(f"Raised by {where} while processing the image with axes {axes}")
                raise
            if self.on_error is ErrorPolicy.PASS_THROUGH:
                setattr(processor, self.switch, False)
                logger.warning("Disabled %s; frames now pass through it unprocessed", where)
                return [item]
            if skipped_raises:  # the ordered scheduler marks the frame it belongs to
                raise Skipped(where) from exc
            return []
        if copied:
            processor.stats.record_copy()
        end = time.perf_counter()
        processor.stats.record(end - start, len(outputs), end)
        if tunable is not None:
            record_in(outputs, processor.name, snapshot.recorded)
        _follow_channel_changes(input_channel, axes, outputs)
        return outputs


@dataclass(frozen=True)
class ProcessorStage:
    """One processor as a stage of ``OrderedStages``: run through the pipeline's error
    policy, statistics and ownership rules, exactly as ``process`` runs it."""

    pipeline: ProcessorPipeline
    processor: Processor
    event_queue: Any

    @property
    def workers(self) -> int:
        return self.processor.workers

    @property
    def active(self) -> bool:
        return self.pipeline.runs(self.processor)

    def run(self, item: ImageAndMetadata) -> list[ImageAndMetadata]:
        return self.pipeline.run_one(self.processor, item, self.event_queue, skipped_raises=True)
