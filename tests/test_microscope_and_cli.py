"""Loading microscopes, and the command line run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from app import MicroscopeConfigError, load_microscope
from app.microscope import SimulatedCameraSettings, configure_simulated_camera


def test_simulated_microscope_has_what_a_microscopist_expects(core):
    assert core.getProperty("Camera", "Mode") == "Fluorescent Beads"
    assert set(core.getAvailableConfigs("Channel")) >= {"DAPI", "FITC", "Cy5", "Rhodamine"}
    assert core.getFocusDevice() == "Z" and core.getXYStageDevice() == "XY"
    assert core.getShutterDevice()
    assert core.getPixelSizeUm() > 0


def test_simulated_camera_goes_to_2048_and_8_bit(core):
    configure_simulated_camera(
        core, SimulatedCameraSettings(width=2048, height=2048, bit_depth=8, exposure_ms=1)
    )
    core.snapImage()
    image = core.getImage()
    assert image.shape == (2048, 2048) and image.dtype.name == "uint8"


def test_beads_blur_away_from_focus(core):
    core.setPosition(0.0)
    core.snapImage()
    in_focus = core.getImage().astype(float)
    core.setPosition(60.0)
    core.snapImage()
    out_of_focus = core.getImage().astype(float)
    # in focus: sharp bright beads on a dark background; out of focus: a smooth haze
    assert in_focus.max() - in_focus.mean() > out_of_focus.max() - out_of_focus.mean()


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(MicroscopeConfigError, match="configuration file not found"):
        load_microscope(tmp_path / "nope.cfg")


def test_config_that_cannot_load_is_a_clear_error(tmp_path):
    cfg = tmp_path / "broken.cfg"
    cfg.write_text("Device,Camera,NoSuchLibrary,NoSuchCamera\n")
    with pytest.raises(MicroscopeConfigError, match=r"broken\.cfg"):
        load_microscope(cfg, micromanager_path=tmp_path)


def _scopeflow(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scopeflow_run_executes_a_script_headless_and_exits_cleanly(tmp_path):
    script = tmp_path / "acquire.py"
    script.write_text(
        textwrap.dedent(
            """
            from app import Acquisition, multi_d_acquisition_events, open_dataset

            def process(image, metadata):
                metadata["processed"] = True
                return image, metadata

            with Acquisition(directory="data", name="run", image_process_fn=process) as acq:
                events = multi_d_acquisition_events(num_time_points=3, z_start=0, z_end=2, z_step=1)
                acq.acquire(events)
            ds = open_dataset(acq.dataset_path)
            print("IMAGES", len(ds.index), ds.read_metadata(time=2, z=2)["processed"])
            """
        )
    )
    result = _scopeflow("run", str(script), cwd=tmp_path)
    # status 0, not 134: the core is released before the interpreter finalises
    assert result.returncode == 0, result.stderr
    assert "IMAGES 9 True" in result.stdout
    assert (tmp_path / "data" / "run_1" / "NDTiff.index").is_file()
    assert "acquisition 'run': finished (completed), 9 images saved, 0 lost" in result.stderr


def test_scopeflow_run_reports_a_failed_acquisition(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text(
        textwrap.dedent(
            """
            from app import Acquisition

            def broken(image, metadata):
                raise ValueError("the user's bug")

            acq = Acquisition(image_process_fn=broken)
            acq.acquire({"axes": {"time": 0}})
            acq.mark_finished()
            """
        )
    )
    result = _scopeflow("run", str(script), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "acquisition 'default_acq_name': failed" in result.stderr
    assert "the user's bug" in result.stderr


def test_scopeflow_run_reports_a_failing_script(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("from app import Acquisition\nAcquisition(image_process_fn=lambda x: x)\n")
    result = _scopeflow("run", str(script), cwd=tmp_path)
    assert result.returncode == 1
    assert "TypeError" in result.stderr and "must take (image, metadata)" in result.stderr


def test_scopeflow_with_missing_config_says_so(tmp_path):
    result = _scopeflow("--config", str(tmp_path / "scope.cfg"), "run", "x.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "configuration file not found" in result.stderr


def test_the_simulated_sample_brightens_with_exposure_and_differs_per_channel(core, tmp_path):
    from app import Acquisition, multi_d_acquisition_events, open_dataset

    events = multi_d_acquisition_events(
        channel_group="Channel", channels=["DAPI", "Cy5"], channel_exposures_ms=[5, 5]
    ) + multi_d_acquisition_events(
        channel_group="Channel", channels=["DAPI"], channel_exposures_ms=[20]
    )
    for index, event in enumerate(events):
        event["axes"]["time"] = index
    with Acquisition(tmp_path, "bright", hardware_sequencing=False) as acq:
        acq.acquire(events)
    dataset = open_dataset(acq.dataset_path)
    dapi_5, cy5_5, dapi_20 = (
        float(dataset.read_image(time=t, channel=c).mean())
        for t, c in ((0, "DAPI"), (1, "Cy5"), (2, "DAPI"))
    )
    assert dapi_20 > 2 * dapi_5  # four times the exposure, brighter each frame
    assert dapi_5 > 2 * cy5_5  # Cy5's dye is dimmer, frame by frame
