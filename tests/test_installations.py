"""Micro-Manager installations: found, chosen and remembered, and checked against the
core's device interface before a configuration loads (issue 22, second half)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pymmcore_plus import CMMCorePlus

from app.microscope.adapter_check import (
    adapter_problems,
    builds_for_interface,
    configuration_libraries,
)
from app.microscope.installations import (
    Installation,
    adapter_files,
    adapter_interface_version,
    choose_folder,
    chosen_folder,
    find_installations,
    installation_interface_version,
)
from app.microscope.loading import (
    AdaptersDoNotFitError,
    MicroscopeConfigError,
    core_interface_version,
    installation_for,
    load_microscope,
    release_microscope,
)
from app.settings_store import SettingsStore
from tests.mm_folders import copy_installation, demo_configuration, demo_folder

CORE = core_interface_version()


@pytest.fixture
def stale(tmp_path):
    """An installation whose adapters were built for the interface before the core's."""
    return copy_installation(tmp_path / "stale", interface=CORE - 1, core_interface=CORE)


@pytest.fixture
def no_utilities(tmp_path):
    return copy_installation(tmp_path / "no-utilities", without=("Utilities",))


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """The default settings file, in a folder of this test's own; no MICROMANAGER_PATH."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "config"))
    monkeypatch.delenv("MICROMANAGER_PATH", raising=False)
    return SettingsStore()


def test_the_demo_configuration_names_its_libraries():
    libraries = configuration_libraries(demo_configuration())
    assert "DemoCamera" in libraries and "Utilities" in libraries
    assert "Camera" in libraries["DemoCamera"]


def test_a_stale_copy_reports_its_version_and_the_core_refuses_it(stale):
    assert adapter_interface_version(adapter_files(demo_folder())["DemoCamera"]) == CORE
    assert installation_interface_version(stale) == CORE - 1
    # what the check guards against: MMCore refuses, in words that do not say why
    core = CMMCorePlus(adapter_paths=[str(stale)])
    with pytest.raises(RuntimeError, match="Failed to load device adapter"):
        core.loadDevice("Camera", "DemoCamera", "DCam")
    core.unloadAllDevices()


def test_a_stale_installation_is_refused_before_loading_naming_each_adapter(stale):
    with pytest.raises(AdaptersDoNotFitError) as caught:
        load_microscope(demo_configuration(), micromanager_path=stale)
    message = str(caught.value)
    assert f"device interface {CORE}" in message
    assert "DemoCamera (" in message and f"built for device interface {CORE - 1}" in message
    assert "Utilities (" in message
    assert "mmcore install" in message and str(stale) in message
    assert "newest nightly builds" in message or "dated" in message  # which builds
    assert {p.library for p in caught.value.problems} >= {"DemoCamera", "Utilities"}


def test_a_folder_without_an_adapter_says_which_and_who_uses_it(no_utilities):
    problems = adapter_problems(demo_configuration(), no_utilities, CORE)
    assert [(p.library, p.found_version) for p in problems] == [("Utilities", None)]
    with pytest.raises(AdaptersDoNotFitError, match=r"Utilities \(.*\): not in that folder"):
        load_microscope(demo_configuration(), micromanager_path=no_utilities)


def test_a_matching_copy_loads(tmp_path):
    good = copy_installation(tmp_path / "good")
    core = load_microscope(demo_configuration(), micromanager_path=good)
    try:
        assert core.getDeviceAdapterSearchPaths() == [str(good)]
        assert core.getCameraDevice() == "Camera"
    finally:
        release_microscope(core)


def test_the_automatic_choice_is_the_first_with_every_adapter_built_for_the_core(
    tmp_path, stale, no_utilities, settings
):
    good = copy_installation(tmp_path / "good")
    found = [Installation(p, "test") for p in (stale, no_utilities, good)]
    chosen = installation_for(demo_configuration(), None, CORE, found)
    assert chosen.path == good
    # none fits: the one with every file, so the check names the versions
    chosen = installation_for(demo_configuration(), None, CORE, found[:2])
    assert chosen.path == stale


def test_the_folder_chosen_in_scopeflow_is_remembered_and_used(settings, stale):
    choose_folder(stale)
    assert chosen_folder() == stale.resolve()
    assert SettingsStore().get("microscope/micromanager_folder", str, "") == str(stale.resolve())
    with pytest.raises(AdaptersDoNotFitError, match="chosen in Scopeflow"):
        load_microscope(demo_configuration())
    choose_folder(None)  # back to automatic: the demo adapters fit
    assert chosen_folder() is None
    release_microscope(load_microscope(demo_configuration()))


def test_a_chosen_folder_that_is_gone_is_said(settings, tmp_path):
    gone = copy_installation(tmp_path / "gone")
    choose_folder(gone)
    shutil.rmtree(gone)
    with pytest.raises(MicroscopeConfigError, match=r"chosen in Scopeflow.*is not there"):
        load_microscope(demo_configuration())


def test_micromanager_path_is_used_and_named(settings, monkeypatch, stale):
    monkeypatch.setenv("MICROMANAGER_PATH", str(stale))
    with pytest.raises(AdaptersDoNotFitError, match="MICROMANAGER_PATH"):
        load_microscope(demo_configuration())


def test_installations_are_found_in_order_with_how(settings, tmp_path, stale):
    root = tmp_path / "Program Files"
    for name in ("Micro-Manager-2.0.0", "Micro-Manager-2.0.3-20250101", "Other"):
        copy_installation(root / name)
    choose_folder(stale)
    found = find_installations(search_roots=[root], include_pymmcore_plus=False)
    assert [i.path.name for i in found] == [
        "stale",
        "Micro-Manager-2.0.3-20250101",  # the newest first
        "Micro-Manager-2.0.0",
        "libs",  # the demo adapters: last
    ]
    assert found[0].found_by == "chosen in Scopeflow"
    assert found[1].found_by == f"installed in {root}"
    assert "mm-test-adapters" in found[-1].found_by


def test_which_builds_have_an_interface_follows_pymmcore_plus_table():
    from pymmcore_plus.install import INTERFACES

    assert builds_for_interface(70) == (
        f"the nightly builds dated {INTERFACES[70][:4]}-{INTERFACES[70][4:6]}-"
        f"{INTERFACES[70][6:]} to before 2022-10-31"
    )
    newest = max(INTERFACES)
    assert builds_for_interface(newest + 1).startswith("the newest nightly builds")


def test_adapters_newer_than_the_core_suggest_a_newer_scopeflow(tmp_path):
    newer = copy_installation(tmp_path / "newer", interface=CORE + 1, core_interface=CORE)
    with pytest.raises(AdaptersDoNotFitError, match="a newer Scopeflow"):
        load_microscope(demo_configuration(), micromanager_path=newer)


def test_the_command_line_lists_chooses_and_forgets(settings, stale, tmp_path, capsys):
    from app.__main__ import main

    assert main(["installations", "--use", str(tmp_path)]) == 2  # no adapter there
    assert "holds no Micro-Manager device adapter" in capsys.readouterr().err
    assert chosen_folder() is None
    assert main(["installations", "--use", str(stale)]) == 1  # remembered, said not to fit
    assert "does not fit this Scopeflow" in capsys.readouterr().out
    assert main(["installations"]) == 0
    listing = capsys.readouterr().out
    assert f"device adapters built for device interface {CORE}" in listing
    assert f"{stale.resolve()} (chosen in Scopeflow): device interface {CORE - 1}" in listing
    assert "mm-test-adapters): device interface" in listing
    assert main(["installations", "--automatic"]) == 0
    assert chosen_folder() is None


def test_scopeflow_config_says_the_mismatch_and_which_installation_it_used(
    settings, stale, tmp_path
):
    import os
    import subprocess
    import sys

    script = tmp_path / "noop.py"
    script.write_text("print('ran')\n")
    command = [sys.executable, "-m", "app", "--config", str(demo_configuration())]
    env = dict(os.environ)
    refused = subprocess.run(
        [*command, "--micromanager", str(stale), "run", str(script)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "DemoCamera (DHub, Camera" in refused.stderr
    assert f"built for device interface {CORE - 1}" in refused.stderr
    assert "ran" not in refused.stdout
    loaded = subprocess.run(
        [*command, "run", str(script)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert "scopeflow: device adapters from" in loaded.stderr
    assert "mm-test-adapters): device interface" in loaded.stderr
    assert "ran" in loaded.stdout


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")
def test_checking_loads_no_adapter_into_scopeflows_process(stale):
    """A library loaded to read its version would stay loaded (locking the file on
    Windows, its vendor DLLs handed to another installation): it is read elsewhere."""
    with pytest.raises(AdaptersDoNotFitError):
        load_microscope(demo_configuration(), micromanager_path=stale)
    assert installation_interface_version(stale) == CORE - 1
    assert str(stale) not in Path("/proc/self/maps").read_text()


def test_a_library_rewritten_is_read_again(tmp_path):
    folder = copy_installation(tmp_path / "mm")
    assert installation_interface_version(folder) == CORE
    shutil.rmtree(folder)
    copy_installation(folder, interface=CORE - 1, core_interface=CORE)
    assert installation_interface_version(folder) == CORE - 1


def test_missing_adapters_are_not_told_to_install_a_nightly_build(no_utilities):
    with pytest.raises(AdaptersDoNotFitError) as caught:
        load_microscope(demo_configuration(), micromanager_path=no_utilities)
    assert "copy its mmgr_dal file into that folder" in str(caught.value)
    assert "nightly" not in str(caught.value)


def test_the_settings_given_are_the_ones_read(settings, stale, tmp_path):
    choose_folder(stale)  # in the user's settings file
    window_settings = SettingsStore(str(tmp_path / "window.json"))  # automatic there
    core = load_microscope(demo_configuration(), settings=window_settings)
    release_microscope(core)
    with pytest.raises(AdaptersDoNotFitError):
        load_microscope(demo_configuration())


def test_micromanager_path_is_said_as_the_automatic_choice(settings, monkeypatch, tmp_path):
    from app.microscope.installations import automatic_or_chosen

    assert "first installation listed" in automatic_or_chosen()
    monkeypatch.setenv("MICROMANAGER_PATH", str(tmp_path))
    assert "MICROMANAGER_PATH environment variable is set" in automatic_or_chosen()
    assert str(tmp_path) in automatic_or_chosen()


def test_newer_versions_are_preferred_by_their_numbers(settings, tmp_path):
    root = tmp_path / "Program Files"
    for name in ("Micro-Manager-2.0.3", "Micro-Manager-2.0.10"):
        copy_installation(root / name)
    found = find_installations(search_roots=[root], include_pymmcore_plus=False)
    assert [i.path.name for i in found][:2] == ["Micro-Manager-2.0.10", "Micro-Manager-2.0.3"]


def test_pymmcore_plus_folders_are_found_where_it_puts_them(settings, tmp_path, monkeypatch):
    """``mmcore install`` folders and ``mmcore use``'s choice, without pymmcore-plus's
    search (which loads an adapter of each into the process)."""
    from app.microscope import installations

    data = tmp_path / "pymmcore-plus"
    monkeypatch.setattr(installations, "user_data_dir", lambda appname: str(data))
    for name in ("Micro-Manager-2.0.3-20250101", "Micro-Manager-2.0.3-20251001"):
        copy_installation(data / "mm" / name)
    used = copy_installation(tmp_path / "used")
    (data / "mm" / ".current_mm").write_text(str(used))
    found = installations.pymmcore_plus_folders()
    assert [(p.name, how) for p, how in found] == [
        ("used", "chosen with pymmcore-plus's 'mmcore use'"),
        ("Micro-Manager-2.0.3-20251001", "installed by 'mmcore install'"),
        ("Micro-Manager-2.0.3-20250101", "installed by 'mmcore install'"),
    ]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")
def test_finding_installations_loads_none_of_them(settings, tmp_path):
    root = tmp_path / "Program Files"
    copy_installation(root / "Micro-Manager-9.9.9")
    found = find_installations(search_roots=[root])
    assert any(i.path.name == "Micro-Manager-9.9.9" for i in found)
    installation_interface_version(root / "Micro-Manager-9.9.9")
    assert "Micro-Manager-9.9.9" not in Path("/proc/self/maps").read_text()


def test_a_choice_made_on_the_command_line_survives_a_window_that_was_open(
    settings, stale, tmp_path
):
    from app.__main__ import main

    window_store = SettingsStore()  # as the open window read it at start
    window_store.set("window/geometry", "abc")
    assert main(["installations", "--use", str(stale)]) == 1  # remembered meanwhile
    window_store.save()  # the window closes
    assert chosen_folder() == stale.resolve()
    assert SettingsStore().get("window/geometry", str, "") == "abc"
