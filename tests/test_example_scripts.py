"""The shipped example scripts load, and do what they say on real acquisitions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.processing.registry import ProcessorRegistry
from app.processing.views import current_views
from app.scripting import ScriptsFolder

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture(scope="module")
def examples():
    folder = ScriptsFolder(SCRIPTS, ProcessorRegistry())
    folder.scan()
    return folder


def _run(tmp_path, processor, events, name):
    processor.enabled = True
    with Acquisition(tmp_path, name, image_process_fn=[processor]) as acq:
        acq.acquire(events)
    return acq, open_dataset(acq.dataset_path)


def test_every_example_loads_and_starts_switched_off(examples):
    errors = {p.name: s.error for p, s in examples.states.items() if s.error}
    assert errors == {}
    assert {
        "modify_and_tag",
        "with_inverted_channel",
        "keep_even_time_points",
        "running_max_projection",
        "refocus_when_saturated",
        "zstack_volume",
        "subtract_background",
        "focus_score",
    } <= set(examples.registry.names())
    assert not any(p.enabled for p in examples.registry)
    assert examples.states[SCRIPTS / "acquire_timelapse.py"].status == "script"


def test_modify_two_channels_and_drop(core, tmp_path, examples):
    registry = examples.registry
    _, ds = _run(tmp_path, registry.get("modify_and_tag"), {"axes": {"time": 0}}, "modify")
    assert not ds.read_image(time=0)[:96, :100].any()
    assert ds.read_metadata(time=0)["a_new_metadata_key"] == "a new value"
    _, ds = _run(tmp_path, registry.get("with_inverted_channel"), {"axes": {"time": 0}}, "two")
    assert set(ds.get_channel_names()) == {"DAPI", "DAPI-inverted"}
    _, ds = _run(
        tmp_path,
        registry.get("keep_even_time_points"),
        multi_d_acquisition_events(num_time_points=4),
        "drop",
    )
    assert sorted(ds.axes["time"]) == [0, 2]


def test_zstack_volume_and_focus_score(core, tmp_path, examples):
    registry = examples.registry
    core.setExposure(10)  # beads bright enough to judge focus (the sample follows exposure)
    events = multi_d_acquisition_events(z_start=0, z_end=40, z_step=10)  # 5 planes
    _, ds = _run(tmp_path, registry.get("zstack_volume"), events, "volume")
    assert set(ds.get_channel_names()) == {"DAPI-best-focus"}  # the planes keep their axes
    assert ds.read_metadata(z=4, channel="DAPI-best-focus")["BestFocusPlane"] == 0  # focus at z=0
    assert current_views().latest("z max projection").shape == (96, 128)
    _, ds = _run(tmp_path, registry.get("focus_score"), events, "focus")
    scores = [ds.read_metadata(z=z)["FocusScore"] for z in range(5)]
    assert scores[0] == max(scores)
    assert current_views().plot_slot("focus score").peek() is not None


def test_background_subtraction_and_divert(core, tmp_path, examples):
    registry = examples.registry
    _, ds = _run(
        tmp_path,
        registry.get("subtract_background"),
        multi_d_acquisition_events(num_time_points=3),
        "background",
    )
    assert ds.read_metadata(time=2)["BackgroundSubtracted"] is True
    _run(
        tmp_path,
        registry.get("running_max_projection"),
        multi_d_acquisition_events(num_time_points=3),
        "max",
    )
    assert current_views().latest("max projection").dtype == np.uint16


def test_the_timelapse_script_saves_in_the_data_folder_of_the_settings(tmp_path):
    import json
    import os
    import subprocess
    import sys

    config = tmp_path / "config" / "scopeflow"
    config.mkdir(parents=True)
    data = tmp_path / "lab data"
    (config / "settings.json").write_text(json.dumps({"acquisition/directory": str(data)}))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    result = subprocess.run(
        [sys.executable, "-m", "app", "run", str(SCRIPTS / "acquire_timelapse.py")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (data / "timelapse_1").is_dir()
    assert not any(elsewhere.iterdir())  # nothing relative to where it was started
