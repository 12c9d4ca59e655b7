"""The ndtiff dataset objects users get: finished when written, channel names when opened."""

from __future__ import annotations

import numpy as np
from ndtiff import NDTiffDataset

from app import Acquisition, multi_d_acquisition_events, open_dataset


def test_live_and_saved_datasets(core, tmp_path):
    events = multi_d_acquisition_events(
        num_time_points=2, channel_group="Channel", channels=["DAPI", "FITC"]
    )
    acq = Acquisition(tmp_path, "ds")
    live = acq.get_dataset()
    acq.acquire(events)
    assert isinstance(live, NDTiffDataset)
    acq.mark_finished()
    assert live.block_until_finished(timeout=20) and live.is_finished()
    saved = open_dataset(acq.dataset_path)
    assert isinstance(saved, NDTiffDataset)
    assert saved.get_channel_names() == live.get_channel_names() == ["DAPI", "FITC"]
    for t in range(2):
        assert np.array_equal(
            saved.read_image(time=t, channel=1), live.read_image(time=t, channel="FITC")
        )
        assert saved.has_image(time=t, channel=0)
        assert saved.read_metadata(time=t, channel=0)["Channel"] == "DAPI"
