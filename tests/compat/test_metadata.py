"""The metadata keys pycro-manager scripts read, under pycro-manager's own names."""

from __future__ import annotations

import pytest
from pycromanager.acquisition.acq_eng_py.main.acq_eng_metadata import AcqEngMetadata as Keys

from app import Acquisition, multi_d_acquisition_events


def metadata_of(directory, events, **kwargs):
    seen = []

    def record(image, metadata):
        seen.append(dict(metadata))
        return image, metadata

    with Acquisition(
        directory, "acq", show_display=False, image_process_fn=record, **kwargs
    ) as acq:
        acq.acquire(events)
    return acq.get_dataset(), seen


def test_every_image_has_the_core_keys(directory):
    dataset, seen = metadata_of(directory, {"axes": {"time": 0}, "exposure": 3.0})
    for metadata in (seen[0], dataset.read_metadata(time=0)):
        assert metadata[Keys.AXES] == {"time": 0}
        assert metadata[Keys.EXPOSURE] == 3.0
        assert metadata[Keys.WIDTH] == 128 and metadata[Keys.HEIGHT] == 96
        assert metadata[Keys.PIX_TYPE] == "GRAY16" and metadata[Keys.BIT_DEPTH] == 16
        assert metadata[Keys.PIX_SIZE] == pytest.approx(1.0)
        assert metadata[Keys.ELAPSED_TIME_MS] >= 0
        assert isinstance(metadata[Keys.TIME], str)
        assert metadata[Keys.CHANNEL_NAME] == "DAPI"
        assert metadata["Camera"] == "Camera"


def test_positions_are_recorded_as_intended(directory):
    xy = [(0, 0), (0, 1), (1, 0)]
    dataset, _ = metadata_of(directory, multi_d_acquisition_events(xy_positions=xy))
    for index, (x, y) in enumerate(xy):
        metadata = dataset.read_metadata(position=index)
        assert metadata[Keys.X_UM_INTENDED] == x and metadata[Keys.Y_UM_INTENDED] == y
        assert metadata[Keys.X_UM] == pytest.approx(x, abs=0.1)
        assert Keys.POS_NAME not in metadata


def test_labelled_positions_have_a_name(directory):
    xy, labels = [(0, 0), (0, 1), (1, 0)], ["Pos0", "Pos1", "Pos2"]
    events = multi_d_acquisition_events(xy_positions=xy, position_labels=labels)
    dataset, _ = metadata_of(directory, events)
    for label, (x, y) in zip(labels, xy, strict=True):
        metadata = dataset.read_metadata(position=label)
        assert metadata[Keys.POS_NAME] == label
        assert metadata[Keys.X_UM_INTENDED] == x and metadata[Keys.Y_UM_INTENDED] == y


def test_z_is_recorded_as_intended(directory):
    events = [
        {"axes": {"z": 0}, "z": 2.5},
        {"axes": {"z": 1}, "stage_positions": [["Z", 4.0]]},  # the focus stage by name
    ]
    dataset, _ = metadata_of(directory, events)
    assert dataset.read_metadata(z=0)[Keys.Z_UM_INTENDED] == 2.5
    assert dataset.read_metadata(z=1)[Keys.Z_UM_INTENDED] == 4.0
    assert dataset.read_metadata(z=1)[Keys.Z_UM] == pytest.approx(4.0, abs=0.01)
    assert Keys.X_UM_INTENDED not in dataset.read_metadata(z=0)


def test_channel_and_exposure_per_channel(directory):
    events = multi_d_acquisition_events(
        channel_group="Channel", channels=["DAPI", "FITC"], channel_exposures_ms=[2, 4]
    )
    dataset, _ = metadata_of(directory, events)
    for channel, exposure in (("DAPI", 2), ("FITC", 4)):
        metadata = dataset.read_metadata(channel=channel)
        assert metadata[Keys.CHANNEL_NAME] == channel and metadata[Keys.EXPOSURE] == exposure
        assert metadata[Keys.CHANNEL_GROUP] == "Channel"


def test_event_tags_reach_the_metadata(directory):
    dataset, _ = metadata_of(directory, {"axes": {"time": 0}, "tags": {"well": "A1"}})
    assert dataset.read_metadata(time=0)[Keys.TAGS] == {"well": "A1"}


@pytest.mark.parametrize(
    ("setup", "shape"),
    [
        ({"OnCameraCCDXSize": "200", "OnCameraCCDYSize": "150"}, (150, 200)),
        ({"Binning": "2"}, (48, 64)),
    ],
    ids=["size", "binning"],
)
def test_a_changed_camera_size_is_stored_as_such(core, directory, setup, shape):
    for prop, value in setup.items():
        core.setProperty("Camera", prop, value)
    try:
        dataset, _ = metadata_of(directory, multi_d_acquisition_events(num_time_points=3))
    finally:
        core.setProperty("Camera", "Binning", "1")
    assert dataset.as_array().shape == (3, *shape)
    assert dataset.read_metadata(time=0)[Keys.WIDTH] == shape[1]


def test_a_region_of_interest(core, directory):
    core.setROI(0, 0, 100, 60)
    try:
        dataset, _ = metadata_of(directory, multi_d_acquisition_events(num_time_points=2))
    finally:
        core.clearROI()
    assert dataset.as_array().shape == (2, 60, 100)
