"""#20 (Dask): an on_dask processor when its cluster fails, through the path a user
takes (an ``Acquisition`` with the processor, on the simulated microscope).

- A scheduler nobody answers at: an error naming its address within seconds (not
  distributed's 30 s connect timeout), before the first frame once the acquisition
  calls its processors' ``before_first_frame()``.
- A worker killed while frames are on it: distributed runs them again on the workers
  left, and every frame is saved; a frame that kills every worker it is given fails
  the acquisition with an error that says so, the frames before it kept.
- The cluster gone mid-run: the acquisition ends with an error naming the cluster,
  never a hang, and every image saved before stays readable.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import dask
import pytest

from app import Acquisition, Processor, multi_d_acquisition_events, on_dask, open_dataset
from app.acquisition.state import RunState
from app.acquisition.workers import UNPROCESSED_KEY
from app.processing.dask_processor import DaskCluster, DaskProcessingError

#: a generous bound that proves "no hang" (distributed's own connect timeout is 30 s)
NO_HANG_S = 20


def free_address() -> str:
    """A scheduler address nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{sock.getsockname()[1]}"


def io_loop_threads() -> int:
    """distributed's event-loop threads (one per Client it made and did not close)."""
    return sum(t.name == "IO loop" for t in threading.enumerate())


def unchanged(image: Any, metadata: dict[str, Any]) -> Any:
    return image, metadata


def readable_times(path: str) -> list[int]:
    """The time points of a dataset on disk, each image read back whole."""
    dataset = open_dataset(path)
    times = sorted(dataset.axes["time"])
    for t in times:
        assert dataset.read_image(time=t).shape == (96, 128)
    return times


# ------------------------------------------------------------------ 1. unreachable


def test_an_unreachable_scheduler_is_named_within_seconds(core, tmp_path):
    """The acquisition fails with an error naming the address, within a few seconds;
    every frame it acquired meanwhile is accounted for (none lost silently)."""
    address = free_address()
    loops_before = io_loop_threads()
    started: list[Acquisition] = []
    began = time.monotonic()
    with pytest.raises(DaskProcessingError, match=f"scheduler at {address} did not answer"):
        acq = Acquisition(
            directory=tmp_path,
            name="unreachable",
            show_display=False,
            image_process_fn=Processor(on_dask(unchanged, address=address), workers=2),
        )
        started.append(acq)  # not once the acquisition connects before its first frame
        with acq:
            acq.acquire(multi_d_acquisition_events(num_time_points=5))
    assert time.monotonic() - began < NO_HANG_S
    for acq in started:
        assert acq.status.state is RunState.FAILED
        assert acq.counts.balanced()
        assert acq.status.counts["processed"] == 0
    # a distributed Client that fails to connect leaves its event-loop thread running:
    # a scheduler retried all night must not pile them up
    assert io_loop_threads() <= loops_before


def test_an_unreachable_scheduler_is_said_before_the_first_frame(core, tmp_path):
    address = free_address()
    camera_events: list[dict[str, Any]] = []

    def count_camera_events(event: dict[str, Any]) -> dict[str, Any]:
        camera_events.append(event)
        return event

    made: list[Acquisition] = []
    started = time.monotonic()
    try:
        with pytest.raises(DaskProcessingError, match=f"scheduler at {address} did not answer"):
            made.append(
                Acquisition(
                    directory=tmp_path,
                    name="unreachable",
                    show_display=False,
                    image_process_fn=Processor(on_dask(unchanged, address=address), workers=2),
                    post_camera_hook_fn=count_camera_events,
                )
            )
    finally:
        for acq in made:  # started after all: it must not hold the microscope after us
            acq.abort()
            with contextlib.suppress(DaskProcessingError):
                acq.await_completion(timeout=NO_HANG_S)
    assert time.monotonic() - started < NO_HANG_S
    assert camera_events == []  # no frame taken
    assert list(tmp_path.iterdir()) == []  # nothing written, not even an empty dataset


# ------------------------------------------------------------------ 2. a worker dies


@pytest.fixture
def worker_processes() -> Iterator[Callable[..., DaskCluster]]:
    """``make(allowed_failures=3)``: a started LocalCluster of two worker processes (each
    with a nanny that starts a new one when it dies), closed at the end."""
    import distributed  # noqa: F401 - its configuration loaded, so that config.set's exit keeps it

    made: list[DaskCluster] = []

    def make(allowed_failures: int = 3) -> DaskCluster:
        cluster = DaskCluster(local_workers=2, processes=True)
        with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
            cluster.client()  # the scheduler reads it when it starts
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.close()


