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
from typing import Any, overload

from app.current import Current
from app.processing.pipeline import Processor
from app.processing.registry import ProcessorRegistry

_registry: Current[ProcessorRegistry] = Current(ProcessorRegistry)


def current_registry() -> ProcessorRegistry:
    """The app's processor registry (created on first use when running headless)."""
    return _registry.get()


def set_current_registry(registry: ProcessorRegistry | None) -> None:
    _registry.set(registry)


@dataclass
class ScriptCollector:
    """Collects what one script file registers while it is being executed."""

    source: str
    items: list[tuple[Callable[..., Any], str | None, int | None, bool]] = field(
        default_factory=list
    )

    def add(
        self, fn: Callable[..., Any], name: str | None, position: int | None, enabled: bool = True
    ) -> None:
        Processor(fn, name=name or "")  # checks the signature now, in the script's own line
        self.items.append((fn, name, position, enabled))


active_collector: contextvars.ContextVar[ScriptCollector | None] = contextvars.ContextVar(
    "scopeflow_script_collector", default=None
)


def register(
    fn: Callable[..., Any],
    name: str | None = None,
    position: int | None = None,
    enabled: bool = True,
) -> Callable[..., Any]:
    """Register ``fn`` as an image processor (at ``position`` in the pipeline, or last).

    ``enabled`` is its state when it first appears; after that, the user's switch
    (kept across reloads and restarts) wins.
    """
    collector = active_collector.get()
    if collector is not None:
        collector.add(fn, name, position, enabled)
    else:
        registry = current_registry()
        first = (name or getattr(fn, "__name__", "")) not in registry
        registry.register(
            fn, name, position=position, source="console", enabled=enabled if first else None
        )
    return fn


def unregister(name: str) -> None:
    """Remove the processor called ``name`` from the pipeline."""
    current_registry().unregister(name)


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
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


def processor(
    fn_or_name: Any = None,
    /,
    *,
    name: str | None = None,
    position: int | None = None,
    enabled: bool = True,
) -> Any:
    """Register an image processor: ``@processor``, ``@processor("name")`` or
    ``@processor(name="name", position=0, enabled=False)``. Returns the function."""
    if callable(fn_or_name):
        return register(fn_or_name, name, position, enabled)
    chosen = fn_or_name if isinstance(fn_or_name, str) else name

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return register(fn, chosen, position, enabled)

    return decorate
