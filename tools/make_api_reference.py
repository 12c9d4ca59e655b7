#!/usr/bin/env python3
"""Write docs/scripting-api.md, the scripting API reference the Help menu shows.

    python tools/make_api_reference.py           # rewrite docs/scripting-api.md
    python tools/make_api_reference.py --check   # exit 1 if it is out of date

Generated from the code: every name of ``app.__all__`` (the public API, as
``from app import ...`` gives it) with its signature and docstring, grouped by topic,
the dataset reading API (``ReadableDataset``), the names the console starts with
(``app/scripting/namespace.py``) and the README's example of an image processor. A
name added to ``app.__all__`` appears without touching this tool (under "More" until
it is given a topic). ``tests/test_help_menu.py`` fails when the file is out of date.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "scripting-api.md"
README = ROOT / "README.md"

#: topics, in order, and the names of app.__all__ each one lists first
TOPICS: list[tuple[str, list[str]]] = [
    (
        "Acquisitions",
        ["Acquisition", "multi_d_acquisition_events", "AcquisitionFuture", "AcqNotification"],
    ),
    (
        "Processors",
        ["processor", "register", "unregister", "Processor", "ProcessorRegistry", "ErrorPolicy"],
    ),
    ("Processors' own views", ["show_image", "show_plot"]),
    ("Datasets and storage", ["open_dataset", "Dataset", "RAMDataset", "ImageSink"]),
    (
        "The microscope",
        [
            "Core",
            "current_core",
            "set_current_core",
            "load_microscope",
            "start_headless",
            "stop_headless",
            "SimulatedCameraSettings",
            "data_folder",
        ],
    ),
]
ERRORS_TOPIC = "Errors"
MORE_TOPIC = "More"

INTRO = """\
# Scopeflow scripting API reference

What a script, a file of the scripts folder or the console can use: `from app import ...`
gives every name below. The API is pycro-manager's: a pycro-manager script runs after
changing `from pycromanager import ...` to `from app import ...`.

<!-- Generated from the code by tools/make_api_reference.py (signatures and
docstrings); do not edit by hand. An HTML comment: the Help menu does not show it. -->

## An image processor

From the README (its examples are run by the test suite):

"""

CURRENT = """\
## The current microscope, pipeline and views

Some calls act on "the current one" when none is given, so that a script reads the
same in the window and headless:

- **The microscope.** `Acquisition()` without `core=` and `Core()` use
  `current_core()`: in the window, the microscope it drives (another one once
  File > Open configuration… has loaded one); in a plain script, the simulated
  microscope, loaded on first use, unless `set_current_core(core)` or
  `start_headless(...)` chose another.
- **The pipeline.** `@processor`, `register` and `unregister` change the window's
  pipeline (the Processors panel); in a plain script, a pipeline made on first use.
  An `Acquisition` without `image_process_fn` runs no processor; the window's
  acquisitions run the pipeline's enabled processors.
- **Views.** `show_image` and `show_plot` show in the window's views; headless, the
  latest image or plot of each view is kept.

