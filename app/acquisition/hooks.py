"""User hooks and callbacks, checked at construction and called with the right arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.processing.signature import callable_arity, describe_callable

HOOK_SIGNATURES = "(event) or (event, event_queue)"
SAVED_SIGNATURES = "(axes, dataset) or (axes, dataset, event_queue)"


class UserFunction(Protocol):
    """What the engine and the workers call: a user's hook or callback, however it is
    run (directly, or bounded in time by ``BoundedCall``)."""

    @property
    def where(self) -> str: ...

    def __call__(self, *args: Any) -> Any: ...


@dataclass(frozen=True)
class UserCallable:
    """A user function with the number of positional arguments it takes."""

    fn: Callable[..., Any]
    role: str
    arity: int = field(default=0)

    @classmethod
    def hook(cls, fn: Callable[..., Any] | None, role: str) -> UserCallable | None:
        if fn is None:
            return None
        return cls(fn, role, callable_arity(fn, (1, 2), role, HOOK_SIGNATURES))

    @classmethod
    def image_saved(cls, fn: Callable[..., Any] | None) -> UserCallable | None:
        if fn is None:
            return None
        role = "image_saved_fn"
        return cls(fn, role, callable_arity(fn, (2, 3), role, SAVED_SIGNATURES))

    @classmethod
    def notification(cls, fn: Callable[..., Any] | None) -> UserCallable | None:
        if fn is None:
            return None
        role = "notification_callback_fn"
        return cls(fn, role, callable_arity(fn, (1,), role, "(notification)"))

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args[: self.arity])

    @property
    def where(self) -> str:
        return f"{self.role} {describe_callable(self.fn)}"
