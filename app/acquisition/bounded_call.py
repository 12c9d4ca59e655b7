"""A user's hook or callback that never returns must not hang the acquisition.

An ``image_saved_fn`` stuck on a network drive, a notification listener waiting for a
lock, a hook in an endless loop: each would block the thread that called it, and with
it abort, ``with Acquisition(...)`` and every future. A ``BoundedCall`` runs the user's
function on a thread of its own and waits for it at most ``timeout_s``. One that does
not return in time raises ``CallbackTimeoutError`` (reported like any error of that
callback) and is given up: Python cannot stop a thread, so it is left to finish on its
own, and later calls are not made, so nothing waits for it again.

The cost is one hand-over between threads per call (tens of microseconds), paid only
by acquisitions that give such functions.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from app.acquisition.hooks import UserCallable

#: how long a hook or callback may take by default (``Acquisition(callback_timeout_s=)``)
DEFAULT_CALLBACK_TIMEOUT_S = 60.0


class CallbackTimeoutError(TimeoutError):
    """A user's function did not return in time; it is no longer called."""


@dataclass
class _Call:
    args: tuple[Any, ...]
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class BoundedCall:
    """Calls ``callable_`` like ``UserCallable`` does, on its own thread, waiting at
    most ``timeout_s`` (None: as long as it takes, on the caller's thread)."""

    def __init__(self, callable_: UserCallable, timeout_s: float | None) -> None:
        self.callable = callable_
        self.timeout_s = timeout_s
        self.given_up = False
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
        if self.timeout_s is None:
            return self.callable(*args)
        if self.given_up:
            raise CallbackTimeoutError(
                f"{self.where} is no longer called: it did not return within "
                f"{self.timeout_s:g} s before"
            )
        call = _Call(args)
        self._ensure_thread()
        self._calls.put(call)
        if not call.done.wait(self.timeout_s):
            self.given_up = True
            raise CallbackTimeoutError(
                f"{self.where} did not return within {self.timeout_s:g} s; it is no longer "
                "called (set Acquisition(callback_timeout_s=...) if it needs longer)"
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
