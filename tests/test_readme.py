"""The README's Python examples, run as a reader would run them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from app import open_dataset, processor, unregister
from app.processing.registry import ProcessorRegistry
from app.scripting.decorator import current_registry, set_current_registry

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _block(start: str) -> str:
    (found,) = [b for b in BLOCKS if b.lstrip().startswith(start)]
    return found


@pytest.fixture
def registry():
    previous = current_registry()
    fresh = ProcessorRegistry()
    set_current_registry(fresh)
    yield fresh
    set_current_registry(previous)


def test_every_example_is_run_here():
    assert len(BLOCKS) == 8


def test_console_processor_example(registry):
    namespace = {"np": np, "processor": processor, "unregister": unregister}
    code = _block('@processor("edges"')
    exec(code.replace('unregister("edges")', ""), namespace)
    edges = registry.get("edges")
    _, metadata = edges.fn(np.arange(12, dtype=np.uint16).reshape(3, 4), {})
    assert metadata["EdgeStrength"] == 1.0
    falling = np.arange(12, dtype=np.uint16)[::-1].reshape(3, 4).copy()
    _, metadata = edges.fn(falling, {})
    assert metadata["EdgeStrength"] == 1.0  # no wrap-around in uint16
    exec('unregister("edges")', namespace)
    assert "edges" not in registry


def test_tuned_parameters_example(registry):
    exec(_block("from typing import Annotated, Literal"), {})
    denoise = registry.get("denoise")
    assert denoise.parameters.values() == {"sigma": 2.0, "mode": "reflect", "passes": 1}
    assert denoise.parameters.specs["passes"].options == {"min": 1, "max": 5}
    from app.processing.pipeline import ProcessorPipeline

    image = np.full((2, 2), 10, np.uint16)
    ((out, metadata),) = ProcessorPipeline([denoise]).process(image, {"Axes": {}}, None)
    assert (out == 8).all()
    assert metadata["ScopeflowParameters"] == {
        "denoise": {"sigma": 2.0, "mode": "reflect", "passes": 1}
    }


def test_scripts_folder_example(registry):
    exec(_block("from app import processor"), {})
    assert not registry.get("subtract_background").enabled


def test_image_processor_example(core, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(_block("from app import Acquisition, multi_d_acquisition_events\n"), namespace)
    acq = namespace["acq"]
    dataset = open_dataset(acq.dataset_path)
    assert len(dataset.index) == 10 * 13 * 2
    assert not dataset.read_image(time=9, channel="DAPI", z=12)[:100, :100].any()
    assert dataset.read_metadata(time=0, channel="FITC", z=0)["a_new_metadata_key"] == "a new value"
    assert "(96, 128)" in capsys.readouterr().out


def test_feedback_example(core, tmp_path, monkeypatch):
    from app import Acquisition

    monkeypatch.chdir(tmp_path)
    namespace = {"Acquisition": Acquisition}
    exec(_block("def img_process_fn(image, metadata, event_queue)"), namespace)
    acq = namespace["acq"]
    times = sorted(acq.get_dataset().axes["time"])
    assert times == list(range(len(times))) and 1 <= len(times) <= 100


def test_volumes_and_workers_example(core, capsys):
    namespace: dict = {}
    exec(_block("import numpy as np\nfrom scipy import ndimage"), namespace)
    dataset = namespace["acq"].get_dataset()
    assert set(dataset.axes) == {"time"} and sorted(dataset.axes["time"]) == [0, 1, 2]
    assert namespace["acq"].pipeline.processors[0].workers == 2
    assert "'time'" in capsys.readouterr().out


def test_dask_example(core, capsys):
    from app.processing.dask_processor import close_shared_clusters

    namespace: dict = {}
    try:
        exec(
            _block("from app import Acquisition, Processor, multi_d_acquisition_events, on_dask"),
            namespace,
        )
    finally:
        close_shared_clusters()
    dataset = namespace["acq"].get_dataset()
    assert len(dataset.get_image_coordinates_list()) == 8
    assert 0 <= dataset.read_metadata(time=7)["Foreground"] <= 1
    assert capsys.readouterr().out.strip()


def test_tiles_example(core, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(_block("from app import XYTiledAcquisition"), {})
    levels, *shapes = capsys.readouterr().out.split(" (")
    height, width = core.getImageHeight(), core.getImageWidth()
    step_y, step_x = height - 10, width - 20
    assert int(levels) == 3  # 4 columns: two downsampled levels
    assert shapes[0] == f"{height}, {width})"
    assert shapes[1] == f"{3 * step_y}, {4 * step_x})"
    assert shapes[2].strip() == f"{step_y}, {step_x})"
    reopened = open_dataset(next((tmp_path / "data").iterdir()))
    assert sorted(reopened.tiles(0, {})) == [(r, c) for r in range(3) for c in range(4)]
