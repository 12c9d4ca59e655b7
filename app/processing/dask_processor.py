"""Processors too heavy for the desktop, on a Dask cluster: ``on_dask(fn)``.

A deconvolution or a segmentation network may take longer per frame than the camera
gives, or hold Python's lock so that threads do not help. ``on_dask`` sends each frame
to a Dask cluster (``dask.distributed``): a ``LocalCluster`` of worker processes on this
computer by default, or a real cluster's scheduler (``address=``; in the app, the
setting ``dask/scheduler``; or the environment variable ``SCOPEFLOW_DASK_SCHEDULER``).
Declared with ``workers=N`` (how many frames may be on the cluster at once), the
frames come back in acquisition order into the rest of the pipeline
(``OrderedStages``), so saving, display and feedback events see the camera's order.

A frame whose result does not come within ``timeout_s`` (a slow or lost worker) is an
error of that processor, with a message that says so, handled by the acquisition's
``on_error`` like any processor error: never a hang.

What the cluster's faults do (measured with distributed 2026.8, tests/faults/
test_dask_under_faults.py):

- A scheduler nobody answers at: distributed retries for its connect timeout (30 s by
  default); here for ``connect_timeout_s`` (5 s), then a ``DaskProcessingError`` names
  the address. ``before_first_frame()`` makes that attempt before an acquisition's
  first frame, for an acquisition that calls it.
- A worker that dies: distributed runs its frames again on the workers left (a
  ``LocalCluster``'s nanny usually starts a new worker too), so nothing is lost; only
  a frame that kills every worker it is given (``KilledWorker``, after the scheduler's
  ``allowed-failures``) is an error, said as a worker that died.
- The cluster gone (scheduler closed, connection lost): distributed cancels every frame
  on it; each is an error naming the scheduler, at once, and so is every frame after
  until a new connection is made (at most one attempt per ``RETRY_AFTER_S``).
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from app.processing.signature import callable_arity

DEFAULT_TIMEOUT_S = 120.0
#: how long a scheduler may take to answer: distributed's 30 s default would hold an
#: acquisition for half a minute before saying that the address is wrong
CONNECT_TIMEOUT_S = 5.0
#: a failed or lost connection is said again at once for this long, rather than tried
#: again for every frame (each attempt may take CONNECT_TIMEOUT_S)
RETRY_AFTER_S = 10.0
#: how often a scheduler that does not answer yet is tried again within that time
PROBE_INTERVAL_S = 0.25
SCHEDULER_VARIABLE = "SCOPEFLOW_DASK_SCHEDULER"

logger = logging.getLogger(__name__)


class DaskProcessingError(RuntimeError):
    """A frame the cluster did not process: too slow, a lost worker, an error there, or
    a cluster that cannot be reached or went away."""


class DaskCluster:
    """A connection to a Dask scheduler, made at the first frame, or by ``connect()``
    when an acquisition starts (not at import or declaration: scripts load without
    starting processes or waiting for a network).

    A connection that fails, or that is found lost, is remembered for ``RETRY_AFTER_S``:
    the frames meanwhile fail at once with the same message rather than each waiting
    ``connect_timeout_s``; after that, the next frame tries again (the scheduler may
    have been started meanwhile)."""

    def __init__(
        self,
        address: str | None = None,
        local_workers: int | None = None,
        processes: bool = True,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        self.address = address or os.environ.get(SCHEDULER_VARIABLE) or None
        self.local_workers = local_workers or os.cpu_count() or 1
        self.processes = processes
        self.connect_timeout_s = connect_timeout_s
        self._client: Any = None
        self._lock = threading.Lock()
        self._failure: str | None = None  # why the last connection failed or was lost
        self._failed_at = 0.0

    @property
    def where(self) -> str:
        """The cluster as an error message names it."""
        if self.address:
            return f"the Dask scheduler at {self.address}"
        return f"the local Dask cluster of {self.local_workers} workers"

    def connect(self) -> None:
        """Connect now, a fresh attempt (a failure remembered from before is forgotten:
        the scheduler may have been started since); raise ``DaskProcessingError`` naming
        the scheduler if it cannot be reached within ``connect_timeout_s``."""
        with self._lock:
            self._failure = None
        self.client()

    def client(self) -> Any:
        """The connected ``distributed.Client``; ``DaskProcessingError`` when there is
        none to be had (unreachable, or the cluster went away)."""
        with self._lock:
            if self._client is not None:
                status = self._client.status
                if status == "running":
                    return self._client
                # closed, or reconnecting to a scheduler that is gone: its frames were
                # cancelled by distributed already; say so, and start again later
                self._drop_client()
                self._remember(
                    f"The connection to {self.where} was lost (its client is {status}): "
                    "the cluster was closed or its scheduler stopped"
                )
            if self._failure is not None:
                if time.monotonic() - self._failed_at < RETRY_AFTER_S:
                    raise DaskProcessingError(self._failure)
                self._failure = None
            try:
                self._client = self._connect()
            except DaskProcessingError as exc:
                self._remember(str(exc))
                raise
            return self._client

    def lost(self) -> bool:
        """Whether a connection was made and is no longer there (the cluster was
        closed, or the connection to its scheduler was lost), or the last attempt
        failed: the frames on it cannot come back."""
        with self._lock:
            client, failure = self._client, self._failure
        if client is None:
            return failure is not None
        return bool(client.status != "running")

    def _connect(self) -> Any:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise DaskProcessingError(
                "on_dask needs the 'distributed' package: pip install distributed"
            ) from exc
        # set_as_default=False: the app's own dask arrays (datasets' as_array) compute
        # here, never on the cluster, and never wait for one that went away
        if self.address:
            self._probe(self.address)
            try:
                return Client(self.address, timeout=self.connect_timeout_s, set_as_default=False)
            except OSError as exc:  # distributed's "Timed out trying to connect to ..."
                raise self._no_answer(self.address, exc) from exc
            except Exception as exc:  # a malformed address, a refused handshake
                raise DaskProcessingError(
                    f"Could not connect to the Dask scheduler at {self.address}: {exc}"
                ) from exc
        cluster = LocalCluster(
            n_workers=self.local_workers,
            threads_per_worker=1,
            processes=self.processes,
            dashboard_address=None,
        )
        return Client(cluster, set_as_default=False)

    def _no_answer(self, address: str, why: OSError) -> DaskProcessingError:
        return DaskProcessingError(
            f"The Dask scheduler at {address} did not answer within "
            f"{self.connect_timeout_s:g} s: is the cluster running, and is the address "
            f"right? ({why})"
        )

    def _probe(self, address: str) -> None:
        """Wait, up to ``connect_timeout_s``, until something listens at a tcp or tls
        address; ``DaskProcessingError`` if nothing does. A plain socket, because a
        ``Client`` that fails to connect leaves its event-loop thread running (one per
        attempt, with distributed 2026.8): a long acquisition retrying a scheduler that
        is gone must not pile them up. Other schemes are left to the ``Client``."""
        from distributed.comm.addressing import parse_address, parse_host_port

        try:
            scheme, location = parse_address(address)
            host, port = parse_host_port(location) if scheme in ("tcp", "tls") else ("", 0)
        except ValueError:
            return  # a malformed address: the Client says what is wrong with it
        if not host:
            return
        deadline = time.monotonic() + self.connect_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            try:
                with socket.create_connection((host, port), timeout=max(0.1, remaining)):
                    return
            except OSError as exc:  # refused (nobody listens), unknown host, no route
                if time.monotonic() + PROBE_INTERVAL_S >= deadline:
                    raise self._no_answer(address, exc) from exc
            time.sleep(PROBE_INTERVAL_S)  # it may be starting: distributed waits too

    def _remember(self, why: str) -> None:
        self._failure = why
        self._failed_at = time.monotonic()

    def _drop_client(self) -> None:
        """Forget the client that lost its cluster; close it (and the local cluster
        it started) on a thread of its own: closing waits for a scheduler that is gone,
        which no frame and no abort must do."""
        client, self._client = self._client, None
        threading.Thread(
            target=_close_quietly, args=(client,), name="scopeflow-dask-close", daemon=True
        ).start()

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this made one; the next frame or
        ``connect()`` starts again from nothing."""
        with self._lock:
            client, self._client = self._client, None
            self._failure = None
        if client is not None:
            _close_quietly(client)

    def __repr__(self) -> str:
        where = self.address or f"a local cluster of {self.local_workers} workers"
        return f"DaskCluster({where})"


