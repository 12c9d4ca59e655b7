"""The scripts folder: new, changed, deleted, broken and fixed files, saved every way
editors save them, with the pipeline's order and switches kept."""

from __future__ import annotations

import gc
import os
import textwrap
import time
import weakref

import pytest

from app import Acquisition, multi_d_acquisition_events, open_dataset
from app.processing.registry import ProcessorRegistry
from app.scripting import ScriptsFolder, current_registry, processor, set_current_registry

VALUE_SCRIPT = """
from app import processor

@processor
def set_value(image, metadata):
    image[:] = {value}
    return image, metadata
"""


@pytest.fixture
def folder(tmp_path):
    registry = ProcessorRegistry()
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    return ScriptsFolder(scripts, registry)


def _write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")


def _value_of(registry, name="set_value"):
    import numpy as np

    image = np.zeros((2, 2), np.uint16)
    out = registry.get(name).fn(image, {})
    return int(out[0][0, 0])


def test_new_file_registers_its_processors(folder):
    _write(folder.path / "values.py", VALUE_SCRIPT.format(value=1))
    assert folder.scan() == [folder.path / "values.py"]
    entry = folder.registry.get("set_value")
    assert entry.source == str(folder.path / "values.py")
    assert _value_of(folder.registry) == 1
    assert folder.states[folder.path / "values.py"].status == "loaded"
    assert folder.scan() == []  # nothing changed, nothing reloaded


def test_module_level_process_function_is_a_processor(folder):
    _write(folder.path / "invert.py", "def process(image, metadata):\n    return image, metadata\n")
    folder.scan()
    assert folder.registry.names() == ["invert"]


def test_in_place_edit_reloads_keeping_place_and_switches(folder):
    folder.registry.register(lambda i, m: (i, m), "first", source="console")
    _write(folder.path / "values.py", VALUE_SCRIPT.format(value=1))
    folder.scan()
    folder.registry.move("set_value", 0)
    folder.registry.set_enabled("set_value", False)
    folder.registry.set_live("set_value", True)
    with open(folder.path / "values.py", "r+", encoding="utf-8") as f:  # in-place write
        text = f.read()
        f.seek(0)
        f.write(text.replace("= 1", "= 2"))
    assert folder.scan()
    assert _value_of(folder.registry) == 2
    assert folder.registry.names() == ["set_value", "first"]
    entry = folder.registry.get("set_value")
    assert entry.enabled is False and entry.live is True


def test_atomic_save_by_rename_is_seen(folder):
    target = folder.path / "values.py"
    _write(target, VALUE_SCRIPT.format(value=1))
    folder.scan()
    temp = folder.path / ".values.py.swp"
    _write(temp, VALUE_SCRIPT.format(value=3))
    os.replace(temp, target)
    assert folder.scan() == [target]
    assert _value_of(folder.registry) == 3


def test_same_size_same_second_edit_is_seen(folder):
    target = folder.path / "values.py"
    _write(target, VALUE_SCRIPT.format(value=1))
    stat = target.stat()
    folder.scan()
    _write(target, VALUE_SCRIPT.format(value=4))  # same length
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same mtime
    assert target.stat().st_size == stat.st_size
    assert folder.scan() == [target]
    assert _value_of(folder.registry) == 4


def test_deleted_file_removes_its_processors(folder):
    _write(folder.path / "values.py", VALUE_SCRIPT.format(value=1))
    folder.scan()
    (folder.path / "values.py").unlink()
    folder.scan()
    assert "set_value" not in folder.registry
    assert folder.states == {}


def test_renamed_processor_replaces_the_old_one(folder):
    target = folder.path / "values.py"
    _write(target, VALUE_SCRIPT.format(value=1))
    folder.scan()
    _write(target, VALUE_SCRIPT.format(value=1).replace("set_value", "set_other"))
    folder.scan()
    assert folder.registry.names() == ["set_other"]


@pytest.mark.parametrize(
    "broken, line",
    [
        ("from app import processor\n\n@processor\ndef set_value(image, metadata)\n    pass\n", 4),
        ("from app import processor\nx = 1\nraise RuntimeError('boom at import')\n", 3),
        # a wrong signature is reported at the decorator's line
        ("from app import processor\n\n@processor\ndef set_value(image):\n    pass\n", 3),
        ("import sys\nsys.exit(3)\n", 2),
    ],
)
def test_broken_file_keeps_the_last_working_version_until_fixed(folder, broken, line, caplog):
    target = folder.path / "values.py"
    _write(target, VALUE_SCRIPT.format(value=1))
    folder.scan()
    target.write_text(broken, encoding="utf-8")
    folder.scan()
    state = folder.states[target]
    assert state.status == "error"
    assert f"{target}, line {line}" in state.error
    # the log says the file once, with its line (it said the path twice)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Could not")]
    assert said[-1].startswith(f"Could not load {target}, line {line}: ")
    assert _value_of(folder.registry) == 1  # still the working version
    assert folder.registry.get("set_value").error == state.error
    _write(target, VALUE_SCRIPT.format(value=5))
    folder.scan()
    assert folder.states[target].status == "loaded"
    assert folder.registry.get("set_value").error is None
    assert _value_of(folder.registry) == 5


def test_reload_does_not_keep_the_old_module_alive(folder):
    target = folder.path / "values.py"
    _write(target, VALUE_SCRIPT.format(value=1))
    folder.scan()
    old = weakref.ref(folder.registry.get("set_value").fn)
    _write(target, VALUE_SCRIPT.format(value=2))
    folder.scan()
    gc.collect()
    assert old() is None


def test_console_decorator_registers_and_changes_saved_data(core, tmp_path):
    registry = ProcessorRegistry()
    set_current_registry(registry)
    try:

        @processor("stamp", position=0)
        def stamp(image, metadata):
            image[:] = 77
            return image, metadata

        assert registry.names() == ["stamp"]
        assert registry.get("stamp").source == "console"
        with Acquisition(tmp_path, "console", image_process_fn=registry.for_acquisition()) as acq:
            acq.acquire({"axes": {"time": 0}})
        assert (open_dataset(acq.dataset_path).read_image(time=0) == 77).all()
    finally:
        set_current_registry(None)
    assert current_registry() is not registry


def test_acquisition_keeps_going_while_its_script_is_edited(core, tmp_path, folder):
    target = folder.path / "values.py"
    _write(target, VALUE_SCRIPT.format(value=1))
    folder.scan()
    acq = Acquisition(
        tmp_path,
        "editing",
        image_process_fn=folder.registry.for_acquisition(),
        hardware_sequencing=False,
    )
    acq.acquire(multi_d_acquisition_events(num_time_points=30, time_interval_s=0.01))
    while acq.counts.saved < 5:
        time.sleep(0.01)
    target.write_text("this is ( not python", encoding="utf-8")
    folder.scan()
    _write(target, VALUE_SCRIPT.format(value=2))
    folder.scan()
    acq.mark_finished()
    acq.await_completion(timeout=30)
    assert acq.counts.saved == 30
    assert acq.errors == []
    assert _value_of(folder.registry) == 2


def test_enabled_false_is_only_the_first_state(folder):
    target = folder.path / "example.py"
    _write(target, VALUE_SCRIPT.format(value=1).replace("@processor", "@processor(enabled=False)"))
    folder.scan()
    assert folder.registry.get("set_value").enabled is False
    folder.registry.set_enabled("set_value", True)
    _write(target, VALUE_SCRIPT.format(value=2).replace("@processor", "@processor(enabled=False)"))
    folder.scan()
    assert folder.registry.get("set_value").enabled is True  # the user's choice stays