"""


#: a source file named in a docstring, "(app/processing/parameters.py)": for developers
_SOURCE_FILE = re.compile(r"\s*\(`?(?:app|tools)/[\w/.]+\.py`?\)")


def _md(text: str) -> str:
    """A docstring as Markdown: reStructuredText's ``code`` as `code`, without the
    source files it names (a script's author reads the API, not our tree)."""
    return _SOURCE_FILE.sub("", text.replace("``", "`"))


def _annotation(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


def _parameters(signature: inspect.Signature, skip_first: bool = False) -> list[str]:
    parts: list[str] = []
    parameters = list(signature.parameters.values())
    if skip_first and parameters:
        parameters = parameters[1:]
    kinds = inspect.Parameter
    star_done = False
    for index, parameter in enumerate(parameters):
        if parameter.kind is kinds.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if parameter.kind is kinds.VAR_POSITIONAL:
            star_done = True
        prefix = {kinds.VAR_POSITIONAL: "*", kinds.VAR_KEYWORD: "**"}.get(parameter.kind, "")
        text = prefix + parameter.name
        annotation = _annotation(parameter.annotation)
        if annotation:
            text += f": {annotation}"
        if parameter.default is not inspect.Parameter.empty:
            text += f" = {_default(parameter.default)}"
        parts.append(text)
        following = parameters[index + 1] if index + 1 < len(parameters) else None
        if parameter.kind is kinds.POSITIONAL_ONLY and (
            following is None or following.kind is not kinds.POSITIONAL_ONLY
        ):
            parts.append("/")
    return parts


def _default(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    text = repr(value)
    if re.search(r" at 0x[0-9a-f]+", text):
        raise SystemExit(f"a default value has no stable text: {text}")
    return text


def _signature(obj: Callable[..., Any], skip_first: bool = False) -> str | None:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    parts = _parameters(signature, skip_first)
    returns = _annotation(signature.return_annotation)
    tail = f" -> {returns}" if returns and returns != "None" else ""
    return f"({', '.join(parts)}){tail}"


def _block_signature(name: str, obj: Callable[..., Any]) -> str | None:
    """A code block with the call's signature, one parameter a line when long."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    parts = _parameters(signature)
    returns = _annotation(signature.return_annotation)
    tail = f" -> {returns}" if returns and returns not in ("None", "'None'") else ""
    one_line = f"{name}({', '.join(parts)}){tail}"
    if len(one_line) <= 88:
        return f"```python\n{one_line}\n```\n"
    body = "".join(f"    {part},\n" for part in parts)
    return f"```python\n{name}(\n{body}){tail}\n```\n"


def _own_members(cls: type) -> list[tuple[str, Any]]:
    """Public methods and properties defined by the app (not by Python or a library),
    the class's own first, in the order written."""
    seen: set[str] = set()
    members: list[tuple[str, Any]] = []
    for klass in cls.__mro__:
        if not klass.__module__.startswith("app."):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            if inspect.isfunction(value) or isinstance(value, property):
                seen.add(name)
                members.append((name, value))
    return members


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    return " ".join(_md(inspect.cleandoc(doc)).split("\n\n")[0].split())


def _describe_class(name: str, cls: type) -> str:
    out = [f"### `{name}`\n"]
    is_error = issubclass(cls, BaseException)
    if not is_error and not issubclass(cls, enum.Enum) and not _is_protocol(cls):
        block = _block_signature(name, cls)
        if block:
            out.append(block)
    doc = inspect.getdoc(cls)
    if doc and not (is_error and doc == inspect.getdoc(cls.__mro__[1])):
        out.append(_md(doc) + "\n")
    if issubclass(cls, enum.Enum):
        out.append("Members: " + ", ".join(f"`{m.name}`" for m in cls) + ".\n")
        return "\n".join(out)
    if is_error:
        bases = [b.__name__ for b in cls.__bases__]
        out.append(f"A subclass of `{'`, `'.join(bases)}`.\n")
        return "\n".join(out)
    lines = []
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            if not f.name.startswith("_"):
                lines.append(f"- `{f.name}: {_annotation(f.type)}`")
    for member, value in _own_members(cls):
        if isinstance(value, property):
            text = f"- `{member}` (read-only)" if value.fset is None else f"- `{member}`"
            summary = _first_paragraph(value.__doc__)
        else:
            text = f"- `{member}{_signature(value, skip_first=True) or '(...)'}`"
            summary = _first_paragraph(value.__doc__)
        lines.append(f"{text}: {summary}" if summary else text)
    for attribute, value in vars(cls).items():
        if (
            inspect.isclass(value)
            and issubclass(value, enum.Enum)
            and not attribute.startswith("_")
        ):
            names = ", ".join(m.name for m in value)
            lines.append(f"- `{attribute}`: {names}")
    if lines:
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def _is_protocol(cls: type) -> bool:
    return bool(getattr(cls, "_is_protocol", False))


def _describe_function(name: str, fn: Callable[..., Any]) -> str:
    out = [f"### `{name}`\n"]
    block = _block_signature(name, fn)
    if block:
        out.append(block)
    doc = inspect.getdoc(fn)
    if doc:
        out.append(_md(doc) + "\n")
    return "\n".join(out)


def describe(name: str, obj: Any) -> str:
    if inspect.isclass(obj):
        return _describe_class(name, obj)
    return _describe_function(name, obj)


def _readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"### An image processor\n\n```python\n(.*?)```", text, re.S)
    if not match:
        raise SystemExit("README.md has no '### An image processor' Python example")
    return f"```python\n{match.group(1)}```\n\n"


def _console_names() -> str:
    from app.scripting.namespace import BANNER, console_namespace

    names = console_namespace(SimpleNamespace(core=None, registry=None), None)
    listed = ", ".join(f"`{name}`" for name in names)
    return (
        "## The console\n\n"
        f"The Console panel starts with these names: {listed}. Its banner:\n\n"
        f"```\n{BANNER.rstrip()}\n```\n\n"
    )


def generate() -> str:
    sys.path.insert(0, str(ROOT))
    import app
    from app.storage.sink import ReadableDataset

    public = {name: getattr(app, name) for name in app.__all__}
    sections: list[str] = [INTRO, _readme_example(), CURRENT, _console_names()]
    placed: set[str] = set()
    for topic, names in TOPICS:
        entries = [describe(n, public[n]) for n in names if n in public]
        placed.update(n for n in names if n in public)
        if topic == "Datasets and storage":
            entries.insert(
                2,
                describe("ReadableDataset", ReadableDataset)
                + "\nWhat `open_dataset`, `acq.get_dataset()` and `image_saved_fn` give "
                "(an NDTiff dataset, a `RAMDataset`, or a TIFF file opened by "
                "`open_dataset`). Not importable from `app`: it describes their common "
                "reading API (`app.storage.sink.ReadableDataset`).\n",
            )
        if entries:
            sections.append(f"## {topic}\n\n" + "\n".join(entries))
    errors = sorted(
        n
        for n, obj in public.items()
        if n not in placed and inspect.isclass(obj) and issubclass(obj, BaseException)
    )
    placed.update(errors)
    if errors:
        sections.append(
            f"## {ERRORS_TOPIC}\n\n" + "\n".join(describe(n, public[n]) for n in errors)
        )
    more = sorted(n for n in public if n not in placed)
    if more:
        sections.append(f"## {MORE_TOPIC}\n\n" + "\n".join(describe(n, public[n]) for n in more))
    text = "\n".join(section.rstrip("\n") + "\n" for section in sections)
    return re.sub(r"\n{3,}", "\n\n", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print(
                f"{OUTPUT.relative_to(ROOT)} is out of date: run python tools/make_api_reference.py"
            )
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