def _close_quietly(client: Any) -> None:
    """Close a client and the local cluster it started, within bounded time: what is
    already closed or unreachable is no error at this point."""
    cluster = client.cluster
    for closing in (client, cluster):
        if closing is None:
            continue
        try:
            closing.close(timeout=CONNECT_TIMEOUT_S)
        except Exception:  # closing what is gone: nothing left to tell the user
            logger.debug("Closing %r failed", closing, exc_info=True)


class OnDask:
    """A processor ``(image, metadata)`` whose work runs on a Dask cluster."""

    def __init__(
        self, fn: Callable[..., Any], cluster: DaskCluster, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        arity = callable_arity(fn, (2, 3), "A processor sent to Dask", "(image, metadata)")
        if arity != 2:
            raise TypeError(
                f"{getattr(fn, '__name__', fn)} takes an event_queue: a processor that queues "
                "events runs on this computer, not on a Dask cluster"
            )
        self.fn = fn
        self.cluster = cluster
        self.timeout_s = timeout_s
        functools.update_wrapper(self, fn)

    def before_first_frame(self) -> None:
        """Connect to the cluster before an acquisition's first frame, so that one that
        cannot be reached stops the acquisition before anything is acquired or written
        (called by whoever starts the acquisition; without it, the first frame connects)."""
        self.cluster.connect()

    def __call__(self, image: Any, metadata: dict[str, Any]) -> Any:
        from distributed import KilledWorker

        name = getattr(self.fn, "__name__", "the processor")
        client = self.cluster.client()
        try:
            future = client.submit(self.fn, image, metadata, pure=False)
        except Exception as exc:
            if self.cluster.lost():  # the client closed since it was handed out
                raise self._gone(name) from exc
            raise
        # The future's own result(), not distributed.wait(): wait() needs a default
        # client, and this one is not (see DaskCluster._connect).
        try:
            return future.result(timeout=self.timeout_s)
        except Exception as exc:
            if future.status == "error" and not isinstance(exc, KilledWorker):
                raise  # the user's own error, raised on the worker, as it was
            problem = exc
        if isinstance(problem, KilledWorker):  # distributed gave up on this frame
            raise DaskProcessingError(
                f"{name}: the Dask worker processing this frame died, as did every worker "
                f"it was given to again; the frame was not processed ({problem})"
            ) from problem
        future.release()  # not cancel(): that asks the scheduler, which may be gone
        if future.status == "cancelled" or self.cluster.lost():
            raise self._gone(name) from problem  # distributed lost the scheduler
        if isinstance(problem, TimeoutError):
            raise DaskProcessingError(
                f"{name}: no result from {self.cluster!r} within {self.timeout_s:g} s "
                "(a slow or lost worker); the frame was not processed there"
            ) from problem
        raise DaskProcessingError(
            f"{name}: {self.cluster.where} did not return this frame's result ({problem!r}); "
            "the frame was not processed there"
        ) from problem

    def _gone(self, name: str) -> DaskProcessingError:
        return DaskProcessingError(
            f"{name}: {self.cluster.where} went away while it had this frame (the cluster "
            "was closed, or the connection to its scheduler was lost); the frame was not "
            "processed"
        )


def on_dask(
    fn: Callable[..., Any] | None = None,
    *,
    address: str | None = None,
    cluster: DaskCluster | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Any:
    """Run ``fn(image, metadata)`` on a Dask cluster: ``on_dask(fn)``, or as a
    decorator ``@on_dask`` / ``@on_dask(address="tcp://scheduler:8786")``. Frames in
    flight: the processor's ``workers`` (``Processor(on_dask(fn), workers=8)``)."""

    def wrap(function: Callable[..., Any]) -> OnDask:
        chosen = cluster or shared_cluster(address)
        return OnDask(function, chosen, timeout_s)

    return wrap(fn) if fn is not None else wrap


_shared: dict[str | None, DaskCluster] = {}
_shared_lock = threading.Lock()
_default_address: list[str | None] = [None]  # the app's setting, when it gives one


def use_scheduler(address: str | None) -> None:
    """The scheduler ``on_dask`` uses when none is given (the app sets it from its
    settings' ``dask/scheduler`` at start; None: a local cluster)."""
    _default_address[0] = address or None


def shared_cluster(address: str | None = None) -> DaskCluster:
    """One cluster per address for the whole app (started at its first frame): the
    address given, else the app's setting, else ``SCOPEFLOW_DASK_SCHEDULER``, else a
    local cluster."""
    key = address or _default_address[0] or os.environ.get(SCHEDULER_VARIABLE) or None
    with _shared_lock:
        if key not in _shared:
            _shared[key] = DaskCluster(key)
        return _shared[key]


def close_shared_clusters() -> None:
    """Stop the local clusters and disconnect (the app calls it when it quits)."""
    with _shared_lock:
        clusters = list(_shared.values())
        _shared.clear()
    for one in clusters:
        one.close()
