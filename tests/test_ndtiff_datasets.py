"""The ndtiff dataset objects users get: finished when written, channel names when opened."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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


def test_a_folder_of_many_datasets_names_the_first_and_passes_over_one_unreadable(
    tmp_path, monkeypatch
):
    """The error for a folder of datasets names five of them, by name, and says there
    are more; a subfolder that cannot be read (a network drive gone) is passed over."""
    import app.storage.opening as opening

    for index in range(8):
        (tmp_path / f"run_{index}").mkdir()
        (tmp_path / f"run_{index}" / "NDTiff.index").write_bytes(b"")
    (tmp_path / "a_locked").mkdir()
    (tmp_path / "some_file.txt").write_text("not a folder")
    checked = []
    real = opening.is_ome_zarr

    def is_ome_zarr(path):
        checked.append(Path(path).name)
        if Path(path).name == "a_locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(opening, "is_ome_zarr", is_ome_zarr)
    with pytest.raises(FileNotFoundError) as error:
        opening.open_dataset(tmp_path)
    assert str(error.value).endswith(
        "is a folder of datasets, not one: open one of them "
        "(run_0, run_1, run_2, run_3, run_4, ...)"
    )
    assert "a_locked" in checked  # it was looked at, and passed over
