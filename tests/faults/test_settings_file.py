"""#11 unsafe settings: the settings file holds plain values only; a broken one is set
aside with a warning and the window starts as new."""

from __future__ import annotations

import base64
import json
import pickle

import pytest

from app.settings_store import SettingsStore
from tests.windows import new_window


class _Explodes:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('ran')",))


def _open_window(qtbot, core, path, tmp_path):
    return new_window(qtbot, core, path, tmp_path)


def test_only_plain_values_can_be_remembered(tmp_path):
    store = SettingsStore(tmp_path / "settings.json")
    with pytest.raises(TypeError):
        store.set("anything", _Explodes())
    store.set("a", {"b": [1, 2.5, "c", None, True]})
    store.save()
    assert json.loads((tmp_path / "settings.json").read_text()) == {
        "a": {"b": [1, 2.5, "c", None, True]}
    }


@pytest.mark.parametrize(
    "content",
    [
        "{ this is not json",
        "[1, 2, 3]",
        '{"processors/state": [{"name": 3}, 7, "x"], "window/state": "!!notbase64!!"}',
        '{"window/geometry": "AAAA", "acquisition/directory": 42}',
        "",
    ],
)
def test_a_malformed_settings_file_is_ignored_with_a_warning(
    qtbot, core, tmp_path, content, caplog
):
    path = tmp_path / "settings.json"
    path.write_text(content)
    window = _open_window(qtbot, core, path, tmp_path)
    window.show()
    assert window.acquisition_panel.data_directory  # the default, not a crash
    assert "settings" in caplog.text.lower() or "ignored" in caplog.text.lower()
    window.close()  # and the window saves a good file again
    assert isinstance(json.loads(path.read_text()), dict)


def test_the_folders_of_an_earlier_version_are_carried_over_and_nothing_else(tmp_path, monkeypatch):
    from app.settings_migration import carry_over_old_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    old = tmp_path / "config" / "Scopeflow" / "Scopeflow.conf"
    old.parent.mkdir(parents=True)
    payload = base64.b64encode(pickle.dumps(_Explodes())).decode()
    old.write_text(
        "[acquisition]\ndirectory=/data/lab\n\n"
        f"[processors]\nstate=@Variant({payload})\n\n"
        "[scripts]\nfolder=@Variant(\\0\\0\\0\\x7f)\n"
    )
    monkeypatch.chdir(tmp_path)
    store = SettingsStore(tmp_path / "new.json")
    assert carry_over_old_settings(store) == ["acquisition/directory"]
    assert store.get("acquisition/directory", str, "") == "/data/lab"
    assert store.get("scripts/folder", str, "") == ""  # a typed value is not read
    assert not (tmp_path / "PWNED").exists()
    assert json.loads((tmp_path / "new.json").read_text()) == {"acquisition/directory": "/data/lab"}


def test_a_deeply_nested_settings_file_is_set_aside(tmp_path, caplog):
    path = tmp_path / "settings.json"
    path.write_text("[" * 100000 + "]" * 100000)
    store = SettingsStore(path)
    assert store.get("scripts/folder", str, "default") == "default"
    assert (tmp_path / "settings.json.unreadable").exists()
