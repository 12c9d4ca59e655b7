"""The Windows installer's build script (installer/build.py) and NSIS script, without
network: the lock file, the bundle check, the ._pth file, and makensis on a tiny bundle."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_build():
    spec = importlib.util.spec_from_file_location(
        "scopeflow_installer_build", ROOT / "installer" / "build.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]


# ------------------------------------------------------------------ the lock


def _lock_requirements() -> list[str]:
    """The lock's requirements, continuation lines joined, comments dropped."""
    text = build.LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def test_lock_pins_every_line_with_a_hash():
    requirements = _lock_requirements()
    assert requirements
    for line in requirements:
        assert re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][^\s;]*\s", line), line
        assert re.search(r"--hash=sha256:[0-9a-f]{64}\b", line), line
        assert ";" not in line, f"a marker in the lock: {line}"


def test_lock_covers_every_runtime_dependency():
    locked = build.read_lock()
    names = [
        _normalise(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", d).group(0))
        for d in _project()["dependencies"]
    ]
    missing = [name for name in names if name not in locked]
    assert not missing, f"not in {build.LOCK.name}: {missing} (run build.py --update-lock)"
    # the lock's versions satisfy pyproject's exact pins at least
    for requirement in _project()["dependencies"]:
        exact = re.fullmatch(r"([A-Za-z0-9._-]+)==([^,;\s]+)", requirement.strip())
        if exact:
            assert locked[_normalise(exact.group(1))][0] == exact.group(2), requirement


def test_read_lock_parses_the_hash_checking_format(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "# comment\nPyQt6_Qt6==6.11.2 \\\n    --hash=sha256:" + "a" * 64 + "\n"
        "numpy==2.0.2 --hash=sha256:" + "b" * 64 + " --hash=sha256:" + "c" * 64 + "\n",
        encoding="utf-8",
    )
    assert build.read_lock(lock) == {
        "pyqt6-qt6": ("6.11.2", ["a" * 64]),
        "numpy": ("2.0.2", ["b" * 64, "c" * 64]),
    }


# ------------------------------------------------------------------ the bundle


def _fake_bundle(root: Path) -> Path:
    """A bundle made of empty files, complete for check_bundle."""
    files = [
        "python.exe",
        "pythonw.exe",
        "python312.dll",
        "python312.zip",
        "msvcp140.dll",
        "app/__init__.py",
        "app/__main__.py",
        "resources/icon/scopeflow.ico",
        "scripts/focus_metric.py",
        *(f"Lib/site-packages/{p}/__init__.py" for p in build.PACKAGES_CHECKED),
    ]
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()
    build.write_pth(root)
    return root


def test_check_bundle_accepts_a_complete_bundle(tmp_path):
    assert build.check_bundle(_fake_bundle(tmp_path)) == []


def test_check_bundle_names_each_missing_part(tmp_path):
    bundle = _fake_bundle(tmp_path)
    for name in ("msvcp140.dll", "pythonw.exe", "resources/icon/scopeflow.ico"):
        (bundle / name).unlink()
    shutil.rmtree(bundle / "Lib/site-packages/pymmcore_plus")
    (bundle / "scripts/focus_metric.py").unlink()
    (bundle / "python312._pth").write_text("python312.zip\n.\n", encoding="utf-8")
    problems = build.check_bundle(bundle)
    for expected in (
        "msvcp140.dll",
        "pythonw.exe",
        "scopeflow.ico",
        "pymmcore_plus",
        "scripts/",
        "python312._pth",
    ):
        assert [p for p in problems if expected in p], (expected, problems)
    assert len(problems) == 6, problems


def test_check_bundle_of_an_empty_folder(tmp_path):
    problems = build.check_bundle(tmp_path)
    assert any("python.exe" in p for p in problems)
    assert any("app/__main__.py" in p for p in problems)
    assert any("numpy" in p for p in problems)


def test_pth_file(tmp_path):
    path = build.write_pth(tmp_path)
    assert path.name == "python312._pth"
    assert path.read_bytes() == b"python312.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n"


def test_copy_project_leaves_bytecode_out(tmp_path):
    checkout = tmp_path / "checkout"
    for name in ("app/__main__.py", "app/__pycache__/x.cpython-311.pyc", "resources/a.json"):
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).touch()
    (checkout / "scripts").mkdir()
    (checkout / "scripts/s.py").touch()
    bundle = tmp_path / "bundle"
    build.copy_project(bundle, checkout)
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert files == ["app/__main__.py", "resources/a.json", "scripts/s.py"]


def test_safe_extract_refuses_a_member_outside_the_target(tmp_path):
    archive_path = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("cp312/python.exe", b"")
        archive.writestr("cp312/../../escaped.txt", b"")
    with zipfile.ZipFile(archive_path) as archive, pytest.raises(build.BuildError):
        build.safe_extract(archive, tmp_path / "out", "cp312/")
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize(
    ("version", "four"),
    [("0.1.0", "0.1.0.0"), ("1.2", "1.2.0.0"), ("2.0.1rc1", "2.0.1.0"), ("1.2.3.4.5", "1.2.3.4")],
)
def test_numeric_version(version, four):
    assert build.numeric_version(version) == four


# ------------------------------------------------------------------ makensis


def _throwaway_ico(path: Path) -> None:
    """A 16x16 32-bit icon (BMP inside ICO)."""
    pixels = b"\x40\x80\xc0\xff" * 256
    mask = b"\x00" * 64
    header = struct.pack("<IiiHHIIiiII", 40, 16, 32, 1, 32, 0, len(pixels) + len(mask), 0, 0, 0, 0)
    image = header + pixels + mask
    entry = struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(image), 22)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<HHH", 0, 1, 1) + entry + image)


def _makensis() -> str:
    try:
        return build.find_makensis()
    except build.BuildError:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "makensis is not installed and CI=true: install NSIS (apt-get install nsis)"
            )
        pytest.skip("makensis is not installed (apt-get install nsis); CI runs this test")


def test_nsis_script_compiles_into_a_versioned_pe(tmp_path):
    makensis = _makensis()
    bundle = _fake_bundle(tmp_path / "bundle")
    (bundle / "scripts/focus_metric.py").write_text("print('example')\n", encoding="utf-8")
    _throwaway_ico(bundle / build.ICON)
    version = build.project_version()
    outfile = tmp_path / "dist" / build.setup_name(version)
    outfile.parent.mkdir()
    command = build.makensis_command(
        makensis, bundle, outfile, version, "zlib", bundle / build.ICON
    )
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    data = outfile.read_bytes()
    assert data[:2] == b"MZ"
    (pe_offset,) = struct.unpack_from("<I", data, 0x3C)
    assert data[pe_offset : pe_offset + 4] == b"PE\0\0"
    (machine,) = struct.unpack_from("<H", data, pe_offset + 4)
    assert machine == 0x8664, "not an amd64 executable"
    for text in (version, "ProductVersion", "Scopeflow"):
        assert text.encode("utf-16-le") in data, f"{text!r} not in the version resource"
    assert outfile.name == f"Scopeflow-{version}-win64-setup.exe"
