"""The rules of the house, checked by tools as part of the suite: import contracts
(only app.ui imports Qt; layers), types (strict on the engine and the storage), lint
and format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.parametrize(
    "command",
    [
        (
            sys.executable,
            "-c",
            "import sys, importlinter.cli as c; sys.exit(c.lint_imports(no_cache=True))",
        ),
        (sys.executable, "-m", "mypy"),
        (sys.executable, "-m", "ruff", "check", "app", "tests", "tools", "scripts", "installer"),
        (
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--check",
            "app",
            "tests",
            "tools",
            "scripts",
            "installer",
        ),
    ],
    ids=["import contracts", "types", "lint", "format"],
)
def test_rule(command):
    result = _run(*command)
    assert result.returncode == 0, result.stdout + result.stderr
