"""#11 escaping the folder: a dataset name is one folder inside the chosen directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import Acquisition
from app.storage.dataset_names import DatasetNameError, dataset_name_problem, safe_dataset_name
from app.storage.ram_dataset import RAMDataset

HOSTILE = [
    ("../escape", "path"),
    ("/tmp/absolute", "path"),
    ("C:\\Users\\x", "path"),
    ("sub/b", "path"),
    ("..", "path"),
    ("", "empty"),
    ("   ", "empty"),
    ("CON", "reserved by Windows"),
    ("com1.txt", "reserved by Windows"),
    ("what?", "'?'"),
    ('a"b', "'\"'"),
    ("tab\there", "'\\t'"),
    ("trailing.", "ends with a dot"),
    ("trailing ", "ends with a dot or a space"),
    ("x" * 300, "characters long"),
]


@pytest.mark.parametrize(("name", "reason"), HOSTILE)
def test_a_hostile_name_is_refused_before_anything_is_written(core, tmp_path, name, reason):
    directory = tmp_path / "data"
    with pytest.raises(DatasetNameError, match="cannot be used") as raised:
        Acquisition(directory=directory, name=name)
    assert reason in str(raised.value)
    assert "would work" in str(raised.value)
    assert not directory.exists()  # nothing made, inside or outside
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_suggested_name_is_always_accepted():
    for name, _ in HOSTILE:
        assert dataset_name_problem(safe_dataset_name(name)) is None, name


def test_ordinary_names_are_kept_as_written(core, tmp_path):
    for name in ("exp 1", "GFP_beads-2026.11.30", "Zelle ä", "細胞"):
        assert dataset_name_problem(name) is None
    with Acquisition(directory=tmp_path, name="GFP beads (day 2)") as acq:
        acq.acquire({"axes": {"time": 0}})
    assert Path(acq.dataset_path) == tmp_path / "GFP beads (day 2)_1"


def test_saving_a_memory_dataset_under_a_hostile_name_is_refused(tmp_path):
    dataset = RAMDataset("kept")
    with pytest.raises(DatasetNameError, match="path"):
        dataset.save_as_ndtiff(tmp_path, name="../../escape")
    assert list(tmp_path.iterdir()) == []


def test_names_are_measured_as_the_file_system_counts(core, tmp_path):
    with pytest.raises(DatasetNameError, match="bytes long in UTF-8"):
        Acquisition(directory=tmp_path, name="細胞" * 40)  # 80 characters, 240 bytes
    with pytest.raises(DatasetNameError, match="characters long"):
        Acquisition(directory=tmp_path, name="😀" * 70)  # 140 UTF-16 units
    assert dataset_name_problem(safe_dataset_name("細胞" * 40)) is None


def test_a_path_windows_would_refuse_is_said_before_the_first_image(tmp_path):
    from app.storage.dataset_names import check_path_length

    with pytest.raises(DatasetNameError, match="Windows allows 259"):
        check_path_length("C:\\\\" + "d" * 300)
    check_path_length("C:\\\\data\\\\acquisition_1\\\\acquisition_NDTiffStack.tif")
