"""Core(): the current microscope's core, with pycro-manager's snake_case names."""

from __future__ import annotations

import pytest

from app import Acquisition, Core
from app.microscope.snake_case_core import snake_case


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("setExposure", "set_exposure"),
        ("getProperty", "get_property"),
        ("setROI", "set_roi"),
        ("getXYPosition", "get_xy_position"),
        ("isSequenceRunning", "is_sequence_running"),
        ("getImageWidth", "get_image_width"),
        ("startSequenceAcquisition", "start_sequence_acquisition"),
        ("getXPosition", "get_x_position"),
    ],
)
def test_snake_case_names(camel, snake):
    assert snake_case(camel) == snake


def test_core_is_the_microscope_acquisitions_use(core):
    mmc = Core()
    assert mmc.core is core
    mmc.set_exposure(7)
    assert core.getExposure() == 7 and mmc.get_exposure() == mmc.getExposure() == 7
    with Acquisition(show_display=False) as acq:
        acq.acquire({"axes": {"time": 0}})
    assert acq.get_dataset().read_metadata(time=0)["Exposure"] == 7


def test_pycro_manager_test_suite_calls(core):
    mmc = Core()
    mmc.set_property("Z", "UseSequences", "Yes")
    assert mmc.get_property("Z", "UseSequences") == "Yes"
    mmc.set_property("Z", "UseSequences", "No")
    mmc.set_roi(0, 0, 100, 50)
    assert (mmc.get_image_width(), mmc.get_image_height()) == (100, 50)
    mmc.clear_roi()
    assert not mmc.is_sequence_running()
    mmc.snap_image()
    assert mmc.get_image().shape == (96, 128)
    mmc.set_xy_position(10.0, 20.0)
    mmc.wait_for_system()
    assert mmc.get_xy_position() == pytest.approx((10.0, 20.0), abs=0.1)


def test_pymmcore_plus_methods_work_too(core):
    assert "Exposure" in {prop.name for prop in Core().iterProperties(device_label="Camera")}


def test_connection_settings_are_accepted(core):
    assert Core(port=4827, timeout=1000, debug=False).core is core


def test_an_unknown_name_says_so(core):
    with pytest.raises(AttributeError, match="no method 'set_exposur'"):
        Core().set_exposur(1)
    assert "set_exposure" in dir(Core())


def test_start_headless_loads_a_configuration_for_the_script(core):
    import mm_test_adapters

    from app import start_headless, stop_headless
    from app.microscope import set_current_core

    adapters = mm_test_adapters.device_adapter_path()
    try:
        loaded = start_headless(
            adapters, f"{adapters}/MMConfig_demo.cfg", buffer_size_mb=64, timeout=5000
        )
        assert loaded is not core and Core().core is loaded
        assert loaded.getCircularBufferMemoryFootprint() == 64
        assert "Camera" in loaded.getLoadedDevices()
        with Acquisition(show_display=False) as acq:  # on the microscope just loaded
            acq.acquire({"axes": {"time": 0}})
        assert acq.core is loaded and acq.counts.saved == 1
        stop_headless()
        assert "Camera" not in loaded.getLoadedDevices()
    finally:
        set_current_core(core)


def test_start_headless_with_a_missing_configuration_says_so(core, tmp_path):
    from app import MicroscopeConfigError, start_headless

    with pytest.raises(MicroscopeConfigError, match="not found"):
        start_headless(tmp_path, tmp_path / "missing.cfg")
    assert Core().core is core
