"""Checking user callables when they are registered, not when the first frame arrives."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Sequence
from typing import Any


def describe_callable(fn: Callable[..., Any]) -> str:
    """``name (file:line)``, for error messages that point at the user's code."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    code = getattr(inspect.unwrap(fn), "__code__", None)
    if code is None and callable(fn):
        code = getattr(getattr(fn, "__call__", None), "__code__", None)  # noqa: B004
    if code is not None:
        return f"{name} ({code.co_filename}:{code.co_firstlineno})"
    return str(name)


def callable_arity(
    fn: Any,
    allowed: Sequence[int],
    role: str,
    signatures: str,
    keywords: Collection[str] = (),
) -> int:
    """How many positional arguments to pass ``fn``: the largest of ``allowed`` it takes.

    Parameters named in ``keywords`` are passed by keyword (a processor's tunable
    parameters): they take no positional place. Raises ``TypeError`` naming ``role``
    and the accepted ``signatures`` when ``fn`` is not callable or cannot take any of
    the allowed counts.
    """
    if not callable(fn):
        raise TypeError(f"{role} must be callable {signatures}, got {fn!r}")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature: trust the user
        return max(allowed)
    required = 0
    most: float = 0
    for param in sig.parameters.values():
        if param.name in keywords and param.kind is not param.POSITIONAL_ONLY:
            continue
        if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            most += 1
            if param.default is param.empty:
                required += 1
        elif param.kind is param.VAR_POSITIONAL:
            most = float("inf")
        elif param.kind is param.KEYWORD_ONLY and param.default is param.empty:
            raise TypeError(
                f"{role} {describe_callable(fn)} has a required keyword-only argument "
                f"{param.name!r}; it must take {signatures}"
            )
    for count in sorted(allowed, reverse=True):
        if required <= count <= most:
            return count
    raise TypeError(
        f"{role} {describe_callable(fn)} takes {_describe_count(required, most)}; "
        f"it must take {signatures}"
    )


def _describe_count(required: int, most: float) -> str:
    if most == required:
        return f"{required} positional argument{'s' if required != 1 else ''}"
    if most == float("inf"):
        return f"at least {required} positional arguments"
    return f"{required} to {int(most)} positional arguments"
