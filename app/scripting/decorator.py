"""``@processor``: one decorator for the console and for script files.

In the console it registers the function at once. While a script file of the
scripts folder is being loaded, it hands the function to that file's loader instead,
which registers the file's processors together once the whole file ran without error
(so a broken edit never replaces a working version).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

from app.current import Current
from app.processing.pipeline import Processor
from app.processing.registry import ProcessorRegistry

_registry: Current[ProcessorRegistry] = Current(ProcessorRegistry)


def current_registry() -> ProcessorRegistry:
    """The app's processor registry (created on first use when running headless)."""
    return _registry.get()


def set_current_registry(registry: ProcessorRegistry | None) -> None:
    _registry.set(registry)


class Declaration(NamedTuple):
    """A processor as a script declared it (``@processor(...)``), before registering."""

    fn: Callable[..., Any]
    name: str | None
    position: int | None
    enabled: bool = True
    workers: int = 1


@dataclass
class ScriptCollector:
    """Collects what one script file registers while it is being executed."""

    source: str
    items: list[Declaration] = field(default_factory=list)

    def add(self, declared: Declaration) -> None:
        # checks the signature and the declaration now, in the script's own line
        Processor(declared.fn, name=declared.name or "", workers=declared.workers)
        self.items.append(declared)


active_collector: contextvars.ContextVar[ScriptCollector | None] = contextvars.ContextVar(
    "scopeflow_script_collector", default=None
)


def register(
    fn: Callable[..., Any],
    name: str | None = None,
    position: int | None = None,
    enabled: bool = True,
    workers: int = 1,
) -> Callable[..., Any]:
    """Register ``fn`` as an image processor (at ``position`` in the pipeline, or last).

    ``enabled`` is its state when it first appears; after that, the user's switch
    (kept across reloads and restarts) wins. ``workers=N`` lets it run on up to N
    frames at once (a processor that keeps no state from frame to frame and releases
    the GIL, as numpy, scipy.ndimage and scikit-image mostly do); its outputs still
    leave in acquisition order.
    """
    collector = active_collector.get()
    if collector is not None:
        collector.add(Declaration(fn, name, position, enabled, workers))
    else:
        registry = current_registry()
        first = (name or getattr(fn, "__name__", "")) not in registry
        registry.register(
            fn,
            name,
            position=position,
            source="console",
            enabled=enabled if first else None,
            workers=workers,
        )
    return fn


def unregister(name: str) -> None:
    """Remove the processor called ``name`` from the pipeline."""
    current_registry().unregister(name)


def set_parameter(name: str, parameter: str, value: Any) -> Any:
    """Set a tunable parameter (a keyword parameter with a default, such as
    ``sigma: float = 1.5``) of the processor ``name``, from the next frame. The value is
    checked against the type hint: ``ParameterError`` says why one does not fit.
    Returns the value as stored (``"2"`` for an ``int`` is 2)."""
    return current_registry().set_parameter(name, parameter, value)


@overload
def processor(fn_or_name: Callable[..., Any], /) -> Callable[..., Any]: ...
@overload
def processor(
    fn_or_name: str | None = None,
    /,
    *,
    name: str | None = None,
    position: int | None = None,
    enabled: bool = True,
    workers: int = 1,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


def processor(
    fn_or_name: Any = None,
    /,
    *,
    name: str | None = None,
    position: int | None = None,
    enabled: bool = True,
    workers: int = 1,
) -> Any:
    """Register an image processor: ``@processor``, ``@processor("name")`` or
    ``@processor(name="name", position=0, enabled=False, workers=4)``. Returns the
    function."""
    if callable(fn_or_name):
        return register(fn_or_name, name, position, enabled, workers)
    chosen = fn_or_name if isinstance(fn_or_name, str) else name

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return register(fn, chosen, position, enabled, workers)

    return decorate
