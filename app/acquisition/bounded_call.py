"""A user's hook or callback that never returns must not hang the acquisition.

An ``image_saved_fn`` stuck on a network drive, a notification listener waiting for a
lock, a hook in an endless loop: each would block the thread that called it, and with
it abort, ``with Acquisition(...)`` and every future. A ``BoundedCall`` runs the user's
function on a thread of its own and waits for it at most ``timeout_s``, and not at all
once the acquisition is aborted. One that does
not return in time raises ``CallbackTimeoutError`` (reported like any error of that
callback) and is given up: Python cannot stop a thread, so it is left to finish on its
own, and later calls are not made, so nothing waits for it again.

The cost is one hand-over between threads per call (tens of microseconds), paid only
by acquisitions that give such functions.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.acquisition.hooks import UserCallable

#: how long ``image_saved_fn`` or a notification callback may take by default
#: (``Acquisition(callback_timeout_s=)``); hooks have no limit by default
#: (``hook_timeout_s``): a pycro-manager hook may wait minutes for a wash-in
DEFAULT_CALLBACK_TIMEOUT_S = 60.0
_POLL_S = 0.05  # how often a waiting caller looks at stop_waiting


class CallbackTimeoutError(TimeoutError):
    """A user's function did not return in time; it is no longer called."""


class CallAbandonedError(RuntimeError):
    """The acquisition was aborted while a user's function ran: it was not waited for
    (it finishes on its own thread)."""


@dataclass
class _Call:
    args: tuple[Any, ...]
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class BoundedCall:
    """Calls ``callable_`` like ``UserCallable`` does, on its own thread, waiting at
    most ``timeout_s`` (None: as long as it takes), and no longer once ``stop_waiting()``
    is true (the acquisition was aborted). With neither, the call is made directly on
    the caller's thread."""

    def __init__(
        self,
        callable_: UserCallable,
        timeout_s: float | None,
        stop_waiting: Callable[[], bool] | None = None,
    ) -> None:
        self.callable = callable_
        self.timeout_s = timeout_s
        self.stop_waiting = stop_waiting
        self.given_up = False
        self._abandoned = False  # given up because the acquisition was aborted
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return self.callable.where

    @property
    def role(self) -> str:
        return self.callable.role

    def __call__(self, *args: Any) -> Any:
        if self.timeout_s is None and self.stop_waiting is None:
            return self.callable(*args)
        if self.given_up:
            if self._abandoned:
                raise CallAbandonedError(f"{self.where} is no longer called: it was abandoned")
            raise CallbackTimeoutError(f"{self.where} is no longer called: it hung before")
        call = _Call(args)
        self._ensure_thread()
        self._calls.put(call)
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        while not call.done.wait(_POLL_S):
            if self.stop_waiting is not None and self.stop_waiting():
                self.given_up = self._abandoned = True
                raise CallAbandonedError(
                    f"{self.where} was still running when the acquisition was aborted; "
                    "it was not waited for"
                )
            if deadline is not None and time.monotonic() > deadline:
                self.given_up = True
                raise CallbackTimeoutError(
                    f"{self.where} did not return within {self.timeout_s:g} s; it is no "
                    "longer called (Acquisition(callback_timeout_s=... or "
                    "hook_timeout_s=...) gives it longer)"
                )
        if call.error is not None:
            raise call.error
        return call.value

    def close(self) -> None:
        """Let the thread end once it is idle (a stuck one ends when its call returns)."""
        with self._lock:
            if self._thread is not None:
                self._calls.put(None)
                self._thread = None

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name=f"scopeflow-{self.role}", daemon=True
                )
                self._thread.start()

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            try:
                call.value = self.callable(*call.args)
            except BaseException as exc:  # handed to the caller, which reports it
                call.error = exc
            finally:
                call.done.set()
