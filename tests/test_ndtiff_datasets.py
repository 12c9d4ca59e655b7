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
    """The error for a folder of datasets names five of them, by name whatever their
    case, and says there are more, without looking at the rest; a subfolder that cannot
    be read (a network drive gone) is passed over."""
    import app.storage.opening as opening

    names = ["Run_0", "run_1", "RUN_2", "run_3", "run_4", "run_5", "run_6", "run_7"]
    for name in [*names, "a_locked"]:
        (tmp_path / name).mkdir()  # OME-Zarr datasets, as the check below says
    (tmp_path / "some_file.txt").write_text("not a folder")
    looked_at = []

    def is_ome_zarr(path):
        looked_at.append(Path(path).name)
        if Path(path).name == "a_locked":
            raise PermissionError(13, "Permission denied", str(path))
        return Path(path).name.lower().startswith("run_")

    monkeypatch.setattr(opening, "is_ome_zarr", is_ome_zarr)
    with pytest.raises(FileNotFoundError) as error:
        opening.open_dataset(tmp_path)
    assert str(error.value).endswith(
        "is a folder of datasets, not one: open one of them "
        "(Run_0, run_1, RUN_2, run_3, run_4, ...)"
    )
    # the folder itself, then its subfolders in order: the locked one passed over, and
    # no more once six are found
    assert looked_at == [tmp_path.name, "a_locked", *names[:6]]
