"""A processor's tunable parameters: keyword parameters with a default, set while it runs.

``def denoise(image, metadata, sigma: float = 1.5, mode: str = "reflect")`` has two:
every parameter beyond ``image``, ``metadata`` and ``event_queue`` that has a default
and a type this module knows (from its hint, or from the default when there is no
hint): ``bool``, ``int``, ``float``, ``str``, a ``Path``, an ``Enum`` or a ``Literal``,
each optionally ``Optional``. ``Annotated[float, {"min": 0, "max": 10}]`` adds limits
(and any magicgui widget option, for the form). A parameter of another type keeps its
default and is not tunable.

``ProcessorParameters`` holds the current values. ``set`` checks a new value against
the hint (``"2"`` for an ``int`` is 2; ``"abc"`` raises ``ParameterError`` with a
message that says what was expected) from any thread, and swaps in a new ``snapshot``:
the processing thread reads the snapshot once per frame, without a lock, so a frame
never runs on half of a change, and a change applies from the next frame.
"""

from __future__ import annotations

import enum
import inspect
import logging
import math
import threading
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

logger = logging.getLogger(__name__)

#: the names a processor's own arguments go by: never tunable
RESERVED = frozenset({"image", "metadata", "event_queue"})

#: the metadata key under which each output records the parameter values it was made with
METADATA_KEY = "ScopeflowParameters"


class ParameterError(ValueError):
    """A value that does not fit a parameter's type or limits (the message says why)."""


@dataclass(frozen=True)
class ParameterSpec:
    """One tunable parameter: its name, type, default and limits.

    ``kind`` is ``bool``, ``int``, ``float``, ``str``, ``Path``, an ``Enum`` subclass,
    or ``typing.Literal`` (then ``choices`` are the allowed values).
    """

    name: str
    kind: Any
    default: Any
    annotation: Any = None  # the hint as written, Annotated and Optional removed
    choices: tuple[Any, ...] = ()
    optional: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)  # from Annotated[..., {...}]

    @property
    def type_name(self) -> str:
        """``float``, ``int``, ``one of 'a', 'b'``, ...: what a message says is expected."""
        if self.kind is typing.Literal:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif isinstance(self.kind, type) and issubclass(self.kind, enum.Enum):
            text = "one of " + ", ".join(repr(m.name) for m in self.kind)
        elif self.kind is Path:
            text = "a path"
        else:
            text = self.kind.__name__
        return text + " or None" if self.optional else text

    def same_type(self, other: ParameterSpec) -> bool:
        return (self.kind, self.choices, self.optional) == (
            other.kind,
            other.choices,
            other.optional,
        )

    def coerce(self, value: Any) -> Any:
        """``value`` as this parameter's type, or ``ParameterError``."""
        if self.optional and (value is None or (isinstance(value, str) and not value.strip())):
            return None
        coerced = _COERCE.get(self.kind, _coerce_other)(self, value)
        self._check_limits(coerced)
        return coerced

    def _check_limits(self, value: Any) -> None:
        low, high = self.options.get("min"), self.options.get("max")
        if low is not None and value < low:
            raise ParameterError(f"{self.name} must be at least {low}, not {value!r}")
        if high is not None and value > high:
            raise ParameterError(f"{self.name} must be at most {high}, not {value!r}")

    def to_json(self, value: Any) -> Any:
        """What metadata and settings record: plain JSON values (an Enum by its name)."""
        if isinstance(value, enum.Enum):
            return value.name
        if isinstance(value, PurePath):
            return str(value)
        return value

    def refuse(self, value: Any) -> ParameterError:
        return ParameterError(f"{self.name} must be {_article(self.type_name)}, not {value!r}")


