"""The storage seam: any ImageSink can take an acquisition's images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app import Acquisition, ImageSink, multi_d_acquisition_events
from app.storage import DiscardSink, NDTiffSink, RAMSink


class ListSink:
    """A user's own storage: a list, with the calls it received."""

    description = "a list"
    stores_images = True

    def __init__(self) -> None:
        self.images: list[tuple[dict, np.ndarray, dict]] = []
        self.finished = 0

    @property
    def dataset(self):
        return self

    @property
    def path(self) -> Path | None:
        return None

    @property
    def images_written(self) -> int:
        return len(self.images)

    @property
    def bytes_written(self) -> int:
        return sum(image.nbytes for _, image, _ in self.images)

    def put(self, axes, image, metadata) -> None:
        self.images.append((axes, image, metadata))

    def finish(self) -> None:
        self.finished += 1

    def read_image(self, **axes):
        return next(image for a, image, _ in self.images if a == axes)


def test_every_sink_implements_the_protocol(tmp_path):
    for sink in (NDTiffSink(tmp_path, "p", {}), RAMSink("p"), DiscardSink(), ListSink()):
        assert isinstance(sink, ImageSink)
        sink.finish()


def test_a_sink_of_ones_own(core):
    sink = ListSink()
    saved = []
    with Acquisition(storage=sink, image_saved_fn=lambda axes, ds: saved.append(axes)) as acq:
        future = acq.acquire(multi_d_acquisition_events(num_time_points=3))
    assert [axes for axes, _, _ in sink.images] == [{"time": t} for t in range(3)] == saved
    assert sink.finished == 1 and acq.get_dataset() is sink and acq.bytes_saved > 0
    assert np.array_equal(future.await_image_saved({"time": 2}), sink.images[2][1])


def test_a_failing_sink_stops_the_acquisition_with_its_error(core):
    class Full(ListSink):
        def put(self, axes, image, metadata):
            if len(self.images) == 2:
                raise OSError(28, "No space left on device")
            super().put(axes, image, metadata)

    sink = Full()
    acq = Acquisition(storage=sink)
    acq.acquire(multi_d_acquisition_events(num_time_points=10))
    acq.mark_finished()
    with pytest.raises(OSError, match="No space left"):
        acq.await_completion(timeout=20)
    assert len(sink.images) == 2 and sink.finished == 1


def test_storage_and_directory_conflicts_are_refused(core, tmp_path):
    with pytest.raises(ValueError, match="needs a directory"):
        Acquisition(storage="ndtiff")
    with pytest.raises(ValueError, match="remove directory"):
        Acquisition(tmp_path, storage="ram")
    with pytest.raises(ValueError, match="storage must be"):
        Acquisition(storage="zarr")


def test_a_plan_is_estimated_before_it_starts():
    from app.acquisition.estimate import estimate_plan, human_bytes
    from app.acquisition.multi_d import multi_d_acquisition_events

    events = multi_d_acquisition_events(
        num_time_points=10, time_interval_s=2, channel_group="Channel",
        channels=["DAPI", "FITC"], channel_exposures_ms=[10, 50],
    )  # fmt: skip
    plan = estimate_plan(events, frame_bytes=2 * 512 * 512, default_exposure_ms=5)
    assert plan.images == 20 and plan.bytes == 20 * 524288
    assert plan.seconds == 18  # the last time point starts 18 s in
    fast = estimate_plan(events[:2], frame_bytes=1, default_exposure_ms=5)
    assert fast.seconds == 0.06  # exposures back to back
    assert human_bytes(10_485_760) == "10.5 MB"


def test_a_ram_datasets_axes_are_sorted_copies_its_reader_may_change(acquire_in_memory):
    """The viewer asks for them at every new time point while following: copied, not
    sorted anew, and still the reader's own."""
    acq, _order = acquire_in_memory([], frames=5)
    dataset = acq.get_dataset()
    axes = dataset.axes
    assert list(axes["time"]) == [0, 1, 2, 3, 4]
    axes["time"].add(99)
    axes["time"].discard(0)
    assert list(dataset.axes["time"]) == [0, 1, 2, 3, 4]
