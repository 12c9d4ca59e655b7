"""Processors on a Dask cluster: frames in order, a slow worker reported, never a hang."""

from __future__ import annotations

import time

import pytest

from app import Processor, on_dask
from app.processing.dask_processor import DaskCluster
from tests.windows import new_window


@pytest.fixture
def threads_cluster():
    """A local cluster of two worker threads (quick to start; the processes variant is
    what on_dask uses by default, tested below)."""
    cluster = DaskCluster(local_workers=2, processes=False)
    yield cluster
    cluster.close()


def test_frames_come_back_from_the_cluster_in_order(acquire_in_memory, core, threads_cluster):
    def mark(image, metadata):
        time.sleep(0.02)
        image[0, 0] = metadata["Axes"]["time"]
        metadata["ProcessedOnDask"] = True
        return image, metadata

    processor = Processor(on_dask(mark, cluster=threads_cluster), workers=4)
    acq, saved = acquire_in_memory(processor, 16)
    assert saved == list(range(16))
    dataset = acq.get_dataset()
    assert [int(dataset.read_image(time=t)[0, 0]) for t in range(16)] == list(range(16))
    assert dataset.read_metadata(time=3)["ProcessedOnDask"] is True


def test_a_slow_worker_is_reported_and_the_acquisition_ends(
    acquire_in_memory, core, threads_cluster
):
    def stuck(image, metadata):
        time.sleep(1.5)
        return image, metadata

    processor = Processor(on_dask(stuck, cluster=threads_cluster, timeout_s=0.2), workers=2)
    started = time.monotonic()
    acq, saved = acquire_in_memory(processor, 4, on_error="skip")
    assert time.monotonic() - started < 10
    assert saved == []
    assert acq.counts.snapshot()["failed"] == 4
    assert any("no result from" in str(f.exception) for f in acq.errors)


def test_the_users_own_error_comes_back_as_it_was(acquire_in_memory, core, threads_cluster):
    def broken(image, metadata):
        raise ValueError("segmentation model not found")

    with pytest.raises(ValueError, match="segmentation model not found"):
        acquire_in_memory(Processor(on_dask(broken, cluster=threads_cluster), workers=2), 3)


def test_a_processor_that_queues_events_stays_on_this_computer():
    with pytest.raises(TypeError, match="runs on this computer"):
        on_dask(lambda image, metadata, event_queue: None, cluster=DaskCluster())


def test_worker_processes_run_it(acquire_in_memory, core):
    cluster = DaskCluster(local_workers=2, processes=True)
    try:

        def where(image, metadata):
            import os

            metadata["WorkerPid"] = os.getpid()
            return image, metadata

        acq, saved = acquire_in_memory(Processor(on_dask(where, cluster=cluster), workers=2), 4)
    finally:
        cluster.close()
    import os

    assert saved == [0, 1, 2, 3]
    assert acq.get_dataset().read_metadata(time=0)["WorkerPid"] != os.getpid()


def test_the_windows_setting_names_the_scheduler(qtbot, core, tmp_path):
    """settings.json's "dask/scheduler" is the cluster on_dask uses in the app."""
    from app.processing.dask_processor import shared_cluster, use_scheduler
    from app.settings_store import SettingsStore

    settings = SettingsStore(str(tmp_path / "settings.json"))
    settings.set("dask/scheduler", "tcp://analysis-server:8786")
    window = new_window(qtbot, core, settings, tmp_path)
    try:
        assert shared_cluster().address == "tcp://analysis-server:8786"
        assert on_dask(lambda image, metadata: None).cluster.address == (
            "tcp://analysis-server:8786"
        )
    finally:
        window.close()
        use_scheduler(None)
    assert shared_cluster().address is None  # a local cluster again


def test_the_users_own_timeout_error_is_not_taken_for_a_slow_worker(
    acquire_in_memory, core, threads_cluster
):
    def asks_a_stage(image, metadata):
        raise TimeoutError("the stage did not answer")

    processor = Processor(on_dask(asks_a_stage, cluster=threads_cluster, timeout_s=30), workers=2)
    with pytest.raises(TimeoutError, match="the stage did not answer"):
        acquire_in_memory(processor, 2)
