"""#11 silent corruption: what is saved is what the processor returned at that moment,
even when the processor reuses one output buffer for every frame."""

from __future__ import annotations

import threading
import time

import numpy as np

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.processing.pipeline import Processor, ProcessorPipeline

FRAMES = 12


def _slow_saving(gate: threading.Event):
    """An image-saved callback that holds the saving thread until the processing thread
    has run on every frame: frames then wait in the queue while the processor runs."""

    def saved(axes, dataset):
        gate.wait(10)

    return saved


def _check_saved(acq) -> None:
    dataset = open_dataset(acq.dataset_path)
    for t in range(FRAMES):
        image = dataset.read_image(time=t)
        assert image[0, 0] == 1000 + t, f"time {t} holds the pixels of time {image[0, 0] - 1000}"
        assert dataset.read_metadata(time=t)["Stamp"] == t


def test_a_reused_output_buffer_saves_each_frame_as_it_was_returned(core, tmp_path):
    buffer: list[np.ndarray] = []
    metadata_buffer: dict = {}
    gate = threading.Event()

    def into_one_buffer(image, metadata):
        if not buffer:
            buffer.append(np.empty_like(image))
        out = buffer[0]
        np.copyto(out, image)
        t = metadata["Axes"]["time"]
        out[0, 0] = 1000 + t
        metadata_buffer.clear()  # one metadata dict reused too
        metadata_buffer.update(metadata, Stamp=t)
        if t == FRAMES - 1:
            gate.set()
        return out, metadata_buffer

    with Acquisition(
        directory=tmp_path,
        name="reuse",
        image_process_fn=into_one_buffer,
        image_saved_fn=_slow_saving(gate),
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=FRAMES))
    _check_saved(acq)


def test_a_held_tuple_or_list_is_owned_too(core, tmp_path):
    held: dict = {}
    gate = threading.Event()

    def returns_held_list(image, metadata):
        if "out" not in held:
            held["out"] = np.empty_like(image)
            held["list"] = [(held["out"], {})]
        t = metadata["Axes"]["time"]
        np.copyto(held["out"], image)
        held["out"][0, 0] = 1000 + t
        held["list"][0] = (held["out"], {**metadata, "Stamp": t})  # same list each time
        if t == FRAMES - 1:
            gate.set()
        return held["list"]

    with Acquisition(
        directory=tmp_path,
        name="held",
        image_process_fn=returns_held_list,
        image_saved_fn=_slow_saving(gate),
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=FRAMES))
    _check_saved(acq)


def _addresses_seen_downstream(first) -> tuple[list[int], list[int], Processor]:
    """Run ``first`` then a processor that records the address of what reached it."""
    returned: list[int] = []
    received: list[int] = []

    def record(image, metadata):
        received.append(image.ctypes.data)
        return image, metadata

    def wrapped(image, metadata):
        out = first(image, metadata)
        returned.append(out[0].ctypes.data)
        return out

    processor = Processor(wrapped)
    pipeline = ProcessorPipeline([processor, Processor(record)])
    for t in range(3):
        frame = np.full((8, 8), t, dtype=np.uint16)
        pipeline.process(frame, {"Axes": {"time": t}}, None)
    return returned, received, processor


def test_new_arrays_and_the_frame_itself_are_not_copied():
    def new_array(image, metadata):
        return image * 2, {**metadata, "new": True}

    returned, received, processor = _addresses_seen_downstream(new_array)
    assert returned == received  # the very arrays the processor made
    assert processor.stats.copies == 0

    def in_place(image, metadata):
        image[0] = 7
        metadata["changed"] = True
        return image[1:], metadata  # a view of the frame: the frame is ours

    returned, received, processor = _addresses_seen_downstream(in_place)
    assert returned == received
    assert processor.stats.copies == 0


def test_a_kept_array_is_copied_and_counted():
    kept = np.zeros((8, 8), dtype=np.uint16)

    def kept_buffer(image, metadata):
        np.copyto(kept, image)
        return kept, metadata

    returned, received, processor = _addresses_seen_downstream(kept_buffer)
    assert set(returned) == {kept.ctypes.data}
    assert all(r != kept.ctypes.data for r in received)
    assert processor.stats.copies == 3


def _saved_under_slow_saving(tmp_path, name, processor, frames=FRAMES):
    gate = threading.Event()

    def release_at_last(image, metadata):
        if metadata["Axes"]["time"] == frames - 1:
            gate.set()
        return image, metadata

    with Acquisition(
        directory=tmp_path,
        name=name,
        image_process_fn=[processor, release_at_last],
        image_saved_fn=_slow_saving(gate),
    ) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=frames))
    return open_dataset(acq.dataset_path)