def dies_at(time_point: int, marker: str, every_time: bool) -> Callable[..., Any]:
    """A processor whose worker process dies (``os._exit``, as a crash or the kernel's
    out-of-memory killer would end it) on the frame of ``time_point``: the first time
    only, or each time it is run. ``marker`` records the pid of each death."""

    def process(image: Any, metadata: dict[str, Any]) -> Any:
        import os
        import time

        if metadata["Axes"]["time"] == time_point:
            first = not os.path.exists(marker)
            if first or every_time:
                with open(marker, "a") as deaths:
                    deaths.write(f"{os.getpid()}\n")
                os._exit(1)
        time.sleep(0.05)  # other frames are on the workers when it dies
        metadata["WorkerPid"] = os.getpid()
        return image, metadata

    return process


def test_a_worker_killed_mid_run_loses_no_frame(core, tmp_path, worker_processes):
    """distributed runs the frames of the dead worker again on the one left: the
    acquisition completes, every frame processed and saved once."""
    marker = str(tmp_path / "deaths.txt")
    cluster = worker_processes()
    processor = Processor(on_dask(dies_at(4, marker, every_time=False), cluster=cluster), workers=4)
    with Acquisition(
        directory=tmp_path, name="killed", show_display=False, image_process_fn=processor
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=12))
    with open(marker) as deaths:
        dead = [int(pid) for pid in deaths.read().split()]
    assert len(dead) == 1  # a worker did die, once
    counts = acq.status.counts
    assert counts["acquired"] == counts["processed"] == counts["saved"] == 12
    assert acq.errors == []
    dataset = open_dataset(acq.dataset_path)
    assert readable_times(acq.dataset_path) == list(range(12))
    assert dataset.read_metadata(time=4)["WorkerPid"] not in dead  # run again elsewhere


def test_a_frame_that_kills_every_worker_fails_the_acquisition_saying_so(
    core, tmp_path, worker_processes
):
    """distributed gives up on a frame once it killed ``allowed-failures + 1`` workers
    (KilledWorker): the acquisition fails with an error that says the worker died and
    the frame was not processed; the frames before it are saved processed, those after
    it saved as acquired (marked unprocessed), none lost.

    One frame on the cluster at a time, which makes it exact: with two, the frames in
    flight beside it lose their workers too; they were abandoned at the stop (0 to 4
    of 8 counted lost, and said), and the error, handed on in acquisition order, waits
    for them (1.4 to 2.9 s in 15 runs here, once 30 s on this loaded machine)."""
    marker = str(tmp_path / "deaths.txt")
    cluster = worker_processes(allowed_failures=1)  # two deaths, not four: quicker
    processor = Processor(on_dask(dies_at(3, marker, every_time=True), cluster=cluster))
    started = time.monotonic()
    with (
        pytest.raises(DaskProcessingError, match="worker processing this frame died"),
        Acquisition(
            directory=tmp_path, name="poisoned", show_display=False, image_process_fn=processor
        ) as acq,
    ):
        acq.acquire(multi_d_acquisition_events(num_time_points=8))
    assert time.monotonic() - started < NO_HANG_S
    with open(marker) as deaths:
        assert len(deaths.read().split()) == 2
    assert acq.status.state is RunState.FAILED
    assert acq.counts.balanced()
    counts = acq.status.counts
    assert counts["failed"] == 1 and counts["lost"] == 0
    assert counts["saved"] == counts["acquired"] - 1  # all but the one that killed
    saved = readable_times(acq.dataset_path)
    assert saved == [t for t in range(counts["acquired"]) if t != 3]
    dataset = open_dataset(acq.dataset_path)
    for t in saved:
        unprocessed = UNPROCESSED_KEY in dataset.read_metadata(time=t)
        assert unprocessed == (t > 3), t


# ------------------------------------------------------------------ 3. the cluster goes


def slow(image: Any, metadata: dict[str, Any]) -> Any:
    time.sleep(0.05)
    return image, metadata


def a_scheduler_on_tcp(local_cluster: Any, threads: int) -> Any:
    """A scheduler reached over TCP, as a real cluster's is (a LocalCluster of worker
    threads would talk in-process), with one worker of ``threads`` threads."""
    return local_cluster(
        n_workers=1,
        threads_per_worker=threads,
        processes=False,
        protocol="tcp",
        dashboard_address=None,
    )


@dataclass
class Doomed:
    """A cluster on_dask uses, and what closes its scheduler and workers."""

    cluster: DaskCluster
    close: Callable[[], None]
    named: str  # how an error names it