def _article(type_name: str) -> str:
    if type_name.startswith(("one of", "a ")):
        return type_name
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def _coerce_bool(spec: ParameterSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool_":  # numpy's
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
    raise ParameterError(f"{spec.name} must be true or false, not {value!r}")


def _coerce_int(spec: ParameterSpec, value: Any) -> int:
    if isinstance(value, bool):
        raise spec.refuse(value)
    if hasattr(value, "__index__"):  # int, numpy integers
        return int(value.__index__())
    number: Any = value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise ParameterError(
                    f"{spec.name} must be a whole number (int), not {value!r}"
                ) from None
    if isinstance(number, float) or type(number).__name__.startswith("float"):
        number = float(number)
        if math.isfinite(number) and number.is_integer():
            return int(number)
        raise ParameterError(f"{spec.name} must be a whole number (int), not {value!r}")
    raise ParameterError(f"{spec.name} must be a whole number (int), not {value!r}")


def _coerce_float(spec: ParameterSpec, value: Any) -> float:
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ParameterError(f"{spec.name} must be a number (float), not {value!r}") from None
    if not isinstance(value, bool | complex):
        try:
            return float(value)  # int, float, numpy scalars
        except (TypeError, ValueError):
            pass
    raise ParameterError(f"{spec.name} must be a number (float), not {value!r}")


def _coerce_str(spec: ParameterSpec, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise spec.refuse(value)


def _coerce_path(spec: ParameterSpec, value: Any) -> Path:
    if isinstance(value, str | PurePath):
        return Path(value)
    raise spec.refuse(value)


def _coerce_literal(spec: ParameterSpec, value: Any) -> Any:
    for choice in spec.choices:
        if value == choice and type(value) is type(choice):
            return choice
    if isinstance(value, str):  # a choice read back from settings or typed
        for choice in spec.choices:
            if str(choice) == value.strip():
                return choice
    raise spec.refuse(value)


def _coerce_other(spec: ParameterSpec, value: Any) -> Any:
    kind = spec.kind
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        if isinstance(value, kind):
            return value
        if isinstance(value, str) and value.strip() in kind.__members__:
            return kind[value.strip()]
        try:
            return kind(value)
        except (ValueError, TypeError):
            raise spec.refuse(value) from None
    raise spec.refuse(value)  # pragma: no cover - find_parameters keeps no other kind


_COERCE: dict[Any, Callable[[ParameterSpec, Any], Any]] = {
    bool: _coerce_bool,
    int: _coerce_int,
    float: _coerce_float,
    str: _coerce_str,
    Path: _coerce_path,
    typing.Literal: _coerce_literal,
}


# ---------------------------------------------------------------- from a signature


def find_parameters(fn: Callable[..., Any]) -> tuple[ParameterSpec, ...]:
    """The tunable parameters of ``fn``, in signature order (none when it has no
    signature). Positional-only parameters and the first two positional ones (the image
    and the metadata, whatever their names) are never tunable."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return ()
    hints = _hints(fn)
    found = []
    positional_index = 0
    for param in signature.parameters.values():
        is_positional = param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
        index = positional_index
        if is_positional:
            positional_index += 1
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            continue
        if param.default is param.empty or param.name in RESERVED or (is_positional and index < 2):
            continue
        hint = hints.get(param.name, param.annotation)
        spec = _spec(param.name, hint, param.default)
        if spec is not None:
            found.append(spec)
    return tuple(found)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Resolved type hints (``from __future__ import annotations`` gives strings)."""
    target: Any = fn
    if not (inspect.isfunction(fn) or inspect.ismethod(fn)):
        target = getattr(fn, "func", None) or getattr(type(fn), "__call__", fn)  # noqa: B004
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # an unresolvable name in a hint: fall back on the defaults' types
        return {}


def _spec(name: str, hint: Any, default: Any) -> ParameterSpec | None:
    options: dict[str, Any] = {}
    if typing.get_origin(hint) is typing.Annotated:
        hint, *extras = typing.get_args(hint)
        for extra in extras:
            if isinstance(extra, Mapping):
                options.update(extra)
    optional = default is None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == len(typing.get_args(hint)) or len(args) != 1:
            return None  # a union of several types: not one form field
        hint, optional = args[0], True
    if hint is inspect.Parameter.empty or hint is Any or isinstance(hint, str):
        if default is None:
            return None
        hint = type(default)
    annotation = hint
    choices: tuple[Any, ...] = ()
    if typing.get_origin(hint) is typing.Literal:
        kind: Any = typing.Literal
        choices = typing.get_args(hint)
    elif hint in (bool, int, float, str) or (
        isinstance(hint, type) and issubclass(hint, enum.Enum)
    ):
        kind = hint
    elif isinstance(hint, type) and issubclass(hint, PurePath):
        kind, annotation = Path, Path
    else:
        return None
    spec = ParameterSpec(name, kind, default, annotation, choices, optional, options)
    try:
        default_value = spec.coerce(default)
    except ParameterError as exc:
        logger.warning("Parameter %s is not tunable: its default does not fit (%s)", name, exc)
        return None
    return ParameterSpec(name, kind, default_value, annotation, choices, optional, options)


# ---------------------------------------------------------------- current values


@dataclass(frozen=True)
class ParameterSnapshot:
    """The values one frame runs with: ``values`` to call with, ``recorded`` (plain JSON
    values) for its metadata. Made whole by each change, never changed after."""

    values: Mapping[str, Any]
    recorded: Mapping[str, Any]


class ProcessorParameters:
    """The current values of a processor's tunable parameters. Thread-safe.

    Writers (the form, the console, settings) take a lock and swap in a new
    ``snapshot``; the processing thread reads ``snapshot`` once per frame with no lock
    (reading an attribute is atomic). Values set by the user are told apart from
    defaults: they are what settings save, and what a reloaded script keeps.
    """

    def __init__(self, specs: tuple[ParameterSpec, ...] | list[ParameterSpec] = ()) -> None:
        self.specs: dict[str, ParameterSpec] = {s.name: s for s in specs}
        self._lock = threading.Lock()
        self._user: dict[str, Any] = {}
        self.snapshot = self._make_snapshot()

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> ProcessorParameters:
        return cls(find_parameters(fn))

    def __bool__(self) -> bool:
        return bool(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def __iter__(self) -> Iterator[str]:
        return iter(self.specs)

    def __contains__(self, name: object) -> bool:
        return name in self.specs

    def __getitem__(self, name: str) -> Any:
        self.spec(name)
        return self.snapshot.values[name]

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.snapshot.values.items())
        return f"ProcessorParameters({values})"

    def spec(self, name: str) -> ParameterSpec:
        try:
            return self.specs[name]
        except KeyError:
            known = ", ".join(self.specs) or "none"
            raise ParameterError(f"no tunable parameter {name!r} (tunable: {known})") from None

    def values(self) -> dict[str, Any]:
        """The current values, by name (a copy)."""
        return dict(self.snapshot.values)

    def set(self, name: str, value: Any) -> Any:
        """Check ``value`` against the parameter's type and make it current (from the
        next frame); returns the value as stored. ``ParameterError`` leaves the current
        value as it was."""
        coerced = self.spec(name).coerce(value)
        with self._lock:
            self._user[name] = coerced
            self.snapshot = self._make_snapshot()
        return coerced

    def update(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Set several at once: one frame sees all of them or none. Any value that
        does not fit raises ``ParameterError`` and nothing is set."""
        coerced = {name: self.spec(name).coerce(value) for name, value in values.items()}
        with self._lock:
            self._user.update(coerced)
            self.snapshot = self._make_snapshot()
        return coerced

    def reset(self, name: str | None = None) -> None:
        """Back to the default (of ``name``, or of every parameter)."""
        with self._lock:
            if name is None:
                self._user.clear()
            else:
                self.spec(name)
                self._user.pop(name, None)
            self.snapshot = self._make_snapshot()

    def user_values(self) -> dict[str, Any]:
        """The values the user set, as plain JSON values: what settings save."""
        with self._lock:
            return {k: self.specs[k].to_json(v) for k, v in self._user.items()}

    def restore(self, saved: Any) -> list[str]:
        """Apply saved values (``user_values`` of an earlier run). Unknown names and
        values that no longer fit are skipped; returns why, one line each."""
        skipped = []
        for name, value in saved.items() if isinstance(saved, Mapping) else ():
            try:
                self.set(str(name), value)
            except ParameterError as exc:
                skipped.append(str(exc))
        if skipped:
            logger.warning("Saved parameter values not applied: %s", "; ".join(skipped))
        return skipped

    def carry_over(self, old: ProcessorParameters) -> list[str]:
        """Keep what the user set in ``old`` (a processor's previous version) for each
        parameter that still exists with the same type; returns the names kept."""
        with old._lock:
            previous = dict(old._user)
        kept = []
        with self._lock:
            for name, value in previous.items():
                spec = self.specs.get(name)
                if spec is None or not spec.same_type(old.specs[name]):
                    continue
                try:
                    self._user[name] = spec.coerce(value)
                except ParameterError:
                    continue  # e.g. new limits that the old value is outside
                kept.append(name)
            self.snapshot = self._make_snapshot()
        return kept

    def _make_snapshot(self) -> ParameterSnapshot:
        values = {n: self._user.get(n, s.default) for n, s in self.specs.items()}
        recorded = {n: self.specs[n].to_json(v) for n, v in values.items()}
        return ParameterSnapshot(types.MappingProxyType(values), types.MappingProxyType(recorded))


def record_in(
    outputs: list[tuple[Any, dict[str, Any]]], name: str, recorded: Mapping[str, Any]
) -> None:
    """Write ``recorded`` under ``metadata[METADATA_KEY][name]`` of each output (a new
    dict each: outputs may share the nested one with their input or each other)."""
    for _, metadata in outputs:
        previous = metadata.get(METADATA_KEY)
        merged = dict(previous) if isinstance(previous, Mapping) else {}
        merged[name] = dict(recorded)
        metadata[METADATA_KEY] = merged