def test_a_frame_the_processor_keeps_and_changes_later_is_saved_as_returned(core, tmp_path):
    kept: dict = {}

    def keeps_the_frame(image, metadata):
        t = metadata["Axes"]["time"]
        if "frame" in kept:
            kept["frame"][0, 0] = 9999  # writes into a frame it returned before
            kept["view"][0, 0] = 8888
        image[0, 0] = 1000 + t
        image[5, 5] = 2000 + t
        kept["frame"], kept["view"] = image, image[5:, 5:]
        return image, metadata

    dataset = _saved_under_slow_saving(tmp_path, "kept_frame", keeps_the_frame)
    for t in range(FRAMES):
        image = dataset.read_image(time=t)
        assert image[0, 0] == 1000 + t and image[5, 5] == 2000 + t, t


def test_a_frame_kept_alone_and_changed_later_is_saved_as_returned(core, tmp_path):
    """Only the frame kept (no view of it): one holder more than the frame had."""
    kept: list = []

    def keeps_only_the_frame(image, metadata):
        if kept:
            kept[-1][0, 0] = 9999  # writes into the frame it returned before
        image[0, 0] = 1000 + metadata["Axes"]["time"]
        kept.append(image)
        return image, metadata

    dataset = _saved_under_slow_saving(tmp_path, "kept_alone", keeps_only_the_frame)
    assert [int(dataset.read_image(time=t)[0, 0]) for t in range(FRAMES)] == [
        1000 + t for t in range(FRAMES)
    ]


def test_metadata_kept_and_changed_later_is_saved_as_returned(core, tmp_path):
    """The metadata dict kept and its axes replaced at the next frame: the images are
    still saved under their own axes (the first frame too, whose metadata the engine
    held until the next frame came: that hid the processor's holder)."""
    kept: list = []

    def keeps_the_metadata(image, metadata):
        if kept:
            kept[-1]["Axes"] = {"time": -1}
        kept.append(metadata)
        return image, metadata

    dataset = _saved_under_slow_saving(tmp_path, "kept_metadata", keeps_the_metadata)
    saved = sorted(axes["time"] for axes in dataset.get_image_coordinates_list())
    assert saved == list(range(FRAMES))


def test_the_first_frames_metadata_kept_is_saved_as_returned_too(core):
    """The engine let go of a frame's metadata only when the next frame came: a
    processor slower than that, keeping the metadata, was not seen keeping the first
    frame's (it had one holder fewer after the call than before it, the processor's
    own)."""
    kept: list = []

    def keeps_the_metadata_slowly(image, metadata):
        if kept:
            kept[-1]["Axes"] = {"time": -1}
        kept.append(metadata)
        time.sleep(0.005)  # the engine reads the next frame meanwhile
        return image, metadata

    with Acquisition(image_process_fn=keeps_the_metadata_slowly, show_display=False) as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=FRAMES))
    saved = sorted(axes["time"] for axes in acq.get_dataset().get_image_coordinates_list())
    assert saved == list(range(FRAMES))


def test_a_list_kept_inside_fresh_metadata_is_saved_as_it_was(core, tmp_path):
    history: list[int] = []

    def keeps_a_list(image, metadata):
        history.append(metadata["Axes"]["time"])
        return image, {**metadata, "History": history}

    dataset = _saved_under_slow_saving(tmp_path, "nested", keeps_a_list)
    for t in range(FRAMES):
        assert dataset.read_metadata(time=t)["History"] == list(range(t + 1))


def test_one_array_returned_twice_is_changed_once_each():
    def twice(image, metadata):
        axes = metadata["Axes"]
        return [
            (image, {**metadata, "Axes": {**axes, "channel": "a"}}),
            (image, {**metadata, "Axes": {**axes, "channel": "b"}}),
        ]

    def minus_one(image, metadata):
        image -= 1  # in place, as processors may
        return image, metadata

    pipeline = ProcessorPipeline([Processor(twice), Processor(minus_one)])
    outputs = pipeline.process(np.full((4, 4), 9, dtype=np.uint16), {"Axes": {"time": 0}}, None)
    assert [int(image[0, 0]) for image, _ in outputs] == [8, 8]


def test_views_of_new_arrays_are_not_copied():
    def transposed(image, metadata):
        return (image * 2).T, metadata

    returned, received, processor = _addresses_seen_downstream(transposed)
    assert returned == received
    assert processor.stats.copies == 0
