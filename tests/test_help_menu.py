"""The Help menu: the guides shown offline from files the app carries (checkout, wheel,
Windows bundle), the versions for a bug report, the log and settings folders opened."""

from __future__ import annotations

import importlib.util
import logging
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

import pymmcore_plus
import pytest
from PyQt6.QtCore import PYQT_VERSION_STR, QUrl, qVersion

import app
from app.microscope.loading import core_interface_version
from app.resource_files import HELP_DOCS, MissingResourceError, doc_path
from app.ui.shell.help_menu import current_log_folder

ROOT = Path(__file__).resolve().parent.parent


def _help(window) -> dict:
    (bar_action,) = [a for a in window.menuBar().actions() if a.text() == "&Help"]
    return {a.text(): a for a in bar_action.menu().actions() if a.text()}


def _first_heading(name: str) -> str:
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    return next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))


@pytest.fixture
def opened(window):
    """What the Help menu asked to open (nothing is opened)."""
    urls: list[QUrl] = []
    window.help_menu.opener = lambda url: urls.append(url) or True
    return urls


def test_the_help_menu_has_its_actions(window):
    menu = _help(window)
    assert list(menu) == [
        "&User guide",
        "&Scripting API reference",
        "Open the &log folder",
        "Open the s&ettings folder",
        "&About Scopeflow",
    ]
    assert menu["&User guide"].shortcut().toString() == "F1"


@pytest.mark.parametrize(
    ("action", "name"),
    [("&User guide", "user-guide.md"), ("&Scripting API reference", "scripting-api.md")],
)
def test_a_guide_opens_in_a_dialog_rendered_from_its_markdown(window, opened, action, name):
    _help(window)[action].trigger()
    dialog = window.help_menu.dialogs[name]
    assert dialog.isVisible()
    shown = dialog.browser.toPlainText()
    assert shown.startswith(_first_heading(name))
    assert "# " not in shown.splitlines()[0]  # rendered, not shown as Markdown source
    assert dialog.browser.document().toMarkdown()  # a rich document
    _help(window)[action].trigger()  # again: the same window, raised
    assert window.help_menu.dialogs[name] is dialog
    assert not opened


def test_links_between_the_guides_and_to_the_web(window, opened):
    guide = window.help_menu.show_user_guide()
    guide.browser.anchorClicked.emit(QUrl("scripting-api.md"))
    assert window.help_menu.dialogs["scripting-api.md"].isVisible()
    guide.browser.anchorClicked.emit(QUrl("https://micro-manager.org/"))
    assert opened == [QUrl("https://micro-manager.org/")]


def test_about_gives_the_versions_from_the_libraries_themselves(window, opened):
    _help(window)["&About Scopeflow"].trigger()
    dialog = window.help_menu.dialogs["about"]
    text = dialog.text.toPlainText()
    core = window.core
    for version in (
        f"Scopeflow {app.__version__}",
        f"Python {platform.python_version()}",
        f"PyQt {PYQT_VERSION_STR}",
        f"Qt {qVersion()}",
        f"pymmcore-plus {pymmcore_plus.__version__}",
        core.getVersionInfo(),
        core.getAPIVersionInfo(),
        # the installation, how it was found, and what its adapters were built for
        f"Micro-Manager installation: {Path(core.getDeviceAdapterSearchPaths()[0]).resolve()} "
        "(Micro-Manager's demo adapters, from mm-test-adapters): "
        f"device interface {core_interface_version()}",
        str(window.settings.path),
    ):
        assert version in text, (version, text)
    assert dialog.text.isReadOnly()
    dialog.text.selectAll()
    assert dialog.text.textCursor().selectedText().startswith("Scopeflow")  # selectable
    dialog.copy_button.click()
    from PyQt6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == text


def test_the_log_folder_is_the_one_being_written(window, opened, tmp_path):
    handler = logging.FileHandler(tmp_path / "logs" / "scopeflow.log", delay=True)
    (tmp_path / "logs").mkdir()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        assert current_log_folder() == tmp_path / "logs"
        _help(window)["Open the &log folder"].trigger()
    finally:
        root.removeHandler(handler)
    assert opened == [QUrl.fromLocalFile(str(tmp_path / "logs"))]
    assert "log folder" in window.statusBar().currentMessage()


def test_without_a_log_file_the_log_folder_is_where_the_app_writes_it(
    window, opened, tmp_path, monkeypatch
):
    monkeypatch.setenv("SCOPEFLOW_LOG_DIR", str(tmp_path / "elsewhere"))
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        monkeypatch.setattr(root, "handlers", [h for h in root.handlers if h is not handler])
    _help(window)["Open the &log folder"].trigger()
    assert opened == [QUrl.fromLocalFile(str(tmp_path / "elsewhere"))]
    assert (tmp_path / "elsewhere").is_dir()  # made, so that the file manager can show it


def test_the_settings_folder_is_the_window_s_settings_file_s(window, opened):
    _help(window)["Open the s&ettings folder"].trigger()
    assert opened == [QUrl.fromLocalFile(str(window.settings.path.parent))]


def test_a_folder_that_cannot_be_opened_is_said_with_its_path(window):
    window.help_menu.opener = lambda url: False
    folder = window.help_menu.open_settings_folder()
    message = window.statusBar().currentMessage()
    assert "Could not open" in message and str(folder) in message


# ------------------------------------------------------------------ finding the guides


def test_the_guides_are_found_inside_the_package_or_beside_it(tmp_path):
    for name in HELP_DOCS:
        assert doc_path(name) == ROOT / "docs" / name  # a checkout
    wheel_like = tmp_path / "site" / "app"
    (wheel_like / "docs").mkdir(parents=True)
    (wheel_like / "docs" / "user-guide.md").write_text("# In the package\n", encoding="utf-8")
    assert doc_path("user-guide.md", wheel_like) == wheel_like / "docs" / "user-guide.md"
    with pytest.raises(MissingResourceError, match=r"scripting-api\.md.*reinstall"):
        doc_path("scripting-api.md", wheel_like)


def _load_build():
    spec = importlib.util.spec_from_file_location(
        "scopeflow_installer_build_docs", ROOT / "installer" / "build.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_windows_bundle_carries_the_guides_where_the_app_finds_them(tmp_path):
    build = _load_build()
    assert set(build.HELP_DOCS) == set(HELP_DOCS)
    bundle = tmp_path / "bundle"
    build.copy_project(bundle)
    assert build.missing_docs(bundle) == [f"app/docs/{n} is missing" for n in HELP_DOCS]
    build.copy_docs(bundle)
    assert build.missing_docs(bundle) == []
    for name in HELP_DOCS:
        found = doc_path(name, bundle / "app")
        assert found == bundle / "app" / "docs" / name
        assert found.read_bytes() == (ROOT / "docs" / name).read_bytes()
    with pytest.raises(build.BuildError, match=r"docs/user-guide\.md"):
        build.copy_docs(tmp_path / "other", tmp_path / "checkout-without-docs")


def test_the_wheel_carries_the_guides_inside_the_package(tmp_path):
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    result = subprocess.run(
        [*pip_wheel, "--wheel-dir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("scopeflow-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in HELP_DOCS:
            assert archive.read(f"app/docs/{name}") == (ROOT / "docs" / name).read_bytes()


# ------------------------------------------------------------------ the reference is current


def test_the_scripting_api_reference_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_api_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_reference_lists_every_public_name():
    text = (ROOT / "docs" / "scripting-api.md").read_text(encoding="utf-8")
    missing = [name for name in app.__all__ if f"### `{name}`" not in text]
    assert not missing
