"""The processor registry: the app's pipeline, in order, with each processor's switches.

The registry is the model behind the processors panel, the console's ``@processor``
decorator and the scripts folder. Re-registering a name replaces the function but
keeps the entry's place, its switches and the parameter values the user set (those
whose parameter still exists with the same type), which is what makes a hot reload
invisible to the user's arrangement.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from psygnal import Signal

from app.processing.parameters import ParameterError
from app.processing.pipeline import Processor


class ProcessorRegistry:
    """Ordered, named processors. Thread-safe; ``changed`` fires after every change."""

    changed = Signal()

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: list[Processor] = []

    # ------------------------------------------------------------ reading
    def __repr__(self) -> str:
        lines = [
            f"  {i}. {p.name}{'' if p.enabled else ' (off for acquisitions)'}"
            f"{' [on Live]' if p.live else ''}"
            f"  <- {p.source}{'  ERROR' if p.error else ''}"
            for i, p in enumerate(self)
        ]
        return "Processors, in pipeline order:\n" + ("\n".join(lines) or "  (none)")

    def __getitem__(self, index: int) -> Processor:
        with self._lock:
            return self._entries[index]

    def __iter__(self) -> Iterator[Processor]:
        with self._lock:
            return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return any(p.name == name for p in self._entries)

    def names(self) -> list[str]:
        with self._lock:
            return [p.name for p in self._entries]

    def get(self, name: str) -> Processor:
        with self._lock:
            for entry in self._entries:
                if entry.name == name:
                    return entry
        raise KeyError(f"No processor named {name!r}; registered: {self.names()}")

    def for_acquisition(self) -> list[Processor]:
        """The entries an acquisition started now runs (disabled ones are skipped live)."""
        with self._lock:
            return list(self._entries)

    def for_live(self) -> list[Processor]:
        with self._lock:
            return [p for p in self._entries if p.live]

    # ------------------------------------------------------------ changing
    def register(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        *,
        position: int | None = None,
        source: str = "console",
        enabled: bool | None = None,
        live: bool | None = None,
        workers: int = 1,
    ) -> Processor:
        """Add ``fn``, or replace the function of the entry with the same name.

        The arity is checked here (``TypeError`` for a wrong signature). A replaced
        entry keeps its position and switches unless they are given.
        """
        entry = Processor(fn, name=name or "", source=source, workers=workers)
        with self._lock:
            index = next((i for i, p in enumerate(self._entries) if p.name == entry.name), None)
            if index is not None:
                old = self._entries.pop(index)
                entry.enabled = old.enabled if enabled is None else enabled
                entry.live = old.live if live is None else live
                entry.stats = old.stats
                entry.keep_parameters_of(old)
                entry.error = None
                insert_at = index if position is None else position
            else:
                entry.enabled = True if enabled is None else enabled
                entry.live = False if live is None else live
                insert_at = len(self._entries) if position is None else position
            self._entries.insert(max(0, min(insert_at, len(self._entries))), entry)
        self.changed.emit()
        return entry

    def unregister(self, name: str) -> None:
        with self._lock:
            self._entries.remove(self.get(name))
        self.changed.emit()

    def remove_source(self, source: str, keep: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
        """Remove the entries that came from ``source`` except ``keep``; returns their names."""
        with self._lock:
            gone = [p for p in self._entries if p.source == source and p.name not in keep]
            for entry in gone:
                self._entries.remove(entry)
        if gone:
            self.changed.emit()
        return [p.name for p in gone]

    def move(self, name: str, index: int) -> None:
        with self._lock:
            entry = self.get(name)
            self._entries.remove(entry)
            self._entries.insert(max(0, min(index, len(self._entries))), entry)
        self.changed.emit()

    def set_enabled(self, name: str, enabled: bool) -> None:
        self.get(name).enabled = enabled
        self.changed.emit()

    def set_live(self, name: str, live: bool) -> None:
        self.get(name).live = live
        self.changed.emit()

    def set_parameter(self, name: str, parameter: str, value: Any) -> Any:
        """Set a tunable parameter of the processor ``name``: from the next frame, in
        Live and in acquisitions running now. ``value`` is checked against the
        parameter's type hint (``"2"`` for an ``int`` is 2); one that does not fit
        raises ``ParameterError`` and changes nothing. Returns the value as stored.
        The Processors panel's form shows it within half a second."""
        try:
            return self.get(name).parameters.set(parameter, value)
        except ParameterError as exc:
            raise ParameterError(f"{name}: {exc}") from None

    def set_error(self, name: str, error: str | None) -> None:
        """Attach a load error (a broken script) to an entry, shown by the panel."""
        self.get(name).error = error
        self.changed.emit()

    # ------------------------------------------------------------ settings
    def state(self) -> list[dict[str, Any]]:
        """Order, switches and the parameter values the user set, to save with the
        user's settings (plain JSON values)."""
        with self._lock:
            entries = list(self._entries)
        state = []
        for p in entries:
            item: dict[str, Any] = {"name": p.name, "enabled": p.enabled, "live": p.live}
            values = p.parameters.user_values()
            if values:
                item["parameters"] = values
            state.append(item)
        return state

    def restore_state(self, state: list[dict[str, Any]]) -> None:
        """Apply saved order and switches to the entries that exist (others, and items
        that are not such records, are ignored)."""
        with self._lock:
            by_name = {p.name: p for p in self._entries}
            ordered: list[Processor] = []
            for item in state if isinstance(state, list) else ():
                if not isinstance(item, dict):
                    continue
                entry = by_name.pop(str(item.get("name")), None)
                if entry is None:
                    continue
                entry.enabled = bool(item.get("enabled", True))
                entry.live = bool(item.get("live", False))
                entry.parameters.restore(item.get("parameters") or {})
                ordered.append(entry)
            self._entries = ordered + [p for p in self._entries if p.name in by_name]
        self.changed.emit()
