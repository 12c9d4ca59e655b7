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
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable
from typing import Any

from app.processing.signature import callable_arity

DEFAULT_TIMEOUT_S = 120.0
SCHEDULER_VARIABLE = "SCOPEFLOW_DASK_SCHEDULER"


class DaskProcessingError(RuntimeError):
    """A frame the cluster did not process: too slow, a lost worker, an error there."""


class DaskCluster:
    """A connection to a Dask scheduler, made at the first frame (not at import or
    declaration: scripts load without starting processes)."""

    def __init__(
        self,
        address: str | None = None,
        local_workers: int | None = None,
        processes: bool = True,
    ) -> None:
        self.address = address or os.environ.get(SCHEDULER_VARIABLE) or None
        self.local_workers = local_workers or os.cpu_count() or 1
        self.processes = processes
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    from distributed import Client, LocalCluster
                except ImportError as exc:
                    raise DaskProcessingError(
                        "on_dask needs the 'distributed' package: pip install distributed"
                    ) from exc
                if self.address:
                    self._client = Client(self.address, timeout="30s")
                else:
                    cluster = LocalCluster(
                        n_workers=self.local_workers,
                        threads_per_worker=1,
                        processes=self.processes,
                        dashboard_address=None,
                    )
                    self._client = Client(cluster)
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()

    def __repr__(self) -> str:
        where = self.address or f"a local cluster of {self.local_workers} workers"
        return f"DaskCluster({where})"


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

    def __call__(self, image: Any, metadata: dict[str, Any]) -> Any:
        from distributed import wait

        client = self.cluster.client()
        future = client.submit(self.fn, image, metadata, pure=False)
        name = getattr(self.fn, "__name__", "the processor")
        with contextlib.suppress(TimeoutError):  # the wait's; the user's come from result()
            wait(future, timeout=self.timeout_s)
        if not future.done():
            future.cancel()
            raise DaskProcessingError(
                f"{name}: no result from {self.cluster!r} within {self.timeout_s:g} s "
                "(a slow or lost worker); the frame was not processed there"
            )
        if future.status in ("cancelled", "lost") or (
            future.status == "error" and type(future.exception()).__name__ == "KilledWorker"
        ):
            raise DaskProcessingError(
                f"{name}: the Dask worker processing this frame was lost ({future.status})"
            )
        return future.result()  # the user's own error, raised on the worker, as it was


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