@pytest.fixture(params=["remote scheduler", "local cluster"])
def doomed(request) -> Iterator[Doomed]:
    """A scheduler of its own reached by address, as a real cluster is, or on_dask's
    own local cluster. Worker threads: quick, and closed the same way."""
    from distributed import LocalCluster

    if request.param == "remote scheduler":
        remote = a_scheduler_on_tcp(LocalCluster, threads=2)
        cluster = DaskCluster(address=remote.scheduler_address)
        yield Doomed(cluster, remote.close, f"scheduler at {remote.scheduler_address}")
        remote.close()
    else:
        cluster = DaskCluster(local_workers=2, processes=False)
        local = cluster.client().cluster
        yield Doomed(cluster, local.close, "local Dask cluster of 2 workers")
    cluster.close()


def acquire_until_saved(
    cluster: DaskCluster, tmp_path: Any, frames: int, saved_before: int, **kwargs: Any
) -> tuple[Acquisition, threading.Event]:
    """An acquisition of ``frames`` time points, 20 ms apart, through ``slow`` on
    ``cluster``; the event is set once ``saved_before`` images are saved."""
    saved: list[int] = []
    enough = threading.Event()

    def on_saved(axes: dict[str, Any], dataset: Any) -> None:
        saved.append(axes["time"])
        if len(saved) >= saved_before:
            enough.set()

    acq = Acquisition(
        directory=tmp_path,
        name="gone",
        show_display=False,
        image_process_fn=Processor(on_dask(slow, cluster=cluster), workers=2),
        image_saved_fn=on_saved,
        **kwargs,
    )
    acq.acquire(multi_d_acquisition_events(num_time_points=frames, time_interval_s=0.02))
    acq.mark_finished()
    return acq, enough


def test_the_cluster_gone_mid_run_ends_the_acquisition_naming_it(core, tmp_path, doomed):
    """distributed cancels the frames on a cluster that goes: the first is an error
    naming the cluster, which stops the acquisition (``on_error="abort"``, the
    default) at once; the images saved before are all there and readable."""
    acq, enough = acquire_until_saved(doomed.cluster, tmp_path, frames=300, saved_before=5)
    assert enough.wait(NO_HANG_S)
    doomed.close()
    with pytest.raises(DaskProcessingError, match=doomed.named):
        acq.await_completion(timeout=NO_HANG_S)
    assert acq.status.state is RunState.FAILED
    assert acq.counts.balanced()
    counts = acq.status.counts
    assert counts["acquired"] < 300  # it stopped, it did not run on without the cluster
    saved = readable_times(acq.dataset_path)
    assert len(saved) == counts["saved"] >= 5
    assert saved[:5] == [0, 1, 2, 3, 4]
    if counts["lost"]:  # frames a processor thread still held at the stop: said, counted
        assert any("not saved" in str(e.exception) for e in acq.errors)


def test_the_next_acquisition_on_a_cluster_gone_is_told_at_once(core, tmp_path):
    """Not after distributed's 30 s of trying to reconnect: the loss, or a new attempt
    to connect, said within seconds."""
    from distributed import LocalCluster

    remote = a_scheduler_on_tcp(LocalCluster, threads=1)
    address = remote.scheduler_address
    cluster = DaskCluster(address=address)
    try:
        with Acquisition(
            storage="ram", show_display=False, image_process_fn=on_dask(slow, cluster=cluster)
        ) as first:
            first.acquire(multi_d_acquisition_events(num_time_points=2))
        assert first.status.counts["saved"] == 2
        remote.close()
        began = time.monotonic()
        with pytest.raises(DaskProcessingError, match=f"scheduler at {address}"):
            acq = Acquisition(
                storage="ram",
                show_display=False,
                image_process_fn=Processor(on_dask(slow, cluster=cluster), workers=2),
            )
            with acq:
                acq.acquire(multi_d_acquisition_events(num_time_points=3))
        assert time.monotonic() - began < NO_HANG_S
    finally:
        remote.close()
        cluster.close()


def test_the_cluster_gone_with_on_error_skip_runs_to_the_end(core, tmp_path, doomed):
    """Under ``on_error="skip"`` each later frame fails at once, said by name, and the
    acquisition runs to its end: every frame acquired is saved or counted failed."""
    acq, enough = acquire_until_saved(
        doomed.cluster, tmp_path, frames=100, saved_before=5, on_error="skip"
    )
    assert enough.wait(NO_HANG_S)
    doomed.close()
    acq.await_completion(timeout=NO_HANG_S)
    assert acq.status.state is RunState.FINISHED
    assert acq.counts.balanced()
    counts = acq.status.counts
    assert counts["acquired"] == 100
    assert counts["saved"] + counts["failed"] == 100
    assert counts["failed"] >= 1
    assert all(doomed.named in str(e.exception) for e in acq.errors)
    assert len(readable_times(acq.dataset_path)) == counts["saved"]
