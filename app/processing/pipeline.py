"""The processor pipeline: each processor's outputs feed the next, in order."""

from __future__ import annotations

import logging
import sysconfig
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.processing.errors import ErrorPolicy
from app.processing.ownership import InputRefs, take_ownership
from app.processing.signature import callable_arity, describe_callable
from app.processing.stats import ProcessorStats

logger = logging.getLogger(__name__)

Image = np.ndarray
Metadata = dict[str, Any]
ImageAndMetadata = tuple[Image, Metadata]

PROCESSOR_SIGNATURES = "(image, metadata) or (image, metadata, event_queue)"


@dataclass(eq=False)
class Processor:
    """A user's image processor with its arity, switches and statistics.

    ``fn(image, metadata[, event_queue])`` returns ``(image, metadata)``, a list of
    such tuples, or ``None``. Its arity is checked here, when it is registered.
    """

    fn: Callable[..., Any]
    name: str = ""
    enabled: bool = True
    source: str = "script"
    live: bool = False
    error: str | None = None  # why its source failed to load, if it did
    arity: int = field(init=False)
    stats: ProcessorStats = field(default_factory=ProcessorStats)

    def __post_init__(self) -> None:
        self.arity = callable_arity(self.fn, (2, 3), "An image processor", PROCESSOR_SIGNATURES)
        if not self.name:
            self.name = getattr(self.fn, "__name__", None) or type(self.fn).__name__

    def __call__(self, image: Image, metadata: Metadata, event_queue: Any) -> Any:
        if self.arity == 3:
            return self.fn(image, metadata, event_queue)
        return self.fn(image, metadata)


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
    """

    def __init__(
        self,
        processors: Iterable[Processor | Callable[..., Any]] = (),
        on_error: ErrorPolicy | str = ErrorPolicy.ABORT,
    ) -> None:
        self.processors = [p if isinstance(p, Processor) else Processor(p) for p in processors]
        self.on_error = ErrorPolicy(on_error)
        self.failures: list[ProcessorFailure] = []

    def __len__(self) -> int:
        return len(self.processors)

    def process(self, image: Image, metadata: Metadata, event_queue: Any) -> list[ImageAndMetadata]:
        items: list[ImageAndMetadata] = [(image, metadata)]
        for processor in self.processors:
            if not processor.enabled or not items:
                continue
            next_items: list[ImageAndMetadata] = []
            for item in items:
                next_items.extend(self._run_one(processor, item, event_queue))
            items = next_items
        return items

    def _run_one(
        self, processor: Processor, item: ImageAndMetadata, event_queue: Any
    ) -> list[ImageAndMetadata]:
        image, metadata = item
        input_channel = metadata.get("Channel")
        axes = dict(metadata.get("Axes") or {})
        start = time.perf_counter()
        try:
            before = InputRefs(image, metadata)
            result = processor(image, metadata, event_queue)
            result, copied = take_ownership(result, before)
            outputs = normalize_outputs(result, processor)
        except Exception as exc:
            elapsed = time.perf_counter() - start
            text = user_traceback(exc)
            where = f"image processor {describe_callable(processor.fn)}"
            processor.stats.record_error(elapsed, f"{type(exc).__name__}: {exc}", text)
            self.failures.append(ProcessorFailure(where, axes, exc, text))
            logger.error("%s failed on image %s:\n%s", where, axes, text)
            if self.on_error is ErrorPolicy.ABORT:
                exc.add_note(f"Raised by {where} while processing the image with axes {axes}")
                raise
            if self.on_error is ErrorPolicy.PASS_THROUGH:
                processor.enabled = False
                logger.warning("Disabled %s; frames now pass through it unprocessed", where)
                return [item]
            return []
        if copied:
            processor.stats.record_copy()
        processor.stats.record(time.perf_counter() - start, len(outputs))
        _follow_channel_changes(input_channel, axes, outputs)
        return outputs
