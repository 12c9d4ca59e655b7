import numpy as np
import pytest

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.processing.pipeline import Processor
from app.processing.replay import process_dataset


def test_replay_enabled_processors_over_a_dataset(core, tmp_path):
    with Acquisition(tmp_path, "raw") as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=3, z_start=0, z_end=1, z_step=1))

    def add_ten(image, metadata):
        image += 10
        metadata["replayed"] = True
        return image, metadata

    def zero(image, metadata):
        image[:] = 0
        return image, metadata

    skipped = Processor(zero)
    skipped.enabled = False
    progress = []
    out = process_dataset(
        acq.dataset_path,
        [Processor(add_ten), skipped],
        tmp_path,
        "raw_processed",
        on_progress=lambda done, total: progress.append((done, total)),
    )
    raw, processed = open_dataset(acq.dataset_path), open_dataset(out)
    assert len(processed.index) == 6
    assert progress[-1] == (6, 6)
    for t in range(3):
        for z in range(2):
            assert np.array_equal(
                processed.read_image(time=t, z=z), raw.read_image(time=t, z=z) + 10
            )
            assert processed.read_metadata(time=t, z=z)["replayed"] is True
    assert processed.summary_metadata["ProcessedFrom"] == acq.dataset_path


def test_replay_reports_a_processor_error(core, tmp_path):
    with Acquisition(tmp_path, "raw") as acq:
        acq.acquire(multi_d_acquisition_events(num_time_points=2))

    def broken(image, metadata):
        raise ValueError("replay bug")

    with pytest.raises(ValueError, match="replay bug"):
        process_dataset(acq.dataset_path, [Processor(broken)], tmp_path, "out")
